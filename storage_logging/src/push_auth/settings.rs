//! Who may call each verified route, with which audiences, and where the keys come from: read
//! from the environment, one route at a time.

use std::net::IpAddr;
use std::time::Duration;

use common::configuration::{ConfigError, Env};

use super::VerifiedRoute;
use super::keys::MIN_REFRESH_INTERVAL;

/// Where Google publishes the keys that sign its ID tokens.
pub const GOOGLE_JWKS_URL: &str = "https://www.googleapis.com/oauth2/v3/certs";

/// The variables of the first design, which named one list of callers and audiences for every
/// route and so let a push token call the purge: refused, naming the per-route ones.
const SHARED_VARIABLES: [&str; 2] = ["PUSH_AUTH_SERVICE_ACCOUNTS", "PUSH_AUTH_AUDIENCES"];

/// Who may call one route, and with which audiences. No callers: every request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePolicy {
    pub route: VerifiedRoute,
    pub service_accounts: Vec<String>,
    pub audiences: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushAuthSettings {
    /// One per verified route, from its own `PUSH_AUTH_{PUBSUB,EVENTS,PURGE}_SERVICE_ACCOUNTS` and
    /// `..._AUDIENCES` (e-mails and `aud` values, separated by spaces or commas: spaces suit
    /// `gcloud run deploy --set-env-vars`, which splits on commas).
    pub routes: Vec<RoutePolicy>,
    /// `PUSH_AUTH_JWKS_URL`: the signing keys ([`GOOGLE_JWKS_URL`]); https, or http to loopback.
    pub jwks_url: String,
    /// [`MIN_REFRESH_INTERVAL`]; shorter in tests only.
    pub min_refresh_interval: Duration,
}

impl PushAuthSettings {
    /// Each route's callers and audiences as given; a route left out refuses every request.
    pub fn for_routes(policies: &[(VerifiedRoute, &[&str], &[&str])], jwks_url: &str) -> Self {
        let owned = |items: &[&str]| items.iter().map(|item| (*item).to_owned()).collect();
        Self {
            routes: VerifiedRoute::ALL
                .iter()
                .map(|route| {
                    let given = policies.iter().find(|(given, _, _)| given == route);
                    RoutePolicy {
                        route: *route,
                        service_accounts: given.map_or_else(Vec::new, |(_, s, _)| owned(s)),
                        audiences: given.map_or_else(Vec::new, |(_, _, a)| owned(a)),
                    }
                })
                .collect(),
            jwks_url: jwks_url.to_owned(),
            min_refresh_interval: MIN_REFRESH_INTERVAL,
        }
    }

    /// `None` (verification off) when no `PUSH_AUTH_*` variable is set. Fails closed: any of them
    /// set makes verification on for every route; a route whose callers are not set refuses every
    /// request, and one with callers needs its audiences.
    pub fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Option<Self>, ConfigError> {
        let list = |name: &str| -> Vec<String> {
            env.text(name)
                .map(|value| {
                    value
                        .split(|c: char| c == ',' || c.is_whitespace())
                        .filter(|item| !item.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        if let Some(shared) = SHARED_VARIABLES
            .iter()
            .find(|name| env.text(name).is_some())
        {
            return Err(ConfigError {
                variable: shared,
                value: env.text(shared).unwrap_or_default(),
                reason: "callers and audiences are set per route now, so that a push token \
                         cannot call the purge: use PUSH_AUTH_PUBSUB_, PUSH_AUTH_EVENTS_ and \
                         PUSH_AUTH_PURGE_SERVICE_ACCOUNTS and _AUDIENCES"
                    .into(),
            });
        }
        let mut variables = vec!["PUSH_AUTH_JWKS_URL"];
        variables.extend(
            VerifiedRoute::ALL
                .iter()
                .flat_map(|route| [route.accounts_variable(), route.audiences_variable()]),
        );
        if variables.iter().all(|name| env.text(name).is_none()) {
            return Ok(None);
        }
        let mut routes = Vec::new();
        for route in VerifiedRoute::ALL {
            let service_accounts = list(route.accounts_variable());
            let audiences = list(route.audiences_variable());
            if !service_accounts.is_empty() && audiences.is_empty() {
                return Err(ConfigError {
                    variable: route.audiences_variable(),
                    value: String::new(),
                    reason: format!(
                        "{} has callers, so it needs the audiences their tokens carry",
                        route.path()
                    ),
                });
            }
            routes.push(RoutePolicy {
                route,
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
                    .map(|policy| {
                        if policy.service_accounts.is_empty() {
                            format!(
                                "{} (no callers: every request refused)",
                                policy.route.path()
                            )
                        } else {
                            format!(
                                "{} (callers {}; audiences {})",
                                policy.route.path(),
                                policy.service_accounts.join(" "),
                                policy.audiences.join(" ")
                            )
                        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<Option<PushAuthSettings>, ConfigError> {
        PushAuthSettings::read(&Env::from_pairs(vars))
    }

    #[test]
    fn off_only_when_no_push_auth_variable_is_set_and_closed_for_routes_left_out() {
        assert_eq!(read(&[]), Ok(None));
        for stray in ["PUSH_AUTH_JWKS_URL", "PUSH_AUTH_PURGE_AUDIENCES"] {
            let settings = read(&[(stray, "https://x")]).expect(stray).expect("on");
            assert!(
                settings
                    .routes
                    .iter()
                    .all(|p| p.service_accounts.is_empty()),
                "{stray}: every route refuses every request"
            );
        }
    }

    #[test]
    fn each_route_has_its_own_callers_and_audiences() {
        let settings = read(&[
            (
                "PUSH_AUTH_PUBSUB_SERVICE_ACCOUNTS",
                "push@p.iam.gserviceaccount.com, trigger@p.iam.gserviceaccount.com",
            ),
            (
                "PUSH_AUTH_PUBSUB_AUDIENCES",
                "https://svc.run.app/api/v1/pubsub",
            ),
            (
                "PUSH_AUTH_PURGE_SERVICE_ACCOUNTS",
                "scheduler@p.iam.gserviceaccount.com",
            ),
            ("PUSH_AUTH_PURGE_AUDIENCES", "https://svc.run.app"),
        ])
        .expect("valid")
        .expect("on");
        assert_eq!(settings.jwks_url, GOOGLE_JWKS_URL);
        let policy = |route| {
            settings
                .routes
                .iter()
                .find(|p| p.route == route)
                .expect("a policy for every route")
        };
        let purge = policy(VerifiedRoute::Purge);
        assert_eq!(
            purge.service_accounts,
            ["scheduler@p.iam.gserviceaccount.com"]
        );
        assert_eq!(purge.audiences, ["https://svc.run.app"]);
        let pubsub = policy(VerifiedRoute::Pubsub);
        assert_eq!(pubsub.service_accounts.len(), 2);
        assert_eq!(pubsub.audiences, ["https://svc.run.app/api/v1/pubsub"]);
        assert!(policy(VerifiedRoute::Events).service_accounts.is_empty());
        let line = PushAuthSettings::describe(Some(&settings));
        assert!(
            line.contains("on for /api/v1/pubsub")
                && line.contains("/api/v1/events (no callers: every request refused)")
                && line.contains("/api/v1/purge (callers scheduler@"),
            "{line}"
        );
        assert!(PushAuthSettings::describe(None).contains("off"));
    }

    #[test]
    fn callers_without_audiences_and_the_shared_lists_are_refused() {
        let no_audience = read(&[(
            "PUSH_AUTH_PURGE_SERVICE_ACCOUNTS",
            "s@p.iam.gserviceaccount.com",
        )]);
        assert!(no_audience.is_err_and(|e| e.variable == "PUSH_AUTH_PURGE_AUDIENCES"));
        for shared in SHARED_VARIABLES {
            let error = read(&[(shared, "a@p.iam.gserviceaccount.com")]).expect_err(shared);
            assert_eq!(error.variable, shared);
            assert!(error.reason.contains("per route"), "{}", error.reason);
        }
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
}
