//! `StorageLog` entities (DESIGN.md, "Datastore model"): every top-level field of the object's
//! metadata plus `timestamp`, keyed by the Pub/Sub message id so that a redelivery never makes a
//! second entity; and the purge of old ones.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::datastore::pb::filter::FilterType;
use common::datastore::pb::property_filter::Operator;
use common::datastore::pb::{
    Filter, Key, KindExpression, Projection, PropertyFilter, PropertyReference, Query,
};
use common::datastore::value::{self, Properties};
use common::datastore::{Datastore, DatastoreError, MAX_MUTATIONS_PER_COMMIT, next_page};
use serde::Serialize;
use serde_json::{Map, Value};

pub const KIND: &str = "StorageLog";

/// Stores the object's metadata with a `timestamp` of now, once per message: a message already
/// stored answers what was stored then. Returns the answer: the metadata plus the timestamp as an
/// HTTP-date.
pub async fn record(
    datastore: &Datastore,
    message_id: Option<&str>,
    mut object: Map<String, Value>,
) -> Result<Map<String, Value>, DatastoreError> {
    let key_name = message_id.filter(|id| is_valid_key_name(id));
    let timestamp = value::now();
    let mut properties: Properties = value::properties_from_json(&object)
        .map_err(|e| DatastoreError::Rejected(format!("message.data cannot be stored: {e}.")))?;
    properties.insert("timestamp".into(), value::timestamp(timestamp));
    match datastore.insert(KIND, key_name, properties).await {
        Ok(_) => {
            let id = key_name.unwrap_or("(none)");
            log::info!(messageId = id; "stored message {id}");
            object.insert(
                "timestamp".into(),
                Value::String(value::http_date(timestamp)),
            );
            Ok(object)
        }
        Err(DatastoreError::AlreadyExists) => {
            let name = key_name.unwrap_or_default();
            log::info!(messageId = name; "message {name} was stored before: answering what was stored");
            match datastore.lookup(KIND, name).await? {
                Some(stored) => Ok(value::properties_to_json(&stored.properties)),
                // Purged between the insert and the lookup: it was stored once, as promised.
                None => {
                    object.insert(
                        "timestamp".into(),
                        Value::String(value::http_date(timestamp)),
                    );
                    Ok(object)
                }
            }
        }
        Err(other) => Err(other),
    }
}

/// Datastore key names: at most 1500 bytes, not `__reserved__`.
fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= value::MAX_INDEXED_STRING_BYTES
        && !(name.starts_with("__") && name.ends_with("__"))
}

/// What a purge did.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct PurgeReport {
    pub message: &'static str,
    pub deleted: usize,
    /// False when the time budget ran out first; the next purge continues.
    pub complete: bool,
}

/// Deletes every `StorageLog` with a `timestamp` before `now - retention`: a keys-only query,
/// page by page, each page deleted in one commit while the next page is fetched. Deleting a key
/// twice is harmless, so overlapping purges are safe. Starts no new page after `time_budget`.
pub async fn purge(
    datastore: &Datastore,
    retention: Duration,
    time_budget: Duration,
) -> Result<PurgeReport, DatastoreError> {
    let started = Instant::now();
    let cutoff =
        value::now() - chrono::Duration::from_std(retention).unwrap_or(chrono::TimeDelta::MAX);
    let query = old_logs_query(cutoff);
    let mut deleted = 0;
    let mut page = datastore.run_query(query.clone()).await?;
    loop {
        let next_cursor = next_page(&page, query.limit);
        let keys: Vec<Key> = page
            .entity_results
            .drain(..)
            .filter_map(|result| result.entity.and_then(|entity| entity.key))
            .collect();
        let next = match next_cursor {
            Some(cursor) if started.elapsed() < time_budget => {
                let next_query = Query {
                    start_cursor: cursor,
                    ..query.clone()
                };
                let (count, next) =
                    tokio::join!(datastore.delete(keys), datastore.run_query(next_query));
                deleted += count?;
                Some(next?)
            }
            more => {
                deleted += datastore.delete(keys).await?;
                if more.is_some() {
                    log::warn!(
                        "purge stopped after {deleted} deletions: time budget of {time_budget:?} spent"
                    );
                    return Ok(report(deleted, false));
                }
                None
            }
        };
        match next {
            Some(next) => page = next,
            None => return Ok(report(deleted, true)),
        }
    }
}

fn report(deleted: usize, complete: bool) -> PurgeReport {
    log::info!(deleted = deleted, complete = complete; "purge deleted {deleted} StorageLog entities");
    PurgeReport {
        message: "succeeded.",
        deleted,
        complete,
    }
}

/// Keys of `StorageLog` older than `cutoff`, a commit's worth per page.
fn old_logs_query(cutoff: DateTime<Utc>) -> Query {
    Query {
        kind: vec![KindExpression { name: KIND.into() }],
        projection: vec![Projection {
            property: Some(PropertyReference {
                name: "__key__".into(),
            }),
        }],
        filter: Some(Filter {
            filter_type: Some(FilterType::PropertyFilter(PropertyFilter {
                property: Some(PropertyReference {
                    name: "timestamp".into(),
                }),
                op: Operator::LessThan as i32,
                value: Some(value::timestamp(cutoff)),
            })),
        }),
        limit: Some(i32::try_from(MAX_MUTATIONS_PER_COMMIT).unwrap_or(i32::MAX)),
        ..Query::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_follow_datastore_rules() {
        assert!(is_valid_key_name("1400000000000001"));
        assert!(!is_valid_key_name(""));
        assert!(!is_valid_key_name("__reserved__"));
        assert!(!is_valid_key_name(&"1".repeat(1501)));
    }

    #[test]
    fn the_purge_query_is_keys_only_and_paged_by_commit_size() {
        let query = old_logs_query(value::now());
        assert_eq!(query.limit, Some(500));
        assert_eq!(query.kind[0].name, "StorageLog");
        assert_eq!(
            query.projection[0]
                .property
                .as_ref()
                .map(|p| p.name.as_str()),
            Some("__key__")
        );
    }
}
