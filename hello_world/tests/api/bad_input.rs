//! Where the original answers tracebacks, 500s or HTML, we answer a JSON message with a 4xx.

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use test_support::bad_input::{
    JSON, assert_json_errors, bodiless, json_body_mistakes, json_with_long_string, post,
};
use test_support::resilience::trickle_body;
use test_support::{Answer, TestApp, read};

use crate::helpers::spawn_app;

const HELLO: &str = "/api/v1/hello";

#[actix_web::test]
async fn bad_input_is_a_json_4xx() {
    let app = spawn_app().await;
    let mut cases = json_body_mistakes(HELLO, 1024 * 1024, r#"{"name":"Bob"}"#);
    cases.extend([
        post(
            HELLO,
            JSON,
            r#"{"name":null}"#,
            400,
            "name must be a string, not null.",
        ),
        post(
            HELLO,
            JSON,
            r#"{"name":42}"#,
            400,
            "name must be a string, not a number.",
        ),
        post(
            HELLO,
            JSON,
            r#"{"name":{"a":[1,true]}}"#,
            400,
            "name must be a string, not an object.",
        ),
        post(
            HELLO,
            JSON,
            r#"{"name":["Bob"]}"#,
            400,
            "name must be a string, not an array.",
        ),
        post(
            HELLO,
            JSON,
            r#"{"name":true}"#,
            400,
            "name must be a string, not a boolean.",
        ),
        bodiless("GET", "/nope", 404, "No route for GET /nope."),
        bodiless("DELETE", "/", 405, "method not allowed; allowed: GET, HEAD"),
    ]);
    assert_json_errors(&app.client, cases).await;
}

#[actix_web::test]
async fn json_types_with_parameters_and_suffixes_are_accepted() {
    let app = spawn_app().await;
    for content_type in [
        "application/json; charset=utf-8",
        "application/merge-patch+json",
        "APPLICATION/JSON",
    ] {
        let body = br#"{"name":"Bob"}"#.to_vec();
        let Answer { status, body, .. } = read(
            app.client
                .send("POST", HELLO, Some(content_type), body)
                .await,
        )
        .await;
        assert_eq!(status, 200, "{content_type}");
        assert_eq!(body, r#"{"message":"Hello, Bob!"}"#, "{content_type}");
    }
}

#[actix_web::test]
async fn the_limit_is_inclusive() {
    let app = spawn_app().await;
    for (size, status) in [(1024 * 1024, 200), (1024 * 1024 + 1, 413)] {
        let body = json_with_long_string("", "name", size - r#"{"name":""}"#.len());
        assert_eq!(body.len(), size);
        let response = app.client.send("POST", HELLO, JSON, body).await;
        assert_eq!(response.status().as_u16(), status, "{size} bytes");
    }
}

#[actix_web::test]
async fn a_body_that_has_not_all_arrived_within_the_body_timeout_is_408() {
    let mut config = test_support::test_config();
    config.body_timeout = Duration::from_secs(1);
    let app = TestApp::run(
        hello_world::startup::build(&config).expect("bind a free port"),
        (),
    );
    let port = app.port;
    let started = Instant::now();
    let answer = actix_web::rt::task::spawn_blocking(move || {
        trickle_body(port, "/api/v1/hello", 1000, &AtomicBool::new(false))
    })
    .await
    .expect("the client thread")
    .expect("an answer");
    let waited = started.elapsed();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.ends_with(r#"{"message":"the request body did not arrive within 1 s"}"#),
        "{answer}"
    );
    // Bytes kept arriving: a deadline on the whole body, not on silence.
    assert!(waited < Duration::from_secs(10), "{waited:?}");
}
