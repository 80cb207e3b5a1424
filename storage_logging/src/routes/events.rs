use actix_web::{HttpRequest, HttpResponse, web};
use common::datastore::Datastore;
use common::{ApiError, LimitedBody};

use crate::{cloud_event, notification};

/// `POST /api/v1/events`: a CloudEvent from an Eventarc trigger, binary or structured. The same
/// answers as `/api/v1/pubsub`: 200 acknowledges (stored, stored before, or another event type),
/// 400 for an event that can never be stored, 503 while Datastore is unavailable (Eventarc
/// retries).
pub async fn events(
    request: HttpRequest,
    body: LimitedBody,
    datastore: web::Data<Datastore>,
) -> Result<HttpResponse, ApiError> {
    let notification =
        cloud_event::parse(request.headers(), &body.0).map_err(notification::reject)?;
    notification::store(&datastore, notification).await
}
