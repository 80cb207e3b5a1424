//! Messages in Datastore, as the original stores them (docs/design.md, "Datastore model"): kind
//! `Message`, `name` (indexed), `message` (never indexed, so messages over 1500 bytes store),
//! `timestamp` (UTC); key with an id Datastore allocates.

use chrono::{DateTime, Utc};
use common::datastore::pb::filter::FilterType;
use common::datastore::pb::property_filter::Operator;
use common::datastore::pb::property_order::Direction;
use common::datastore::pb::{
    Filter, KindExpression, PropertyFilter, PropertyOrder, PropertyReference, Query,
};
use common::datastore::value::{self, Properties};
use common::datastore::{Datastore, DatastoreError};
use serde::Serialize;
use serde_json::Value as Json;

pub const KIND: &str = "Message";

/// A message as the API answers it.
#[derive(Debug, Serialize)]
pub struct StoredMessage {
    pub message: Json,
    pub timestamp: Json,
}

/// Stores a message now; returns its timestamp.
pub async fn store(
    datastore: &Datastore,
    name: &str,
    message: &str,
) -> Result<DateTime<Utc>, DatastoreError> {
    check_name(name)?;
    let timestamp = value::now();
    let properties = Properties::from([
        ("name".to_owned(), value::string(name)),
        ("message".to_owned(), value::unindexed_string(message)),
        ("timestamp".to_owned(), value::timestamp(timestamp)),
    ]);
    datastore.insert(KIND, None, properties).await?;
    Ok(timestamp)
}

/// `name` is indexed, so it must fit the index limit: production refuses a longer one in an
/// entity and in a query (the emulators do not check), so no message can have it.
fn check_name(name: &str) -> Result<(), DatastoreError> {
    if name.len() > value::MAX_INDEXED_STRING_BYTES {
        return Err(DatastoreError::Rejected(format!(
            "name is longer than {} bytes, more than Datastore can index.",
            value::MAX_INDEXED_STRING_BYTES
        )));
    }
    Ok(())
}

/// Every message of `name`, oldest first (the composite index in `index.yaml`).
pub async fn for_name(
    datastore: &Datastore,
    name: &str,
) -> Result<Vec<StoredMessage>, DatastoreError> {
    check_name(name)?;
    let query = Query {
        kind: vec![KindExpression { name: KIND.into() }],
        filter: Some(Filter {
            filter_type: Some(FilterType::PropertyFilter(PropertyFilter {
                property: Some(PropertyReference {
                    name: "name".into(),
                }),
                op: Operator::Equal as i32,
                value: Some(value::string(name)),
            })),
        }),
        order: vec![PropertyOrder {
            property: Some(PropertyReference {
                name: "timestamp".into(),
            }),
            direction: Direction::Ascending as i32,
        }],
        ..Query::default()
    };
    let entities = datastore.query_all(query).await?;
    Ok(entities
        .into_iter()
        .map(|entity| {
            let field = |name: &str| {
                entity
                    .properties
                    .get(name)
                    .map_or(Json::Null, value::to_json)
            };
            StoredMessage {
                message: field("message"),
                timestamp: field("timestamp"),
            }
        })
        .collect())
}
