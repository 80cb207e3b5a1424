//! Where the original answers 500s or tracebacks, message_board answers a JSON 4xx.

use serde_json::Value;
use test_support::read;

use crate::helpers::spawn_app;

const JSON: Option<&str> = Some("application/json");
const STORE_REQUIRED: &str = "name and message properties are required.";
const NAME_REQUIRED: &str = "name property is required.";

/// Path, method, Content-Type, body; the status and message expected.
type Case = (&'static str, &'static str, Option<&'static str>, Vec<u8>, u16, &'static str);

fn ten_mib_message() -> Vec<u8> {
    let mut body = br#"{"name":"big","message":""#.to_vec();
    body.resize(body.len() + 10 * 1024 * 1024, b'a');
    body.extend_from_slice(br#""}"#);
    body
}

#[actix_web::test]
async fn bad_input_is_a_json_4xx_and_stores_nothing() {
    let app = spawn_app().await;
    let mut cases: Vec<Case> = Vec::new();
    for path in ["/api/v1/store", "/api/v1/retrieve"] {
        cases.extend([
            (path, "POST", None, vec![], 415, "Content-Type must be application/json; the request has none."),
            (path, "POST", JSON, vec![], 400, "The request body is empty; a JSON object is required."),
            (path, "POST", JSON, br#"{"name":"a","#.to_vec(), 400, "The request body is not valid JSON: EOF while parsing a value at line 1 column 12."),
            (path, "POST", JSON, br#"[{"name":"a","message":"b"}]"#.to_vec(), 400, "The request body must be a JSON object."),
            (path, "POST", JSON, b"null".to_vec(), 400, "The request body must be a JSON object."),
            (path, "POST", Some("text/plain"), br#"{"name":"a","message":"b"}"#.to_vec(), 415, "Content-Type must be application/json, not \"text/plain\"."),
            (path, "POST", JSON, ten_mib_message(), 413, "request body is larger than the limit of 1048576 bytes"),
            (path, "GET", None, vec![], 405, "method not allowed; allowed: POST"),
        ]);
    }
    let store = "/api/v1/store";
    let retrieve = "/api/v1/retrieve";
    cases.extend([
        (
            store,
            "POST",
            JSON,
            br#"{"message":"m"}"#.to_vec(),
            400,
            STORE_REQUIRED,
        ),
        (
            store,
            "POST",
            JSON,
            br#"{"name":"a"}"#.to_vec(),
            400,
            STORE_REQUIRED,
        ),
        (store, "POST", JSON, br#"{}"#.to_vec(), 400, STORE_REQUIRED),
        (
            store,
            "POST",
            JSON,
            br#"{"name":null,"message":"m"}"#.to_vec(),
            400,
            STORE_REQUIRED,
        ),
        (
            store,
            "POST",
            JSON,
            br#"{"name":"a","message":null}"#.to_vec(),
            400,
            STORE_REQUIRED,
        ),
        (
            store,
            "POST",
            JSON,
            br#"{"name":"a","message":{"k":[1,2]}}"#.to_vec(),
            400,
            "message must be a string, not an object.",
        ),
        (
            store,
            "POST",
            JSON,
            br#"{"name":42,"message":"m"}"#.to_vec(),
            400,
            "name must be a string, not a number.",
        ),
        (
            store,
            "POST",
            JSON,
            br#"{"name":["a"],"message":"m"}"#.to_vec(),
            400,
            "name must be a string, not an array.",
        ),
        (
            retrieve,
            "POST",
            JSON,
            br#"{}"#.to_vec(),
            400,
            NAME_REQUIRED,
        ),
        (
            retrieve,
            "POST",
            JSON,
            br#"{"name":null}"#.to_vec(),
            400,
            NAME_REQUIRED,
        ),
        (
            retrieve,
            "POST",
            JSON,
            br#"{"name":42}"#.to_vec(),
            400,
            "name must be a string, not a number.",
        ),
        (
            retrieve,
            "POST",
            JSON,
            br#"{"name":true}"#.to_vec(),
            400,
            "name must be a string, not a boolean.",
        ),
    ]);
    for (path, method, content_type, body, status, message) in cases {
        let what = format!(
            "{method} {path} {content_type:?} {}",
            String::from_utf8_lossy(&body[..body.len().min(40)])
        );
        let (got_status, got_type, got_body) =
            read(app.send(method, path, content_type, body).await).await;
        assert_eq!(got_status, status, "{what}: {got_body}");
        assert_eq!(got_type, "application/json", "{what}");
        let got: Value = serde_json::from_str(&got_body).expect("a JSON body");
        assert_eq!(got["message"], message, "{what}");
    }
    assert_eq!(app.datastore.entities("Message").await, Vec::<Value>::new());
}

#[actix_web::test]
async fn a_name_datastore_cannot_index_is_a_400() {
    let app = spawn_app().await;
    let name = "n".repeat(1501);
    let response = app
        .post_json(
            "/api/v1/store",
            &serde_json::json!({"name": name, "message": "m"}),
        )
        .await;
    let (status, content_type, body) = read(response).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(content_type, "application/json");
    let body: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(
        body["message"],
        "name is longer than 1500 bytes, more than Datastore can index."
    );
    assert_eq!(app.datastore.entities("Message").await, Vec::<Value>::new());
}
