//! The middleware that runs each request in its trace and writes its access line: Cloud Logging's
//! `httpRequest` fields, severity by status.

use std::fmt;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap};
use actix_web::http::{Method, Version};
use actix_web::middleware::Next;
use log::Level;

use super::trace::{TRACE, TraceContext};
use super::{ACCESS_TARGET, MAX_LOGGED_URL_OR_AGENT_CHARS, loggable, loggable_within};

/// Middleware: runs the request with its trace context and writes its access line.
pub async fn request_telemetry(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let trace = TraceContext::from_headers(req.headers());
    TRACE
        .scope(trace, async move {
            if !log::log_enabled!(target: ACCESS_TARGET, Level::Info) {
                return next.call(req).await;
            }
            let started = Instant::now();
            let request = AccessRequest::from(&req);
            let response = next.call(req).await;
            if let Ok(response) = &response {
                request.log(response, started);
            }
            response
        })
        .await
}

/// What the access line needs of the request, taken before the request moves on; what the
/// client wrote is capped and escaped.
struct AccessRequest {
    method: Method,
    url: String,
    protocol: &'static str,
    user_agent: Option<String>,
    remote_ip: Option<String>,
}

impl From<&ServiceRequest> for AccessRequest {
    fn from(req: &ServiceRequest) -> Self {
        let info = req.connection_info();
        Self {
            method: req.method().clone(),
            url: loggable_within(&req.uri().to_string(), MAX_LOGGED_URL_OR_AGENT_CHARS),
            protocol: protocol(req.version()),
            user_agent: req.headers().get(header::USER_AGENT).map(|agent| {
                loggable_within(
                    &String::from_utf8_lossy(agent.as_bytes()),
                    MAX_LOGGED_URL_OR_AGENT_CHARS,
                )
            }),
            remote_ip: client_ip(req.headers()).or_else(|| info.peer_addr().map(str::to_owned)),
        }
    }
}

/// The client's address: the last `X-Forwarded-For` entry, the one Google's front end appends
/// (what a client writes into the header itself comes before it and proves nothing).
fn client_ip(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-forwarded-for")?
        .to_str()
        .ok()?
        .rsplit(',')
        .map(str::trim)
        .find(|entry| !entry.is_empty())
        .map(loggable)
}

impl AccessRequest {
    fn log<B: MessageBody>(&self, response: &ServiceResponse<B>, started: Instant) {
        let status = response.status().as_u16();
        let latency = started.elapsed().as_secs_f64();
        let size = match response.response().body().size() {
            actix_web::body::BodySize::Sized(n) => Some(n),
            _ => None,
        };
        let level = if status >= 500 {
            Level::Error
        } else if status >= 400 {
            Level::Warn
        } else {
            Level::Info
        };
        log::log!(
            target: ACCESS_TARGET,
            level,
            requestMethod = self.method.as_str(),
            requestUrl = self.url.as_str(),
            status = status,
            latency:% = DurationSeconds(latency),
            protocol = self.protocol,
            userAgent = self.user_agent.as_deref(),
            remoteIp = self.remote_ip.as_deref(),
            responseSize = size;
            "{} {} {} {:.3} ms",
            self.method,
            self.url,
            status,
            latency * 1000.0
        );
    }
}

fn protocol(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

/// Seconds as Cloud Logging reads a protobuf Duration: `0.000123s`.
struct DurationSeconds(f64);

impl fmt::Display for DurationSeconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.6}s", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::test_headers as headers;

    #[test]
    fn long_urls_and_user_agents_are_capped() {
        let url = format!("/api/v1/hello?q={}", "a".repeat(10_000));
        let agent = format!("agent\u{202e}{}", "b".repeat(10_000));
        let req = actix_web::test::TestRequest::post()
            .uri(&url)
            .insert_header((header::USER_AGENT, agent.as_str()))
            .to_srv_request();
        let access = AccessRequest::from(&req);
        assert_eq!(
            access.url.chars().count(),
            MAX_LOGGED_URL_OR_AGENT_CHARS + 1
        );
        let logged_agent = access.user_agent.expect("a user agent");
        assert!(
            logged_agent.starts_with("agent\\u{202e}b"),
            "{logged_agent:.20}"
        );
        assert!(logged_agent.chars().count() < MAX_LOGGED_URL_OR_AGENT_CHARS + 10);
    }

    #[test]
    fn the_client_ip_is_the_hop_googles_front_end_adds() {
        let forged = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.9")]);
        assert_eq!(client_ip(&forged).as_deref(), Some("203.0.113.9"));
        assert_eq!(
            client_ip(&headers(&[("x-forwarded-for", "203.0.113.9")])).as_deref(),
            Some("203.0.113.9")
        );
        assert_eq!(client_ip(&headers(&[])), None);
    }
}
