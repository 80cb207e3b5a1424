//! The Datastore emulator killed under load (issue 7's fault test), for any Datastore service.

use std::time::{Duration, Instant};

use crate::load::post_at_rate;
use crate::{Emulator, ServiceClient};

/// Requests a second: enough that every phase of the outage is felt by hundreds.
const PER_SECOND: u32 = 200;

/// Sends 200 `POST path` a second (the body of request `i` from `body`) while `emulator` is
/// killed at 3 s and restarted 2 s later, until 5 s after its return. Asserts that the load kept
/// its rate, that every request is answered, 200 or 503 JSON, within `deadline` + 0.5 s (no
/// hang, no 500), that the outage was felt, and that every request sent 2 s after the emulator's
/// return is a 200 (more than 400).
pub async fn assert_survives_datastore_kill(
    emulator: Emulator,
    client: &ServiceClient,
    path: &str,
    body: impl Fn(usize) -> serde_json::Value,
    deadline: Duration,
) {
    let started = Instant::now();
    let (returned_tx, returned_rx) = tokio::sync::oneshot::channel();
    // The emulator's stop and start block: off the runtime that sends the load.
    let outage = tokio::task::spawn_blocking(move || {
        let mut emulator = emulator;
        // 3 s: a new emulator's first answers take a second or more (killed at 1.5 s, a fresh
        // clone's run saw fewer than 100 served before the kill).
        std::thread::sleep(Duration::from_secs(3));
        let killed = started.elapsed();
        emulator.stop();
        std::thread::sleep(Duration::from_secs(2));
        emulator.restart();
        let _ = returned_tx.send(());
        (killed, started.elapsed(), emulator)
    });
    // 2 s to recover, then more than 2 s of 200s. (A failed restart drops the sender: the load
    // stops 5 s later, and the outage task's panic is reported.)
    let stop = async {
        let _ = returned_rx.await;
        tokio::time::sleep(Duration::from_secs(5)).await;
    };
    let load = post_at_rate(client, path, body, PER_SECOND, stop);
    let (outcomes, outage) = tokio::join!(load, outage);
    let (killed, returned, _emulator) = outage.expect("the outage task");
    // A restart takes 1 to 3 s alone, longer on a busy machine; far longer is a stuck emulator.
    assert!(
        returned < Duration::from_secs(15),
        "the emulator took until {returned:?} to return"
    );

    // A client that fell behind would test less than it claims: 90 % of the rate, at least.
    let sent_for = outcomes.last().map_or(Duration::ZERO, |o| o.sent_at);
    assert!(
        sent_for > returned
            && outcomes.len() as f64 > 0.9 * f64::from(PER_SECOND) * sent_for.as_secs_f64(),
        "only {} requests sent in {sent_for:?}",
        outcomes.len()
    );
    for outcome in &outcomes {
        assert!(
            matches!(outcome.status, Some(200 | 503)) && outcome.json,
            "{outcome:?}"
        );
        assert!(
            outcome.latency < deadline + Duration::from_millis(500),
            "{outcome:?}"
        );
    }
    let count = |status: u16, from: Duration, to: Duration| {
        outcomes
            .iter()
            .filter(|o| o.status == Some(status) && o.sent_at >= from && o.sent_at < to)
            .count()
    };
    assert!(
        count(200, Duration::ZERO, killed) > 100,
        "served before the kill"
    );
    assert!(
        count(503, killed, returned) > 100,
        "503s while Datastore was down"
    );
    let recovered = returned + Duration::from_secs(2);
    let late_failures: Vec<_> = outcomes
        .iter()
        .filter(|o| o.sent_at >= recovered && o.status != Some(200))
        .collect();
    assert!(
        late_failures.is_empty(),
        "not recovered 2 s after the return: {late_failures:?}"
    );
    assert!(
        count(200, recovered, Duration::MAX) > 400,
        "served after the recovery"
    );
}
