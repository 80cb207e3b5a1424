//! `StorageLog` entities (docs/design.md, "Datastore model" and "Exactly once"): every top-level field of the object's
//! metadata plus `timestamp`, keyed by the Pub/Sub message id (or the CloudEvent's source and id)
//! so that a redelivery never makes a second entity; and the purge of old ones.

use std::fmt::Write;
use std::time::Duration;

use chrono::{DateTime, Utc};
use common::datastore::pb::property_filter::Operator;
use common::datastore::pb::{Key, KindExpression, Projection, PropertyReference, Query};
use common::datastore::value::{self, Properties};
use common::datastore::{
    CONCURRENT_COMMITS, Datastore, DatastoreError, MAX_MUTATIONS_PER_COMMIT, property_filter,
};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

pub const KIND: &str = "StorageLog";

/// Stores the object's metadata with a `timestamp` of now, once per `key` ([`pubsub_key`],
/// [`cloud_event_key`]): a notification already stored answers what was stored then (no key, a
/// Pub/Sub message without an id: an entity with an id Datastore allocates). Returns the answer:
/// the metadata plus the timestamp as an HTTP-date.
pub async fn record(
    datastore: &Datastore,
    key: Option<&str>,
    mut object: Map<String, Value>,
) -> Result<Map<String, Value>, DatastoreError> {
    let timestamp = value::now();
    let mut properties: Properties = value::properties_from_json(&object)
        .map_err(|e| DatastoreError::Rejected(format!("message.data cannot be stored: {e}.")))?;
    properties.insert("timestamp".into(), value::timestamp(timestamp));
    let logged = common::telemetry::loggable(key.unwrap_or("(none)"));
    match datastore.insert(KIND, key, properties).await {
        Ok(_) => {
            log::info!(key = logged.as_str(); "stored notification {logged}");
            object.insert(
                "timestamp".into(),
                Value::String(value::http_date(timestamp)),
            );
            Ok(object)
        }
        Err(DatastoreError::AlreadyExists) => {
            log::info!(key = logged.as_str(); "notification {logged} was stored before: answering what was stored");
            match datastore.lookup(KIND, key.unwrap_or_default()).await? {
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

/// The key name of a Pub/Sub notification's entity: its message id, as the console shows it,
/// unless Datastore would refuse it as a name (over 1500 bytes, `__reserved__`) or it could be
/// mistaken for one of the names below; then a digest of it.
pub fn pubsub_key(message_id: &str) -> String {
    let taken = message_id.starts_with(CLOUD_EVENT_PREFIX) || message_id.starts_with(DIGEST_PREFIX);
    if is_valid_key_name(message_id) && !taken {
        message_id.to_owned()
    } else {
        digest_name(&format!("pubsub\n{message_id}"))
    }
}

/// The key name of a CloudEvent's entity. Source and id are unique together (CloudEvents 1.0), so
/// both are in it, the source length-prefixed so that `a#b` + `c` and `a` + `b#c` differ; a digest
/// of that when Datastore would refuse it.
pub fn cloud_event_key(source: &str, id: &str) -> String {
    let name = format!("{CLOUD_EVENT_PREFIX}{}:{source}{id}", source.len());
    if is_valid_key_name(&name) {
        name
    } else {
        digest_name(&name)
    }
}

const CLOUD_EVENT_PREFIX: &str = "ce:";
const DIGEST_PREFIX: &str = "sha256:";

/// `sha256:` and the hex digest of `origin`. Every notification has exactly one name, whatever
/// its id: no fallback to an id Datastore allocates, which would store every redelivery again.
fn digest_name(origin: &str) -> String {
    let digest = Sha256::digest(origin.as_bytes());
    digest
        .iter()
        .fold(String::from(DIGEST_PREFIX), |mut name, byte| {
            let _ = write!(name, "{byte:02x}");
            name
        })
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

/// Keys of `StorageLog` older than `cutoff`. No limit: Datastore picks the batch size, and on the
/// Firestore emulator a limited page costs nearly as much as the whole answer (measured: 287 ms
/// for 500 keys, 641 ms for 10,000).
fn old_logs_query(cutoff: DateTime<Utc>) -> Query {
    Query {
        kind: vec![KindExpression { name: KIND.into() }],
        projection: vec![Projection {
            property: Some(PropertyReference {
                name: "__key__".into(),
            }),
        }],
        filter: Some(property_filter(
            "timestamp",
            Operator::LessThan,
            value::timestamp(cutoff),
        )),
        ..Query::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_notification_has_one_valid_name_and_no_two_share_one() {
        assert_eq!(pubsub_key("1400000000000001"), "1400000000000001");
        let long = "9".repeat(1501);
        for name in [
            pubsub_key(&long),
            pubsub_key("__reserved__"),
            pubsub_key(""),
            cloud_event_key(&long, "1"),
        ] {
            assert!(
                is_valid_key_name(&name) && name.starts_with(DIGEST_PREFIX),
                "{name}"
            );
        }
        assert_eq!(pubsub_key(&long), pubsub_key(&long));
        assert_ne!(cloud_event_key("a#b", "c"), cloud_event_key("a", "b#c"));
        assert_ne!(cloud_event_key("ab", "c"), cloud_event_key("a", "bc"));
        assert_eq!(cloud_event_key("//storage/b", "42"), "ce:11://storage/b42");
        // A sender's message id cannot take a CloudEvent's or a digest's name.
        let event = cloud_event_key("//storage/b", "42");
        assert_ne!(pubsub_key(&event), event);
        assert_ne!(pubsub_key(&pubsub_key(&long)), pubsub_key(&long));
        assert_ne!(
            pubsub_key(&format!("ce:{}", "x".repeat(1500))),
            cloud_event_key(&"x".repeat(1500), "")
        );
    }

    #[test]
    fn key_names_follow_datastore_rules() {
        assert!(is_valid_key_name("1400000000000001"));
        assert!(!is_valid_key_name(""));
        assert!(!is_valid_key_name("__reserved__"));
        assert!(!is_valid_key_name(&"1".repeat(1501)));
    }

    #[test]
    fn the_purge_query_is_keys_only() {
        let query = old_logs_query(value::now());
        assert_eq!(query.limit, None);
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
