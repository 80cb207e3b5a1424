//! The Pub/Sub push envelope of a Cloud Storage notification (docs/design.md, "Exactly once"):
//! `{"subscription", "message": {"data", "attributes", "messageId" | "message_id", ...}}`. A pure
//! parser into a [`Notification`] keyed by the message id, or a [`Rejection`].

use base64::Engine;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};

use crate::notification::{Event, MAX_JSON_VALUES, Notification, Origin, Rejection};

/// The event type of a new object; every other type is acknowledged and ignored.
pub const OBJECT_FINALIZE: &str = "OBJECT_FINALIZE";

/// Standard alphabet, padding optional, as lenient as Python's `base64.b64decode`.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// The notification a push envelope carries. The message id is required: without it a redelivery
/// could not be told from a new upload.
pub fn parse(envelope: &Map<String, Value>) -> Result<Notification, Rejection> {
    let message = match envelope.get("message") {
        Some(Value::Object(message)) => message,
        _ => return Err(rejected(None, "message must be a JSON object.")),
    };
    // Pub/Sub sends both spellings with the same value; the first that is a usable id counts.
    let message_id = ["messageId", "message_id"].iter().find_map(|key| {
        message
            .get(*key)
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
    });
    let Some(message_id) = message_id.map(str::to_owned) else {
        return Err(rejected(
            None,
            "message.messageId must be a non-empty string: without it a redelivery cannot be told from a new upload.",
        ));
    };
    let fail = |reason: &str| rejected(Some(message_id.clone()), reason);
    let attributes = match message.get("attributes") {
        Some(Value::Object(attributes)) => attributes,
        _ => return Err(fail("message.attributes must be a JSON object.")),
    };
    let attribute = |name: &str| attributes.get(name).and_then(Value::as_str);
    let event_type =
        attribute("eventType").ok_or_else(|| fail("message.attributes.eventType is required."))?;
    let event = if event_type != OBJECT_FINALIZE {
        Event::Ignored {
            event_type: event_type.to_owned(),
        }
    } else {
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
        Event::Upload(object)
    };
    Ok(Notification {
        origin: Origin::PubsubMessage(message_id),
        event,
    })
}

fn rejected(message_id: Option<String>, reason: &str) -> Rejection {
    Rejection::new(message_id, reason)
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
    common::body::check_json_shape(&bytes, MAX_JSON_VALUES)
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
        match parse(envelope).expect("deliverable").event {
            Event::Upload(object) => object,
            other => panic!("not an upload: {other:?}"),
        }
    }

    fn reason(envelope: &Map<String, Value>) -> String {
        parse(envelope).expect_err("undeliverable").reason
    }

    #[test]
    fn an_upload_decodes_its_object() {
        let data = r#"{"name":"a.txt","bucket":"demo-bucket","size":"12"}"#;
        let delivery = parse(&envelope("OBJECT_FINALIZE", json!(b64(data)))).expect("ok");
        assert_eq!(delivery.origin, Origin::PubsubMessage("42".into()));
        assert_eq!(
            delivery.event,
            Event::Upload(serde_json::from_str(data).expect("object"))
        );
    }

    #[test]
    fn other_event_types_are_ignored() {
        for event_type in ["OBJECT_DELETE", "OBJECT_ARCHIVE", "OBJECT_METADATA_UPDATE"] {
            let delivery = parse(&envelope(event_type, json!("not even base64"))).expect("ok");
            assert_eq!(
                delivery.event,
                Event::Ignored {
                    event_type: event_type.into()
                }
            );
        }
    }

    fn with_ids(message_id: Option<Value>, snake_id: Option<Value>) -> Map<String, Value> {
        let mut delivery = envelope("OBJECT_FINALIZE", json!(b64(r#"{"name":"a.txt"}"#)));
        let message = delivery["message"].as_object_mut().expect("object");
        message.remove("messageId");
        message.remove("message_id");
        for (key, id) in [("messageId", message_id), ("message_id", snake_id)] {
            if let Some(id) = id {
                message.insert(key.into(), id);
            }
        }
        delivery
    }

    #[test]
    fn the_first_usable_message_id_of_either_spelling_is_read() {
        for (message_id, snake_id) in [
            (None, Some(json!("7"))),
            (Some(json!("")), Some(json!("7"))),
            (Some(json!(7)), Some(json!("7"))),
            (Some(json!("7")), Some(json!("8"))),
        ] {
            let delivery = parse(&with_ids(message_id.clone(), snake_id));
            assert_eq!(
                delivery.expect("ok").origin,
                Origin::PubsubMessage("7".into()),
                "{message_id:?}"
            );
        }
    }

    #[test]
    fn a_message_without_a_usable_id_is_undeliverable() {
        for (message_id, snake_id) in [
            (None, None),
            (Some(json!("")), None),
            (Some(json!("")), Some(json!(""))),
            (Some(json!(42)), Some(Value::Null)),
            (Some(json!({"id": "42"})), None),
        ] {
            let error = parse(&with_ids(message_id.clone(), snake_id)).expect_err("undeliverable");
            assert!(
                error
                    .reason
                    .starts_with("message.messageId must be a non-empty string"),
                "{message_id:?}: {}",
                error.reason
            );
            assert_eq!(error.id, None);
        }
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
            let error = parse(&delivery).expect_err("undeliverable");
            assert_eq!(error.reason, expected, "{data}");
            assert_eq!(error.id.as_deref(), Some("42"));
        }
    }
}
