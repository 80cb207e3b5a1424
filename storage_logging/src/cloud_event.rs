//! A CloudEvent from Eventarc (CloudEvents 1.0, HTTP binding), in either content mode: binary
//! (the attributes in `ce-*` headers, the body is the data; what Eventarc sends) or structured
//! (`application/cloudevents+json`: the body is the whole event). A pure parser into a
//! [`Notification`], like [`envelope`](crate::envelope): a Cloud Storage `finalized` event becomes
//! the same [`Event::Upload`] as a Pub/Sub `OBJECT_FINALIZE` notification, from the CloudEvent's
//! source and id; a Pub/Sub `messagePublished` event (an Eventarc trigger on the bucket's
//! notification topic) carries that very push envelope as its data, and is the push's
//! notification, so both ways to the service store one entity.

use actix_web::http::header::{self, HeaderMap};
use actix_web::mime::Mime;
use base64::Engine;
use common::body::{is_json, parse_object};
use serde_json::{Map, Value};

use crate::envelope;
use crate::notification::{Event, MAX_JSON_VALUES, Notification, Origin, Rejection};

/// The type of a new object in Cloud Storage.
pub const OBJECT_FINALIZED: &str = "google.cloud.storage.object.v1.finalized";
/// The type of a Pub/Sub message, whose data is a push envelope. With [`OBJECT_FINALIZED`], the
/// types that may carry an upload; every other type is acknowledged and ignored.
pub const MESSAGE_PUBLISHED: &str = "google.cloud.pubsub.topic.v1.messagePublished";

/// The notification a CloudEvent carries, in either content mode.
pub fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Notification, Rejection> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<Mime>().ok());
    let subtype = content_type.as_ref().map(|m| m.subtype().as_str());
    match subtype {
        Some("cloudevents") => structured(body),
        Some("cloudevents-batch") => Err(malformed(
            None,
            "batched CloudEvents are not accepted; send one event per request.",
        )),
        _ if headers.contains_key("ce-specversion") => binary(headers, content_type.as_ref(), body),
        _ => Err(malformed(
            None,
            "not a CloudEvent: binary mode needs ce-specversion, ce-id, ce-source and ce-type \
                 headers; structured mode needs Content-Type application/cloudevents+json.",
        )),
    }
}

/// Binary mode: attributes from `ce-*` headers, the body is the data.
fn binary(
    headers: &HeaderMap,
    content_type: Option<&Mime>,
    body: &[u8],
) -> Result<Notification, Rejection> {
    let attribute = |name: &str| {
        headers
            .get(format!("ce-{name}"))
            .and_then(|v| v.to_str().ok())
            .map(percent_decode)
    };
    let attributes = Attributes::read(|name| attribute(name))?;
    if !attributes.may_carry_an_upload() {
        return Ok(attributes.ignored());
    }
    if content_type.is_some_and(|mime| !is_json(mime)) {
        return Err(attributes.malformed("the data of this event type must be JSON."));
    }
    let data =
        parse_object(body, MAX_JSON_VALUES).map_err(|e| attributes.malformed(&e.to_string()))?;
    attributes.with_data(&data)
}

/// Structured mode: the body is the event, its data in `data` (JSON) or `data_base64`.
fn structured(body: &[u8]) -> Result<Notification, Rejection> {
    let event = parse_object(body, MAX_JSON_VALUES).map_err(|e| malformed(None, &e.to_string()))?;
    let attributes =
        Attributes::read(|name| event.get(name).and_then(Value::as_str).map(str::to_owned))?;
    if !attributes.may_carry_an_upload() {
        return Ok(attributes.ignored());
    }
    let data = match (event.get("data"), event.get("data_base64")) {
        (Some(Value::Object(data)), None) => data.clone(),
        (None, Some(Value::String(encoded))) => base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|e| attributes.malformed(&format!("data_base64 is not base64: {e}.")))
            .and_then(|bytes| {
                parse_object(&bytes, MAX_JSON_VALUES)
                    .map_err(|e| attributes.malformed(&e.to_string()))
            })?,
        _ => {
            return Err(attributes.malformed(
                "this event type needs a JSON object in data (or base64 in data_base64).",
            ));
        }
    };
    attributes.with_data(&data)
}

/// The required context attributes of CloudEvents 1.0.
struct Attributes {
    id: String,
    source: String,
    event_type: String,
}

impl Attributes {
    fn read(attribute: impl Fn(&str) -> Option<String>) -> Result<Self, Rejection> {
        let id = attribute("id").filter(|id| !id.is_empty());
        let required = |name: &str| {
            attribute(name)
                .filter(|value| !value.is_empty())
                .ok_or_else(|| malformed(id.clone(), &format!("the {name} attribute is required.")))
        };
        let version = required("specversion")?;
        if version != "1.0" {
            return Err(malformed(
                id.clone(),
                &format!(
                    "specversion \"{}\" is not supported; 1.0 is.",
                    common::telemetry::loggable(&version)
                ),
            ));
        }
        Ok(Self {
            source: required("source")?,
            event_type: required("type")?,
            id: required("id")?,
        })
    }

    fn ignored(self) -> Notification {
        Notification {
            event: Event::Ignored {
                event_type: self.event_type.clone(),
            },
            origin: self.origin(),
        }
    }

    fn may_carry_an_upload(&self) -> bool {
        self.event_type == OBJECT_FINALIZED || self.event_type == MESSAGE_PUBLISHED
    }

    /// The event its data makes: a finalized event's data is the object's metadata, keyed by
    /// source and id; a published message's data is a push envelope, keyed by its message id.
    /// A published message that is no storage notification (no `eventType` attribute: a trigger
    /// on another topic) is acknowledged, not dead-lettered.
    fn with_data(self, data: &Map<String, Value>) -> Result<Notification, Rejection> {
        if self.event_type == OBJECT_FINALIZED {
            return Ok(Notification {
                origin: self.origin(),
                event: Event::Upload(data.clone()),
            });
        }
        let event_type = data
            .get("message")
            .and_then(|message| message.get("attributes"))
            .and_then(|attributes| attributes.get("eventType"));
        if event_type.is_none() {
            return Ok(self.ignored());
        }
        envelope::parse(data).map_err(|inner| self.malformed(&format!("data.{}", inner.reason)))
    }

    fn origin(&self) -> Origin {
        Origin::CloudEvent {
            source: self.source.clone(),
            id: self.id.clone(),
        }
    }

    fn malformed(&self, reason: &str) -> Rejection {
        malformed(Some(self.id.clone()), reason)
    }
}

fn malformed(id: Option<String>, reason: &str) -> Rejection {
    Rejection::new(id, reason)
}

/// Header values are percent-encoded where they are not printable ASCII (HTTP binding, 3.1.3.2).
fn percent_decode(value: &str) -> String {
    if !value.contains('%') {
        return value.to_owned();
    }
    let bytes = value.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes
            .get(i + 1..i + 3)
            .filter(|_| bytes[i] == b'%')
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                i += 3;
            }
            None => {
                decoded.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};
    use serde_json::json;

    const SOURCE: &str = "//storage.googleapis.com/projects/_/buckets/sample-bucket";

    fn object() -> Value {
        json!({
            "bucket": "sample-bucket", "contentType": "text/plain", "crc32c": "rTVTeQ==",
            "etag": "CNHZkbuF/ugCEAE=", "generation": "1587627537231057",
            "id": "sample-bucket/folder/Test.cs/1587627537231057", "kind": "storage#object",
            "md5Hash": "kF8MuJ5+CTJxvyhHS1xzRg==", "metageneration": "1", "name": "folder/Test.cs",
            "size": "352", "storageClass": "STANDARD", "timeCreated": "2020-04-23T07:38:57.230Z",
            "updated": "2020-04-23T07:38:57.230Z"
        })
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
                HeaderValue::from_str(value).expect("a header value"),
            );
        }
        map
    }

    fn binary_headers(event_type: &str) -> Vec<(&str, &str)> {
        vec![
            ("content-type", "application/json"),
            ("ce-specversion", "1.0"),
            ("ce-id", "5155508562767640"),
            ("ce-source", SOURCE),
            ("ce-type", event_type),
            ("ce-subject", "objects/folder/Test.cs"),
            ("ce-time", "2020-04-23T07:38:57.772Z"),
        ]
    }

    fn upload(object: Value) -> Event {
        match object {
            Value::Object(object) => Event::Upload(object),
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn a_binary_finalized_event_is_an_upload_keyed_by_source_and_id() {
        let body = object().to_string();
        let event = parse(&headers(&binary_headers(OBJECT_FINALIZED)), body.as_bytes());
        assert_eq!(
            event,
            Ok(Notification {
                origin: Origin::CloudEvent {
                    source: SOURCE.into(),
                    id: "5155508562767640".into()
                },
                event: upload(object()),
            })
        );
    }

    #[test]
    fn a_structured_event_carries_its_data_as_json_or_base64() {
        let mut event = json!({
            "specversion": "1.0", "id": "42", "source": SOURCE, "type": OBJECT_FINALIZED,
            "datacontenttype": "application/json", "data": object()
        });
        let content_type = headers(&[(
            "content-type",
            "application/cloudevents+json; charset=utf-8",
        )]);
        let expected = Ok(Notification {
            origin: Origin::CloudEvent {
                source: SOURCE.into(),
                id: "42".into(),
            },
            event: upload(object()),
        });
        assert_eq!(parse(&content_type, event.to_string().as_bytes()), expected);

        let data = event["data"].take().to_string();
        event.as_object_mut().map(|e| e.remove("data"));
        event["data_base64"] = base64::engine::general_purpose::STANDARD
            .encode(data)
            .into();
        assert_eq!(parse(&content_type, event.to_string().as_bytes()), expected);
    }

    #[test]
    fn other_types_are_ignored_whatever_their_data() {
        let pairs = binary_headers("google.cloud.storage.object.v1.deleted");
        let mut pairs: Vec<_> = pairs
            .into_iter()
            .filter(|(n, _)| *n != "content-type")
            .collect();
        pairs.push(("content-type", "application/protobuf"));
        let event = parse(&headers(&pairs), b"\x08\x01");
        assert_eq!(
            event.map(|e| e.event),
            Ok(Event::Ignored {
                event_type: "google.cloud.storage.object.v1.deleted".into()
            })
        );
    }

    #[test]
    fn header_values_are_percent_decoded() {
        assert_eq!(percent_decode("caf%C3%A9 %25 100%"), "café % 100%");
        assert_eq!(percent_decode("plain"), "plain");
    }

    #[test]
    fn malformed_events_say_what_is_wrong() {
        let reason = |pairs: &[(&str, &str)], body: &str| {
            parse(&headers(pairs), body.as_bytes())
                .map(|_| ())
                .map_err(|e| (e.id, e.reason))
        };
        let body = object().to_string();
        let without = |name: &str| -> Vec<(&str, &str)> {
            binary_headers(OBJECT_FINALIZED)
                .into_iter()
                .filter(|(n, _)| *n != name)
                .collect()
        };
        assert_eq!(
            reason(&without("ce-source"), &body),
            Err((
                Some("5155508562767640".into()),
                "the source attribute is required.".into()
            ))
        );
        assert_eq!(
            reason(&without("ce-id"), &body),
            Err((None, "the id attribute is required.".into()))
        );
        let mut old = without("ce-specversion");
        old.push(("ce-specversion", "0.3"));
        assert_eq!(
            reason(&old, &body).map_err(|e| e.1),
            Err("specversion \"0.3\" is not supported; 1.0 is.".into())
        );
        // A sender's 60 kB value is neither logged nor answered whole.
        let huge = "9".repeat(60_000);
        let mut flood = without("ce-specversion");
        flood.push(("ce-specversion", huge.as_str()));
        let flooded = reason(&flood, &body).map_err(|e| e.1).expect_err("refused");
        assert!(flooded.len() < 300, "{} bytes", flooded.len());
        assert_eq!(
            reason(&binary_headers(OBJECT_FINALIZED), "[1]").map_err(|e| e.1),
            Err("The request body must be a JSON object.".into())
        );
        let mut text = without("content-type");
        text.push(("content-type", "text/plain"));
        assert_eq!(
            reason(&text, &body).map_err(|e| e.1),
            Err("the data of this event type must be JSON.".into())
        );
        assert!(reason(&[("content-type", "application/json")], &body).is_err());
        assert!(
            reason(
                &[("content-type", "application/cloudevents-batch+json")],
                "[]"
            )
            .is_err()
        );
        let no_data =
            json!({"specversion": "1.0", "id": "1", "source": SOURCE, "type": OBJECT_FINALIZED});
        assert_eq!(
            reason(
                &[("content-type", "application/cloudevents+json")],
                &no_data.to_string()
            )
            .map_err(|e| e.1),
            Err("this event type needs a JSON object in data (or base64 in data_base64).".into())
        );
    }

    /// What an Eventarc trigger on the bucket's notification topic delivers: a messagePublished
    /// event (shaped as Google's Functions Framework conformance fixture) whose data is the push
    /// envelope of the Cloud Storage notification.
    fn message_published(message_id: &str, event_type: &str) -> Value {
        let data = base64::engine::general_purpose::STANDARD.encode(object().to_string());
        json!({
            "specversion": "1.0",
            "type": MESSAGE_PUBLISHED,
            "source": "//pubsub.googleapis.com/projects/sample-project/topics/storage-event",
            "id": message_id,
            "time": "2020-09-29T11:32:00.000Z",
            "datacontenttype": "application/json",
            "data": {
                "subscription": "projects/sample-project/subscriptions/eventarc-trigger-sub",
                "message": {
                    "@type": "type.googleapis.com/google.pubsub.v1.PubsubMessage",
                    "messageId": message_id,
                    "publishTime": "2020-09-29T11:32:00.000Z",
                    "attributes": {"eventType": event_type, "payloadFormat": "JSON_API_V1",
                                   "bucketId": "sample-bucket", "objectId": "folder/Test.cs"},
                    "data": data
                }
            }
        })
    }

    #[test]
    fn a_published_storage_notification_is_the_upload_keyed_as_its_push() {
        let structured = headers(&[("content-type", "application/cloudevents+json")]);
        let event = message_published("2070443601311540", "OBJECT_FINALIZE");
        let parsed = parse(&structured, event.to_string().as_bytes()).expect("parsed");
        assert_eq!(
            parsed,
            Notification {
                origin: Origin::PubsubMessage("2070443601311540".into()),
                event: upload(object()),
            }
        );
        // Binary mode: the same data as the body.
        let mut binary = binary_headers(MESSAGE_PUBLISHED);
        binary.retain(|(name, _)| *name != "ce-id");
        binary.push(("ce-id", "2070443601311540"));
        let body = event["data"].to_string();
        assert_eq!(
            parse(&headers(&binary), body.as_bytes()).expect("parsed"),
            parsed
        );
        // Another notification type, or a message of another topic (no eventType), is
        // acknowledged; a storage notification without an id is refused.
        let deleted = message_published("7", "OBJECT_DELETE");
        let mut other_topic = message_published("9", "OBJECT_FINALIZE");
        other_topic["data"]["message"]["attributes"] = json!({"attr1": "attr1-value"});
        for acknowledged in [deleted, other_topic] {
            let ignored = parse(&structured, acknowledged.to_string().as_bytes());
            assert!(matches!(
                ignored.expect("parsed").event,
                Event::Ignored { .. }
            ));
        }
        let mut no_id = message_published("8", "OBJECT_FINALIZE");
        no_id["data"]["message"]
            .as_object_mut()
            .expect("message")
            .remove("messageId");
        let refused = parse(&structured, no_id.to_string().as_bytes()).expect_err("refused");
        assert!(
            refused.reason.starts_with("data.message.messageId"),
            "{}",
            refused.reason
        );
    }
}
