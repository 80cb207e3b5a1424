//! Sending: objects uploaded to the bucket (Cloud Storage sends the notifications), or
//! notifications published straight to the topic, shaped as Cloud Storage shapes them
//! (`JSON_API_V1`), to load the push path without Cloud Storage.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use google_cloud_pubsub::client::Publisher;
use google_cloud_pubsub::model::Message;
use google_cloud_storage::client::Storage;
use indicatif::ProgressBar;
use serde_json::json;
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;

use super::{CheckError, Plan};

/// Sends in flight at once: enough to hold 1,000/s against a real project, few enough that an
/// upload run does not open hundreds of connections.
pub const MAX_IN_FLIGHT: usize = 64;

/// Where the notifications come from.
#[derive(Clone)]
pub enum Source {
    /// Upload objects to `bucket`; its notification configuration does the rest.
    Upload {
        storage: Box<Storage>,
        bucket: String,
    },
    /// Publish notifications about objects of `bucket` to the publisher's topic.
    Publish {
        publisher: Publisher,
        topic: String,
        bucket: String,
    },
}

impl Source {
    pub fn via(&self) -> &'static str {
        match self {
            Self::Upload { .. } => "upload",
            Self::Publish { .. } => "publish",
        }
    }

    /// `gs://bucket` or the topic's full name.
    pub fn target(&self) -> String {
        match self {
            Self::Upload { bucket, .. } => format!("gs://{bucket}"),
            Self::Publish { topic, .. } => topic.clone(),
        }
    }

    async fn send(&self, name: &str) -> Result<(), CheckError> {
        match self {
            Self::Upload { storage, bucket } => storage
                .write_object(
                    format!("projects/_/buckets/{bucket}"),
                    name,
                    format!("{name}\n"),
                )
                .send_buffered()
                .await
                .map(drop)
                .map_err(|e| CheckError(format!("upload to gs://{bucket} failed: {e}"))),
            Self::Publish {
                publisher,
                topic,
                bucket,
            } => publisher
                .publish(notification(bucket, name, Utc::now()))
                .await
                .map(drop)
                .map_err(|e| CheckError(format!("publish to {topic} failed: {e}"))),
        }
    }
}

/// One object sent, and when its send began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub name: String,
    pub at: DateTime<Utc>,
}

/// Sends the plan's objects at its rate, [`MAX_IN_FLIGHT`] at most at once; the first failure
/// stops the run.
pub async fn send_all(
    plan: &Plan,
    source: &Source,
    progress: &ProgressBar,
) -> Result<Vec<Sent>, CheckError> {
    let mut ticks = plan.rate.map(|rate| {
        let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
        // Behind schedule (a slow send), catch up: the rate is an average over the run.
        ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
        ticks
    });
    let mut in_flight = JoinSet::new();
    let mut sent = Vec::with_capacity(plan.count);
    for index in 0..plan.count {
        if let Some(ticks) = ticks.as_mut() {
            ticks.tick().await;
        }
        while in_flight.len() >= MAX_IN_FLIGHT {
            collect(in_flight.join_next().await, &mut sent, progress)?;
        }
        while let Some(done) = in_flight.try_join_next() {
            collect(Some(done), &mut sent, progress)?;
        }
        let name = format!("{}{index:06}", plan.prefix());
        let source = source.clone();
        in_flight.spawn(async move {
            let at = Utc::now();
            source.send(&name).await.map(|()| Sent { name, at })
        });
    }
    while let Some(done) = in_flight.join_next().await {
        collect(Some(done), &mut sent, progress)?;
    }
    Ok(sent)
}

fn collect(
    done: Option<Result<Result<Sent, CheckError>, tokio::task::JoinError>>,
    sent: &mut Vec<Sent>,
    progress: &ProgressBar,
) -> Result<(), CheckError> {
    if let Some(done) = done {
        let one = done.map_err(|e| CheckError(format!("a send stopped: {e}")))??;
        sent.push(one);
        progress.inc(1);
    }
    Ok(())
}

/// The notification Cloud Storage publishes when `name` is finalized in `bucket`: the object's
/// metadata as data, the event in the attributes.
pub fn notification(bucket: &str, name: &str, at: DateTime<Utc>) -> Message {
    let time = at.to_rfc3339_opts(SecondsFormat::Millis, true);
    let generation = at.timestamp_micros().to_string();
    let object = json!({
        "kind": "storage#object",
        "id": format!("{bucket}/{name}/{generation}"),
        "selfLink": format!("https://www.googleapis.com/storage/v1/b/{bucket}/o/{}", name.replace('/', "%2F")),
        "name": name,
        "bucket": bucket,
        "generation": generation,
        "metageneration": "1",
        "contentType": "text/plain",
        "timeCreated": time,
        "updated": time,
        "storageClass": "STANDARD",
        "timeStorageClassUpdated": time,
        "size": (name.len() + 1).to_string(),
    });
    let attributes = HashMap::from([
        ("bucketId", bucket.to_owned()),
        ("objectId", name.to_owned()),
        ("objectGeneration", generation),
        ("eventType", "OBJECT_FINALIZE".to_owned()),
        ("eventTime", time),
        ("payloadFormat", "JSON_API_V1".to_owned()),
        (
            "notificationConfig",
            format!("projects/_/buckets/{bucket}/notificationConfigs/pipeline-check"),
        ),
    ]);
    Message::new()
        .set_data(object.to_string())
        .set_attributes(attributes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_names_the_object_in_data_and_attributes() {
        let at = DateTime::parse_from_rfc3339("2026-11-25T10:40:00.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        let message = notification("b", "pipeline-check/r/000001", at);
        let object: serde_json::Value = serde_json::from_slice(&message.data).unwrap();
        assert_eq!(object["name"], "pipeline-check/r/000001");
        assert_eq!(object["bucket"], "b");
        assert_eq!(object["generation"], "1795603200123456");
        assert_eq!(object["timeCreated"], "2026-11-25T10:40:00.123Z");
        assert_eq!(message.attributes["eventType"], "OBJECT_FINALIZE");
        assert_eq!(message.attributes["objectId"], "pipeline-check/r/000001");
        assert_eq!(message.attributes["payloadFormat"], "JSON_API_V1");
    }
}
