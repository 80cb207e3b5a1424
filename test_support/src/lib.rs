//! For tests only: the Google Cloud emulators as processes a test owns, and Datastore read
//! through its REST API, apart from the gRPC code under test.

// For tests only: a failed unwrap or expect here is the test failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod app;
pub mod bad_input;
mod datastore_rest;
mod emulator;
pub mod fault;
mod http;
mod load;
pub mod openapi;
mod process;
mod proxy;
mod pubsub;
pub mod resilience;

pub use app::{TestApp, datastore_namespace};
pub use datastore_rest::DatastoreRest;
pub use emulator::{Emulator, EmulatorKind};
pub use http::{Answer, ServiceClient, is_http_date, read};
pub use process::ServiceProcess;
pub use proxy::CutProxy;
pub use pubsub::PubSub;

use std::hash::{BuildHasher, Hasher, RandomState};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};

/// One call of an emulator's REST API: the JSON answer, which must be a success.
async fn emulator_call(
    request: reqwest::RequestBuilder,
    body: &serde_json::Value,
) -> serde_json::Value {
    let response = request
        .json(body)
        .send()
        .await
        .expect("the emulator answers");
    let status = response.status();
    let url = response.url().to_string();
    let answer: serde_json::Value = response.json().await.expect("JSON from the emulator");
    assert!(status.is_success(), "{url}: {status} {answer}");
    answer
}

/// The service configuration of an in-process test: defaults, on a free port of loopback.
/// With `TEST_LOG` set (e.g. `TEST_LOG=debug`), the services' logs go to stderr.
pub fn test_config() -> common::Config {
    let mut config = common::Config::read(&common::configuration::Env::from_pairs(&[]))
        .expect("the defaults are valid");
    if let Ok(filter) = std::env::var("TEST_LOG") {
        config.log_filter = filter;
        common::telemetry::init(&config);
    }
    config.host = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    config.port = 0;
    config
}

/// The project every test uses on the emulators.
pub const PROJECT: &str = "demo";

/// A port nobody listens on right now, outside the kernel's ephemeral range: a port from that
/// range can be taken by an outgoing connection's local end before the server binds it, even by a
/// readiness probe to that very port (which then connects to itself), and the server's start
/// fails. Random, so that tests in parallel seldom try the same one; the kernel's pick (port 0)
/// when nothing outside the range is free.
pub fn free_port() -> u16 {
    let (low, high) = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| {
            let mut ends = range.split_whitespace().map(|end| end.parse::<u32>().ok());
            Some((ends.next()??, ends.next()??))
        })
        .unwrap_or((32_768, 60_999));
    let outside: Vec<u32> = (10_000..low).chain(high + 1..=65_535).collect();
    let start = RandomState::new().build_hasher().finish() as usize;
    let tries = outside.len().min(1000);
    (0..tries)
        .map(|i| outside[(start + i) % outside.len()])
        .chain([0])
        .filter_map(|port| u16::try_from(port).ok())
        .find_map(|port| {
            TcpListener::bind(("127.0.0.1", port))
                .and_then(|listener| listener.local_addr())
                .ok()
        })
        .map(|address| address.port())
        .expect("a free port")
}

/// A Datastore namespace no other test uses, so tests share one emulator without seeing each
/// other's entities.
pub fn unique_namespace(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The Datastore emulator that `scripts/test.sh` started for the whole run.
pub fn shared_datastore_host() -> String {
    std::env::var("DATASTORE_EMULATOR_HOST").unwrap_or_else(|_| {
        panic!(
            "DATASTORE_EMULATOR_HOST is not set: run the tests with scripts/test.sh, which starts \
             the Datastore emulator"
        )
    })
}
