//! A storage notification, however it arrives (docs/design.md, "Exactly once"): a Pub/Sub push
//! ([`envelope`](crate::envelope)), a CloudEvent from Eventarc ([`cloud_event`](crate::cloud_event)),
//! or a Pub/Sub message carried by a CloudEvent. The parsers are pure and make a [`Notification`]
//! or a [`Rejection`]; this module owns the limits, the one key each notification is stored under,
//! and what storing one does. The answers are the routes'.

use std::fmt::Write;

use common::datastore::{Datastore, DatastoreError, value};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::storage_log;

/// The largest notification accepted. An object's metadata is about 1 KiB plus its custom
/// metadata (at most 8 KiB in Cloud Storage), a push envelope adds base64 (a third more) and the
/// attributes: 64 KiB leaves room and keeps 80 requests at once small.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The most JSON values a notification (the push envelope, its data, a CloudEvent) may hold: a
/// real one has a few dozen, a few hundred with custom metadata. Each stored value is a Datastore
/// value of about 100 bytes: 80 requests at the limit stay a few MiB.
pub const MAX_JSON_VALUES: usize = 1_000;

/// What a notification asks of us.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Any event but a new object's.
    Ignored { event_type: String },
    /// A new object: its metadata, to be stored.
    Upload(Map<String, Value>),
}

/// Who sent a notification, which names its entity: a redelivery names the same one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A Pub/Sub message, pushed or carried by a `messagePublished` CloudEvent: its id.
    PubsubMessage(String),
    /// A CloudEvent of its own: source and id, unique together (CloudEvents 1.0).
    CloudEvent { source: String, id: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub origin: Origin,
    pub event: Event,
}

/// A notification that can never be stored, however often it is sent again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The message or event id, when it had one (so that the dead-lettered copy can be found).
    pub id: Option<String>,
    pub reason: String,
}

impl Rejection {
    pub fn new(id: Option<String>, reason: &str) -> Self {
        Self {
            id,
            reason: reason.to_owned(),
        }
    }
}

/// What storing a notification did.
#[derive(Debug, Clone, PartialEq)]
pub enum Stored {
    /// Not an upload: nothing to store.
    NotAnUpload { event_type: String },
    /// The upload's metadata and timestamp, as stored now or by an earlier delivery.
    Upload(Map<String, Value>),
}

/// Stores an upload once, under the notification's key; any other event needs nothing stored.
pub async fn store(
    datastore: &Datastore,
    notification: Notification,
) -> Result<Stored, DatastoreError> {
    match notification.event {
        Event::Ignored { event_type } => Ok(Stored::NotAnUpload { event_type }),
        Event::Upload(object) => {
            let key = notification.origin.key();
            storage_log::record(datastore, &key, object)
                .await
                .map(Stored::Upload)
        }
    }
}

impl Origin {
    /// The sender's id: the message id, or the event id.
    pub fn id(&self) -> &str {
        match self {
            Self::PubsubMessage(id) | Self::CloudEvent { id, .. } => id,
        }
    }

    /// The key name of the notification's entity. A Pub/Sub message's is its id, as the console
    /// shows it; a CloudEvent's is `ce:`, the source's length, the source and the id (so that
    /// `a#b` + `c` and `a` + `b#c` differ). When Datastore would refuse the name (over 1500 bytes,
    /// `__reserved__`) or a message id could be taken for another kind of name, a `sha256:` digest
    /// of it: every notification has exactly one name, never an id Datastore allocates.
    pub fn key(&self) -> String {
        match self {
            Self::PubsubMessage(message_id) => {
                let taken = message_id.starts_with(CLOUD_EVENT_PREFIX)
                    || message_id.starts_with(DIGEST_PREFIX);
                if is_valid_key_name(message_id) && !taken {
                    message_id.clone()
                } else {
                    digest_name(&format!("pubsub\n{message_id}"))
                }
            }
            Self::CloudEvent { source, id } => {
                let name = format!("{CLOUD_EVENT_PREFIX}{}:{source}{id}", source.len());
                if is_valid_key_name(&name) {
                    name
                } else {
                    digest_name(&name)
                }
            }
        }
    }
}

const CLOUD_EVENT_PREFIX: &str = "ce:";
const DIGEST_PREFIX: &str = "sha256:";

/// `sha256:` and the hex digest of `origin`.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pubsub_key(message_id: &str) -> String {
        Origin::PubsubMessage(message_id.into()).key()
    }

    fn cloud_event_key(source: &str, id: &str) -> String {
        Origin::CloudEvent {
            source: source.into(),
            id: id.into(),
        }
        .key()
    }

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
}
