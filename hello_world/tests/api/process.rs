//! The real binary: configuration errors, JSON logs for Cloud Logging, graceful shutdown.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;

use test_support::ServiceProcess;

use crate::helpers::run_to_exit;

/// Sends `request` on a new connection and reads until the server closes it.
fn exchange(port: u16, request: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    response
}

fn post_hello(headers: &str, body: &str) -> String {
    format!(
        "POST /api/v1/hello HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n{headers}\r\n{body}",
        body.len()
    )
}

#[test]
fn a_bad_setting_stops_start_up_with_one_line() {
    for (variable, value, reason) in [
        ("PORT", "abc", "invalid digit found in string"),
        ("LOG_FORMAT", "xml", "expected `json` or `text`"),
        ("BODY_LIMIT_BYTES", "lots", "invalid digit found in string"),
    ] {
        let (code, stderr) = run_to_exit(&[(variable, value)]);
        assert_eq!(code, Some(2), "{variable}={value}");
        assert_eq!(
            stderr,
            format!("invalid configuration: {variable}=\"{value}\": {reason}\n")
        );
    }
}

#[test]
fn the_body_limit_is_a_setting() {
    let service = ServiceProcess::start(
        env!("CARGO_BIN_EXE_hello_world"),
        &[("BODY_LIMIT_BYTES", "64")],
    );
    let small = exchange(service.port, &post_hello("", r#"{"name":"Bob"}"#));
    assert!(small.starts_with("HTTP/1.1 200 OK\r\n"), "{small}");
    let body = format!(r#"{{"name":"{}"}}"#, "a".repeat(60));
    let large = exchange(service.port, &post_hello("", &body));
    assert!(
        large.starts_with("HTTP/1.1 413 Payload Too Large\r\n"),
        "{large}"
    );
    assert!(
        large.ends_with(r#"{"message":"request body is larger than the limit of 64 bytes"}"#),
        "{large}"
    );
}

#[test]
fn json_logs_carry_severity_time_trace_and_the_access_line() {
    let service = ServiceProcess::start(
        env!("CARGO_BIN_EXE_hello_world"),
        &[
            ("GOOGLE_CLOUD_PROJECT", "test-project"),
            ("RUST_LOG", "info,common=debug"),
        ],
    );
    let traceparent = "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\
                       User-Agent: telemetry-test\r\n";
    exchange(service.port, &post_hello(traceparent, r#"{"name":"Bob"}"#));

    let access = service.wait_for_log(|e| e["httpRequest"]["requestUrl"] == "/api/v1/hello");
    assert_eq!(access["severity"], "INFO");
    assert_eq!(
        access["message"]
            .as_str()
            .map(|m| m.starts_with("POST /api/v1/hello 200 ")),
        Some(true)
    );
    assert_eq!(
        access["logging.googleapis.com/trace"],
        "projects/test-project/traces/4bf92f3577b34da6a3ce929d0e0e4736"
    );
    assert_eq!(access["logging.googleapis.com/spanId"], "00f067aa0ba902b7");
    assert_eq!(access["logging.googleapis.com/trace_sampled"], true);
    let http = &access["httpRequest"];
    assert_eq!(http["requestMethod"], "POST");
    assert_eq!(http["status"], 200);
    assert_eq!(http["protocol"], "HTTP/1.1");
    assert_eq!(http["userAgent"], "telemetry-test");
    assert_eq!(http["remoteIp"], "127.0.0.1");
    assert_eq!(http["responseSize"], 25);
    let latency = http["latency"]
        .as_str()
        .expect("latency is a Duration string");
    assert!(
        latency.ends_with('s') && latency.trim_end_matches('s').parse::<f64>().is_ok(),
        "{latency}"
    );
    let time = access["time"].as_str().expect("time");
    assert!(
        time.len() == 27 && time.ends_with('Z') && time.as_bytes()[10] == b'T',
        "{time}"
    );

    // A line logged inside the request (here the debug line of a rejection) carries the trace
    // of X-Cloud-Trace-Context, and a 4xx access line is a WARNING.
    let cloud_trace = "X-Cloud-Trace-Context: 105445aa7843bc8bf206b12000100000/1;o=1\r\n";
    exchange(service.port, &post_hello(cloud_trace, "[]"));
    let trace = "projects/test-project/traces/105445aa7843bc8bf206b12000100000";
    let rejected = service
        .wait_for_log(|e| e["severity"] == "DEBUG" && e["logging.googleapis.com/trace"] == trace);
    assert_eq!(
        rejected["message"],
        "rejected: The request body must be a JSON object."
    );
    assert_eq!(rejected["module"], "common::error");
    let warning = service.wait_for_log(|e| {
        e["httpRequest"]["status"] == 400 && e["logging.googleapis.com/trace"] == trace
    });
    assert_eq!(warning["severity"], "WARNING");
    assert_eq!(warning["logging.googleapis.com/spanId"], "0000000000000001");

    // Without trace headers there is no trace field.
    exchange(
        service.port,
        "GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
    );
    let root = service.wait_for_log(|e| e["httpRequest"]["requestUrl"] == "/");
    assert_eq!(root.get("logging.googleapis.com/trace"), None::<&Value>);
    // A request without User-Agent: the field is left out, not logged as "None".
    assert_eq!(root["httpRequest"].get("userAgent"), None::<&Value>);
}

#[test]
fn sigterm_lets_the_request_in_flight_finish_and_exits_0() {
    graceful_stop("TERM");
}

#[test]
fn sigint_stops_as_gracefully_as_sigterm() {
    graceful_stop("INT");
}

fn graceful_stop(signal: &str) {
    let mut service = ServiceProcess::start(env!("CARGO_BIN_EXE_hello_world"), &[]);
    let request = post_hello("Expect: 100-continue\r\n", r#"{"name":"in flight"}"#);
    let (head, rest) = request.split_at(request.len() - r#"{"name":"in flight"}"#.len());

    // The request is in flight when the signal arrives: the server has read its head (it said
    // 100 Continue) and waits for its body.
    let mut in_flight = TcpStream::connect(("127.0.0.1", service.port)).expect("connect");
    in_flight.write_all(head.as_bytes()).expect("send the head");
    let mut interim = [0u8; 25];
    in_flight
        .read_exact(&mut interim)
        .expect("read 100 Continue");
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    service.signal(signal);
    service.wait_for_log(|e| {
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("received: draining"))
    });

    // New connections are refused (polled: the listener closes just after that line), the old
    // one is still served.
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(("127.0.0.1", service.port)).is_ok() {
        assert!(
            Instant::now() < deadline,
            "still accepting 5 s after SIG{signal}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    in_flight.write_all(rest.as_bytes()).expect("send the rest");
    let mut response = String::new();
    in_flight
        .read_to_string(&mut response)
        .expect("read the answer");
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(
        response.ends_with(r#"{"message":"Hello, in flight!"}"#),
        "{response}"
    );

    let (code, took) = service.wait_exit(Duration::from_secs(8));
    assert_eq!(code, Some(0), "exit code after SIG{signal}");
    assert!(took < Duration::from_secs(8));
}
