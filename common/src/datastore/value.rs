//! JSON → Datastore values, as the original's Python client maps them (docs/design.md,
//! "Datastore model"): string, integer, double, boolean, null, object → embedded entity,
//! array → array; timestamps for the `timestamp` properties. The way back, for the answers, is
//! [`crate::answer`].

use std::collections::HashMap;

use chrono::{DateTime, SubsecRound, Utc};
use gcloud_sdk::google::datastore::v1::value::ValueType;
use gcloud_sdk::google::datastore::v1::{ArrayValue, Entity, Value};
use gcloud_sdk::prost_types::{NullValue, Timestamp};
use serde_json::{Map, Number, Value as Json};

/// Datastore indexes at most 1500 bytes of a string; longer ones must be excluded.
pub const MAX_INDEXED_STRING_BYTES: usize = 1500;

pub type Properties = HashMap<String, Value>;

/// A JSON value Datastore cannot hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError(pub String);

impl std::fmt::Display for ValueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ValueError {}

fn value(value_type: ValueType) -> Value {
    Value {
        value_type: Some(value_type),
        ..Value::default()
    }
}

/// A string value, excluded from indexes when Datastore could not index it.
pub fn string(s: impl Into<String>) -> Value {
    let s = s.into();
    let too_long = s.len() > MAX_INDEXED_STRING_BYTES;
    Value {
        exclude_from_indexes: too_long,
        ..value(ValueType::StringValue(s))
    }
}

/// A string value that is never indexed (the message of a `Message`).
pub fn unindexed_string(s: impl Into<String>) -> Value {
    Value {
        exclude_from_indexes: true,
        ..value(ValueType::StringValue(s.into()))
    }
}

/// A timestamp value: UTC, microseconds (what Datastore keeps).
pub fn timestamp(at: DateTime<Utc>) -> Value {
    let at = at.trunc_subsecs(6);
    value(ValueType::TimestampValue(Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }))
}

/// Now, as Datastore will store it.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A stored timestamp as a date and time; `None` when out of chrono's range.
pub fn datetime(t: &Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?)
}

/// Datastore's largest entity (the emulators take larger ones; Datastore refuses them).
pub const MAX_ENTITY_BYTES: usize = 1_048_572;
/// The deepest nesting of entity values accepted: Datastore's own limit is 20, and a read must
/// decode what was written.
pub const MAX_NESTING: usize = crate::body::MAX_JSON_DEPTH;

/// What Datastore refuses but the emulators accept, checked before the RPC: property names that
/// are empty, `__reserved__` or over 1500 bytes, nesting past [`MAX_NESTING`], entities over
/// [`MAX_ENTITY_BYTES`] (counted as names plus values, a close lower bound of Datastore's count).
pub fn check_entity(properties: &Properties) -> Result<(), ValueError> {
    let size = properties_size(properties, 1)?;
    if size > MAX_ENTITY_BYTES {
        return Err(ValueError(format!(
            "the entity would be {size} bytes, more than Datastore's {MAX_ENTITY_BYTES}"
        )));
    }
    Ok(())
}

fn properties_size(properties: &Properties, depth: usize) -> Result<usize, ValueError> {
    if depth > MAX_NESTING {
        return Err(ValueError(format!(
            "objects nest deeper than {MAX_NESTING} levels"
        )));
    }
    properties.iter().try_fold(0, |size, (name, value)| {
        check_property_name(name)?;
        Ok(size + name.len() + value_size(value, depth)?)
    })
}

fn value_size(value: &Value, depth: usize) -> Result<usize, ValueError> {
    Ok(match &value.value_type {
        Some(ValueType::StringValue(s)) => s.len() + 1,
        Some(ValueType::BlobValue(b)) => b.len() + 1,
        Some(ValueType::EntityValue(entity)) => properties_size(&entity.properties, depth + 1)?,
        Some(ValueType::ArrayValue(array)) => array.values.iter().try_fold(0, |size, item| {
            Ok::<_, ValueError>(size + value_size(item, depth)?)
        })?,
        _ => 8,
    })
}

fn check_property_name(name: &str) -> Result<(), ValueError> {
    let shown = || name.chars().take(40).collect::<String>();
    if name.is_empty() {
        Err(ValueError("a property name is empty".into()))
    } else if name.starts_with("__") && name.ends_with("__") {
        Err(ValueError(format!(
            "the property name {} is reserved by Datastore",
            shown()
        )))
    } else if name.len() > MAX_INDEXED_STRING_BYTES {
        Err(ValueError(format!(
            "the property name {}… is longer than {MAX_INDEXED_STRING_BYTES} bytes",
            shown()
        )))
    } else {
        Ok(())
    }
}

/// A JSON object as entity properties.
pub fn properties_from_json(object: &Map<String, Json>) -> Result<Properties, ValueError> {
    object
        .iter()
        .map(|(name, json)| Ok((name.clone(), from_json(json)?)))
        .collect()
}

/// A JSON value as a Datastore value, as the Python client stores it.
pub fn from_json(json: &Json) -> Result<Value, ValueError> {
    Ok(match json {
        Json::Null => value(ValueType::NullValue(NullValue::NullValue as i32)),
        Json::Bool(b) => value(ValueType::BooleanValue(*b)),
        Json::Number(n) => number(n)?,
        Json::String(s) => string(s.as_str()),
        Json::Array(items) => value(ValueType::ArrayValue(ArrayValue {
            values: items
                .iter()
                .map(|item| match item {
                    Json::Array(_) => Err(ValueError(
                        "an array inside an array cannot be stored in Datastore".into(),
                    )),
                    item => from_json(item),
                })
                .collect::<Result<_, _>>()?,
        })),
        Json::Object(object) => value(ValueType::EntityValue(Entity {
            key: None,
            properties: properties_from_json(object)?,
        })),
    })
}

fn number(n: &Number) -> Result<Value, ValueError> {
    if let Some(i) = n.as_i64() {
        Ok(value(ValueType::IntegerValue(i)))
    } else if n.is_f64() {
        Ok(value(ValueType::DoubleValue(
            n.as_f64().unwrap_or_default(),
        )))
    } else {
        Err(ValueError(format!(
            "the integer {n} does not fit Datastore's 64-bit integers"
        )))
    }
}

/// The property as a string, if it is one.
pub fn as_str(value: Option<&Value>) -> Option<&str> {
    match value?.value_type.as_ref()? {
        ValueType::StringValue(s) => Some(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_datastore_refuses_is_refused_before_the_rpc() {
        let entity =
            |json: Json| properties_from_json(json.as_object().expect("object")).expect("converts");
        assert!(check_entity(&entity(serde_json::json!({"name": "a", "size": 1}))).is_ok());
        for (case, json) in [
            ("empty name", serde_json::json!({"": 1})),
            ("reserved name", serde_json::json!({"__key__": 1})),
            ("long name", serde_json::json!({"x".repeat(1501): 1})),
            (
                "too big",
                serde_json::json!({"a": "x".repeat(MAX_ENTITY_BYTES)}),
            ),
            ("nested name", serde_json::json!({"a": {"__x__": 1}})),
        ] {
            assert!(check_entity(&entity(json)).is_err(), "{case}");
        }
        let mut deep = serde_json::json!(1);
        for _ in 0..MAX_NESTING {
            deep = serde_json::json!({ "a": deep });
        }
        assert!(check_entity(&entity(deep.clone())).is_ok(), "20 levels");
        assert!(
            check_entity(&entity(serde_json::json!({ "a": deep }))).is_err(),
            "21 levels"
        );
    }
    use serde_json::json;

    fn kind(value: &Value) -> &ValueType {
        value.value_type.as_ref().expect("a value type")
    }

    #[test]
    fn scalars_map_as_the_python_client_maps_them() {
        assert!(
            matches!(kind(&from_json(&json!("x")).expect("ok")), ValueType::StringValue(s) if s == "x")
        );
        assert!(matches!(
            kind(&from_json(&json!(7)).expect("ok")),
            ValueType::IntegerValue(7)
        ));
        assert!(matches!(
            kind(&from_json(&json!(-7)).expect("ok")),
            ValueType::IntegerValue(-7)
        ));
        assert!(
            matches!(kind(&from_json(&json!(1.5)).expect("ok")), ValueType::DoubleValue(d) if *d == 1.5)
        );
        assert!(matches!(
            kind(&from_json(&json!(true)).expect("ok")),
            ValueType::BooleanValue(true)
        ));
        assert!(matches!(
            kind(&from_json(&json!(null)).expect("ok")),
            ValueType::NullValue(0)
        ));
        assert!(matches!(
            kind(&from_json(&json!(i64::MAX)).expect("ok")),
            ValueType::IntegerValue(i64::MAX)
        ));
    }

    #[test]
    fn integers_beyond_64_bits_are_refused() {
        let error = from_json(&json!(u64::MAX)).expect_err("too large");
        assert_eq!(
            error.0,
            "the integer 18446744073709551615 does not fit Datastore's 64-bit integers"
        );
    }

    #[test]
    fn objects_become_embedded_entities_and_arrays_arrays() {
        let stored =
            from_json(&json!({"owner": "alice", "tags": [1, "two", {"k": null}]})).expect("ok");
        let ValueType::EntityValue(entity) = kind(&stored) else {
            panic!("not an entity: {stored:?}")
        };
        assert!(entity.key.is_none());
        assert!(
            matches!(kind(&entity.properties["owner"]), ValueType::StringValue(s) if s == "alice")
        );
        let ValueType::ArrayValue(array) = kind(&entity.properties["tags"]) else {
            panic!("not an array")
        };
        assert_eq!(array.values.len(), 3);
        assert!(matches!(kind(&array.values[2]), ValueType::EntityValue(_)));
    }

    #[test]
    fn arrays_of_arrays_are_refused() {
        assert!(from_json(&json!([[1]])).is_err());
        assert!(from_json(&json!({"a": [1, [2]]})).is_err());
    }

    #[test]
    fn long_strings_are_excluded_from_indexes_wherever_they_are() {
        let short = "a".repeat(MAX_INDEXED_STRING_BYTES);
        let long = "a".repeat(MAX_INDEXED_STRING_BYTES + 1);
        assert!(!from_json(&json!(short)).expect("ok").exclude_from_indexes);
        assert!(from_json(&json!(long)).expect("ok").exclude_from_indexes);
        // In an array the elements carry the flag, never the array itself.
        let array = from_json(&json!([long.clone()])).expect("ok");
        assert!(!array.exclude_from_indexes);
        let ValueType::ArrayValue(items) = kind(&array) else {
            panic!("not an array")
        };
        assert!(items.values[0].exclude_from_indexes);
        let nested = from_json(&json!({"deep": long})).expect("ok");
        let ValueType::EntityValue(entity) = kind(&nested) else {
            panic!("not an entity")
        };
        assert!(entity.properties["deep"].exclude_from_indexes);
        assert!(unindexed_string("short").exclude_from_indexes);
    }

    #[test]
    fn timestamps_keep_microseconds() {
        let at = DateTime::parse_from_rfc3339("2020-12-27T10:08:56.123456789Z")
            .expect("valid")
            .with_timezone(&Utc);
        let stored = timestamp(at);
        let ValueType::TimestampValue(t) = kind(&stored) else {
            panic!("not a timestamp")
        };
        assert_eq!((t.seconds, t.nanos), (1_609_063_736, 123_456_000));
        assert_eq!(datetime(t), Some(at.trunc_subsecs(6)));
    }

    #[test]
    fn as_str_reads_only_strings() {
        assert_eq!(as_str(Some(&string("x"))), Some("x"));
        assert_eq!(as_str(Some(&from_json(&json!(1)).expect("ok"))), None);
        assert_eq!(as_str(None), None);
    }
}
