//! Checks every service runs against its real binary: huge bodies and slow or idle clients.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::ServiceProcess;

/// Sends `POST path` declaring a `declared`-byte JSON body, then one byte of it every 200 ms,
/// until the server answers or `stop` is set; the answer (head and JSON body), if one came.
pub fn trickle_body(port: u16, path: &str, declared: usize, stop: &AtomicBool) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .ok()?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {declared}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).ok()?;
    let complete =
        |answer: &[u8]| answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}");
    let mut answer = Vec::new();
    let mut buffer = [0; 1024];
    while !complete(&answer) {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => answer.extend_from_slice(&buffer[..read]),
            // Nothing within 200 ms: the next byte of the body.
            Err(_) => {
                if stop.load(Ordering::Relaxed) || stream.write_all(b" ").is_err() {
                    break;
                }
            }
        }
    }
    (!answer.is_empty()).then(|| String::from_utf8_lossy(&answer).into_owned())
}

/// Peak resident memory of the process so far (VmHWM), in KiB.
pub fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmHWM line")
}

/// Sends `POST path` with a 10 MiB JSON body (declared length, or chunked) from one thread while
/// reading on another; returns the status line and how long it took to arrive.
pub fn post_ten_mib(port: u16, path: &str, chunked: bool) -> (String, Duration) {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let size = 10 * 1024 * 1024;
    let framing = if chunked {
        "Transfer-Encoding: chunked".to_owned()
    } else {
        format!("Content-Length: {size}")
    };
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nConnection: close\r\n{framing}\r\n\r\n"
    );
    let mut writer = stream.try_clone().expect("clone the stream");
    let started = Instant::now();
    let sending = std::thread::spawn(move || {
        writer.write_all(head.as_bytes())?;
        let chunk = vec![b'a'; 64 * 1024];
        let mut sent = 0;
        // The server may answer and close before the whole body is sent: the write fails then.
        while sent < size {
            if chunked {
                writer.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())?;
                writer.write_all(&chunk)?;
                writer.write_all(b"\r\n")?;
            } else {
                writer.write_all(&chunk)?;
            }
            sent += chunk.len();
        }
        std::io::Result::Ok(())
    });
    let mut status_line = Vec::new();
    let mut byte = [0u8; 1];
    let mut reader = stream;
    while !status_line.ends_with(b"\r\n") && reader.read(&mut byte).is_ok_and(|n| n == 1) {
        status_line.push(byte[0]);
    }
    let took = started.elapsed();
    let _ = reader.shutdown(std::net::Shutdown::Both);
    let _ = sending.join();
    let status_line = String::from_utf8_lossy(&status_line).trim_end().to_owned();
    (status_line, took)
}

/// Every POST route answers 10 MiB bodies with 413 within `within`, declared or chunked, 10 times
/// each, and the process's peak memory stays under `peak_rss_mib`.
pub fn assert_huge_bodies_refused(
    service: &ServiceProcess,
    routes: &[&str],
    within: Duration,
    peak_rss_mib: u64,
) {
    for route in routes {
        for round in 0..10 {
            let chunked = round % 2 == 1;
            let (status, took) = post_ten_mib(service.port, route, chunked);
            assert_eq!(
                status, "HTTP/1.1 413 Payload Too Large",
                "{route} chunked={chunked}"
            );
            assert!(
                took < within,
                "{route} chunked={chunked}: 413 after {took:?}"
            );
        }
    }
    let peak = peak_rss_kib(service.pid()) / 1024;
    assert!(peak < peak_rss_mib, "peak RSS {peak} MiB");
}

/// With `idle` connections open and `slow` ones sending a request one byte every 100 ms, a
/// normal client's requests to `/` each take less than `bound`.
pub fn assert_slow_clients_do_not_delay_others(
    service: &ServiceProcess,
    idle: usize,
    slow: usize,
    bound: Duration,
) {
    let port = service.port;
    let _idle: Vec<TcpStream> = (0..idle)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).expect("connect"))
        .collect();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let slow_clients: Vec<_> = (0..slow)
        .map(|_| {
            let stop = std::sync::Arc::clone(&stop);
            std::thread::spawn(move || {
                let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
                    return;
                };
                for byte in b"GET / HTTP/1.1\r\nHost: slow\r\nX-Padding: "
                    .iter()
                    .cycle()
                {
                    if stop.load(std::sync::atomic::Ordering::Relaxed)
                        || stream.write_all(&[*byte]).is_err()
                    {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let mut worst = Duration::ZERO;
    for _ in 0..100 {
        let started = Instant::now();
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            .expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        worst = worst.max(started.elapsed());
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for client in slow_clients {
        let _ = client.join();
    }
    assert!(
        worst < bound,
        "a normal request took {worst:?} beside {idle} idle and {slow} slow connections"
    );
}

/// Cloud Run's box: `--concurrency=80`. Sends `rounds` waves of 80 `POST path` requests at once,
/// the `bodies` (what each is, and its bytes: the largest, widest or deepest the route accepts)
/// taken in turn; every answer must be a 200 or a 4xx with a JSON body, none missing, the process
/// still running. Prints the answers and the peak (`scripts/bench-memory.sh` reads those lines) and
/// returns the process's peak resident memory in MiB.
pub fn worst_bodies_at_once(
    service: &ServiceProcess,
    path: &str,
    content_type: &str,
    bodies: &[(&str, Vec<u8>)],
    rounds: usize,
) -> u64 {
    let mut statuses: std::collections::BTreeMap<(String, u16), usize> =
        std::collections::BTreeMap::new();
    for _ in 0..rounds {
        for (what, status, body) in eighty_at_once(service, path, content_type, bodies) {
            assert!(
                status == 200 || (400..500).contains(&status),
                "{what}: {status} {body:.200}"
            );
            if status != 200 {
                assert!(
                    body.starts_with("{\"message\":"),
                    "{what}: {status} {body:.200}"
                );
            }
            *statuses.entry((what, status)).or_insert(0) += 1;
        }
    }
    assert!(
        std::fs::metadata(format!("/proc/{}", service.pid())).is_ok(),
        "the service is still running"
    );
    let peak = peak_rss_kib(service.pid()) / 1024;
    eprintln!("answers: {statuses:?}");
    eprintln!("peak RSS POST {path}: {peak} MiB");
    peak
}

/// Cloud Run's `--concurrency=80`: 80 `POST path` requests sent at once, the `bodies` taken in
/// turn; each answer as (what the body was, status, body with any chunked framing removed).
pub fn eighty_at_once(
    service: &ServiceProcess,
    path: &str,
    content_type: &str,
    bodies: &[(&str, Vec<u8>)],
) -> Vec<(String, u16, String)> {
    const CONCURRENCY: usize = 80;
    let requests: std::sync::Arc<Vec<(String, Vec<u8>)>> = std::sync::Arc::new(
        bodies
            .iter()
            .map(|(what, body)| {
                let head = format!(
                    "POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                ((*what).to_owned(), [head.into_bytes(), body.clone()].concat())
            })
            .collect(),
    );
    let port = service.port;
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(CONCURRENCY));
    let clients: Vec<_> = (0..CONCURRENCY)
        .map(|n| {
            let (requests, barrier) = (
                std::sync::Arc::clone(&requests),
                std::sync::Arc::clone(&barrier),
            );
            std::thread::spawn(move || {
                let (what, request) = &requests[n % requests.len()];
                let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
                stream
                    .set_read_timeout(Some(Duration::from_secs(60)))
                    .expect("timeout");
                barrier.wait();
                stream.write_all(request).expect("send");
                let mut answer = Vec::new();
                let _ = stream.read_to_end(&mut answer);
                (what.clone(), answer)
            })
        })
        .collect();
    clients
        .into_iter()
        .map(|client| {
            let (what, answer) = client.join().expect("a client thread");
            let (head, body) = split_answer(&answer);
            let status: u16 = head
                .get(9..12)
                .and_then(|code| code.parse().ok())
                .unwrap_or_else(|| panic!("{what}: no answer"));
            (what, status, body)
        })
        .collect()
}

/// An HTTP/1.1 answer read to its end: the head, and the body (chunked framing removed).
fn split_answer(answer: &[u8]) -> (String, String) {
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(answer.len(), |at| at + 4);
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let mut body = answer[split..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut rest = &answer[split..];
        body.clear();
        while let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = std::str::from_utf8(&rest[..line_end])
                .ok()
                .and_then(|size| usize::from_str_radix(size.trim(), 16).ok())
                .unwrap_or(0);
            let data = &rest[line_end + 2..];
            if size == 0 || data.len() < size {
                break;
            }
            body.extend_from_slice(&data[..size]);
            rest = data.get(size + 2..).unwrap_or_default();
        }
    }
    (head, String::from_utf8_lossy(&body).into_owned())
}

/// `{"name": "worst", FIELD: "xxx…"}`, exactly `size` bytes (FIELD `name`: only the name).
pub fn json_of_size(field: &str, size: usize) -> Vec<u8> {
    let prefix = if field == "name" {
        String::new()
    } else {
        "\"name\": \"worst\", ".to_owned()
    };
    let overhead = format!("{{{prefix}\"{field}\": \"\"}}").len();
    format!(
        "{{{prefix}\"{field}\": \"{}\"}}",
        "x".repeat(size - overhead)
    )
    .into_bytes()
}

/// `{"name": "worst", "list": [0, 0, …]}` with as many values as a body may hold.
pub fn widest_json() -> Vec<u8> {
    widest_json_of(common::body::MAX_JSON_VALUES - 4)
}

/// `{"name": "worst", "list": [0, 0, …]}` with `values` zeros.
pub fn widest_json_of(values: usize) -> Vec<u8> {
    format!(
        "{{\"name\": \"worst\", \"list\": [{}0]}}",
        "0,".repeat(values - 1)
    )
    .into_bytes()
}

/// Objects nested as deep as a body may nest them.
pub fn deepest_json() -> Vec<u8> {
    deepest_json_of(common::body::MAX_JSON_DEPTH - 1)
}

/// `{"name": "worst", "deep": {"a": {"a": … 1}}}`, `depth` objects inside the outer one.
pub fn deepest_json_of(depth: usize) -> Vec<u8> {
    format!(
        "{{\"name\": \"worst\", \"deep\": {}1{}}}",
        "{\"a\": ".repeat(depth),
        "}".repeat(depth)
    )
    .into_bytes()
}
