mod events;
mod pubsub;
mod purge;

use actix_web::dev::HttpServiceFactory;
use actix_web::middleware::from_fn;
use actix_web::{HttpResponse, Resource, web};
use common::ApiError;
use common::body::{BodyLimit, JsonValueLimit};
use common::datastore::Datastore;
use common::routes::{Endpoint, Routes};

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

/// The service's endpoints, added to the app or to a test's list.
pub fn endpoints(routes: &mut impl Routes) {
    routes.add(common::routes::root(ROOT_TEXT));
    let pubsub = common::routes::post(VerifiedRoute::Pubsub.path(), pubsub);
    routes.add(verified(notification_limits(pubsub), VerifiedRoute::Pubsub));
    let events = common::routes::post(VerifiedRoute::Events.path(), events);
    routes.add(verified(notification_limits(events), VerifiedRoute::Events));
    let purge = common::routes::get(VerifiedRoute::Purge.path(), purge);
    routes.add(verified(purge, VerifiedRoute::Purge));
}

/// A notification's limits on its body: smaller than a service's (see [`notification`]).
fn notification_limits(endpoint: Endpoint<Resource>) -> Endpoint<Resource> {
    endpoint.map(|resource| {
        resource
            .app_data(BodyLimit(notification::MAX_BODY_BYTES))
            .app_data(JsonValueLimit(notification::MAX_JSON_VALUES))
    })
}

/// The endpoint with its caller verified (when verification is on) by `route`'s rule, before the
/// handler reads the body.
fn verified(
    endpoint: Endpoint<Resource>,
    route: VerifiedRoute,
) -> Endpoint<impl HttpServiceFactory + 'static> {
    endpoint
        .map(|resource| resource.wrap(from_fn(move |req, next| verify_caller(route, req, next))))
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
