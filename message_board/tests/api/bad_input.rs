//! Where the original answers 500s or tracebacks, message_board answers a JSON 4xx.

use serde_json::Value;
use test_support::bad_input::{Case, JSON, assert_json_errors, json_body_mistakes, post};

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
        cases.extend(json_body_mistakes(
            path,
            1024 * 1024,
            r#"{"name":"a","message":"b"}"#,
        ));
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
    assert_json_errors(&app.client, cases).await;
    assert_eq!(app.datastore.entities("Message").await, Vec::<Value>::new());
}
