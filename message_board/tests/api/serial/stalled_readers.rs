//! Clients that stop reading a retrieve's answer give up what it holds (docs/reliability.md,
//! "Retrieves").

use std::time::{Duration, Instant};

use message_board::retrieval::Retrieval;
use message_board::settings::RetrieveSettings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::helpers::{Board, seed_messages, spawn_app_with};

const MIB: usize = 1024 * 1024;
/// Below the service's least (10 s), so that the serial stage waits less: a stall counts only
/// while a piece of the answer waits to be taken, so its length changes nothing before it.
const READER_STALL: Duration = Duration::from_secs(3);

/// A client that asks for `name` and reads nothing, through a 4 KiB receive buffer.
async fn stalled_reader(port: u16, name: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("a socket");
    socket.set_recv_buffer_size(4096).expect("a small buffer");
    let mut stream = socket
        .connect(([127, 0, 0, 1], port).into())
        .await
        .expect("connect");
    let body = format!(r#"{{"name": "{name}"}}"#);
    let request = format!(
        "POST /api/v1/retrieve HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    stream
}

/// Whether a short retrieve would wait now: its first page reserves 1 MiB, and less is free or a
/// retrieve waits ahead (shares are handed out in turn).
async fn budget_is_full(retrieval: &Retrieval) -> bool {
    retrieval
        .budget
        .share_within(MIB, Duration::from_millis(100))
        .await
        .is_none()
}

#[actix_web::test]
async fn readers_that_stop_give_back_their_share_and_a_short_retrieve_goes_on() {
    // A page of three of the largest messages holds 5 MiB (the page, and its largest message
    // twice: as a value and as JSON): one stalled reader holds this whole budget.
    let retrieval = Retrieval::new(RetrieveSettings {
        budget: 5 * MIB,
        reader_stall: READER_STALL,
    });
    let app = spawn_app_with(
        &test_support::shared_datastore_host(),
        Duration::from_secs(5),
        retrieval.clone(),
    )
    .await;
    seed_messages(&app.datastore, "large", 6, 1_000_000).await;
    app.store("short", "a short message").await;

    let stalled = vec![stalled_reader(app.port, "large").await];
    let filled = Instant::now();
    while !budget_is_full(&retrieval).await {
        assert!(
            filled.elapsed() < Duration::from_secs(20),
            "the stalled readers never filled the budget"
        );
    }

    let asked = Instant::now();
    let short = app.retrieve("short").await;
    let waited = asked.elapsed();
    assert_eq!(short["messages"][0]["message"], "a short message");
    eprintln!("a short retrieve beside stalled readers answered in {waited:?}");
    assert!(
        waited <= READER_STALL + Duration::from_secs(2),
        "waited {waited:?}"
    );

    // The whole budget is back.
    let cut = Instant::now();
    while retrieval.budget.available_bytes() < retrieval.budget.bytes() {
        assert!(
            cut.elapsed() < READER_STALL + Duration::from_secs(5),
            "{} of {} bytes back",
            retrieval.budget.available_bytes(),
            retrieval.budget.bytes()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The stalled reader did not get its whole answer (6 MB of messages): the connection was
    // closed under it.
    for mut reader in stalled {
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), reader.read_to_end(&mut answer));
        assert!(
            read.await.is_ok(),
            "a stalled reader's connection is still open"
        );
        assert!(answer.len() < 6_000_000, "{} bytes", answer.len());
    }
}
