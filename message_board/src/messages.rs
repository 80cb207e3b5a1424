//! Messages in Datastore, as the original stores them (docs/design.md, "Datastore model"): kind
//! `Message`, `name` (indexed), `message` (never indexed, so messages over 1500 bytes store),
//! `timestamp` (UTC); key with an id Datastore allocates.

use std::collections::VecDeque;
use std::time::Duration;

use chrono::{DateTime, Utc};
use common::datastore::pb::filter::FilterType;
use common::datastore::pb::property_filter::Operator;
use common::datastore::pb::property_order::Direction;
use common::datastore::pb::{
    Entity, Filter, KindExpression, PropertyFilter, PropertyOrder, PropertyReference, Query,
};
use common::datastore::value::{self, Properties};
use common::datastore::{Datastore, DatastoreError, Pages};
use futures_util::Stream;
use serde::Serialize;
use serde_json::Value as Json;
use tokio::sync::{Semaphore, SemaphorePermit};

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

/// Messages a retrieve asks Datastore for per page: an entity is at most 1 MiB, so three stay
/// under gRPC's 4 MiB answer whatever the messages hold (five made a name unreadable for good).
const PAGE_MESSAGES: i32 = 3;
/// Pages of retrieves held at once across the instance, each at most three messages and the JSON
/// of one: 80 retrieves of a name with 1 MiB messages stay far inside Cloud Run's 256 MiB.
const PAGES_HELD: usize = 8;
static PAGE_PERMITS: Semaphore = Semaphore::const_new(PAGES_HELD);
/// How long a retrieve waits for a page permit before it gives up (503, or a cut answer after the
/// first page): permits are handed out in turn, so 80 retrieves of 20 MB names all finish. A
/// client that stops reading keeps its page, and its permit, until it reads on or goes (Cloud
/// Run's request timeout, 300 s by default): 8 such clients make the others wait this long, then
/// fail, while they stay.
const PERMIT_WAIT: Duration = Duration::from_secs(30);

/// Every message of `name`, oldest first (the composite index in `index.yaml`), one at a time: a
/// page of [`PAGE_MESSAGES`] is read when the previous one is out, so what a retrieve holds is
/// bounded whatever a name holds.
pub fn for_name(
    datastore: &Datastore,
    name: &str,
) -> Result<impl Stream<Item = Result<StoredMessage, DatastoreError>> + 'static, DatastoreError> {
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
        limit: Some(PAGE_MESSAGES),
        ..Query::default()
    };
    let reading = Reading {
        pages: datastore.pages(query),
        held: None,
    };
    Ok(futures_util::stream::try_unfold(reading, next_message))
}

/// Where a retrieve is: its query's pages, and the page it holds.
struct Reading {
    pages: Pages,
    held: Option<HeldPage>,
}

/// A page of messages, and the permit that lets a retrieve hold one.
struct HeldPage {
    messages: VecDeque<Entity>,
    _permit: SemaphorePermit<'static>,
}

async fn next_message(
    mut reading: Reading,
) -> Result<Option<(StoredMessage, Reading)>, DatastoreError> {
    loop {
        if let Some(entity) = reading
            .held
            .as_mut()
            .and_then(|page| page.messages.pop_front())
        {
            return Ok(Some((stored_message(&entity), reading)));
        }
        // The page is out, the JSON of its last message written: the page and its permit go
        // before the next one is asked for, and the end needs no permit.
        reading.held = None;
        if reading.pages.is_finished() {
            return Ok(None);
        }
        let permit = common::budget::share_within(&PAGE_PERMITS, 1, PERMIT_WAIT)
            .await
            .ok_or_else(|| {
                DatastoreError::Unavailable(format!(
                    "{PAGES_HELD} pages of retrieves held for over {PERMIT_WAIT:?}"
                ))
            })?;
        let Some(page) = reading.pages.next().await? else {
            return Ok(None);
        };
        reading.held = Some(HeldPage {
            messages: page.into(),
            _permit: permit,
        });
    }
}

fn stored_message(entity: &Entity) -> StoredMessage {
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
}
