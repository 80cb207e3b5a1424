use actix_web::{HttpRequest, HttpResponse, web};
use common::datastore::Datastore;
use common::{ApiError, LimitedBody};

use super::stored_answer;
use crate::cloud_event;
use crate::notification::{self, Rejection};

/// `POST /api/v1/events`: a CloudEvent from an Eventarc trigger, binary or structured. The same
/// answers as `/api/v1/pubsub`: 200 acknowledges (stored, stored before, or another event type),
/// 400 for an event that can never be stored, 503 while Datastore is unavailable (Eventarc
/// retries).
pub async fn events(
    request: HttpRequest,
    body: LimitedBody,
    datastore: web::Data<Datastore>,
) -> Result<HttpResponse, ApiError> {
    let notification = cloud_event::parse(request.headers(), &body.0).map_err(malformed)?;
    let stored = notification::store(&datastore, notification).await?;
    Ok(stored_answer(stored))
}

/// Logs the event's id and answers 400.
fn malformed(rejection: Rejection) -> ApiError {
    let id = common::telemetry::loggable(rejection.id.as_deref().unwrap_or("(none)"));
    log::error!(eventId = id.as_str(); "malformed CloudEvent {id}: {}", rejection.reason);
    ApiError::BadRequest(rejection.reason)
}
