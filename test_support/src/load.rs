use std::time::{Duration, Instant};

use crate::ServiceClient;

/// One request of a load run: when it was sent (since the start), its status (None: no answer,
/// a transport error), how long it took, and whether the body was JSON.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub sent_at: Duration,
    pub status: Option<u16>,
    pub latency: Duration,
    pub json: bool,
}

/// Sends `POST path` (request `i` with `body(i)`) at `per_second` until `stop` completes, each
/// request on its own task, and returns every outcome once all have answered (or failed).
pub async fn post_at_rate(
    client: &ServiceClient,
    path: &str,
    body: impl Fn(usize) -> serde_json::Value,
    per_second: u32,
    stop: impl Future<Output = ()>,
) -> Vec<Outcome> {
    let started = Instant::now();
    let interval = Duration::from_secs(1) / per_second;
    let mut tasks = Vec::new();
    let mut next = started;
    let mut stop = std::pin::pin!(stop);
    loop {
        let json = body(tasks.len()).to_string().into_bytes();
        let request = client.request("POST", path, Some("application/json"), json);
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            let sent_at = sent.duration_since(started);
            match request.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let json = response
                        .headers()
                        .get("content-type")
                        .is_some_and(|t| t.as_bytes().starts_with(b"application/json"));
                    let _ = response.bytes().await;
                    Outcome {
                        sent_at,
                        status: Some(status),
                        latency: sent.elapsed(),
                        json,
                    }
                }
                Err(_) => Outcome {
                    sent_at,
                    status: None,
                    latency: sent.elapsed(),
                    json: false,
                },
            }
        }));
        next += interval;
        tokio::select! {
            () = &mut stop => break,
            () = tokio::time::sleep_until(next.into()) => {}
        }
    }
    let mut outcomes = Vec::with_capacity(tasks.len());
    for task in tasks {
        outcomes.push(task.await.expect("a request task"));
    }
    outcomes
}
