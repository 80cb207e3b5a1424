use serde_json::{Value, json};

use crate::PROJECT;

/// The Pub/Sub emulator's REST API: topics, push subscriptions, publishing.
pub struct PubSubRest {
    base: String,
    client: reqwest::Client,
}

impl PubSubRest {
    pub fn new(host: &str) -> Self {
        Self {
            base: format!("http://{host}/v1/projects/{PROJECT}"),
            client: reqwest::Client::new(),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let request = self.client.request(method, format!("{}/{path}", self.base));
        crate::emulator_call(request, &body).await
    }

    pub async fn create_topic(&self, topic: &str) {
        self.call(reqwest::Method::PUT, &format!("topics/{topic}"), json!({}))
            .await;
    }

    /// A push subscription to `endpoint`. No retry policy: the emulator then retries every
    /// second; with one (min 1 s, max 2 s) it was seen to stop redelivering a nacked message.
    pub async fn create_push_subscription(&self, name: &str, topic: &str, endpoint: &str) {
        let body = json!({
            "topic": format!("projects/{PROJECT}/topics/{topic}"),
            "pushConfig": {"pushEndpoint": endpoint},
            "ackDeadlineSeconds": 10,
        });
        self.call(reqwest::Method::PUT, &format!("subscriptions/{name}"), body)
            .await;
    }

    /// Publishes one message (`data` already base64); returns its message id.
    pub async fn publish(&self, topic: &str, data: &str, attributes: Value) -> String {
        let body = json!({"messages": [{"data": data, "attributes": attributes}]});
        let answer = self
            .call(
                reqwest::Method::POST,
                &format!("topics/{topic}:publish"),
                body,
            )
            .await;
        answer["messageIds"][0]
            .as_str()
            .expect("a message id")
            .to_owned()
    }
}
