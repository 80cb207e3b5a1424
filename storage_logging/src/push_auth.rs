//! Verification of the Google-signed OIDC token that Pub/Sub push, Eventarc and Cloud Scheduler
//! send as `Authorization: Bearer` (off unless `PUSH_AUTH_SERVICE_ACCOUNTS` or a route's own list
//! is set).
//!
//! Behind Cloud Run's IAM check (`--no-allow-unauthenticated`, the hands-on's setting) Cloud Run has
//! already verified the token and removed its signature, so this stays off there. It is for a
//! service that leaves that front door (`--allow-unauthenticated`, a load balancer, another
//! platform): the RS256 signature against Google's published keys, the issuer, the route's
//! audiences, the expiry, and the caller's verified service-account e-mail, which must be one of
//! the route's. It runs as a middleware, before anything reads the body: an unauthenticated
//! request is a 401, whatever its body.
//!
//! Google's key server is not trusted to behave: one fetch at a time, never under the lock that
//! verifications read; at most one attempt, failed or not, per [`MIN_REFRESH_INTERVAL`], so tokens
//! with made-up key ids cannot make it fetch; keys that expired are still used, while a refresh
//! runs in the background or fails, for up to [`MAX_STALE`]; https only (http to loopback for
//! tests), no redirects, at most [`MAX_KEY_SET_BYTES`], `max-age` capped at [`MAX_KEYS_MAX_AGE`];
//! keys parsed once per fetch.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web;
use common::ApiError;
use common::configuration::{ConfigError, Env};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

/// Where Google publishes the keys that sign its ID tokens.
pub const GOOGLE_JWKS_URL: &str = "https://www.googleapis.com/oauth2/v3/certs";
/// The issuers of Google-signed ID tokens.
const ISSUERS: [&str; 2] = ["https://accounts.google.com", "accounts.google.com"];
/// Keys are kept this long when the key server says nothing (it says about 6 h)...
const DEFAULT_KEYS_MAX_AGE: Duration = Duration::from_secs(3600);
/// ...and at most this long, whatever it says.
pub const MAX_KEYS_MAX_AGE: Duration = Duration::from_secs(24 * 3600);
/// Fetches, successful or not, start at most this often (an unknown key id asks for a new set:
/// Google rotates its keys).
pub const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(30);
/// Keys fetched longer ago than this no longer verify, whatever happens to the key server.
pub const MAX_STALE: Duration = Duration::from_secs(24 * 3600);
/// Google's key set is about 2 KiB.
pub const MAX_KEY_SET_BYTES: usize = 64 * 1024;
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// The verified routes and the variables that name their own callers and audiences.
const ROUTES: [(&str, &str, &str); 3] = [
    (
        "/api/v1/pubsub",
        "PUSH_AUTH_PUBSUB_SERVICE_ACCOUNTS",
        "PUSH_AUTH_PUBSUB_AUDIENCES",
    ),
    (
        "/api/v1/events",
        "PUSH_AUTH_EVENTS_SERVICE_ACCOUNTS",
        "PUSH_AUTH_EVENTS_AUDIENCES",
    ),
    (
        "/api/v1/purge",
        "PUSH_AUTH_PURGE_SERVICE_ACCOUNTS",
        "PUSH_AUTH_PURGE_AUDIENCES",
    ),
];

/// Who may call one route, and with which audiences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePolicy {
    pub path: String,
    pub service_accounts: Vec<String>,
    pub audiences: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushAuthSettings {
    /// One per verified route: `PUSH_AUTH_SERVICE_ACCOUNTS` and `PUSH_AUTH_AUDIENCES` (e-mails and
    /// `aud` values, separated by spaces or commas: spaces suit `gcloud run deploy
    /// --set-env-vars`, which splits on commas) for every route, unless the route's own
    /// `PUSH_AUTH_{PUBSUB,EVENTS,PURGE}_{SERVICE_ACCOUNTS,AUDIENCES}` says otherwise (the push
    /// subscription's account for the pushes, the scheduler's for the purge).
    pub routes: Vec<RoutePolicy>,
    /// `PUSH_AUTH_JWKS_URL`: the signing keys ([`GOOGLE_JWKS_URL`]); https, or http to loopback.
    pub jwks_url: String,
    /// [`MIN_REFRESH_INTERVAL`]; shorter in tests only.
    pub min_refresh_interval: Duration,
}

impl PushAuthSettings {
    /// The same callers and audiences on every verified route.
    pub fn for_all_routes(service_accounts: &[&str], audiences: &[&str], jwks_url: &str) -> Self {
        let owned = |items: &[&str]| items.iter().map(|item| (*item).to_owned()).collect();
        Self {
            routes: ROUTES
                .iter()
                .map(|(path, _, _)| RoutePolicy {
                    path: (*path).to_owned(),
                    service_accounts: owned(service_accounts),
                    audiences: owned(audiences),
                })
                .collect(),
            jwks_url: jwks_url.to_owned(),
            min_refresh_interval: MIN_REFRESH_INTERVAL,
        }
    }

    /// `None` (verification off) when no `PUSH_AUTH_*` variable is set. Fails closed: any of them
    /// set makes verification on for every route, which then needs its callers and audiences.
    pub fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Option<Self>, ConfigError> {
        let list = |name: &str| -> Option<Vec<String>> {
            env.text(name).map(|value| {
                value
                    .split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|item| !item.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
        };
        let mut variables = vec![
            "PUSH_AUTH_SERVICE_ACCOUNTS",
            "PUSH_AUTH_AUDIENCES",
            "PUSH_AUTH_JWKS_URL",
        ];
        variables.extend(ROUTES.iter().flat_map(|(_, a, b)| [*a, *b]));
        if variables.iter().all(|name| env.text(name).is_none()) {
            return Ok(None);
        }
        let missing = |variable: &'static str, what: &str| ConfigError {
            variable,
            value: String::new(),
            reason: format!(
                "a PUSH_AUTH_ variable is set, so tokens are verified on every route, and {what}"
            ),
        };
        let mut routes = Vec::new();
        for (path, accounts_variable, audiences_variable) in ROUTES {
            let service_accounts = list(accounts_variable)
                .or_else(|| list("PUSH_AUTH_SERVICE_ACCOUNTS"))
                .unwrap_or_default();
            if service_accounts.is_empty() {
                return Err(missing(
                    "PUSH_AUTH_SERVICE_ACCOUNTS",
                    &format!("{path} has no callers (set it, or {accounts_variable})"),
                ));
            }
            let audiences = list(audiences_variable)
                .or_else(|| list("PUSH_AUTH_AUDIENCES"))
                .unwrap_or_default();
            if audiences.is_empty() {
                return Err(missing(
                    "PUSH_AUTH_AUDIENCES",
                    &format!("{path} has no audiences (set it, or {audiences_variable})"),
                ));
            }
            routes.push(RoutePolicy {
                path: path.to_owned(),
                service_accounts,
                audiences,
            });
        }
        let jwks_url = env
            .text("PUSH_AUTH_JWKS_URL")
            .unwrap_or_else(|| GOOGLE_JWKS_URL.to_owned());
        if !is_trusted_key_url(&jwks_url) {
            return Err(ConfigError {
                variable: "PUSH_AUTH_JWKS_URL",
                value: jwks_url,
                reason: "must be an https URL (http only to a loopback address)".into(),
            });
        }
        Ok(Some(Self {
            routes,
            jwks_url,
            min_refresh_interval: MIN_REFRESH_INTERVAL,
        }))
    }

    /// The start-up log line's account of it.
    pub fn describe(settings: Option<&Self>) -> String {
        match settings {
            None => "push-token verification: off (no PUSH_AUTH_ variable; Cloud Run's IAM check \
                     guards the service)"
                .into(),
            Some(settings) => {
                let routes: Vec<String> = settings
                    .routes
                    .iter()
                    .map(|route| {
                        format!(
                            "{} (callers {}; audiences {})",
                            route.path,
                            route.service_accounts.join(" "),
                            route.audiences.join(" ")
                        )
                    })
                    .collect();
                format!(
                    "push-token verification: on for {}; keys from {}",
                    routes.join(", "),
                    settings.jwks_url
                )
            }
        }
    }
}

fn is_trusted_key_url(url: &str) -> bool {
    match reqwest::Url::parse(url) {
        Ok(url) if url.scheme() == "https" => true,
        Ok(url) if url.scheme() == "http" => url.host_str().is_some_and(|host| {
            host == "localhost"
                || host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }),
        _ => false,
    }
}

/// The verifier, shared by the workers, with Google's keys cached.
pub struct PushAuth {
    routes: HashMap<String, RouteCheck>,
    jwks_url: String,
    min_refresh_interval: Duration,
    client: reqwest::Client,
    /// What verifications read: held only to copy or swap the `Arc`, never across a fetch.
    keys: RwLock<Arc<Keys>>,
    /// Held by the one fetch under way.
    fetching: tokio::sync::Mutex<()>,
}

struct RouteCheck {
    service_accounts: Vec<String>,
    validation: Validation,
}

/// The keys of one fetch, parsed, and when fetches happened.
#[derive(Clone, Default)]
struct Keys {
    by_id: HashMap<String, DecodingKey>,
    fetched: Option<Instant>,
    expires: Option<Instant>,
    last_attempt: Option<Instant>,
}

impl Keys {
    fn fresh(&self, now: Instant) -> bool {
        self.expires.is_some_and(|expires| now < expires)
    }

    fn usable(&self, now: Instant) -> bool {
        self.fetched
            .is_some_and(|fetched| now.duration_since(fetched) < MAX_STALE)
    }

    /// The key for `kid`: 401 for a key id Google does not have, 503 while no usable keys are
    /// known (the sender retries).
    fn lookup(&self, kid: &str) -> Result<DecodingKey, ApiError> {
        if !self.usable(Instant::now()) {
            return Err(ApiError::Unavailable(
                "the token keys cannot be fetched now".into(),
            ));
        }
        self.by_id
            .get(kid)
            .cloned()
            .ok_or_else(|| unauthorized(&format!("the token's key {kid} is not one of Google's.")))
    }
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
            .map(|route| {
                let mut validation = Validation::new(Algorithm::RS256);
                validation.set_audience(&route.audiences);
                validation.set_issuer(&ISSUERS);
                validation.set_required_spec_claims(&["exp", "iss", "aud"]);
                let check = RouteCheck {
                    service_accounts: route.service_accounts,
                    validation,
                };
                (route.path, check)
            })
            .collect();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(FETCH_TIMEOUT)
            .https_only(settings.jwks_url.starts_with("https:"))
            .build()?;
        Ok(Self {
            routes,
            jwks_url: settings.jwks_url,
            min_refresh_interval: settings.min_refresh_interval,
            client,
            keys: RwLock::new(Arc::new(Keys::default())),
            fetching: tokio::sync::Mutex::new(()),
        })
    }

    fn snapshot(&self) -> Arc<Keys> {
        Arc::clone(
            &self
                .keys
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    fn store(&self, keys: Keys) {
        *self
            .keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(keys);
    }

    fn may_fetch(&self, keys: &Keys, now: Instant) -> bool {
        keys.last_attempt
            .is_none_or(|at| now.duration_since(at) >= self.min_refresh_interval)
    }

    /// Verifies the caller of `path`: 401 without a valid token, 403 for a caller not among the
    /// route's, 503 while Google's keys cannot be had (the sender retries).
    async fn verify(
        auth: &web::Data<Self>,
        path: &str,
        authorization: Option<&str>,
    ) -> Result<(), ApiError> {
        let Some(route) = auth.routes.get(path) else {
            return Ok(());
        };
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
        let key = Self::key(auth, &kid).await?;
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &route.validation)
            .map_err(|e| unauthorized(&format!("the token is not valid: {e}.")))?
            .claims;
        match claims.email {
            Some(email) if claims.email_verified && route.service_accounts.contains(&email) => {
                Ok(())
            }
            Some(email) => Err(ApiError::Forbidden(format!(
                "{} may not call {path}.",
                common::telemetry::loggable(&email)
            ))),
            None => Err(ApiError::Forbidden(
                "the token has no verified service-account e-mail.".into(),
            )),
        }
    }

    /// The key `kid`. Fresh keys answer at once. Expired but usable ones answer at once too, and a
    /// refresh runs behind. An unknown id waits for a fetch, unless one was attempted lately.
    async fn key(auth: &web::Data<Self>, kid: &str) -> Result<DecodingKey, ApiError> {
        let now = Instant::now();
        let keys = auth.snapshot();
        let known = keys.by_id.get(kid).filter(|_| keys.usable(now)).cloned();
        if (keys.fresh(now) && known.is_some()) || !auth.may_fetch(&keys, now) {
            return keys.lookup(kid);
        }
        match known {
            Some(key) => {
                let auth = auth.clone();
                actix_web::rt::spawn(async move { auth.refresh(false).await });
                Ok(key)
            }
            None => {
                auth.refresh(true).await;
                auth.snapshot().lookup(kid)
            }
        }
    }

    /// One fetch at a time: `wait` for the one under way, or leave it to it.
    async fn refresh(&self, wait: bool) {
        let _fetching = if wait {
            self.fetching.lock().await
        } else {
            match self.fetching.try_lock() {
                Ok(guard) => guard,
                Err(_) => return,
            }
        };
        let started = Instant::now();
        let keys = self.snapshot();
        if !self.may_fetch(&keys, started) {
            return; // the fetch this one waited for
        }
        // Counted as an attempt from its start: requests meanwhile do not start another.
        let mut next = Keys {
            last_attempt: Some(started),
            ..(*keys).clone()
        };
        self.store(next.clone());
        match self.fetch().await {
            Ok((by_id, max_age)) => {
                log::info!("fetched {} token keys from {}", by_id.len(), self.jwks_url);
                next = Keys {
                    by_id,
                    fetched: Some(started),
                    expires: Some(started + max_age),
                    last_attempt: Some(started),
                };
            }
            Err(reason) => log::warn!(
                "cannot fetch the token keys from {}: {reason}; keys fetched less than {} h ago \
                 still verify",
                self.jwks_url,
                MAX_STALE.as_secs() / 3600
            ),
        }
        self.store(next);
    }

    async fn fetch(&self) -> Result<(HashMap<String, DecodingKey>, Duration), String> {
        let mut response = self
            .client
            .get(&self.jwks_url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| e.to_string())?;
        let max_age = response
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(cache_max_age)
            .unwrap_or(DEFAULT_KEYS_MAX_AGE)
            .clamp(self.min_refresh_interval, MAX_KEYS_MAX_AGE);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
            if body.len() + chunk.len() > MAX_KEY_SET_BYTES {
                return Err(format!("the key set is over {MAX_KEY_SET_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        let set: JwkSet = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        let by_id = set
            .keys
            .iter()
            .filter_map(|jwk| Some((jwk.common.key_id.clone()?, DecodingKey::from_jwk(jwk).ok()?)))
            .collect();
        Ok((by_id, max_age))
    }
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

/// Middleware of the verified routes: the caller is checked before the handler, so before
/// anything reads the body. Passes everything through when verification is off.
pub async fn verify_caller(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Some(auth) = request.app_data::<web::Data<PushAuth>>() {
        let authorization = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let path = request
            .match_pattern()
            .unwrap_or_else(|| request.path().to_owned());
        PushAuth::verify(auth, &path, authorization).await?;
    }
    next.call(request).await
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
    fn off_only_when_no_push_auth_variable_is_set() {
        assert_eq!(read(&[]), Ok(None));
        for stray in [
            "PUSH_AUTH_AUDIENCES",
            "PUSH_AUTH_JWKS_URL",
            "PUSH_AUTH_PURGE_AUDIENCES",
        ] {
            let error = read(&[(stray, "https://x")]).expect_err(stray);
            assert_eq!(error.variable, "PUSH_AUTH_SERVICE_ACCOUNTS", "{stray}");
        }
    }

    #[test]
    fn on_for_every_route_with_its_own_callers_where_set() {
        let settings = read(&[
            (
                "PUSH_AUTH_SERVICE_ACCOUNTS",
                "push@p.iam.gserviceaccount.com, trigger@p.iam.gserviceaccount.com",
            ),
            ("PUSH_AUTH_AUDIENCES", "https://svc.run.app/api/v1/pubsub"),
            (
                "PUSH_AUTH_PURGE_SERVICE_ACCOUNTS",
                "scheduler@p.iam.gserviceaccount.com",
            ),
            ("PUSH_AUTH_PURGE_AUDIENCES", "https://svc.run.app"),
        ])
        .expect("valid")
        .expect("on");
        assert_eq!(settings.jwks_url, GOOGLE_JWKS_URL);
        let purge = &settings.routes[2];
        assert_eq!(purge.path, "/api/v1/purge");
        assert_eq!(
            purge.service_accounts,
            ["scheduler@p.iam.gserviceaccount.com"]
        );
        assert_eq!(purge.audiences, ["https://svc.run.app"]);
        let pubsub = &settings.routes[0];
        assert_eq!(pubsub.service_accounts.len(), 2);
        assert_eq!(pubsub.audiences, ["https://svc.run.app/api/v1/pubsub"]);
        let line = PushAuthSettings::describe(Some(&settings));
        assert!(
            line.contains("on for /api/v1/pubsub")
                && line.contains("/api/v1/purge (callers scheduler@")
        );
        assert!(PushAuthSettings::describe(None).contains("off"));
    }

    #[test]
    fn a_route_without_callers_or_audiences_is_refused() {
        let only_purge = read(&[
            (
                "PUSH_AUTH_PURGE_SERVICE_ACCOUNTS",
                "s@p.iam.gserviceaccount.com",
            ),
            ("PUSH_AUTH_AUDIENCES", "https://x"),
        ]);
        assert!(only_purge.is_err_and(|e| e.reason.contains("/api/v1/pubsub has no callers")));
        let no_audience = read(&[("PUSH_AUTH_SERVICE_ACCOUNTS", "a@p.iam.gserviceaccount.com")]);
        assert!(no_audience.is_err_and(|e| e.variable == "PUSH_AUTH_AUDIENCES"));
    }

    #[test]
    fn keys_come_over_https_or_from_loopback_only() {
        for (url, trusted) in [
            (GOOGLE_JWKS_URL, true),
            ("http://127.0.0.1:8080/certs", true),
            ("http://[::1]:8080/certs", true),
            ("http://localhost/certs", true),
            ("http://www.googleapis.com/oauth2/v3/certs", false),
            ("ftp://example.com/certs", false),
            ("not a url", false),
        ] {
            assert_eq!(is_trusted_key_url(url), trusted, "{url}");
        }
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
