use actix_web::{HttpResponse, web};
use common::datastore::Datastore;
use common::{ApiError, JsonObject};

use super::store_and_answer;
use crate::envelope;

/// `POST /api/v1/pubsub`: a Pub/Sub push delivery. 200 acknowledges it (stored, stored before, or
/// not an upload); 400 for a message that can never succeed (logged as an ERROR with its id; Pub/Sub
/// retries it and then dead-letters it); 503 while Datastore is unavailable, so Pub/Sub retries.
pub async fn pubsub(
    body: JsonObject,
    datastore: web::Data<Datastore>,
) -> Result<HttpResponse, ApiError> {
    store_and_answer(&datastore, envelope::parse(&body.0), |id, reason| {
        log::error!(messageId = id; "undeliverable push message {id}: {reason}");
    })
    .await
}
