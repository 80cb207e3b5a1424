//! The one Datastore layer, on gcloud-sdk's gRPC client: settings read from the environment, the
//! errors and the HTTP answer each gets, the client, and queries page by page.
//!
//! One client per HTTP worker, connected lazily on that worker's runtime (docs/reference.md,
//! "Datastore"). A service starts and answers while Datastore is down: every call is bounded by a
//! deadline (503 when it passes), and a failed connection is retried by the next call, so it
//! recovers by itself.

mod client;
mod error;
mod query;
mod settings;
pub mod value;

pub use client::Datastore;
pub use error::DatastoreError;
pub use query::{MAX_ANSWER_BYTES, Pages, QueryBuilder, entity_bytes};
pub use settings::DatastoreSettings;

/// The Datastore API types, for services that build their own queries.
pub use gcloud_sdk::google::datastore::v1 as pb;

/// Production refuses commits of more than 500 mutations (the emulators do not).
pub const MAX_MUTATIONS_PER_COMMIT: usize = 500;

/// Commits of one [`Datastore::delete`] in flight at once.
pub const CONCURRENT_COMMITS: usize = 4;
