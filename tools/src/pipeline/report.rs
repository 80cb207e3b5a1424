//! What a run found: per object sent, how many `StorageLog`s name it, and how long the first took.

use std::collections::HashMap;
use std::fmt;

use chrono::TimeDelta;
use serde::Serialize;

use super::{Plan, Sent, Stored};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub run_id: String,
    pub via: &'static str,
    pub target: String,
    pub sent: usize,
    /// Objects with exactly one `StorageLog`.
    pub stored_once: usize,
    /// Objects with none when the wait ended.
    pub lost: usize,
    /// Objects with more than one.
    pub stored_more_than_once: usize,
    /// `StorageLog`s beyond the first of each object.
    pub extra_entities: usize,
    /// From the start of an object's send to its first `StorageLog`'s `timestamp` (the
    /// service's clock: against a real project, our clock's offset from Google's counts too).
    pub latency_ms: Option<Latency>,
    pub send_seconds: f64,
    /// Sends per second over the send phase.
    pub achieved_rate: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Report {
    pub fn new(
        plan: &Plan,
        via: &'static str,
        target: String,
        sent: &[Sent],
        send_time: TimeDelta,
        stored: &[Stored],
    ) -> Self {
        let mut by_name: HashMap<&str, Vec<&Stored>> = HashMap::new();
        for log in stored {
            by_name.entry(log.name.as_str()).or_default().push(log);
        }
        let mut latencies = Vec::new();
        let (mut stored_once, mut lost, mut more, mut extra) = (0, 0, 0, 0);
        for object in sent {
            let logs = by_name
                .get(object.name.as_str())
                .map_or(&[][..], Vec::as_slice);
            match logs.len() {
                0 => lost += 1,
                1 => stored_once += 1,
                n => {
                    more += 1;
                    extra += n - 1;
                }
            }
            if let Some(first) = logs.iter().filter_map(|log| log.timestamp).min() {
                latencies.push(milliseconds(first - object.at));
            }
        }
        let send_seconds = milliseconds(send_time) / 1000.0;
        Self {
            run_id: plan.run_id.clone(),
            via,
            target,
            sent: sent.len(),
            stored_once,
            lost,
            stored_more_than_once: more,
            extra_entities: extra,
            latency_ms: Latency::of(latencies),
            send_seconds,
            achieved_rate: if send_seconds > 0.0 {
                sent.len() as f64 / send_seconds
            } else {
                0.0
            },
        }
    }

    /// Every object stored exactly once.
    pub fn passed(&self) -> bool {
        self.lost == 0 && self.stored_more_than_once == 0
    }
}

impl Latency {
    /// Nearest-rank percentiles; `None` for no samples.
    pub fn of(mut samples: Vec<f64>) -> Option<Self> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_by(f64::total_cmp);
        let rank = |p: f64| {
            let index = (p / 100.0 * samples.len() as f64).ceil() as usize;
            samples[index.clamp(1, samples.len()) - 1]
        };
        Some(Self {
            p50: rank(50.0),
            p95: rank(95.0),
            p99: rank(99.0),
            max: samples[samples.len() - 1],
        })
    }
}

fn milliseconds(delta: TimeDelta) -> f64 {
    delta
        .num_microseconds()
        .map_or(f64::MAX, |us| us as f64 / 1000.0)
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.passed() { "PASS" } else { "FAIL" };
        writeln!(
            f,
            "pipeline-check {verdict}: run {} via {} to {}",
            self.run_id, self.via, self.target
        )?;
        writeln!(
            f,
            "  sent                   {:>7}   in {:.1} s ({:.1}/s)",
            self.sent, self.send_seconds, self.achieved_rate
        )?;
        writeln!(f, "  stored once            {:>7}", self.stored_once)?;
        writeln!(f, "  lost                   {:>7}", self.lost)?;
        writeln!(
            f,
            "  stored more than once  {:>7}   ({} extra entities)",
            self.stored_more_than_once, self.extra_entities
        )?;
        match self.latency_ms {
            Some(l) => write!(
                f,
                "  latency ms    p50 {:.0}   p95 {:.0}   p99 {:.0}   max {:.0}",
                l.p50, l.p95, l.p99, l.max
            ),
            None => write!(f, "  latency ms    (nothing stored)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_796_121_600_000 + ms).unwrap()
    }

    fn sent(name: &str, ms: i64) -> Sent {
        Sent {
            name: name.into(),
            at: at(ms),
        }
    }

    fn stored(name: &str, ms: i64) -> Stored {
        Stored {
            key: format!("{name}@{ms}"),
            name: name.into(),
            timestamp: Some(at(ms)),
        }
    }

    fn report(sent: &[Sent], stored: &[Stored]) -> Report {
        Report::new(
            &Plan::new(sent.len()),
            "publish",
            "projects/p/topics/t".into(),
            sent,
            TimeDelta::seconds(2),
            stored,
        )
    }

    #[test]
    fn counts_once_lost_and_twice() {
        let sent = [sent("a", 0), sent("b", 0), sent("c", 10)];
        let stored = [stored("a", 40), stored("c", 30), stored("c", 5000)];
        let report = report(&sent, &stored);
        assert_eq!(report.sent, 3);
        assert_eq!(report.stored_once, 1);
        assert_eq!(report.lost, 1);
        assert_eq!(report.stored_more_than_once, 1);
        assert_eq!(report.extra_entities, 1);
        assert!(!report.passed());
        let latency = report.latency_ms.unwrap();
        // a: 40 ms, c: its first log, 20 ms.
        assert_eq!((latency.p50, latency.max), (20.0, 40.0));
        assert_eq!(report.achieved_rate, 1.5);
    }

    #[test]
    fn every_object_once_passes() {
        let report = report(&[sent("a", 0)], &[stored("a", 7)]);
        assert!(report.passed());
        assert!(report.to_string().starts_with("pipeline-check PASS"));
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let samples = (1..=100).map(f64::from).collect();
        let latency = Latency::of(samples).unwrap();
        assert_eq!(
            (latency.p50, latency.p95, latency.p99, latency.max),
            (50.0, 95.0, 99.0, 100.0)
        );
        assert_eq!(Latency::of(vec![]), None);
    }
}
