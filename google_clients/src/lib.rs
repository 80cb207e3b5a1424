//! The official Pub/Sub and Cloud Storage clients, pointed at an emulator when the usual variable
//! names one, else at Google with Application Default Credentials.
//!
//! Emulators speak plaintext and take no credentials: `PUBSUB_EMULATOR_HOST` is `host:port`
//! (as gcloud prints it), `STORAGE_EMULATOR_HOST` a URL such as `http://127.0.0.1:4443`
//! (fake-gcs-server), as the other languages' clients read them.

use std::time::Duration;

use google_cloud_auth::credentials::{Credentials, anonymous};
use google_cloud_gax::client_builder::ClientBuilder;
use google_cloud_gax::retry_policy::{Aip194Strict, RetryPolicyExt};
use google_cloud_pubsub::client::{Publisher, SubscriptionAdmin, TopicAdmin};
use google_cloud_storage::client::Storage;

pub use google_cloud_gax::client_builder::Error as BuildError;

/// Where the clients go: emulators, or Google.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// `PUBSUB_EMULATOR_HOST`: `host:port`.
    pub pubsub_emulator: Option<String>,
    /// `STORAGE_EMULATOR_HOST`: a URL.
    pub storage_emulator: Option<String>,
    /// How long one call may retry before it fails (unreachable service, missing topic).
    pub call_limit: Duration,
}

impl Endpoints {
    /// From the process environment.
    pub fn from_env() -> Self {
        let read = |name| std::env::var(name).ok().filter(|value| !value.is_empty());
        Self {
            pubsub_emulator: read("PUBSUB_EMULATOR_HOST"),
            storage_emulator: read("STORAGE_EMULATOR_HOST"),
            ..Self::default()
        }
    }

    /// Only the Pub/Sub emulator at `host` (the tests).
    pub fn pubsub_emulator(host: &str) -> Self {
        Self {
            pubsub_emulator: Some(host.to_owned()),
            ..Self::default()
        }
    }

    pub async fn topic_admin(&self) -> Result<TopicAdmin, BuildError> {
        self.pubsub_admin(TopicAdmin::builder()).build().await
    }

    pub async fn subscription_admin(&self) -> Result<SubscriptionAdmin, BuildError> {
        self.pubsub_admin(SubscriptionAdmin::builder())
            .build()
            .await
    }

    /// A publisher for `topic` (`projects/P/topics/T`) that sends each message as soon as it
    /// can: a batch waits at most 1 ms for company.
    pub async fn publisher(&self, topic: &str) -> Result<Publisher, BuildError> {
        let mut builder = Publisher::builder(topic)
            .set_delay_threshold(Duration::from_millis(1))
            .with_retry_policy(Aip194Strict.with_time_limit(self.call_limit));
        if let Some(host) = &self.pubsub_emulator {
            builder = builder
                .with_endpoint(format!("http://{host}"))
                .with_credentials(no_credentials());
        }
        builder.build().await
    }

    pub async fn storage(&self) -> Result<Storage, BuildError> {
        let mut builder =
            Storage::builder().with_retry_policy(Aip194Strict.with_time_limit(self.call_limit));
        if let Some(url) = &self.storage_emulator {
            builder = builder
                .with_endpoint(url.trim_end_matches('/'))
                .with_credentials(no_credentials());
        }
        builder.build().await
    }

    fn pubsub_admin<F, Cr>(&self, builder: ClientBuilder<F, Cr>) -> ClientBuilder<F, Cr>
    where
        Credentials: Into<Cr>,
    {
        let builder = builder.with_retry_policy(Aip194Strict.with_time_limit(self.call_limit));
        match &self.pubsub_emulator {
            Some(host) => builder
                .with_endpoint(format!("http://{host}"))
                .with_credentials(no_credentials()),
            None => builder,
        }
    }
}

impl Default for Endpoints {
    fn default() -> Self {
        Self {
            pubsub_emulator: None,
            storage_emulator: None,
            call_limit: DEFAULT_CALL_LIMIT,
        }
    }
}

/// Long enough for a real project's transient errors, short enough that a wrong endpoint is
/// reported while the user still waits for it.
const DEFAULT_CALL_LIMIT: Duration = Duration::from_secs(10);

fn no_credentials() -> Credentials {
    anonymous::Builder::new().build()
}
