//! Verification of the Google-signed OIDC token that Pub/Sub push, Eventarc and Cloud Scheduler
//! send as `Authorization: Bearer` (off unless a `PUSH_AUTH_` variable is set).
//!
//! Behind Cloud Run's IAM check (`--no-allow-unauthenticated`, the hands-on's setting) Cloud Run has
//! already verified the token and removed its signature, so this stays off there. It is for a
//! service that leaves that front door (`--allow-unauthenticated`, a load balancer, another
//! platform). Each verified route names its rule where it is wrapped ([`verify_caller`] with a
//! [`VerifiedRoute`]), and each has its own callers and audiences, so that a push token cannot
//! call the purge. It runs as a middleware, before anything reads the body: an unauthenticated
//! request is a 401 (403 on a route without callers), whatever its body.
//!
//! [`settings`] reads who may call what, [`keys`] keeps Google's keys, [`verification`] checks
//! one token.

pub mod keys;
pub mod settings;
pub mod verification;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web;
use common::ApiError;

pub use settings::{GOOGLE_JWKS_URL, PushAuthSettings, RoutePolicy};
pub use verification::PushAuth;

/// The routes whose callers are verified, each with the variables that name its callers and
/// audiences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VerifiedRoute {
    Pubsub,
    Events,
    Purge,
}

impl VerifiedRoute {
    pub const ALL: [Self; 3] = [Self::Pubsub, Self::Events, Self::Purge];

    pub fn path(self) -> &'static str {
        match self {
            Self::Pubsub => "/api/v1/pubsub",
            Self::Events => "/api/v1/events",
            Self::Purge => "/api/v1/purge",
        }
    }

    pub fn accounts_variable(self) -> &'static str {
        match self {
            Self::Pubsub => "PUSH_AUTH_PUBSUB_SERVICE_ACCOUNTS",
            Self::Events => "PUSH_AUTH_EVENTS_SERVICE_ACCOUNTS",
            Self::Purge => "PUSH_AUTH_PURGE_SERVICE_ACCOUNTS",
        }
    }

    pub fn audiences_variable(self) -> &'static str {
        match self {
            Self::Pubsub => "PUSH_AUTH_PUBSUB_AUDIENCES",
            Self::Events => "PUSH_AUTH_EVENTS_AUDIENCES",
            Self::Purge => "PUSH_AUTH_PURGE_AUDIENCES",
        }
    }
}

fn unauthorized(reason: &str) -> ApiError {
    ApiError::Unauthorized(reason.to_owned())
}

/// Middleware of the route `route` (wrap it with `from_fn(|req, next| verify_caller(ROUTE, req,
/// next))`): the caller is checked before the handler, so before anything reads the body. Passes
/// everything through when verification is off.
pub async fn verify_caller<B: MessageBody>(
    route: VerifiedRoute,
    request: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    if let Some(auth) = request.app_data::<web::Data<PushAuth>>() {
        let authorization = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        auth.verify(route, authorization).await?;
    }
    next.call(request).await
}
