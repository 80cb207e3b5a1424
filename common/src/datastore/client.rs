//! The client: one lazily made connection per runtime, every call within the deadline, the routing
//! header production needs.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use gcloud_sdk::google::datastore::v1::commit_request::Mode;
use gcloud_sdk::google::datastore::v1::datastore_client::DatastoreClient;
use gcloud_sdk::google::datastore::v1::key::PathElement;
use gcloud_sdk::google::datastore::v1::key::path_element::IdType;
use gcloud_sdk::google::datastore::v1::mutation::Operation;
use gcloud_sdk::google::datastore::v1::run_query_request::QueryType;
use gcloud_sdk::google::datastore::v1::{
    CommitRequest, Entity, Key, LookupRequest, Mutation, MutationResult, PartitionId, Query,
    QueryResultBatch, RunQueryRequest,
};
use gcloud_sdk::google_cloud_auth::credentials::anonymous;
use gcloud_sdk::tonic::{Code, Status};
use gcloud_sdk::{GoogleApi, GoogleAuthMiddleware, GoogleEnvironment, HeaderMap};
use tokio::runtime::Handle;
use tokio::sync::OnceCell;

use super::value::{self, Properties};
use super::{CONCURRENT_COMMITS, DatastoreError, DatastoreSettings, MAX_MUTATIONS_PER_COMMIT};

const PRODUCTION_ENDPOINT: &str = "https://datastore.googleapis.com";

type Client = GoogleApi<DatastoreClient<GoogleAuthMiddleware>>;

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
            // Datastore refusing this call refuses the entity: the client's input.
            let response = self
                .commit_in(connection, vec![mutation])
                .await
                .map_err(|error| match error {
                    DatastoreError::Invalid { datastore_says } => {
                        DatastoreError::Refused { datastore_says }
                    }
                    other => other,
                })?;
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
            let response = read_again_if_cut(|| {
                let (mut client, request) = (connection.client.get(), request.clone());
                async move { client.lookup(request).await }
            })
            .await?
            .into_inner();
            Ok(response
                .found
                .into_iter()
                .next()
                .and_then(|found| found.entity))
        })
        .await
    }

    /// One batch of the query, as Datastore answers it ([`Pages`](super::Pages) goes on), refused
    /// unread (`AnswerTooLarge`) past `max_answer_bytes`.
    pub(super) async fn run_query(
        &self,
        query: Query,
        max_answer_bytes: usize,
    ) -> Result<QueryResultBatch, DatastoreError> {
        self.within_deadline(async {
            let connection = self.connection().await?;
            let request = RunQueryRequest {
                project_id: connection.project_id.clone(),
                database_id: self.inner.settings.database_id.clone(),
                partition_id: Some(self.partition(connection)),
                query_type: Some(QueryType::Query(query)),
                ..RunQueryRequest::default()
            };
            let response = read_again_if_cut(|| {
                let client = connection.client.get();
                let mut client = client.max_decoding_message_size(max_answer_bytes);
                let request = request.clone();
                async move { client.run_query(request).await }
            })
            .await?;
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
    ) -> Result<Vec<MutationResult>, DatastoreError> {
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
    pub(super) async fn within_deadline<T>(
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

/// Attempts of a read whose connection failed under it.
const READ_ATTEMPTS: u32 = 3;
const READ_RETRY_PAUSE: Duration = Duration::from_millis(20);

/// `read`, made again (up to [`READ_ATTEMPTS`] in all, within the caller's deadline) when it
/// failed with its connection or Datastore said it was unavailable: a read changes nothing, and
/// the official clients retry reads on UNAVAILABLE too. Seen on the Firestore emulator: a client
/// that resets a stream whose answer is still being written (an answer over the decoding limit)
/// can make the emulator drop the whole HTTP/2 connection ("byte distribution write error"), and
/// every call then on it fails ("transport error", or "h2 protocol error" mid-answer).
async fn read_again_if_cut<T, F, R>(mut read: R) -> Result<T, Status>
where
    R: FnMut() -> F,
    F: Future<Output = Result<T, Status>>,
{
    let mut attempt = 1;
    loop {
        match read().await {
            Err(status) if attempt < READ_ATTEMPTS && connection_failed(&status) => {
                log::info!("Datastore read made again: {}", status.message());
                attempt += 1;
                tokio::time::sleep(READ_RETRY_PAUSE).await;
            }
            result => return result,
        }
    }
}

/// A status that says the call's connection failed or Datastore was unavailable, not the call:
/// tonic gives a failed connection, HTTP/2's or TCP's, as `Unknown`.
fn connection_failed(status: &Status) -> bool {
    matches!(status.code(), Code::Unavailable | Code::Unknown)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_are_made_again_only_when_their_connection_failed() {
        let attempts = std::cell::Cell::new(0);
        let failing = |status: Status| {
            let attempts = &attempts;
            move || {
                attempts.set(attempts.get() + 1);
                std::future::ready(Err::<(), _>(status.clone()))
            }
        };
        for status in [
            Status::unknown("transport error"),
            Status::unknown("h2 protocol error: error reading a body from connection"),
            Status::unavailable("down"),
        ] {
            assert!(read_again_if_cut(failing(status)).await.is_err());
            assert_eq!(attempts.replace(0), READ_ATTEMPTS);
        }
        for status in [
            Status::invalid_argument("bad query"),
            Status::out_of_range("decoded message length too large"),
            Status::deadline_exceeded("slow"),
        ] {
            assert!(read_again_if_cut(failing(status)).await.is_err());
            assert_eq!(attempts.replace(0), 1);
        }
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
