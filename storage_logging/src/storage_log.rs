//! `StorageLog` entities (docs/design.md, "Datastore model" and "Exactly once"): every top-level field of the object's
//! metadata plus `timestamp`, under the key its notification names
//! ([`Origin::key`](crate::notification::Origin::key)) so that a redelivery never makes a second
//! entity; and the purge of old ones.

use std::time::Duration;

use chrono::{DateTime, Utc};
use common::datastore::pb::property_filter::Operator;
use common::datastore::pb::{Key, Query};
use common::datastore::value::{self, Properties};
use common::datastore::{
    CONCURRENT_COMMITS, Datastore, DatastoreError, MAX_MUTATIONS_PER_COMMIT, QueryBuilder,
};
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::time::Instant;

pub const KIND: &str = "StorageLog";

/// Stores the object's metadata with a `timestamp` of now, once per `key`: a notification already
/// stored answers what was stored then. Never an id Datastore allocates, which would store every
/// redelivery again. Returns the answer: the metadata plus the timestamp as an HTTP-date.
pub async fn record(
    datastore: &Datastore,
    key: &str,
    mut object: Map<String, Value>,
) -> Result<Map<String, Value>, DatastoreError> {
    let timestamp = value::now();
    let mut properties: Properties = value::properties_from_json(&object)
        .map_err(|e| DatastoreError::Rejected(format!("message.data cannot be stored: {e}.")))?;
    properties.insert("timestamp".into(), value::timestamp(timestamp));
    let logged = common::telemetry::loggable(key);
    match datastore.insert(KIND, Some(key), properties).await {
        Ok(_) => {
            log::info!(key = logged.as_str(); "stored notification {logged}");
            object.insert(
                "timestamp".into(),
                Value::String(common::answer::http_date(timestamp)),
            );
            Ok(object)
        }
        Err(DatastoreError::AlreadyExists) => {
            log::info!(key = logged.as_str(); "notification {logged} was stored before: answering what was stored");
            match datastore.lookup(KIND, key).await? {
                Some(stored) => Ok(common::answer::object_of(&stored.properties)),
                // Purged between the insert and the lookup: it was stored once, as promised.
                None => {
                    object.insert(
                        "timestamp".into(),
                        Value::String(common::answer::http_date(timestamp)),
                    );
                    Ok(object)
                }
            }
        }
        Err(other) => Err(other),
    }
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
/// batch by batch as Datastore answers it, each batch deleted in commits of 500 (several at a
/// time) while the next batch is fetched. Starts no new group of commits, and waits for no next
/// page, past `time_budget`; the next purge continues. One purge at a time per instance
/// (`routes::PurgeGate`).
pub async fn purge(
    datastore: &Datastore,
    retention: Duration,
    time_budget: Duration,
) -> Result<PurgeReport, DatastoreError> {
    let deadline = Instant::now() + time_budget;
    let cutoff =
        value::now() - chrono::Duration::from_std(retention).unwrap_or(chrono::TimeDelta::MAX);
    let mut pages = datastore.pages(old_logs_query(cutoff));
    let mut page = pages.next().await?;
    let mut deleted = 0;
    while let Some(entities) = page {
        // This page is deleted while the next is fetched; neither goes on past the deadline.
        let keys = entities
            .into_iter()
            .filter_map(|entity| entity.key)
            .collect();
        let (deleting, fetching) = tokio::join!(
            delete_until(datastore, keys, deadline),
            tokio::time::timeout_at(deadline, pages.next()),
        );
        let (count, all_deleted) = deleting?;
        deleted += count;
        let Ok(next) = fetching else {
            return Ok(report(deleted, false, time_budget));
        };
        let next = next?;
        if !all_deleted || (next.is_some() && Instant::now() >= deadline) {
            return Ok(report(deleted, false, time_budget));
        }
        page = next;
    }
    Ok(report(deleted, true, time_budget))
}

/// Deletes `keys` a group of commits at a time, starting no group past `deadline`. Returns how
/// many it deleted, and whether that was all.
async fn delete_until(
    datastore: &Datastore,
    keys: Vec<Key>,
    deadline: Instant,
) -> Result<(usize, bool), DatastoreError> {
    let mut deleted = 0;
    for group in keys.chunks(MAX_MUTATIONS_PER_COMMIT * CONCURRENT_COMMITS) {
        if Instant::now() >= deadline {
            return Ok((deleted, false));
        }
        deleted += datastore.delete(group.to_vec()).await?;
    }
    Ok((deleted, true))
}

fn report(deleted: usize, complete: bool, time_budget: Duration) -> PurgeReport {
    if complete {
        log::info!(deleted = deleted; "purge deleted {deleted} StorageLog entities");
    } else {
        log::warn!(deleted = deleted; "purge deleted {deleted} StorageLog entities and stopped: its time budget of {time_budget:?} is spent; the next purge continues");
    }
    PurgeReport {
        message: "succeeded.",
        deleted,
        complete,
    }
}

/// Keys a purge asks for per query page. Without a limit the Firestore emulator answers in one
/// batch, which passes gRPC's 4 MiB past about 27,000 keys, and every purge then failed; a key
/// is at most about 1.7 KB (a 1,500-byte name, the partition, the kind), so 1,000 stay under 2 MB.
const PURGE_PAGE_KEYS: i32 = 1_000;

/// Keys of `StorageLog` older than `cutoff`, [`PURGE_PAGE_KEYS`] per page.
fn old_logs_query(cutoff: DateTime<Utc>) -> Query {
    QueryBuilder::kind(KIND)
        .keys_only()
        .filter("timestamp", Operator::LessThan, value::timestamp(cutoff))
        .limit(PURGE_PAGE_KEYS)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_query_is_keys_only() {
        let query = old_logs_query(value::now());
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
