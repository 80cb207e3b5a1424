//! JSON as the original's Flask answers write it: datetimes as HTTP-dates, and (with the
//! `datastore` feature) stored values as the JSON they came from.

use chrono::{DateTime, Utc};

/// `Sun, 27 Dec 2020 10:08:56 GMT`, as Flask's `jsonify` writes datetimes.
pub fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[cfg(feature = "datastore")]
pub use stored::{json_of, object_of};

#[cfg(feature = "datastore")]
mod stored {
    use gcloud_sdk::google::datastore::v1::Value;
    use gcloud_sdk::google::datastore::v1::value::ValueType;
    use serde_json::{Map, Number, Value as Json};

    use super::http_date;
    use crate::datastore::value::{Properties, datetime};

    /// Entity properties as a JSON object (keys sorted, as Flask writes them).
    pub fn object_of(properties: &Properties) -> Map<String, Json> {
        properties
            .iter()
            .map(|(name, value)| (name.clone(), json_of(value)))
            .collect()
    }

    /// A Datastore value as JSON; timestamps as HTTP-dates.
    pub fn json_of(value: &Value) -> Json {
        match &value.value_type {
            None | Some(ValueType::NullValue(_)) => Json::Null,
            Some(ValueType::BooleanValue(b)) => Json::Bool(*b),
            Some(ValueType::IntegerValue(i)) => Json::from(*i),
            Some(ValueType::DoubleValue(d)) => {
                Number::from_f64(*d).map_or(Json::Null, Json::Number)
            }
            Some(ValueType::StringValue(s)) => Json::String(s.clone()),
            Some(ValueType::TimestampValue(t)) => {
                datetime(t).map_or(Json::Null, |at| Json::String(http_date(at)))
            }
            Some(ValueType::ArrayValue(array)) => {
                Json::Array(array.values.iter().map(json_of).collect())
            }
            Some(ValueType::EntityValue(entity)) => Json::Object(object_of(&entity.properties)),
            // Kinds the services never write; shown rather than dropped.
            Some(ValueType::KeyValue(key)) => Json::String(format!("{key:?}")),
            Some(ValueType::BlobValue(bytes)) => {
                Json::String(String::from_utf8_lossy(bytes).into_owned())
            }
            Some(ValueType::GeoPointValue(p)) => {
                serde_json::json!({"latitude": p.latitude, "longitude": p.longitude})
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use chrono::{DateTime, Utc};
        use serde_json::json;

        use super::*;
        use crate::datastore::value::{properties_from_json, timestamp};

        #[test]
        fn json_round_trips_through_datastore_values() {
            let original = json!({
                "name": "nested.txt", "size": "1", "n": 7, "f": 1.5, "ok": true, "z": null,
                "list": [1, "two"], "metadata": {"owner": "alice", "tags": "a,b"}
            });
            let object = original.as_object().expect("object");
            let back = object_of(&properties_from_json(object).expect("storable"));
            assert_eq!(Json::Object(back), original);
        }

        #[test]
        fn timestamps_answer_as_http_dates() {
            let at = DateTime::parse_from_rfc3339("2020-12-27T10:08:56.123456789Z")
                .expect("valid")
                .with_timezone(&Utc);
            assert_eq!(
                json_of(&timestamp(at)),
                json!("Sun, 27 Dec 2020 10:08:56 GMT")
            );
            assert_eq!(http_date(at), "Sun, 27 Dec 2020 10:08:56 GMT");
        }
    }
}
