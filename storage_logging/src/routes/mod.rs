mod events;
mod pubsub;
mod purge;

use actix_web::middleware::from_fn;
use actix_web::{HttpResponse, web};
use common::ApiError;
use common::datastore::Datastore;
use common::json_body::{BodyLimit, JsonValueLimit};
use serde_json::json;

use crate::envelope::Event;
use crate::push_auth::{PushAuth, verify_caller};
use crate::settings::PurgeSettings;
use crate::storage_log;

pub use events::events;
pub use pubsub::pubsub;
pub use purge::{PurgeGate, purge};

/// The largest notification accepted. An object's metadata is about 1 KiB plus its custom
/// metadata (at most 8 KiB in Cloud Storage), a push envelope adds base64 (a third more) and the
/// attributes: 64 KiB leaves room and keeps 80 requests at once small.
pub const NOTIFICATION_BODY_LIMIT: BodyLimit = BodyLimit(64 * 1024);
/// The most JSON values a notification (the push envelope, its data, a CloudEvent) may hold: a
/// real one has a few dozen, a few hundred with custom metadata. Each stored value is a Datastore
/// value of about 100 bytes: 80 requests at the limit stay a few MiB.
pub const NOTIFICATION_JSON_VALUES: JsonValueLimit = JsonValueLimit(1_000);

/// The original's text, trailing space included.
pub const ROOT_TEXT: &str = "Storage logging service. ";

pub fn configure(
    cfg: &mut web::ServiceConfig,
    datastore: Datastore,
    purge_settings: PurgeSettings,
    push_auth: Option<web::Data<PushAuth>>,
    purge_gate: web::Data<PurgeGate>,
) {
    if let Some(push_auth) = push_auth {
        cfg.app_data(push_auth);
    }
    cfg.app_data(web::Data::new(datastore))
        .app_data(web::Data::new(purge_settings))
        .app_data(purge_gate)
        .service(common::routes::root(ROOT_TEXT))
        // The caller is verified (when verification is on) before the handler reads the body.
        .service(
            common::routes::post("/api/v1/pubsub", pubsub)
                .app_data(NOTIFICATION_BODY_LIMIT)
                .app_data(NOTIFICATION_JSON_VALUES)
                .wrap(from_fn(verify_caller)),
        )
        .service(
            common::routes::post("/api/v1/events", events)
                .app_data(NOTIFICATION_BODY_LIMIT)
                .app_data(NOTIFICATION_JSON_VALUES)
                .wrap(from_fn(verify_caller)),
        )
        .service(common::routes::get("/api/v1/purge", purge).wrap(from_fn(verify_caller)));
}

/// The answer to a notification, however it came: an upload is stored once under `key` and
/// answered with what was stored; any other event is acknowledged.
async fn store_event(
    datastore: &Datastore,
    key: Option<&str>,
    event: Event,
) -> Result<HttpResponse, ApiError> {
    match event {
        Event::Ignored { event_type } => {
            log::debug!("ignored {event_type} event");
            Ok(HttpResponse::Ok().json(json!({"message": "This is not a file upload event."})))
        }
        Event::Upload(object) => {
            let stored = storage_log::record(datastore, key, object).await?;
            Ok(HttpResponse::Ok().json(stored))
        }
    }
}
