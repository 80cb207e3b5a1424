//! Where the original answers 500s or tracebacks, message_board answers a JSON 4xx.

use serde_json::Value;
use test_support::bad_input::{
    Case, JSON, assert_json_errors, bodiless, json_with_long_string, post,
};

use crate::helpers::spawn_app;

const STORE: &str = "/api/v1/store";
const RETRIEVE: &str = "/api/v1/retrieve";
const STORE_REQUIRED: &str = "name and message properties are required.";
const NAME_REQUIRED: &str = "name property is required.";

#[actix_web::test]
async fn bad_input_is_a_json_4xx_and_stores_nothing() {
    let app = spawn_app().await;
    let mut cases: Vec<Case> = Vec::new();
    for path in [STORE, RETRIEVE] {
        cases.extend([
            post(path, None, "", 415, "Content-Type must be application/json; the request has none."),
            post(path, JSON, "", 400, "The request body is empty; a JSON object is required."),
            post(path, JSON, r#"{"name":"a","#, 400, "The request body is not valid JSON: EOF while parsing a value at line 1 column 12."),
            post(path, JSON, r#"[{"name":"a","message":"b"}]"#, 400, "The request body must be a JSON object."),
            post(path, JSON, "null", 400, "The request body must be a JSON object."),
            post(path, Some("text/plain"), r#"{"name":"a","message":"b"}"#, 415, "Content-Type must be application/json, not \"text/plain\"."),
            post(path, JSON, json_with_long_string(r#""name":"big","#, "message", 10 * 1024 * 1024), 413, "request body is larger than the limit of 1048576 bytes"),
            bodiless("GET", path, 405, "method not allowed; allowed: POST"),
        ]);
    }
    cases.extend([
        post(STORE, JSON, r#"{"message":"m"}"#, 400, STORE_REQUIRED),
        post(STORE, JSON, r#"{"name":"a"}"#, 400, STORE_REQUIRED),
        post(STORE, JSON, "{}", 400, STORE_REQUIRED),
        post(
            STORE,
            JSON,
            r#"{"name":null,"message":"m"}"#,
            400,
            STORE_REQUIRED,
        ),
        post(
            STORE,
            JSON,
            r#"{"name":"a","message":null}"#,
            400,
            STORE_REQUIRED,
        ),
        post(
            STORE,
            JSON,
            r#"{"name":"a","message":{"k":[1,2]}}"#,
            400,
            "message must be a string, not an object.",
        ),
        post(
            STORE,
            JSON,
            r#"{"name":42,"message":"m"}"#,
            400,
            "name must be a string, not a number.",
        ),
        post(
            STORE,
            JSON,
            r#"{"name":["a"],"message":"m"}"#,
            400,
            "name must be a string, not an array.",
        ),
        post(
            STORE,
            JSON,
            format!(r#"{{"name":"{}","message":"m"}}"#, "n".repeat(1501)),
            400,
            "name is longer than 1500 bytes, more than Datastore can index.",
        ),
        post(RETRIEVE, JSON, "{}", 400, NAME_REQUIRED),
        post(RETRIEVE, JSON, r#"{"name":null}"#, 400, NAME_REQUIRED),
        post(
            RETRIEVE,
            JSON,
            r#"{"name":42}"#,
            400,
            "name must be a string, not a number.",
        ),
        post(
            RETRIEVE,
            JSON,
            r#"{"name":true}"#,
            400,
            "name must be a string, not a boolean.",
        ),
    ]);
    assert_json_errors(&app, cases).await;
    assert_eq!(app.datastore.entities("Message").await, Vec::<Value>::new());
}
