//! The real binary under hostile clients (bounds stated in docs/reliability.md).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use test_support::ServiceProcess;
use test_support::resilience::{
    assert_huge_bodies_refused, assert_slow_clients_do_not_delay_others, deepest_json,
    json_of_size, trickle_body, widest_json, worst_bodies_at_once,
};

fn start() -> ServiceProcess {
    start_with(&[])
}

/// The binary with `vars` set beside its log filter.
fn start_with(vars: &[(&str, &str)]) -> ServiceProcess {
    let vars = [&[("RUST_LOG", "warn,common=info")], vars].concat();
    ServiceProcess::start(env!("CARGO_BIN_EXE_hello_world"), &vars)
}

#[test]
fn ten_mib_bodies_are_refused_quickly_in_little_memory() {
    assert_huge_bodies_refused(&start(), &["/api/v1/hello"], Duration::from_millis(500), 20);
}

#[test]
fn idle_and_slow_connections_do_not_delay_other_clients() {
    assert_slow_clients_do_not_delay_others(&start(), 100, 100, Duration::from_millis(100));
}

/// The bound in docs/reliability.md on the peak memory under 80 worst-case requests at once.
const PEAK_RSS_MIB: u64 = 96;

#[test]
fn eighty_worst_case_requests_at_once_stay_small() {
    let bodies = [
        (
            "a name of 1 MiB",
            json_of_size("name", common::configuration::DEFAULT_BODY_LIMIT),
        ),
        ("the widest body", widest_json()),
        ("the deepest body", deepest_json()),
    ];
    let peak = worst_bodies_at_once(&start(), "/api/v1/hello", "application/json", &bodies, 3);
    assert!(peak < PEAK_RSS_MIB, "peak RSS {peak} MiB");
}

#[test]
fn bodies_that_trickle_in_cannot_keep_the_body_room_from_others() {
    // Bodies of 256 KiB may hold room for 4 s (2 s, and 1 s per 128 KiB), a room of 2 MiB takes
    // eight: the room comes free after 4 s rather than the 10 s of the default room's 1 MiB bodies.
    let room = 2 * 1024 * 1024;
    let declared = 256 * 1024;
    let service = start_with(&[("BODY_ROOM_BYTES", &room.to_string())]);
    let port = service.port;
    // More declared bytes than the instance admits at once, each arriving a byte at a time.
    let stop = Arc::new(AtomicBool::new(false));
    let senders = room / declared + 2;
    let trickling: Vec<_> = (0..senders)
        .map(|_| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || trickle_body(port, "/api/v1/hello", declared, &stop))
        })
        .collect();
    std::thread::sleep(Duration::from_secs(1));
    let started = Instant::now();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let body = json_of_size("name", 1024 * 1024);
    let head = format!(
        "POST /api/v1/hello HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream
        .write_all(&[head.as_bytes(), &body].concat())
        .expect("send");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let waited = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let trickled: Vec<Option<String>> = trickling
        .into_iter()
        .map(|sender| sender.join().expect("a sender thread"))
        .collect();
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "after {waited:?}: {answer:.200}"
    );
    // The senders that held room were cut off with a 408.
    assert!(
        trickled
            .iter()
            .flatten()
            .any(|answer| answer.starts_with("HTTP/1.1 408")),
        "{trickled:?}"
    );
}
