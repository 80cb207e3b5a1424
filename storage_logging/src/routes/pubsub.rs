use actix_web::{HttpResponse, web};
use common::datastore::Datastore;
use common::{ApiError, JsonObject};

use super::stored_answer;
use crate::envelope;
use crate::notification::{self, Rejection};

/// `POST /api/v1/pubsub`: a Pub/Sub push delivery. 200 acknowledges it (stored, stored before, or
/// not an upload); 400 for a message that can never succeed (logged as an ERROR with its id; Pub/Sub
/// retries it and then dead-letters it); 503 while Datastore is unavailable, so Pub/Sub retries.
pub async fn pubsub(
    body: JsonObject,
    datastore: web::Data<Datastore>,
) -> Result<HttpResponse, ApiError> {
    let notification = envelope::parse(&body.0).map_err(undeliverable)?;
    let stored = notification::store(&datastore, notification).await?;
    Ok(stored_answer(stored))
}

/// Logs the message's id (to find its dead-lettered copy) and answers 400.
fn undeliverable(rejection: Rejection) -> ApiError {
    let id = common::telemetry::loggable(rejection.id.as_deref().unwrap_or("(none)"));
    log::error!(messageId = id.as_str(); "undeliverable push message {id}: {}", rejection.reason);
    ApiError::BadRequest(rejection.reason)
}
