//! One token checked for one route: signature (RS256, one of Google's keys), issuer, the route's
//! audiences, expiry, and the caller's verified service-account e-mail among the route's.

use std::collections::HashMap;
use std::sync::Arc;

use common::ApiError;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use super::keys::KeyCache;
use super::settings::PushAuthSettings;
use super::{VerifiedRoute, unauthorized};

/// The issuers of Google-signed ID tokens.
const ISSUERS: [&str; 2] = ["https://accounts.google.com", "accounts.google.com"];

/// The verifier, shared by the workers.
pub struct PushAuth {
    routes: HashMap<VerifiedRoute, RouteCheck>,
    keys: Arc<KeyCache>,
}

struct RouteCheck {
    service_accounts: Vec<String>,
    validation: Validation,
}

#[derive(Deserialize)]
struct Claims {
    email: Option<String>,
    #[serde(default)]
    email_verified: bool,
}

impl PushAuth {
    pub fn new(settings: PushAuthSettings) -> Result<Self, reqwest::Error> {
        let routes = settings
            .routes
            .into_iter()
            .map(|policy| {
                let mut validation = Validation::new(Algorithm::RS256);
                validation.set_audience(&policy.audiences);
                validation.set_issuer(&ISSUERS);
                validation.set_required_spec_claims(&["exp", "iss", "aud"]);
                let check = RouteCheck {
                    service_accounts: policy.service_accounts,
                    validation,
                };
                (policy.route, check)
            })
            .collect();
        Ok(Self {
            routes,
            keys: Arc::new(KeyCache::new(
                settings.jwks_url,
                settings.min_refresh_interval,
            )?),
        })
    }

    /// Verifies the caller of `route`: 401 without a valid token, 403 for a caller not among the
    /// route's (none listed: nobody), 503 while Google's keys cannot be had (the sender retries).
    pub async fn verify(
        &self,
        route: VerifiedRoute,
        authorization: Option<&str>,
    ) -> Result<(), ApiError> {
        let Some(check) = self.routes.get(&route) else {
            // Settings make a policy for every route; a route without one is closed, not open.
            return Err(ApiError::Internal(format!(
                "no verification policy for {}",
                route.path()
            )));
        };
        if check.service_accounts.is_empty() {
            return Err(ApiError::Forbidden(format!(
                "nobody may call {} ({} is not set).",
                route.path(),
                route.accounts_variable()
            )));
        }
        let token = authorization
            .and_then(|value| value.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|token| !token.is_empty())
            .ok_or_else(|| unauthorized("an Authorization: Bearer token is required."))?;
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| unauthorized(&format!("the token is not a JWT: {e}.")))?;
        if header.alg != Algorithm::RS256 {
            return Err(unauthorized("the token is not signed with RS256."));
        }
        let kid = header
            .kid
            .ok_or_else(|| unauthorized("the token names no signing key (kid)."))?;
        let key = self.keys.key(&kid).await?;
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &check.validation)
            .map_err(|e| unauthorized(&format!("the token is not valid: {e}.")))?
            .claims;
        match claims.email {
            Some(email) if claims.email_verified && check.service_accounts.contains(&email) => {
                Ok(())
            }
            Some(email) => Err(ApiError::Forbidden(format!(
                "{} may not call {}.",
                common::telemetry::loggable(&email),
                route.path()
            ))),
            None => Err(ApiError::Forbidden(
                "the token has no verified service-account e-mail.".into(),
            )),
        }
    }
}
