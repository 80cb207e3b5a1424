//! Reading the run's `StorageLog` entities back, through the Datastore layer the services use.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use common::datastore::pb::Query;
use common::datastore::pb::property_filter::Operator;
use common::datastore::pb::value::ValueType;
use common::datastore::value::{self, Properties};
use common::datastore::{Datastore, DatastoreError, QueryBuilder};
use indicatif::ProgressBar;
use tokio::time::Instant;

use super::{CheckError, Plan};

/// The kind the storage logging service writes (docs/design.md, "Datastore model": the original's).
const KIND: &str = "StorageLog";

/// How often to read while waiting, at most: a read of thousands of entities loads the Datastore
/// the pipeline writes to, so the pause is also at least twice the last read's time.
const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// Entities per page: 1,000 of the service's entities are about 1 MB, well inside gRPC's 4 MiB
/// answer limit (10,000 in one answer were 8 MB, refused).
const PAGE_SIZE: i32 = 1000;

/// One `StorageLog` of the run: its key, the object it names and when the service stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub key: String,
    pub name: String,
    pub timestamp: Option<DateTime<Utc>>,
}

/// Every `StorageLog` whose `name` starts with `prefix`.
pub async fn stored(datastore: &Datastore, prefix: &str) -> Result<Vec<Stored>, DatastoreError> {
    let entities = datastore.query_all(names_starting_with(prefix)).await?;
    Ok(entities
        .into_iter()
        .filter_map(|entity| {
            let key = format!("{:?}", entity.key?.path);
            let properties: Properties = entity.properties;
            Some(Stored {
                key,
                name: value::as_str(properties.get("name"))?.to_owned(),
                timestamp: timestamp(properties.get("timestamp")),
            })
        })
        .collect())
}

/// Reads until `expected` names of the run are stored and then for the plan's settle time, or
/// until the deadline; Datastore errors meanwhile are retried until the deadline. Returns every
/// entity any read saw: one the purge deleted meanwhile was stored all the same.
pub async fn until_all_stored(
    datastore: &Datastore,
    plan: &Plan,
    expected: usize,
    progress: &ProgressBar,
) -> Result<Vec<Stored>, CheckError> {
    let prefix = plan.prefix();
    let deadline = Instant::now() + plan.deadline;
    let mut settled_at: Option<Instant> = None;
    let mut seen = BTreeMap::new();
    loop {
        let started = Instant::now();
        let read = stored(datastore, &prefix).await;
        let now = Instant::now();
        let pause = POLL_INTERVAL.max((now - started) * 2);
        match read {
            Ok(found) => {
                seen.extend(found.into_iter().map(|log| (log.key.clone(), log)));
                let names = seen.values().map(|log| &log.name).collect::<HashSet<_>>();
                progress.set_position(names.len() as u64);
                if names.len() >= expected {
                    let settled = *settled_at.get_or_insert(now + plan.settle);
                    if now >= settled {
                        return Ok(seen.into_values().collect());
                    }
                }
                if now >= deadline {
                    return Ok(seen.into_values().collect());
                }
            }
            Err(e) if now >= deadline => {
                return Err(CheckError(format!(
                    "cannot read StorageLog from Datastore: {e}"
                )));
            }
            Err(_) => {}
        }
        tokio::time::sleep(pause).await;
    }
}

/// `name >= prefix AND name < prefix-with-its-last-character-incremented`: a range on one
/// property, which Datastore serves from its built-in index.
fn names_starting_with(prefix: &str) -> Query {
    let lower = value::string(prefix);
    let upper = value::string(upper_bound(prefix));
    QueryBuilder::kind(KIND)
        .filter("name", Operator::GreaterThanOrEqual, lower)
        .filter("name", Operator::LessThan, upper)
        .limit(PAGE_SIZE)
        .build()
}

/// The smallest string greater than every string that starts with `prefix` (which ends in an
/// ASCII character: ours ends in `/`).
fn upper_bound(prefix: &str) -> String {
    let mut bound = prefix.to_owned();
    match bound.pop() {
        Some(last) => bound.push(char::from_u32(last as u32 + 1).unwrap_or(char::MAX)),
        None => bound.push(char::MAX),
    }
    bound
}

fn timestamp(property: Option<&common::datastore::pb::Value>) -> Option<DateTime<Utc>> {
    match property?.value_type.as_ref()? {
        ValueType::TimestampValue(at) => {
            DateTime::from_timestamp(at.seconds, u32::try_from(at.nanos).ok()?)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upper_bound_follows_every_name_of_the_run() {
        let bound = upper_bound("pipeline-check/run/");
        assert_eq!(bound, "pipeline-check/run0");
        assert!("pipeline-check/run/999999" < bound.as_str());
        assert!("pipeline-check/run0" >= bound.as_str());
    }

    #[test]
    fn a_stored_timestamp_is_read_back() {
        let at = DateTime::from_timestamp(1_796_121_600, 123_456_000).unwrap();
        assert_eq!(timestamp(Some(&value::timestamp(at))), Some(at));
        assert_eq!(timestamp(Some(&value::string("x"))), None);
        assert_eq!(timestamp(None), None);
    }
}
