//! Verification that keeps answering while Google's key server fails or hangs, timed: a hanging
//! key fetch must not be in a request's way (the bound is a latency, so it runs alone).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{Options, spawn_app_with};
use crate::push_auth::{
    AUDIENCE, FAILING, HANGING, SERVING, claims, serve_jwks_with, settings, token,
};

#[actix_web::test]
async fn expired_keys_still_verify_while_the_key_server_fails_or_hangs() {
    // The keys expire at once (max-age 0, raised to the refresh interval of 200 ms).
    let (jwks_url, fetches, mode) = serve_jwks_with("max-age=0", SERVING).await;
    let mut settings = settings(&jwks_url);
    settings.min_refresh_interval = Duration::from_millis(200);
    let app = spawn_app_with(Options {
        push_auth: Some(settings),
        ..Options::default()
    })
    .await;
    let purge_token = {
        let mut scheduler = claims();
        scheduler["aud"] = json!(AUDIENCE);
        token(&scheduler)
    };
    let purge = || {
        app.client
            .request("GET", "/api/v1/purge", None, Vec::new())
            .header("authorization", format!("Bearer {purge_token}"))
            .send()
    };
    assert_eq!(purge().await.expect("answer").status(), 200);
    for behaviour in [FAILING, HANGING] {
        mode.store(behaviour, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(300)).await;
        for _ in 0..5 {
            let started = Instant::now();
            let status = purge().await.expect("answer").status();
            assert_eq!(status, 200, "mode {behaviour}");
            // A hanging fetch takes 5 s to time out; it must not be in the request's way.
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "mode {behaviour}: {:?}",
                started.elapsed()
            );
        }
    }
    assert!(fetches.load(Ordering::SeqCst) >= 2, "refreshes were tried");
}
