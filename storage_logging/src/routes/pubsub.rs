use actix_web::{HttpResponse, web};
use common::datastore::Datastore;
use common::{ApiError, JsonObject};

use crate::envelope::Delivery;
use crate::routes::store_event;
use crate::storage_log;

/// `POST /api/v1/pubsub`: a Pub/Sub push delivery. 200 acknowledges it (stored, stored before, or
/// not an upload); 400 for a message that can never succeed (logged as an ERROR with its id, so
/// the dead-letter topic gets it); 503 while Datastore is unavailable, so Pub/Sub retries.
pub async fn pubsub(
    body: JsonObject,
    datastore: web::Data<Datastore>,
) -> Result<HttpResponse, ApiError> {
    let delivery = Delivery::parse(&body.0).map_err(|undeliverable| {
        let id = common::telemetry::loggable(undeliverable.message_id.as_deref().unwrap_or("(none)"));
        log::error!(messageId = id.as_str(); "undeliverable push message {id}: {}", undeliverable.reason);
        ApiError::BadRequest(undeliverable.reason)
    })?;
    let key = delivery.message_id.as_deref().map(storage_log::pubsub_key);
    store_event(&datastore, key.as_deref(), delivery.event).await
}
