//! The Pub/Sub push envelope of a Cloud Storage notification (docs/design.md, "Exactly once"):
//! `{"subscription", "message": {"data", "attributes", "messageId" | "message_id", ...}}`.
//! Pure parsing and decoding; what can never succeed is an [`UndeliverableMessage`].

use base64::Engine;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};

/// The event type of a new object; every other type is acknowledged and ignored.
pub const OBJECT_FINALIZE: &str = "OBJECT_FINALIZE";

/// Standard alphabet, padding optional, as lenient as Python's `base64.b64decode`.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// What a push delivery asks of us.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The Pub/Sub message id: the key that makes a redelivery land on the same entity.
    pub message_id: Option<String>,
    pub event: Event,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Any event type but `OBJECT_FINALIZE`.
    Ignored { event_type: String },
    /// A new object: its metadata, to be stored.
    Upload(Map<String, Value>),
}

/// A delivery that can never succeed, however often Pub/Sub retries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndeliverableMessage {
    pub message_id: Option<String>,
    pub reason: String,
}

impl Delivery {
    pub fn parse(envelope: &Map<String, Value>) -> Result<Self, UndeliverableMessage> {
        let message = match envelope.get("message") {
            Some(Value::Object(message)) => message,
            _ => return Err(undeliverable(None, "message must be a JSON object.")),
        };
        let message_id = ["messageId", "message_id"]
            .iter()
            .find_map(|key| message.get(*key).and_then(Value::as_str))
            .filter(|id| !id.is_empty())
            .map(str::to_owned);
        let fail = |reason: &str| undeliverable(message_id.clone(), reason);
        let attributes = match message.get("attributes") {
            Some(Value::Object(attributes)) => attributes,
            _ => return Err(fail("message.attributes must be a JSON object.")),
        };
        let attribute = |name: &str| attributes.get(name).and_then(Value::as_str);
        let event_type = attribute("eventType")
            .ok_or_else(|| fail("message.attributes.eventType is required."))?;
        if event_type != OBJECT_FINALIZE {
            return Ok(Self {
                message_id,
                event: Event::Ignored {
                    event_type: event_type.to_owned(),
                },
            });
        }
        let data = match message.get("data") {
            None | Some(Value::Null) => "",
            Some(Value::String(data)) => data.as_str(),
            Some(_) => return Err(fail("message.data must be a base64 string.")),
        };
        let object = if !data.trim().is_empty() {
            decode_object(data).map_err(|reason| fail(&reason))?
        } else if attribute("payloadFormat") == Some("JSON_API_V1") {
            return Err(fail(
                "message.data is empty, but payloadFormat JSON_API_V1 promises the object's metadata.",
            ));
        } else {
            // Payload format NONE: what the attributes say of the object is all there is.
            object_from_attributes(attributes)
                .ok_or_else(|| fail("message.data is empty and the attributes name no object."))?
        };
        Ok(Self {
            message_id,
            event: Event::Upload(object),
        })
    }
}

fn undeliverable(message_id: Option<String>, reason: &str) -> UndeliverableMessage {
    UndeliverableMessage {
        message_id,
        reason: reason.to_owned(),
    }
}

/// Base64 (standard alphabet; padding, line breaks and stray characters ignored, as Python's
/// `b64decode` does for the original) of UTF-8 JSON that must be an object.
fn decode_object(data: &str) -> Result<Map<String, Value>, String> {
    let alphabet_only: Vec<u8> = data
        .bytes()
        .filter(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
        .collect();
    let bytes = BASE64
        .decode(&alphabet_only)
        .map_err(|e| format!("message.data is not base64: {e}."))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| format!("message.data does not decode to UTF-8 text: {e}."))?;
    common::json_body::check_json_shape(&bytes, crate::routes::NOTIFICATION_JSON_VALUES.0)
        .map_err(|e| format!("message.data {e}."))?;
    match serde_json::from_str(text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err("message.data must decode to a JSON object.".into()),
        Err(e) => Err(format!("message.data does not decode to JSON: {e}.")),
    }
}

/// The object fields a notification's attributes carry, named as in the JSON API.
fn object_from_attributes(attributes: &Map<String, Value>) -> Option<Map<String, Value>> {
    let name = attributes.get("objectId")?.clone();
    let mut object = Map::from_iter([("name".to_owned(), name)]);
    for (attribute, field) in [
        ("bucketId", "bucket"),
        ("objectGeneration", "generation"),
        ("eventTime", "eventTime"),
    ] {
        if let Some(value) = attributes.get(attribute) {
            object.insert(field.to_owned(), value.clone());
        }
    }
    Some(object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn b64(text: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    fn envelope(event_type: &str, data: Value) -> Map<String, Value> {
        let mut message = json!({
            "attributes": {
                "bucketId": "demo-bucket", "eventTime": "2020-07-01T10:40:00.123Z",
                "eventType": event_type, "objectGeneration": "1593600000123456",
                "objectId": "a.txt", "payloadFormat": "JSON_API_V1",
            },
            "messageId": "42", "message_id": "42",
            "publishTime": "2020-07-01T10:40:00.456Z",
        });
        if !data.is_null() {
            message["data"] = data;
        }
        json!({"message": message, "subscription": "projects/demo/subscriptions/s"})
            .as_object()
            .cloned()
            .unwrap_or_default()
    }

    fn upload(envelope: &Map<String, Value>) -> Map<String, Value> {
        match Delivery::parse(envelope).expect("deliverable").event {
            Event::Upload(object) => object,
            other => panic!("not an upload: {other:?}"),
        }
    }

    fn reason(envelope: &Map<String, Value>) -> String {
        Delivery::parse(envelope).expect_err("undeliverable").reason
    }

    #[test]
    fn an_upload_decodes_its_object() {
        let data = r#"{"name":"a.txt","bucket":"demo-bucket","size":"12"}"#;
        let delivery = Delivery::parse(&envelope("OBJECT_FINALIZE", json!(b64(data)))).expect("ok");
        assert_eq!(delivery.message_id.as_deref(), Some("42"));
        assert_eq!(
            delivery.event,
            Event::Upload(serde_json::from_str(data).expect("object"))
        );
    }

    #[test]
    fn other_event_types_are_ignored() {
        for event_type in ["OBJECT_DELETE", "OBJECT_ARCHIVE", "OBJECT_METADATA_UPDATE"] {
            let delivery =
                Delivery::parse(&envelope(event_type, json!("not even base64"))).expect("ok");
            assert_eq!(
                delivery.event,
                Event::Ignored {
                    event_type: event_type.into()
                }
            );
        }
    }

    #[test]
    fn either_message_id_spelling_is_read() {
        let mut snake = envelope("OBJECT_DELETE", Value::Null);
        let message = snake["message"].as_object_mut().expect("object");
        message.remove("messageId");
        message.insert("message_id".into(), json!("7"));
        assert_eq!(
            Delivery::parse(&snake).expect("ok").message_id.as_deref(),
            Some("7")
        );
        snake["message"]
            .as_object_mut()
            .expect("object")
            .remove("message_id");
        assert_eq!(Delivery::parse(&snake).expect("ok").message_id, None);
    }

    #[test]
    fn base64_without_padding_with_line_breaks_and_stray_characters_decodes() {
        let data = r#"{"name":"pad"}"#;
        let padded = b64(data);
        let unpadded = padded.trim_end_matches('=').to_owned();
        let wrapped: String = padded
            .as_bytes()
            .chunks(8)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("\n");
        for encoded in [
            padded,
            unpadded,
            wrapped,
            "eyJu!YW1l*IjoicGFkIn0 ".to_owned(),
        ] {
            assert_eq!(
                upload(&envelope("OBJECT_FINALIZE", json!(encoded)))["name"],
                "pad",
                "{encoded}"
            );
        }
    }

    #[test]
    fn payload_format_none_stores_what_the_attributes_say() {
        let mut none = envelope("OBJECT_FINALIZE", json!(""));
        none["message"]["attributes"]["payloadFormat"] = json!("NONE");
        assert_eq!(
            Value::Object(upload(&none)),
            json!({"name": "a.txt", "bucket": "demo-bucket", "generation": "1593600000123456",
                   "eventTime": "2020-07-01T10:40:00.123Z"})
        );
    }

    #[test]
    fn what_can_never_succeed_is_undeliverable_with_a_reason() {
        let mut no_message = envelope("OBJECT_FINALIZE", json!(b64("{}")));
        no_message.remove("message");
        assert_eq!(reason(&no_message), "message must be a JSON object.");
        let mut null_message = envelope("OBJECT_FINALIZE", json!(b64("{}")));
        null_message["message"] = Value::Null;
        assert_eq!(reason(&null_message), "message must be a JSON object.");
        let mut no_attributes = envelope("OBJECT_FINALIZE", json!(b64("{}")));
        no_attributes["message"]
            .as_object_mut()
            .expect("object")
            .remove("attributes");
        assert_eq!(
            reason(&no_attributes),
            "message.attributes must be a JSON object."
        );
        let mut no_type = envelope("OBJECT_FINALIZE", json!(b64("{}")));
        no_type["message"]["attributes"]
            .as_object_mut()
            .expect("object")
            .remove("eventType");
        assert_eq!(
            reason(&no_type),
            "message.attributes.eventType is required."
        );

        let cases = [
            (
                Value::Null,
                "message.data is empty, but payloadFormat JSON_API_V1 promises the object's metadata.",
            ),
            (json!(12), "message.data must be a base64 string."),
            (
                json!("not base64!!"),
                "message.data is not base64: Invalid input length: 9.",
            ),
            (
                json!(b64("hello")),
                "message.data does not decode to JSON: expected value at line 1 column 1.",
            ),
            (
                json!(b64(r#"{"name":"#)),
                "message.data does not decode to JSON: EOF while parsing a value at line 1 column 8.",
            ),
            (
                json!(b64("[1,2]")),
                "message.data must decode to a JSON object.",
            ),
            (
                json!("/w=="),
                "message.data does not decode to UTF-8 text: invalid utf-8 sequence of 1 bytes from index 0.",
            ),
        ];
        for (data, expected) in cases {
            let delivery = envelope("OBJECT_FINALIZE", data.clone());
            let error = Delivery::parse(&delivery).expect_err("undeliverable");
            assert_eq!(error.reason, expected, "{data}");
            assert_eq!(error.message_id.as_deref(), Some("42"));
        }
    }
}
