//! Where the original answers tracebacks, 500s or HTML, we answer a JSON message with a 4xx.

use serde_json::Value;

use test_support::read;

use crate::helpers::spawn_app;

const JSON: Option<&str> = Some("application/json");

struct Case {
    what: &'static str,
    method: &'static str,
    path: &'static str,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    status: u16,
    message: &'static str,
}

fn case(
    what: &'static str,
    content_type: Option<&'static str>,
    body: &str,
    status: u16,
    message: &'static str,
) -> Case {
    Case {
        what,
        method: "POST",
        path: "/api/v1/hello",
        content_type,
        body: body.as_bytes().to_vec(),
        status,
        message,
    }
}

fn ten_mib_name() -> Vec<u8> {
    let mut body = br#"{"name":""#.to_vec();
    body.resize(body.len() + 10 * 1024 * 1024, b'a');
    body.extend_from_slice(br#""}"#);
    body
}

#[actix_web::test]
async fn bad_input_is_a_json_4xx() {
    let app = spawn_app().await;
    let cases = vec![
        case(
            "no body, no type",
            None,
            "",
            415,
            "Content-Type must be application/json; the request has none.",
        ),
        case(
            "empty body",
            JSON,
            "",
            400,
            "The request body is empty; a JSON object is required.",
        ),
        case(
            "invalid JSON",
            JSON,
            r#"{"name":"#,
            400,
            "The request body is not valid JSON: EOF while parsing a value at line 1 column 8.",
        ),
        case(
            "array",
            JSON,
            r#"["Bob"]"#,
            400,
            "The request body must be a JSON object.",
        ),
        case(
            "null",
            JSON,
            "null",
            400,
            "The request body must be a JSON object.",
        ),
        case(
            "string",
            JSON,
            r#""Bob""#,
            400,
            "The request body must be a JSON object.",
        ),
        case(
            "name null",
            JSON,
            r#"{"name":null}"#,
            400,
            "name must be a string, not null.",
        ),
        case(
            "name number",
            JSON,
            r#"{"name":42}"#,
            400,
            "name must be a string, not a number.",
        ),
        case(
            "name object",
            JSON,
            r#"{"name":{"a":[1,true]}}"#,
            400,
            "name must be a string, not an object.",
        ),
        case(
            "name array",
            JSON,
            r#"{"name":["Bob"]}"#,
            400,
            "name must be a string, not an array.",
        ),
        case(
            "name boolean",
            JSON,
            r#"{"name":true}"#,
            400,
            "name must be a string, not a boolean.",
        ),
        case(
            "text/plain",
            Some("text/plain"),
            r#"{"name":"Bob"}"#,
            415,
            "Content-Type must be application/json, not \"text/plain\".",
        ),
        case(
            "form",
            Some("application/x-www-form-urlencoded"),
            "name=Bob",
            415,
            "Content-Type must be application/json, not \"application/x-www-form-urlencoded\".",
        ),
        Case {
            body: b"{\"name\":\"\xff\"}".to_vec(),
            ..case(
                "invalid UTF-8 bytes",
                JSON,
                "",
                400,
                "The request body is not valid JSON: invalid unicode code point at line 1 column 10.",
            )
        },
        Case {
            body: ten_mib_name(),
            ..case(
                "10 MiB body",
                JSON,
                "",
                413,
                "request body is larger than the limit of 1048576 bytes",
            )
        },
        Case {
            method: "GET",
            ..case(
                "GET on the POST route",
                None,
                "",
                405,
                "method not allowed; allowed: POST",
            )
        },
        Case {
            method: "GET",
            path: "/nope",
            ..case("unknown path", None, "", 404, "No route for GET /nope.")
        },
        Case {
            method: "DELETE",
            path: "/",
            ..case(
                "DELETE on the root",
                None,
                "",
                405,
                "method not allowed; allowed: GET, HEAD",
            )
        },
    ];
    for case in cases {
        let response = app
            .send(case.method, case.path, case.content_type, case.body)
            .await;
        let (status, content_type, body) = read(response).await;
        assert_eq!(status, case.status, "{}: {body}", case.what);
        assert_eq!(content_type, "application/json", "{}", case.what);
        let body: Value = serde_json::from_str(&body).expect("a JSON body");
        assert_eq!(body["message"], case.message, "{}", case.what);
        assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{}", case.what);
    }
}

#[actix_web::test]
async fn json_types_with_parameters_and_suffixes_are_accepted() {
    let app = spawn_app().await;
    for content_type in [
        "application/json; charset=utf-8",
        "application/merge-patch+json",
        "APPLICATION/JSON",
    ] {
        let response = app
            .send(
                "POST",
                "/api/v1/hello",
                Some(content_type),
                br#"{"name":"Bob"}"#.to_vec(),
            )
            .await;
        let (status, _, body) = read(response).await;
        assert_eq!(status, 200, "{content_type}");
        assert_eq!(body, r#"{"message":"Hello, Bob!"}"#, "{content_type}");
    }
}

#[actix_web::test]
async fn the_limit_is_inclusive() {
    let app = spawn_app().await;
    for (size, status) in [(1024 * 1024, 200), (1024 * 1024 + 1, 413)] {
        let mut body = br#"{"name":""#.to_vec();
        body.resize(size - 2, b'a');
        body.extend_from_slice(br#""}"#);
        assert_eq!(body.len(), size);
        let response = app.send("POST", "/api/v1/hello", JSON, body).await;
        assert_eq!(response.status().as_u16(), status, "{size} bytes");
    }
}
