//! The one Datastore layer (DESIGN.md, "Datastore client"), on gcloud-sdk's gRPC client.
//!
//! One client per HTTP worker, connected lazily on that worker's runtime (an RPC and its
//! connection share a thread: measured 7 to 15 % less CPU per request than one connection shared
//! by the workers). The service starts and answers while Datastore is down, every call is bounded by a deadline and answers 503 when it passes, and a failed
//! connection is retried by the next call, so the service recovers by itself.

pub mod value;

/// The Datastore API types, for services that build their own queries.
pub use gcloud_sdk::google::datastore::v1 as pb;

use std::sync::Arc;
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use gcloud_sdk::google::datastore::v1::commit_request::Mode;
use gcloud_sdk::google::datastore::v1::datastore_client::DatastoreClient;
use gcloud_sdk::google::datastore::v1::key::PathElement;
use gcloud_sdk::google::datastore::v1::key::path_element::IdType;
use gcloud_sdk::google::datastore::v1::mutation::Operation;
use gcloud_sdk::google::datastore::v1::query_result_batch::MoreResultsType;
use gcloud_sdk::google::datastore::v1::run_query_request::QueryType;
use gcloud_sdk::google::datastore::v1::{
    CommitRequest, Entity, Key, LookupRequest, Mutation, PartitionId, Query, QueryResultBatch,
    RunQueryRequest,
};
use gcloud_sdk::google_cloud_auth::credentials::anonymous;
use gcloud_sdk::tonic::{Code, Status};
use gcloud_sdk::{GoogleApi, GoogleAuthMiddleware, GoogleEnvironment, HeaderMap};
use tokio::runtime::Handle;
use tokio::sync::OnceCell;

use crate::configuration::{ConfigError, Env};
use crate::error::ApiError;
use value::Properties;

/// Production refuses commits of more than 500 mutations (the emulators do not).
pub const MAX_MUTATIONS_PER_COMMIT: usize = 500;

/// Commits of one [`Datastore::delete`] in flight at once.
pub const CONCURRENT_COMMITS: usize = 4;

const PRODUCTION_ENDPOINT: &str = "https://datastore.googleapis.com";

type Client = GoogleApi<DatastoreClient<GoogleAuthMiddleware>>;

/// Where Datastore is and how long a call may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatastoreSettings {
    /// `DATASTORE_EMULATOR_HOST`: plaintext, no credentials. Unset: production with ADC.
    pub emulator_host: Option<String>,
    /// `DATASTORE_PROJECT_ID`, else `GOOGLE_CLOUD_PROJECT`; unset: detected when first needed
    /// (ADC file, then the metadata server), never at start-up.
    pub project_id: Option<String>,
    /// `DATASTORE_DATABASE_ID`; empty is the `(default)` database.
    pub database_id: String,
    /// `DATASTORE_NAMESPACE`; empty is the default namespace.
    pub namespace: String,
    /// `DATASTORE_TIMEOUT_MS` (default 5000): the most one operation may take, connecting
    /// included, before it answers 503.
    pub deadline: Duration,
}

impl DatastoreSettings {
    pub fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let deadline_ms = env.positive_or("DATASTORE_TIMEOUT_MS", 5000)?;
        Ok(Self {
            emulator_host: env.text("DATASTORE_EMULATOR_HOST"),
            project_id: env
                .text("DATASTORE_PROJECT_ID")
                .or_else(|| env.text("GOOGLE_CLOUD_PROJECT")),
            database_id: env
                .text("DATASTORE_DATABASE_ID")
                .filter(|id| id != "(default)")
                .unwrap_or_default(),
            namespace: env.text("DATASTORE_NAMESPACE").unwrap_or_default(),
            deadline: Duration::from_millis(deadline_ms),
        })
    }
}

/// Why a Datastore operation failed, as the caller needs to tell it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatastoreError {
    /// Down, too slow, or refusing for a reason that a later retry may not have: 503.
    Unavailable(String),
    /// Datastore refused what we sent, or would (an entity it cannot hold): the client's
    /// input, 400 with this text.
    Rejected(String),
    /// An insert of a named key that exists.
    AlreadyExists,
}

impl std::fmt::Display for DatastoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unavailable(cause) => write!(f, "Datastore unavailable: {cause}"),
            Self::Rejected(reason) => f.write_str(reason),
            Self::AlreadyExists => f.write_str("the entity already exists"),
        }
    }
}

impl std::error::Error for DatastoreError {}

impl From<Status> for DatastoreError {
    fn from(status: Status) -> Self {
        match status.code() {
            Code::AlreadyExists => Self::AlreadyExists,
            Code::InvalidArgument => {
                // Datastore's own words go to the log; the client gets a plain reason.
                log::warn!("Datastore refused the entity: {}", status.message());
                Self::Rejected("Datastore refused the entity.".into())
            }
            code => Self::Unavailable(format!("{code:?}: {}", status.message())),
        }
    }
}

impl From<DatastoreError> for ApiError {
    fn from(error: DatastoreError) -> Self {
        match error {
            DatastoreError::Rejected(reason) => ApiError::BadRequest(reason),
            DatastoreError::Unavailable(_) | DatastoreError::AlreadyExists => {
                ApiError::Unavailable(error.to_string())
            }
        }
    }
}

/// A Datastore client. Cheap to clone; every clone shares one connection.
#[derive(Clone)]
pub struct Datastore {
    inner: Arc<Inner>,
}

struct Inner {
    settings: DatastoreSettings,
    connection: OnceCell<Connection>,
    /// The runtime that owns the connection: the one `new` was called on.
    runtime: Handle,
}

struct Connection {
    client: Client,
    project_id: String,
}

impl Datastore {
    /// Does no I/O. Call it on the runtime that will use it and outlive its use: each HTTP
    /// worker makes its own in its app factory (the services' `startup.rs`).
    pub fn new(settings: DatastoreSettings) -> Self {
        Self {
            inner: Arc::new(Inner {
                settings,
                connection: OnceCell::new(),
                runtime: Handle::current(),
            }),
        }
    }

    /// A key of `kind` in our partition: named, or incomplete (Datastore allocates an id).
    fn key_in(&self, connection: &Connection, kind: &str, name: Option<&str>) -> Key {
        Key {
            partition_id: Some(self.partition(connection)),
            path: vec![PathElement {
                kind: kind.to_owned(),
                id_type: name.map(|name| IdType::Name(name.to_owned())),
            }],
        }
    }

    fn partition(&self, connection: &Connection) -> PartitionId {
        PartitionId {
            project_id: connection.project_id.clone(),
            database_id: self.inner.settings.database_id.clone(),
            namespace_id: self.inner.settings.namespace.clone(),
        }
    }

    /// Inserts an entity of `kind` (auto id, or the key `name`); `AlreadyExists` if the name is
    /// taken. Returns the stored key.
    pub async fn insert(
        &self,
        kind: &str,
        name: Option<&str>,
        properties: Properties,
    ) -> Result<Key, DatastoreError> {
        value::check_entity(&properties)
            .map_err(|e| DatastoreError::Rejected(format!("the entity cannot be stored: {e}.")))?;
        self.within_deadline(async {
            let connection = self.connection().await?;
            let key = self.key_in(connection, kind, name);
            let mutation = Mutation {
                operation: Some(Operation::Insert(Entity {
                    key: Some(key.clone()),
                    properties,
                })),
                ..Mutation::default()
            };
            let response = self.commit_in(connection, vec![mutation]).await?;
            Ok(response
                .into_iter()
                .next()
                .and_then(|result| result.key)
                .unwrap_or(key))
        })
        .await
    }

    /// The entity of `kind` named `name`, if there is one.
    pub async fn lookup(&self, kind: &str, name: &str) -> Result<Option<Entity>, DatastoreError> {
        self.within_deadline(async {
            let connection = self.connection().await?;
            let request = LookupRequest {
                project_id: connection.project_id.clone(),
                database_id: self.inner.settings.database_id.clone(),
                keys: vec![self.key_in(connection, kind, Some(name))],
                ..LookupRequest::default()
            };
            let response = connection.client.get().lookup(request).await?.into_inner();
            Ok(response
                .found
                .into_iter()
                .next()
                .and_then(|found| found.entity))
        })
        .await
    }

    /// Every entity the query finds, following every batch (Datastore answers in batches of
    /// about 300 on the legacy emulator; one batch is not the answer).
    pub async fn query_all(&self, query: Query) -> Result<Vec<Entity>, DatastoreError> {
        self.within_deadline(async {
            let mut entities = Vec::new();
            let mut query = query;
            loop {
                let batch = self.run_query(query.clone()).await?;
                let next = next_page(&batch, query.limit);
                entities.extend(batch.entity_results.into_iter().filter_map(|r| r.entity));
                match next {
                    Some(cursor) => query.start_cursor = cursor,
                    None => return Ok(entities),
                }
            }
        })
        .await
    }

    /// One batch of the query, as Datastore answers it; [`next_page`] says whether to go on.
    pub async fn run_query(&self, query: Query) -> Result<QueryResultBatch, DatastoreError> {
        self.within_deadline(async {
            let connection = self.connection().await?;
            let request = RunQueryRequest {
                project_id: connection.project_id.clone(),
                database_id: self.inner.settings.database_id.clone(),
                partition_id: Some(self.partition(connection)),
                query_type: Some(QueryType::Query(query)),
                ..RunQueryRequest::default()
            };
            let response = connection.client.get().run_query(request).await?;
            Ok(response.into_inner().batch.unwrap_or_default())
        })
        .await
    }

    /// Deletes the keys in commits of at most [`MAX_MUTATIONS_PER_COMMIT`], each key once
    /// (Datastore refuses a commit with a key twice), [`CONCURRENT_COMMITS`] commits at a time,
    /// each within the deadline. Returns how many keys it deleted.
    pub async fn delete(&self, mut keys: Vec<Key>) -> Result<usize, DatastoreError> {
        keys.sort_by_cached_key(|key| format!("{key:?}"));
        keys.dedup();
        let commits = keys.chunks(MAX_MUTATIONS_PER_COMMIT).map(|chunk| {
            let mutations = chunk
                .iter()
                .map(|key| Mutation {
                    operation: Some(Operation::Delete(key.clone())),
                    ..Mutation::default()
                })
                .collect();
            self.within_deadline(async move {
                let connection = self.connection().await?;
                self.commit_in(connection, mutations).await?;
                Ok(chunk.len())
            })
        });
        let deleted: Vec<usize> = futures_util::stream::iter(commits)
            .buffer_unordered(CONCURRENT_COMMITS)
            .try_collect()
            .await?;
        Ok(deleted.into_iter().sum())
    }

    async fn commit_in(
        &self,
        connection: &Connection,
        mutations: Vec<Mutation>,
    ) -> Result<Vec<gcloud_sdk::google::datastore::v1::MutationResult>, DatastoreError> {
        let request = CommitRequest {
            project_id: connection.project_id.clone(),
            database_id: self.inner.settings.database_id.clone(),
            mode: Mode::NonTransactional as i32,
            mutations,
            ..CommitRequest::default()
        };
        let response = connection.client.get().commit(request).await?;
        Ok(response.into_inner().mutation_results)
    }

    /// Runs `operation` within the configured deadline; past it, `Unavailable`.
    async fn within_deadline<T>(
        &self,
        operation: impl Future<Output = Result<T, DatastoreError>>,
    ) -> Result<T, DatastoreError> {
        let deadline = self.inner.settings.deadline;
        tokio::time::timeout(deadline, operation)
            .await
            .unwrap_or_else(|_| {
                Err(DatastoreError::Unavailable(format!(
                    "no answer within {} ms",
                    deadline.as_millis()
                )))
            })
    }

    /// The shared connection, made on first use; a failed attempt is retried by the next call.
    async fn connection(&self) -> Result<&Connection, DatastoreError> {
        self.inner
            .connection
            .get_or_try_init(|| async {
                let settings = self.inner.settings.clone();
                self.inner
                    .runtime
                    .spawn(connect(settings))
                    .await
                    .map_err(|e| DatastoreError::Unavailable(format!("connect task failed: {e}")))?
            })
            .await
    }
}

async fn connect(settings: DatastoreSettings) -> Result<Connection, DatastoreError> {
    let project_id = match settings.project_id {
        Some(project_id) => project_id,
        None => GoogleEnvironment::detect_google_project_id()
            .await
            .ok_or_else(|| {
                DatastoreError::Unavailable(
                    "no project id: set GOOGLE_CLOUD_PROJECT or DATASTORE_PROJECT_ID".into(),
                )
            })?,
    };
    let headers = routing_headers(&project_id, &settings.database_id)?;
    let client = match &settings.emulator_host {
        Some(host) => {
            GoogleApi::from_function_with_credentials_and_headers(
                DatastoreClient::new,
                format!("http://{host}"),
                None,
                anonymous::Builder::new().build(),
                headers,
            )
            .await
        }
        None => {
            GoogleApi::from_function_with_headers(
                DatastoreClient::new,
                PRODUCTION_ENDPOINT,
                None,
                headers,
            )
            .await
        }
    }
    .map_err(|e| DatastoreError::Unavailable(format!("cannot connect: {e}")))?;
    log::info!(
        "Datastore client for project {project_id} at {}",
        settings
            .emulator_host
            .as_deref()
            .unwrap_or(PRODUCTION_ENDPOINT)
    );
    Ok(Connection { client, project_id })
}

/// `property <op> value`, the one kind of filter the services use.
pub fn property_filter(
    property: &str,
    op: pb::property_filter::Operator,
    value: pb::Value,
) -> pb::Filter {
    pb::Filter {
        filter_type: Some(pb::filter::FilterType::PropertyFilter(pb::PropertyFilter {
            property: Some(pb::PropertyReference {
                name: property.to_owned(),
            }),
            op: op as i32,
            value: Some(value),
        })),
    }
}

/// The routing header the official clients send on every RPC; production refuses requests to a
/// named database without it.
fn routing_headers(project_id: &str, database_id: &str) -> Result<HeaderMap, DatastoreError> {
    let mut params = format!("project_id={project_id}");
    if !database_id.is_empty() {
        params.push_str(&format!("&database_id={database_id}"));
    }
    let mut headers = HeaderMap::new();
    let value = params.parse().map_err(|_| {
        DatastoreError::Unavailable(format!("invalid project or database id: {params}"))
    })?;
    headers.insert("x-goog-request-params", value);
    Ok(headers)
}

/// The cursor of the next page, or `None` when the batch was the last. Works on both emulators
/// and production (DESIGN.md): go on while `NOT_FINISHED`; stop on an empty page, on
/// `NO_MORE_RESULTS`, or on any other state with a page smaller than the limit.
pub fn next_page(batch: &QueryResultBatch, limit: Option<i32>) -> Option<Vec<u8>> {
    let count = batch.entity_results.len();
    if count == 0 || batch.end_cursor.is_empty() {
        return None;
    }
    let go_on = match MoreResultsType::try_from(batch.more_results) {
        Ok(MoreResultsType::NotFinished) => true,
        Ok(MoreResultsType::NoMoreResults) => false,
        _ => limit.is_some_and(|limit| count >= usize::try_from(limit).unwrap_or(usize::MAX)),
    };
    go_on.then(|| batch.end_cursor.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gcloud_sdk::google::datastore::v1::EntityResult;

    fn batch(count: usize, more: MoreResultsType) -> QueryResultBatch {
        QueryResultBatch {
            entity_results: vec![EntityResult::default(); count],
            end_cursor: b"cursor".to_vec(),
            more_results: more as i32,
            ..QueryResultBatch::default()
        }
    }

    #[test]
    fn paging_follows_both_emulators_stop_rules() {
        use MoreResultsType::*;
        // Legacy emulator: 300 per batch, NOT_FINISHED until the end.
        assert!(next_page(&batch(300, NotFinished), None).is_some());
        // Firestore emulator and production: NO_MORE_RESULTS at the end, whatever the size.
        assert!(next_page(&batch(50, NoMoreResults), None).is_none());
        assert!(next_page(&batch(500, NoMoreResults), Some(500)).is_none());
        // Legacy emulator with a limit: MORE_RESULTS_AFTER_LIMIT on every full page...
        assert!(next_page(&batch(500, MoreResultsAfterLimit), Some(500)).is_some());
        // ...and on the last, smaller one.
        assert!(next_page(&batch(20, MoreResultsAfterLimit), Some(500)).is_none());
        assert!(next_page(&batch(0, NotFinished), None).is_none());
        assert!(next_page(&batch(10, MoreResultsAfterCursor), None).is_none());
    }

    #[test]
    fn statuses_map_to_what_the_caller_does() {
        assert_eq!(
            DatastoreError::from(Status::already_exists("dup")),
            DatastoreError::AlreadyExists
        );
        assert_eq!(
            DatastoreError::from(Status::invalid_argument("too long")),
            DatastoreError::Rejected("Datastore refused the entity.".into()),
            "Datastore's own words go to the log, not to the client"
        );
        assert!(matches!(
            DatastoreError::from(Status::unavailable("down")),
            DatastoreError::Unavailable(_)
        ));
        assert!(matches!(
            ApiError::from(DatastoreError::Rejected("x".into())),
            ApiError::BadRequest(_)
        ));
        assert!(matches!(
            ApiError::from(DatastoreError::Unavailable("x".into())),
            ApiError::Unavailable(_)
        ));
    }

    #[test]
    fn settings_follow_the_official_clients() {
        let read = |vars: &'static [(&'static str, &'static str)]| {
            DatastoreSettings::read(&Env::from_fn(|name| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }))
        };
        let defaults = read(&[]).expect("valid");
        assert_eq!(defaults.emulator_host, None);
        assert_eq!(defaults.project_id, None);
        assert_eq!(defaults.database_id, "");
        assert_eq!(defaults.namespace, "");
        assert_eq!(defaults.deadline, Duration::from_secs(5));
        let set = read(&[
            ("DATASTORE_EMULATOR_HOST", "127.0.0.1:8081"),
            ("GOOGLE_CLOUD_PROJECT", "general"),
            ("DATASTORE_PROJECT_ID", "specific"),
            ("DATASTORE_DATABASE_ID", "(default)"),
            ("DATASTORE_NAMESPACE", "tests"),
            ("DATASTORE_TIMEOUT_MS", "250"),
        ])
        .expect("valid");
        assert_eq!(set.emulator_host.as_deref(), Some("127.0.0.1:8081"));
        assert_eq!(set.project_id.as_deref(), Some("specific"));
        assert_eq!(set.database_id, "");
        assert_eq!(set.namespace, "tests");
        assert_eq!(set.deadline, Duration::from_millis(250));
        assert_eq!(
            read(&[("DATASTORE_TIMEOUT_MS", "0")]).map_err(|e| e.variable),
            Err("DATASTORE_TIMEOUT_MS")
        );
        assert_eq!(
            read(&[("DATASTORE_TIMEOUT_MS", "soon")]).map_err(|e| e.variable),
            Err("DATASTORE_TIMEOUT_MS")
        );
    }

    #[test]
    fn routing_header_names_project_and_named_database() {
        let default = routing_headers("p", "").expect("valid");
        assert_eq!(default["x-goog-request-params"], "project_id=p");
        let named = routing_headers("p", "logs").expect("valid");
        assert_eq!(
            named["x-goog-request-params"],
            "project_id=p&database_id=logs"
        );
    }
}
