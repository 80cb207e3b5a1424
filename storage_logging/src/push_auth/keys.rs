//! Google's token-signing keys, cached. The key server is not trusted to behave: one fetch at a
//! time, never under the lock that verifications read; at most one attempt, failed or not, per
//! [`MIN_REFRESH_INTERVAL`], so tokens with made-up key ids cannot make it fetch; a request that
//! needs keys while a fetch runs waits for that fetch (at most [`FETCH_TIMEOUT`]) instead of
//! deciding on the keys from before it; keys that expired are still used, while a refresh runs in
//! the background or fails, for up to [`MAX_STALE`]; https only (http to loopback for tests), no
//! redirects, at most [`MAX_KEY_SET_BYTES`], `max-age` capped at [`MAX_KEYS_MAX_AGE`]; keys
//! parsed once per fetch.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use common::ApiError;
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::JwkSet;

use super::unauthorized;

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
/// A fetch gives up after this; requests waiting for it wait no longer.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// The cache, shared by the workers.
pub struct KeyCache {
    jwks_url: String,
    min_refresh_interval: Duration,
    client: reqwest::Client,
    /// What verifications read: held only to copy or swap the `Arc`, never across a fetch.
    keys: RwLock<Arc<Keys>>,
    /// Held by the one fetch under way.
    fetching: tokio::sync::Mutex<()>,
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
        self.by_id.get(kid).cloned().ok_or_else(|| {
            let kid = common::telemetry::loggable(kid);
            unauthorized(&format!("the token's key {kid} is not one of Google's."))
        })
    }
}

impl KeyCache {
    pub fn new(jwks_url: String, min_refresh_interval: Duration) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(FETCH_TIMEOUT)
            .https_only(jwks_url.starts_with("https:"))
            .build()?;
        Ok(Self {
            jwks_url,
            min_refresh_interval,
            client,
            keys: RwLock::new(Arc::new(Keys::default())),
            fetching: tokio::sync::Mutex::new(()),
        })
    }

    /// The key `kid`. Fresh keys answer at once. Expired but usable ones answer at once too, and a
    /// refresh runs behind. An unknown id, or no usable keys, waits for the fetch under way, or
    /// makes one unless one was attempted lately, then decides.
    pub async fn key(self: &Arc<Self>, kid: &str) -> Result<DecodingKey, ApiError> {
        let now = Instant::now();
        let keys = self.snapshot();
        let known = keys.by_id.get(kid).filter(|_| keys.usable(now)).cloned();
        match known {
            Some(key) if keys.fresh(now) => Ok(key),
            Some(key) => {
                if self.may_fetch(&keys, now) {
                    let cache = Arc::clone(self);
                    actix_web::rt::spawn(async move { cache.refresh(false).await });
                }
                Ok(key)
            }
            None => {
                self.refresh(true).await;
                self.snapshot().lookup(kid)
            }
        }
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

    /// One fetch at a time: `wait` for the one under way (it ends within [`FETCH_TIMEOUT`]), or
    /// leave it to it. A fetch attempted lately is not repeated.
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
            return; // the fetch this one waited for, or one a moment ago
        }
        // Counted as an attempt from its start.
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

/// `max-age=N` of a Cache-Control value.
fn cache_max_age(value: &str) -> Option<Duration> {
    value
        .split(',')
        .filter_map(|directive| directive.trim().strip_prefix("max-age="))
        .find_map(|seconds| seconds.parse().ok())
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_read_from_cache_control() {
        assert_eq!(
            cache_max_age("public, max-age=19790, must-revalidate, no-transform"),
            Some(Duration::from_secs(19790))
        );
        assert_eq!(cache_max_age("no-store"), None);
    }
}
