use serde_json::{Value, json};

use crate::PROJECT;

/// Datastore's REST API on an emulator, to read back what a service stored (or to seed data)
/// without the service's own gRPC code.
pub struct DatastoreRest {
    base: String,
    namespace: String,
    client: reqwest::Client,
}

impl DatastoreRest {
    pub fn new(host: &str, namespace: &str) -> Self {
        Self {
            base: format!("http://{host}/v1/projects/{PROJECT}"),
            namespace: namespace.to_owned(),
            client: reqwest::Client::new(),
        }
    }

    pub fn partition(&self) -> Value {
        json!({"projectId": PROJECT, "namespaceId": self.namespace})
    }

    async fn call(&self, method: &str, body: Value) -> Value {
        let request = self.client.post(format!("{}:{method}", self.base));
        crate::emulator_call(request, &body).await
    }

    /// Every entity of `kind` in the namespace (REST `runQuery`, following every batch).
    pub async fn entities(&self, kind: &str) -> Vec<Value> {
        self.query(json!({"kind": [{"name": kind}]})).await
    }

    /// Every result of `query` in the namespace.
    pub async fn query(&self, query: Value) -> Vec<Value> {
        let mut query = query;
        let mut found = Vec::new();
        loop {
            let body = json!({"partitionId": self.partition(), "query": query});
            let batch = self.call("runQuery", body).await["batch"].take();
            let results = batch["entityResults"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let more = batch["moreResults"].as_str() == Some("NOT_FINISHED") && !results.is_empty();
            found.extend(results.into_iter().map(|mut r| r["entity"].take()));
            if !more {
                return found;
            }
            query["startCursor"] = batch["endCursor"].clone();
        }
    }

    /// Upserts entities given as `(key path, properties)` in REST form.
    pub async fn upsert(&self, entities: Vec<(Value, Value)>) {
        for chunk in entities.chunks(500) {
            let mutations: Vec<Value> = chunk
                .iter()
                .map(|(path, properties)| {
                    json!({"upsert": {
                        "key": {"partitionId": self.partition(), "path": path},
                        "properties": properties,
                    }})
                })
                .collect();
            self.call(
                "commit",
                json!({"mode": "NON_TRANSACTIONAL", "mutations": mutations}),
            )
            .await;
        }
    }
}
