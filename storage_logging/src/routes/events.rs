use actix_web::{HttpRequest, HttpResponse, web};
use common::datastore::Datastore;
use common::{ApiError, LimitedBody};

use super::store_and_answer;
use crate::cloud_event;

/// `POST /api/v1/events`: a CloudEvent from an Eventarc trigger, binary or structured. The same
/// answers as `/api/v1/pubsub`: 200 acknowledges (stored, stored before, or another event type),
/// 400 for an event that can never be stored (logged as an ERROR with its id), 503 while
/// Datastore is unavailable (Eventarc retries).
pub async fn events(
    request: HttpRequest,
    body: LimitedBody,
    datastore: web::Data<Datastore>,
) -> Result<HttpResponse, ApiError> {
    let parsed = cloud_event::parse(request.headers(), &body.0);
    store_and_answer(&datastore, parsed, |id, reason| {
        log::error!(eventId = id; "malformed CloudEvent {id}: {reason}");
    })
    .await
}
