//! Verification of the Google-signed OIDC token that Pub/Sub push, Eventarc and Cloud Scheduler
//! send as `Authorization: Bearer` (off unless `PUSH_AUTH_SERVICE_ACCOUNTS` is set).
//!
//! Behind Cloud Run's IAM check (`--no-allow-unauthenticated`, the hands-on's setting) Cloud Run has
//! already verified the token and removed its signature, so this stays off there. It is for a
//! service that leaves that front door (`--allow-unauthenticated`, a load balancer, another
//! platform): the RS256 signature against Google's published keys, the issuer, the audience, the
//! expiry, and the caller's verified service-account e-mail.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use common::ApiError;
use common::configuration::{ConfigError, Env};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::RwLock;

/// Where Google publishes the keys that sign its ID tokens.
pub const GOOGLE_JWKS_URL: &str = "https://www.googleapis.com/oauth2/v3/certs";
/// The issuers of Google-signed ID tokens.
const ISSUERS: [&str; 2] = ["https://accounts.google.com", "accounts.google.com"];
/// Keys are kept this long when the key server says nothing (it says about 6 h).
const DEFAULT_KEYS_MAX_AGE: Duration = Duration::from_secs(3600);
/// An unknown key id fetches the keys again (Google rotates them), at most this often.
const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushAuthSettings {
    /// `PUSH_AUTH_SERVICE_ACCOUNTS`: the callers' e-mails, separated by spaces or commas (spaces
    /// suit `gcloud run deploy --set-env-vars`, which splits on commas), e.g. the push
    /// subscription's and the scheduler job's `cloud-run-invoker@...`, the trigger's account).
    pub service_accounts: Vec<String>,
    /// `PUSH_AUTH_AUDIENCES`: accepted `aud` values, separated likewise (a push subscription's default
    /// audience is its endpoint URL; the scheduler job's is the one the script sets).
    pub audiences: Vec<String>,
    /// `PUSH_AUTH_JWKS_URL`: the signing keys ([`GOOGLE_JWKS_URL`]).
    pub jwks_url: String,
}

impl PushAuthSettings {
    /// `None` (verification off) unless `PUSH_AUTH_SERVICE_ACCOUNTS` is set.
    pub fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Option<Self>, ConfigError> {
        let list = |name: &str| -> Vec<String> {
            env.text(name)
                .unwrap_or_default()
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|item| !item.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let service_accounts = list("PUSH_AUTH_SERVICE_ACCOUNTS");
        if service_accounts.is_empty() {
            return Ok(None);
        }
        let audiences = list("PUSH_AUTH_AUDIENCES");
        if audiences.is_empty() {
            return Err(ConfigError {
                variable: "PUSH_AUTH_AUDIENCES",
                value: String::new(),
                reason: "required when PUSH_AUTH_SERVICE_ACCOUNTS is set".into(),
            });
        }
        Ok(Some(Self {
            service_accounts,
            audiences,
            jwks_url: env
                .text("PUSH_AUTH_JWKS_URL")
                .unwrap_or_else(|| GOOGLE_JWKS_URL.to_owned()),
        }))
    }
}

/// The verifier, shared by the workers, with Google's keys cached.
pub struct PushAuth {
    settings: PushAuthSettings,
    validation: Validation,
    client: reqwest::Client,
    keys: RwLock<CachedKeys>,
}

struct CachedKeys {
    set: JwkSet,
    fetched: Option<Instant>,
    max_age: Duration,
}

#[derive(Deserialize)]
struct Claims {
    email: Option<String>,
    #[serde(default)]
    email_verified: bool,
}

impl PushAuth {
    pub fn new(settings: PushAuthSettings) -> Self {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&settings.audiences);
        validation.set_issuer(&ISSUERS);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        Self {
            settings,
            validation,
            client: reqwest::Client::new(),
            keys: RwLock::new(CachedKeys {
                set: JwkSet { keys: Vec::new() },
                fetched: None,
                max_age: DEFAULT_KEYS_MAX_AGE,
            }),
        }
    }

    /// Verifies the request's Bearer token: 401 without a valid one, 403 for a caller not in
    /// the list, 503 when Google's keys cannot be fetched (the sender retries).
    pub async fn verify(&self, authorization: Option<&str>) -> Result<(), ApiError> {
        let token = authorization
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or_else(|| unauthorized("an Authorization: Bearer token is required."))?;
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| unauthorized(&format!("the token is not a JWT: {e}.")))?;
        let kid = header
            .kid
            .ok_or_else(|| unauthorized("the token names no signing key (kid)."))?;
        let key = self.key(&kid).await?;
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &self.validation)
            .map_err(|e| unauthorized(&format!("the token is not valid: {e}.")))?
            .claims;
        match claims.email {
            Some(email)
                if claims.email_verified && self.settings.service_accounts.contains(&email) =>
            {
                Ok(())
            }
            Some(email) => Err(ApiError::Forbidden(format!(
                "{email} may not call this service."
            ))),
            None => Err(ApiError::Forbidden(
                "the token has no verified service-account e-mail.".into(),
            )),
        }
    }

    /// The key `kid`, from the cache, or fetched when the cache is stale or does not know it.
    async fn key(&self, kid: &str) -> Result<DecodingKey, ApiError> {
        {
            let cached = self.keys.read().await;
            let fresh = cached
                .fetched
                .is_some_and(|at| at.elapsed() < cached.max_age);
            if let (true, Some(jwk)) = (fresh, cached.set.find(kid)) {
                return decoding_key(jwk);
            }
        }
        let mut cached = self.keys.write().await;
        // Another request may have fetched them while this one waited for the lock; an unknown
        // key id fetches again (Google rotates its keys), but not more often than every 30 s.
        let fresh = cached
            .fetched
            .is_some_and(|at| at.elapsed() < cached.max_age);
        let recent = cached
            .fetched
            .is_some_and(|at| at.elapsed() < MIN_REFRESH_INTERVAL);
        if !fresh || (cached.set.find(kid).is_none() && !recent) {
            *cached = self.fetch_keys().await?;
        }
        match cached.set.find(kid) {
            Some(jwk) => decoding_key(jwk),
            None => Err(unauthorized(&format!(
                "the token's key {kid} is not one of Google's."
            ))),
        }
    }

    async fn fetch_keys(&self) -> Result<CachedKeys, ApiError> {
        let unavailable = |e: reqwest::Error| {
            ApiError::Unavailable(format!(
                "cannot fetch the token keys from {}: {e}",
                self.settings.jwks_url
            ))
        };
        let response = self
            .client
            .get(&self.settings.jwks_url)
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(unavailable)?;
        let max_age = response
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(cache_max_age)
            .unwrap_or(DEFAULT_KEYS_MAX_AGE)
            .max(MIN_REFRESH_INTERVAL);
        let set: JwkSet = response.json().await.map_err(unavailable)?;
        log::info!(
            "fetched {} token keys from {}",
            set.keys.len(),
            self.settings.jwks_url
        );
        Ok(CachedKeys {
            set,
            fetched: Some(Instant::now()),
            max_age,
        })
    }
}

fn decoding_key(jwk: &jsonwebtoken::jwk::Jwk) -> Result<DecodingKey, ApiError> {
    DecodingKey::from_jwk(jwk)
        .map_err(|e| ApiError::Unavailable(format!("unusable token key: {e}")))
}

fn unauthorized(reason: &str) -> ApiError {
    ApiError::Unauthorized(reason.to_owned())
}

/// `max-age=N` of a Cache-Control value.
fn cache_max_age(value: &str) -> Option<Duration> {
    value
        .split(',')
        .filter_map(|directive| directive.trim().strip_prefix("max-age="))
        .find_map(|seconds| seconds.parse().ok())
        .map(Duration::from_secs)
}

/// Extractor: the request's caller is verified (always, when verification is off).
pub struct VerifiedCaller;

impl FromRequest for VerifiedCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let auth = req.app_data::<web::Data<PushAuth>>().cloned();
        let authorization = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Box::pin(async move {
            match auth {
                Some(auth) => auth
                    .verify(authorization.as_deref())
                    .await
                    .map(|()| VerifiedCaller),
                None => Ok(VerifiedCaller),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<Option<PushAuthSettings>, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        PushAuthSettings::read(&Env::from_fn(move |name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        }))
    }

    #[test]
    fn off_unless_service_accounts_are_set() {
        assert_eq!(read(&[]), Ok(None));
        assert_eq!(read(&[("PUSH_AUTH_AUDIENCES", "https://x")]), Ok(None));
    }

    #[test]
    fn on_with_lists_and_google_keys_by_default() {
        let settings = read(&[
            (
                "PUSH_AUTH_SERVICE_ACCOUNTS",
                "a@p.iam.gserviceaccount.com, b@p.iam.gserviceaccount.com",
            ),
            (
                "PUSH_AUTH_AUDIENCES",
                "https://svc.run.app/api/v1/pubsub,https://svc.run.app",
            ),
        ]);
        assert_eq!(
            settings,
            Ok(Some(PushAuthSettings {
                service_accounts: vec![
                    "a@p.iam.gserviceaccount.com".into(),
                    "b@p.iam.gserviceaccount.com".into()
                ],
                audiences: vec![
                    "https://svc.run.app/api/v1/pubsub".into(),
                    "https://svc.run.app".into()
                ],
                jwks_url: GOOGLE_JWKS_URL.into(),
            }))
        );
    }

    #[test]
    fn audiences_are_required_when_on() {
        let error = read(&[("PUSH_AUTH_SERVICE_ACCOUNTS", "a@p.iam.gserviceaccount.com")]);
        assert!(error.is_err());
    }

    #[test]
    fn max_age_is_read_from_cache_control() {
        assert_eq!(
            cache_max_age("public, max-age=19790, must-revalidate, no-transform"),
            Some(Duration::from_secs(19790))
        );
        assert_eq!(cache_max_age("no-store"), None);
    }
}
