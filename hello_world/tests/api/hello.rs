//! Every row of the contract (docs/design.md, "HTTP contract") for hello_world.

use serde_json::{Value, json};

use test_support::{Answer, read};

use crate::helpers::spawn_app;

#[actix_web::test]
async fn root_answers_the_original_text_byte_for_byte() {
    let app = spawn_app().await;
    let Answer {
        status,
        content_type,
        body,
    } = read(app.client.send("GET", "/", None, vec![]).await).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "text/html; charset=utf-8");
    assert_eq!(body, "Hello world service. ");
}

#[actix_web::test]
async fn root_answers_head_without_a_body() {
    let app = spawn_app().await;
    let Answer {
        status,
        content_type,
        body,
    } = read(app.client.send("HEAD", "/", None, vec![]).await).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "text/html; charset=utf-8");
    assert_eq!(body, "");
}

#[actix_web::test]
async fn hello_greets_by_name() {
    let app = spawn_app().await;
    let cases = [
        (r#"{"name": "Bob"}"#, "Hello, Bob!"),
        (r#"{}"#, "Hello, World!"),
        (r#"{"name": ""}"#, "Hello, !"),
        (r#"{"name": "日本 \"q\""}"#, "Hello, 日本 \"q\"!"),
        (
            r#"{"name": "Bob", "other": [1, {"x": null}]}"#,
            "Hello, Bob!",
        ),
        (r#"{"other": 1}"#, "Hello, World!"),
    ];
    for (request, greeting) in cases {
        let Answer {
            status,
            content_type,
            body,
        } = read(
            app.client
                .send(
                    "POST",
                    "/api/v1/hello",
                    Some("application/json"),
                    request.as_bytes().to_vec(),
                )
                .await,
        )
        .await;
        assert_eq!(status, 200, "{request}");
        assert_eq!(content_type, "application/json", "{request}");
        let body: Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(body, json!({ "message": greeting }), "{request}");
    }
}
