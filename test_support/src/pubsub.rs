use std::collections::HashMap;

use google_clients::Endpoints;
use google_cloud_pubsub::client::{Publisher, SubscriptionAdmin, TopicAdmin};
use google_cloud_pubsub::model::{DeadLetterPolicy, Message, PushConfig};
use tokio::sync::Mutex;

use crate::PROJECT;

/// The Pub/Sub emulator through Google's official client: topics, push subscriptions as the
/// scripts make them, publishing.
pub struct PubSub {
    endpoints: Endpoints,
    topics: TopicAdmin,
    subscriptions: SubscriptionAdmin,
    /// One per topic, made by the first publish to it.
    publishers: Mutex<HashMap<String, Publisher>>,
}

impl PubSub {
    pub async fn new(host: &str) -> Self {
        let endpoints = Endpoints::pubsub_emulator(host);
        Self {
            topics: endpoints.topic_admin().await.expect("a topic admin client"),
            subscriptions: endpoints
                .subscription_admin()
                .await
                .expect("a subscription admin client"),
            endpoints,
            publishers: Mutex::default(),
        }
    }

    pub async fn create_topic(&self, topic: &str) {
        self.topics
            .create_topic()
            .set_name(topic_name(topic))
            .send()
            .await
            .unwrap_or_else(|e| panic!("create topic {topic}: {e}"));
    }

    /// A push subscription to `endpoint` as `scripts/local.sh` makes it: 30 s to acknowledge, and
    /// after [`MAX_DELIVERY_ATTEMPTS`] a message goes to the dead-letter topic
    /// `{topic}-dead-letter`, which this creates.
    pub async fn create_push_subscription(&self, name: &str, topic: &str, endpoint: &str) {
        let dead_letter = format!("{topic}-dead-letter");
        self.create_topic(&dead_letter).await;
        self.subscriptions
            .create_subscription()
            .set_name(format!("projects/{PROJECT}/subscriptions/{name}"))
            .set_topic(topic_name(topic))
            .set_push_config(PushConfig::new().set_push_endpoint(endpoint))
            .set_ack_deadline_seconds(30)
            .set_dead_letter_policy(
                DeadLetterPolicy::new()
                    .set_dead_letter_topic(topic_name(&dead_letter))
                    .set_max_delivery_attempts(MAX_DELIVERY_ATTEMPTS),
            )
            .send()
            .await
            .unwrap_or_else(|e| panic!("create subscription {name}: {e}"));
    }

    /// Publishes one message to `topic`; returns its message id.
    pub async fn publish(
        &self,
        topic: &str,
        data: impl Into<bytes::Bytes>,
        attributes: HashMap<String, String>,
    ) -> String {
        let publisher = {
            let mut publishers = self.publishers.lock().await;
            match publishers.get(topic) {
                Some(publisher) => publisher.clone(),
                None => {
                    let publisher = self
                        .endpoints
                        .publisher(&topic_name(topic))
                        .await
                        .expect("a publisher");
                    publishers.insert(topic.to_owned(), publisher.clone());
                    publisher
                }
            }
        };
        let message = Message::new().set_data(data).set_attributes(attributes);
        publisher.publish(message).await.expect("published")
    }
}

/// `LOCAL_MAX_DELIVERY_ATTEMPTS` of `scripts/config.sh`, which says why.
pub const MAX_DELIVERY_ATTEMPTS: i32 = 100;

fn topic_name(topic: &str) -> String {
    format!("projects/{PROJECT}/topics/{topic}")
}
