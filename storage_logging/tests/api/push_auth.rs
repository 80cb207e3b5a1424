//! Push-token verification, on: tokens signed by a test key whose public half a local server
//! publishes as a JWKS (`tests/fixtures`; no network), checked on push, events and purge.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::{App, HttpResponse, HttpServer, web};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use storage_logging::push_auth::{PushAuthSettings, VerifiedRoute};
use test_support::{Answer, free_port, read};

use crate::helpers::{
    Options, StorageLogging, TestApp, envelope, json_answer, object_metadata, spawn_app_with,
};

const JWKS: &str = include_str!("../fixtures/jwks.json");
pub(crate) const TRUSTED_KEY: &[u8] = include_bytes!("../fixtures/trusted-key.der");
/// Not in the JWKS, but claims the trusted key's id.
const FORGED_KEY: &[u8] = include_bytes!("../fixtures/forged-key.der");
const KEY_ID: &str = "test-key-1";
const INVOKER: &str = "cloud-run-invoker@demo.iam.gserviceaccount.com";
pub(crate) const AUDIENCE: &str = "https://storage-logging.example.run.app";

/// How the local key server behaves.
pub(crate) const SERVING: usize = 0;
pub(crate) const FAILING: usize = 1;
pub(crate) const HANGING: usize = 2;
/// Serves after a second, as a slow key server at a cold start.
const SLOW: usize = 3;

/// A local key server; counts the times it was asked.
async fn serve_jwks() -> (String, Arc<AtomicUsize>) {
    let (url, fetches, _) = serve_jwks_with("public, max-age=3600", SERVING).await;
    (url, fetches)
}

/// A local key server whose behaviour the test changes through the returned mode.
pub(crate) async fn serve_jwks_with(
    cache_control: &'static str,
    mode: usize,
) -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let fetches = Arc::new(AtomicUsize::new(0));
    let mode = Arc::new(AtomicUsize::new(mode));
    let (counter, behaviour) = (Arc::clone(&fetches), Arc::clone(&mode));
    let port = free_port();
    let server = HttpServer::new(move || {
        let (counter, behaviour) = (Arc::clone(&counter), Arc::clone(&behaviour));
        App::new().route(
            "/certs",
            web::get().to(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                let mode = behaviour.load(Ordering::SeqCst);
                async move {
                    match mode {
                        SERVING => HttpResponse::Ok()
                            .insert_header(("cache-control", cache_control))
                            .content_type("application/json")
                            .body(JWKS),
                        FAILING => HttpResponse::InternalServerError().finish(),
                        SLOW => {
                            tokio::time::sleep(Duration::from_secs(1)).await;
                            HttpResponse::Ok()
                                .insert_header(("cache-control", cache_control))
                                .content_type("application/json")
                                .body(JWKS)
                        }
                        _ => {
                            tokio::time::sleep(Duration::from_secs(30)).await;
                            HttpResponse::Ok().body(JWKS)
                        }
                    }
                }
            }),
        )
    })
    .workers(2)
    .bind(("127.0.0.1", port))
    .expect("bind the key server")
    .run();
    actix_web::rt::spawn(server);
    (format!("http://127.0.0.1:{port}/certs"), fetches, mode)
}

async fn spawn_verifying_app(jwks_url: String) -> TestApp {
    spawn_app_with(Options {
        push_auth: Some(settings(&jwks_url)),
        ..Options::default()
    })
    .await
}

/// The hands-on's callers: Pub/Sub pushes with the push endpoint as its audience, Eventarc and
/// Cloud Scheduler with the service URL.
pub(crate) fn settings(jwks_url: &str) -> PushAuthSettings {
    let push_audience = format!("{AUDIENCE}/api/v1/pubsub");
    PushAuthSettings::for_routes(
        &[
            (VerifiedRoute::Pubsub, &[INVOKER], &[push_audience.as_str()]),
            (VerifiedRoute::Events, &[INVOKER], &[AUDIENCE]),
            (VerifiedRoute::Purge, &[INVOKER], &[AUDIENCE]),
        ],
        jwks_url,
    )
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// The claims of a Google-signed ID token as Pub/Sub sends it.
pub(crate) fn claims() -> Value {
    json!({
        "iss": "https://accounts.google.com", "aud": format!("{AUDIENCE}/api/v1/pubsub"),
        "azp": "110000000000000000000", "sub": "110000000000000000000",
        "email": INVOKER, "email_verified": true,
        "iat": now() - 10, "exp": now() + 3590
    })
}

fn sign(claims: &Value, key: &[u8], kid: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_der(key)).expect("sign")
}

pub(crate) fn token(claims: &Value) -> String {
    sign(claims, TRUSTED_KEY, KEY_ID)
}

/// `POST path` with `body`, and an `Authorization` header when given one.
async fn post_with(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: &Value,
    authorization: Option<String>,
) -> (u16, Value) {
    let mut request = app.client.request(
        "POST",
        path,
        Some(content_type),
        body.to_string().into_bytes(),
    );
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    json_answer(request.send().await.expect("the service answers")).await
}

async fn push_with(app: &TestApp, authorization: Option<String>) -> (u16, Value) {
    let body = envelope("OBJECT_FINALIZE", &object_metadata("auth.txt"), "auth-1");
    post_with(
        app,
        "/api/v1/pubsub",
        "application/json",
        &body,
        authorization,
    )
    .await
}

fn bearer(token: String) -> Option<String> {
    Some(format!("Bearer {token}"))
}

/// `GET /api/v1/purge` with `token` as its Bearer token; the status.
async fn purge_with(app: &TestApp, token: &str) -> u16 {
    app.client
        .request("GET", "/api/v1/purge", None, Vec::new())
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .expect("the service answers")
        .status()
        .as_u16()
}

#[actix_web::test]
async fn a_valid_token_of_the_invoker_passes_and_keys_are_fetched_once() {
    let (jwks_url, fetches) = serve_jwks().await;
    let app = spawn_verifying_app(jwks_url).await;
    for _ in 0..3 {
        let (status, body) = push_with(&app, bearer(token(&claims()))).await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(app.storage_logs().await.len(), 1);

    let mut scheduler = claims();
    scheduler["aud"] = json!(AUDIENCE);
    assert_eq!(purge_with(&app, &token(&scheduler)).await, 200);
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
}

#[actix_web::test]
async fn requests_without_a_valid_token_are_401_and_store_nothing() {
    let (jwks_url, _) = serve_jwks().await;
    let app = spawn_verifying_app(jwks_url).await;
    let with = |change: &dyn Fn(&mut Value)| {
        let mut claims = claims();
        change(&mut claims);
        token(&claims)
    };
    let cases: Vec<(&str, Option<String>, &str)> = vec![
        (
            "no header",
            None,
            "an Authorization: Bearer token is required.",
        ),
        (
            "not bearer",
            Some("Basic dXNlcjpwYXNz".into()),
            "an Authorization: Bearer token is required.",
        ),
        ("not a JWT", bearer("abc".into()), "the token is not a JWT"),
        (
            "expired",
            bearer(with(&|c| c["exp"] = json!(now() - 120))),
            "the token is not valid: ExpiredSignature.",
        ),
        (
            "other audience",
            bearer(with(&|c| c["aud"] = json!("https://elsewhere"))),
            "the token is not valid: InvalidAudience.",
        ),
        (
            "other issuer",
            bearer(with(&|c| c["iss"] = json!("https://evil.example"))),
            "the token is not valid: InvalidIssuer.",
        ),
        (
            "forged signature",
            bearer(sign(&claims(), FORGED_KEY, KEY_ID)),
            "the token is not valid: InvalidSignature.",
        ),
        (
            "unknown key",
            bearer(sign(&claims(), TRUSTED_KEY, "other-key")),
            "the token's key other-key is not one of Google's.",
        ),
    ];
    for (case, authorization, message) in cases {
        let (status, body) = push_with(&app, authorization).await;
        assert_eq!(status, 401, "{case}: {body}");
        let text = body["message"].as_str().unwrap_or_default();
        assert!(text.starts_with(message), "{case}: {body}");
    }
    let response = app
        .client
        .request(
            "POST",
            "/api/v1/pubsub",
            Some("application/json"),
            b"{}".to_vec(),
        )
        .send()
        .await
        .expect("the service answers");
    assert_eq!(
        response
            .headers()
            .get("www-authenticate")
            .map(|v| v.as_bytes()),
        Some(&b"Bearer"[..])
    );
    let Answer { status, .. } = read(
        app.client
            .request("GET", "/api/v1/purge", None, Vec::new())
            .send()
            .await
            .expect("answer"),
    )
    .await;
    assert_eq!(status, 401);
    assert!(app.storage_logs().await.is_empty());
}

#[actix_web::test]
async fn a_valid_token_of_another_account_is_403() {
    let (jwks_url, _) = serve_jwks().await;
    let app = spawn_verifying_app(jwks_url).await;
    let mut stranger = claims();
    stranger["email"] = json!("someone@other.iam.gserviceaccount.com");
    let (status, body) = push_with(&app, bearer(token(&stranger))).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body["message"],
        "someone@other.iam.gserviceaccount.com may not call /api/v1/pubsub."
    );

    let mut unverified = claims();
    unverified["email_verified"] = json!(false);
    let (status, _) = push_with(&app, bearer(token(&unverified))).await;
    assert_eq!(status, 403);
    assert!(app.storage_logs().await.is_empty());
}

#[actix_web::test]
async fn events_are_verified_too() {
    let (jwks_url, _) = serve_jwks().await;
    let app = spawn_verifying_app(jwks_url).await;
    let event = json!({
        "specversion": "1.0", "id": "1", "source": "//storage.googleapis.com/projects/_/buckets/b",
        "type": "google.cloud.storage.object.v1.finalized", "data": object_metadata("e.txt")
    });
    let send = |authorization| {
        post_with(
            &app,
            "/api/v1/events",
            "application/cloudevents+json",
            &event,
            authorization,
        )
    };
    let (status, _) = send(None).await;
    assert_eq!(status, 401);
    let mut eventarc = claims();
    eventarc["aud"] = json!(AUDIENCE);
    let (status, body) = send(bearer(token(&eventarc))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.storage_logs().await.len(), 1);
}

#[actix_web::test]
async fn unreachable_keys_are_503_so_the_sender_retries() {
    let app = spawn_verifying_app(format!("http://127.0.0.1:{}/certs", free_port())).await;
    let (status, body) = push_with(&app, bearer(token(&claims()))).await;
    assert_eq!(status, 503, "{body}");
    assert!(app.storage_logs().await.is_empty());
}

#[actix_web::test]
async fn verification_is_off_by_default() {
    let app = spawn_app_with(Options::default()).await;
    let (status, body) = push_with(&app, None).await;
    assert_eq!(status, 200, "{body}");
}

#[actix_web::test]
async fn made_up_key_ids_cannot_make_it_fetch_while_the_key_server_fails() {
    let (jwks_url, fetches, _) = serve_jwks_with("max-age=3600", FAILING).await;
    let app = spawn_verifying_app(jwks_url).await;
    for n in 0..200 {
        let forged = sign(&claims(), TRUSTED_KEY, &format!("random-kid-{n}"));
        let (status, body) = push_with(&app, bearer(forged)).await;
        assert_eq!(status, 503, "no keys yet, so the sender retries: {body}");
    }
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        1,
        "one attempt per 30 s, failed or not"
    );
}

#[actix_web::test]
async fn a_20_kb_key_id_is_not_echoed_whole() {
    let (jwks_url, _) = serve_jwks().await;
    let app = spawn_verifying_app(jwks_url).await;
    assert_eq!(push_with(&app, bearer(token(&claims()))).await.0, 200);
    let forged = sign(&claims(), TRUSTED_KEY, &"k".repeat(20_000));
    let (status, body) = push_with(&app, bearer(forged)).await;
    assert_eq!(status, 401, "{body:.200}");
    let text = body.to_string();
    assert!(text.len() < 400, "{} bytes: {text:.200}", text.len());
}

#[actix_web::test]
async fn made_up_key_ids_cannot_make_it_fetch_again_once_it_has_keys() {
    let (jwks_url, fetches) = serve_jwks().await;
    let app = spawn_verifying_app(jwks_url).await;
    assert_eq!(push_with(&app, bearer(token(&claims()))).await.0, 200);
    for n in 0..200 {
        let forged = sign(&claims(), TRUSTED_KEY, &format!("random-kid-{n}"));
        assert_eq!(push_with(&app, bearer(forged)).await.0, 401);
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
}

#[actix_web::test]
async fn tokens_not_signed_by_a_google_key_with_rs256_are_401() {
    let (jwks_url, _) = serve_jwks().await;
    let app = spawn_verifying_app(jwks_url).await;
    let encode = |header: Value, claims: &Value| {
        use base64::Engine;
        let part =
            |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.", part(&header), part(claims))
    };
    let none = encode(
        json!({"alg": "none", "kid": KEY_ID, "typ": "JWT"}),
        &claims(),
    );
    let mut hs256 = Header::new(Algorithm::HS256);
    hs256.kid = Some(KEY_ID.into());
    // HS256 with the public key as the secret: the classic algorithm confusion.
    let confused = jsonwebtoken::encode(
        &hs256,
        &claims(),
        &EncodingKey::from_secret(JWKS.as_bytes()),
    )
    .expect("sign");
    let no_kid = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &claims(),
        &EncodingKey::from_rsa_der(TRUSTED_KEY),
    )
    .expect("sign");
    for (case, token) in [("alg none", none), ("HS256", confused), ("no kid", no_kid)] {
        let (status, body) = push_with(&app, bearer(token)).await;
        assert_eq!(status, 401, "{case}: {body}");
    }
    assert!(app.storage_logs().await.is_empty());
}

#[actix_web::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let (jwks_url, _) = serve_jwks().await;
    let app = spawn_verifying_app(jwks_url).await;
    let (status, body) = push_with(&app, Some(format!("bearer {}", token(&claims())))).await;
    assert_eq!(status, 200, "{body}");
}

#[actix_web::test]
async fn an_unauthenticated_request_is_401_whatever_its_body() {
    let (jwks_url, _) = serve_jwks().await;
    let app = spawn_verifying_app(jwks_url).await;
    let huge = vec![b'x'; 10 * 1024 * 1024];
    for (case, content_type, body) in [
        ("not JSON", Some("text/plain"), b"hello".to_vec()),
        ("invalid JSON", Some("application/json"), b"{".to_vec()),
        ("10 MiB", Some("application/json"), huge),
    ] {
        for path in ["/api/v1/pubsub", "/api/v1/events"] {
            let response = app
                .client
                .request("POST", path, content_type, body.clone())
                .send()
                .await
                .expect("answer");
            assert_eq!(response.status(), 401, "{case} to {path}");
        }
    }
}

#[actix_web::test]
async fn each_route_accepts_only_its_own_callers() {
    const SCHEDULER: &str = "scheduler@demo.iam.gserviceaccount.com";
    let (jwks_url, _) = serve_jwks().await;
    let mut settings = settings(&jwks_url);
    settings.routes[2].service_accounts = vec![SCHEDULER.into()];
    let app = spawn_app_with(Options {
        push_auth: Some(settings),
        ..Options::default()
    })
    .await;
    let token_of = |email: &str| {
        let mut caller = claims();
        caller["aud"] = json!(AUDIENCE);
        caller["email"] = json!(email);
        token(&caller)
    };
    assert_eq!(purge_with(&app, &token_of(INVOKER)).await, 403);
    assert_eq!(purge_with(&app, &token_of(SCHEDULER)).await, 200);
    let mut scheduler_push = claims();
    scheduler_push["email"] = json!(SCHEDULER);
    assert_eq!(push_with(&app, bearer(token(&scheduler_push))).await.0, 403);
}

#[actix_web::test]
async fn a_push_token_cannot_call_the_purge() {
    let (jwks_url, _) = serve_jwks().await;
    let app = spawn_verifying_app(jwks_url).await;
    let push_token = token(&claims());
    assert_eq!(push_with(&app, bearer(push_token.clone())).await.0, 200);
    assert_eq!(
        purge_with(&app, &push_token).await,
        401,
        "the push endpoint is not the purge's audience"
    );
}

#[actix_web::test]
async fn a_route_the_settings_leave_out_refuses_every_caller() {
    let (jwks_url, _) = serve_jwks().await;
    let push_audience = format!("{AUDIENCE}/api/v1/pubsub");
    let only_pushes = PushAuthSettings::for_routes(
        &[(VerifiedRoute::Pubsub, &[INVOKER], &[push_audience.as_str()])],
        &jwks_url,
    );
    let app = spawn_app_with(Options {
        push_auth: Some(only_pushes),
        ..Options::default()
    })
    .await;
    assert_eq!(push_with(&app, bearer(token(&claims()))).await.0, 200);
    let mut scheduler = claims();
    scheduler["aud"] = json!(AUDIENCE);
    assert_eq!(purge_with(&app, &token(&scheduler)).await, 403);
}

#[actix_web::test]
async fn pushes_at_a_cold_start_wait_for_the_first_key_fetch() {
    let (jwks_url, fetches, _) = serve_jwks_with("public, max-age=3600", SLOW).await;
    let app = spawn_verifying_app(jwks_url).await;
    let valid = token(&claims());
    let pushes = (0..20).map(|_| push_with(&app, bearer(valid.clone())));
    let statuses: Vec<u16> = futures_util::future::join_all(pushes)
        .await
        .into_iter()
        .map(|(status, _)| status)
        .collect();
    assert_eq!(statuses, vec![200; 20]);
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
}
