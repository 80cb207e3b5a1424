//! Messages in Datastore, as the original stores them (docs/design.md, "Datastore model"): kind
//! `Message`, `name` (indexed), `message` (never indexed, so messages over 1500 bytes store),
//! `timestamp` (UTC); key with an id Datastore allocates.

use chrono::{DateTime, Utc};
use common::budget::ByteBudget;
use common::datastore::pb::Entity;
use common::datastore::pb::property_filter::Operator;
use common::datastore::value::{self, Properties};
use common::datastore::{Datastore, DatastoreError, QueryBuilder};
use futures_util::{Stream, TryStreamExt};
use serde_json::Value as Json;

use crate::retrieval;

pub const KIND: &str = "Message";

/// A message as the API answers it.
#[derive(Debug)]
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

/// Every message of `name`, oldest first (the composite index in `index.yaml`), one at a time,
/// read page by page within `budget` ([`retrieval::entities`]).
pub fn for_name(
    datastore: &Datastore,
    name: &str,
    budget: ByteBudget,
) -> Result<impl Stream<Item = Result<StoredMessage, DatastoreError>> + 'static, DatastoreError> {
    check_name(name)?;
    let query = QueryBuilder::kind(KIND)
        .filter("name", Operator::Equal, value::string(name))
        .order_by("timestamp")
        .build();
    Ok(
        retrieval::entities(datastore.pages(query), budget)
            .map_ok(|entity| stored_message(&entity)),
    )
}

fn stored_message(entity: &Entity) -> StoredMessage {
    let field = |name: &str| {
        entity
            .properties
            .get(name)
            .map_or(Json::Null, common::answer::json_of)
    };
    StoredMessage {
        message: field("message"),
        timestamp: field("timestamp"),
    }
}
