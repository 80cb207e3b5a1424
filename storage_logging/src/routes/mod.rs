mod events;
mod pubsub;
mod purge;

use actix_web::middleware::from_fn;
use actix_web::{HttpResponse, web};
use common::ApiError;
use common::body::{BodyLimit, JsonValueLimit};
use common::datastore::Datastore;
use common::routes::Routes;

use crate::notification::{self, Notification, Rejection, Stored};
use crate::push_auth::{PushAuth, VerifiedRoute, verify_caller};
use crate::settings::PurgeSettings;

pub use events::events;
pub use pubsub::pubsub;
pub use purge::{PurgeGate, purge};

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
        .app_data(purge_gate);
    endpoints(cfg);
}

/// The service's endpoints, added to the app or to a test's list. The caller is verified (when
/// verification is on) before the handler reads the body, by the rule of the route named here.
pub fn endpoints(routes: &mut impl Routes) {
    routes.add(common::routes::root(ROOT_TEXT));
    routes.add(
        common::routes::post(VerifiedRoute::Pubsub.path(), pubsub).map(|resource| {
            resource
                .app_data(BodyLimit(notification::MAX_BODY_BYTES))
                .app_data(JsonValueLimit(notification::MAX_JSON_VALUES))
                .wrap(from_fn(|req, next| {
                    verify_caller(VerifiedRoute::Pubsub, req, next)
                }))
        }),
    );
    routes.add(
        common::routes::post(VerifiedRoute::Events.path(), events).map(|resource| {
            resource
                .app_data(BodyLimit(notification::MAX_BODY_BYTES))
                .app_data(JsonValueLimit(notification::MAX_JSON_VALUES))
                .wrap(from_fn(|req, next| {
                    verify_caller(VerifiedRoute::Events, req, next)
                }))
        }),
    );
    routes.add(
        common::routes::get(VerifiedRoute::Purge.path(), purge).map(|resource| {
            resource.wrap(from_fn(|req, next| {
                verify_caller(VerifiedRoute::Purge, req, next)
            }))
        }),
    );
}

/// Both routes' answer to a notification: stored (or stored before), what was stored; any other
/// event, an acknowledgement; one that can never be stored, 400, logged by `log_rejection` (with
/// its id, so that its dead-lettered copy can be found).
async fn store_and_answer(
    datastore: &Datastore,
    parsed: Result<Notification, Rejection>,
    log_rejection: fn(id: &str, reason: &str),
) -> Result<HttpResponse, ApiError> {
    let notification = parsed.map_err(|rejection| {
        let id = common::telemetry::loggable(rejection.id.as_deref().unwrap_or("(none)"));
        log_rejection(&id, &rejection.reason);
        ApiError::BadRequest(rejection.reason)
    })?;
    let id = common::telemetry::loggable(notification.origin.id());
    let stored = notification::store(datastore, notification)
        .await
        .map_err(|error| {
            // Metadata Datastore cannot hold is as undeliverable as a malformed envelope.
            let answer = ApiError::from(error);
            if let ApiError::BadRequest(reason)
            | ApiError::Refused {
                message: reason, ..
            } = &answer
            {
                log_rejection(&id, reason);
            }
            answer
        })?;
    Ok(match stored {
        Stored::NotAnUpload { event_type } => {
            log::debug!("ignored {} event", common::telemetry::loggable(&event_type));
            HttpResponse::Ok()
                .json(serde_json::json!({"message": "This is not a file upload event."}))
        }
        Stored::Upload(stored) => HttpResponse::Ok().json(stored),
    })
}
