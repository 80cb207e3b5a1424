use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::ServiceClient;

/// How long a request waits for its answer: past it, the request hung (no status, or a latency of
/// 30 s when the headers came and the body stalled).
pub const NO_ANSWER: Duration = Duration::from_secs(30);

/// One request of a load run: when it was sent (since the run began), its status (None: no
/// answer, a transport error), how long it took, and whether the body was JSON.
#[derive(Debug)]
pub struct Outcome {
    pub sent_at: Duration,
    pub status: Option<u16>,
    pub latency: Duration,
    pub json: bool,
}

/// What the answers of a run say so far, as they arrive: what a test waits on while its load
/// goes on.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    /// Answers that were a 200.
    pub served: usize,
    /// The send time of the latest-sent request answered otherwise (or not at all).
    pub last_failure_sent_at: Option<Duration>,
}

/// A load run: its clock, and its progress, shared with whatever acts on the service meanwhile.
pub struct LoadRun {
    started: Instant,
    progress: Mutex<Progress>,
}

impl LoadRun {
    /// Starts the run's clock.
    pub fn start() -> Arc<Self> {
        Arc::new(Self {
            started: Instant::now(),
            progress: Mutex::new(Progress::default()),
        })
    }

    /// Time since the run began: the clock of every [`Outcome::sent_at`].
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The answers so far.
    pub fn progress(&self) -> Progress {
        *self.progress.lock().unwrap()
    }

    fn record(&self, outcome: &Outcome) {
        let mut progress = self.progress.lock().unwrap();
        if outcome.status == Some(200) {
            progress.served += 1;
        } else {
            progress.last_failure_sent_at =
                progress.last_failure_sent_at.max(Some(outcome.sent_at));
        }
    }

    /// Sends `POST path` (request `i` with `body(i)`) at `per_second` until `stop` completes, each
    /// request on its own task, and returns every outcome once all have answered, failed, or
    /// waited [`NO_ANSWER`] for an answer.
    pub async fn post_at_rate(
        self: &Arc<Self>,
        client: &ServiceClient,
        path: &str,
        body: impl Fn(usize) -> serde_json::Value,
        per_second: u32,
        stop: impl Future<Output = ()>,
    ) -> Vec<Outcome> {
        let interval = Duration::from_secs(1) / per_second;
        let mut tasks = Vec::new();
        let mut next = Instant::now();
        let mut stop = std::pin::pin!(stop);
        loop {
            let json = body(tasks.len()).to_string().into_bytes();
            let request = client
                .request("POST", path, Some("application/json"), json)
                .timeout(NO_ANSWER);
            let run = Arc::clone(self);
            tasks.push(tokio::spawn(async move {
                let sent = Instant::now();
                let sent_at = sent.duration_since(run.started);
                let outcome = match request.send().await {
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
                };
                run.record(&outcome);
                outcome
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
}

/// The run in slices of `step`, a line each: requests sent, 200s, 503s, anything else, and the
/// slowest answer. What a failed assertion shows instead of thousands of outcomes.
pub fn timeline(outcomes: &[Outcome], step: Duration) -> String {
    let mut text = String::from("sent from | sent | 200 | 503 | other | slowest\n");
    let Some(last) = outcomes.iter().map(|o| o.sent_at).max() else {
        return text;
    };
    let mut from = Duration::ZERO;
    while from <= last {
        let slice: Vec<&Outcome> = outcomes
            .iter()
            .filter(|o| o.sent_at >= from && o.sent_at < from + step)
            .collect();
        let count = |status: Option<u16>| slice.iter().filter(|o| o.status == status).count();
        let (served, unavailable) = (count(Some(200)), count(Some(503)));
        let slowest = slice.iter().map(|o| o.latency).max().unwrap_or_default();
        let _ = writeln!(
            text,
            "{:>7.1} s | {:>4} | {served:>3} | {unavailable:>3} | {:>5} | {slowest:.2?}",
            from.as_secs_f64(),
            slice.len(),
            slice.len() - served - unavailable,
        );
        from += step;
    }
    text
}
