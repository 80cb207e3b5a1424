//! SIGTERM under load, on the real binary: every request the server took before the signal is
//! answered (and nothing it stored goes unanswered), the rest are refused before any byte of an
//! answer, and the process exits 0 within 8 s.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use test_support::{
    DatastoreRest, PROJECT, ServiceClient, ServiceProcess, shared_datastore_host, unique_namespace,
};

const CLIENTS: usize = 16;

/// One store request: its message text, when it was sent and when it ended (since the start),
/// and its status (None: the connection was closed or refused before an answer).
struct Sent {
    message: String,
    sent_at: Duration,
    ended_at: Duration,
    status: Option<u16>,
}

#[actix_web::test]
async fn sigterm_under_load_answers_every_request_it_took_and_exits_0() {
    let host = shared_datastore_host();
    let namespace = unique_namespace("sigterm");
    let mut service = ServiceProcess::start(
        env!("CARGO_BIN_EXE_message_board"),
        &[
            ("DATASTORE_EMULATOR_HOST", host.as_str()),
            ("DATASTORE_PROJECT_ID", PROJECT),
            ("DATASTORE_NAMESPACE", namespace.as_str()),
        ],
    );
    let client = Arc::new(ServiceClient::new(service.port));
    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| tokio::spawn(store_until_refused(Arc::clone(&client), c, started)))
        .collect();

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let signalled = started.elapsed();
    service.signal("TERM");
    let (code, took) =
        tokio::task::spawn_blocking(move || service.wait_exit(Duration::from_secs(8)))
            .await
            .expect("the wait");
    assert_eq!(code, Some(0));
    assert!(took < Duration::from_secs(8), "{took:?}");

    let mut sent = Vec::new();
    for handle in clients {
        sent.extend(handle.await.expect("a client task"));
    }
    for request in &sent {
        assert!(
            matches!(request.status, None | Some(200)),
            "{}: {:?}",
            request.message,
            request.status
        );
    }
    let answered: HashSet<&str> = sent
        .iter()
        .filter(|r| r.status == Some(200))
        .map(|r| r.message.as_str())
        .collect();
    let in_flight_at_signal = sent
        .iter()
        .filter(|r| r.status == Some(200) && r.sent_at < signalled && r.ended_at > signalled)
        .count();
    assert!(answered.len() > 100, "only {} answered", answered.len());
    assert!(
        in_flight_at_signal > 0,
        "no request was in flight at the signal"
    );

    // What the service stored is exactly what it answered: no request it took was dropped.
    let stored: HashSet<String> = DatastoreRest::new(&host, &namespace)
        .entities("Message")
        .await
        .iter()
        .filter_map(|e| {
            e["properties"]["message"]["stringValue"]
                .as_str()
                .map(String::from)
        })
        .collect();
    let stored: HashSet<&str> = stored.iter().map(String::as_str).collect();
    let unanswered: Vec<_> = stored.difference(&answered).collect();
    let lost: Vec<_> = answered.difference(&stored).collect();
    assert!(
        unanswered.is_empty(),
        "stored but not answered: {unanswered:?}"
    );
    assert!(lost.is_empty(), "answered but not stored: {lost:?}");
}

/// Stores one message after another until the service refuses one; returns every request sent.
async fn store_until_refused(client: Arc<ServiceClient>, id: usize, started: Instant) -> Vec<Sent> {
    let mut sent = Vec::new();
    loop {
        let message = format!("client {id} request {}", sent.len());
        let body = json!({"name": "drain", "message": message})
            .to_string()
            .into_bytes();
        let sent_at = started.elapsed();
        let status = match client
            .request("POST", "/api/v1/store", Some("application/json"), body)
            .send()
            .await
        {
            Ok(response) => {
                let status = response.status().as_u16();
                response.bytes().await.ok().map(|_| status)
            }
            Err(_) => None,
        };
        sent.push(Sent {
            message,
            sent_at,
            ended_at: started.elapsed(),
            status,
        });
        if status.is_none() {
            return sent;
        }
    }
}
