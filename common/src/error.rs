//! The error contract: every error leaves as `{"message": "..."}` with the status that says whose
//! fault it is (docs/design.md, "Error contract"). 4xx for the client's mistakes, 503 when a backend is
//! unavailable (so Pub/Sub and clients retry), 500 only for bugs.

use std::fmt;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 400: the request can never succeed as sent.
    BadRequest(String),
    /// 400: a backend refused what the client sent; the client reads `message`, the log `cause`
    /// (the backend's own words).
    Refused { message: String, cause: String },
    /// 401: the request lacks valid credentials (a verified Bearer token).
    Unauthorized(String),
    /// 403: the credentials are valid but name a caller that may not call this.
    Forbidden(String),
    /// 404: no route for the path.
    NotFound(String),
    /// 408: the body did not all arrive within the service's body timeout.
    RequestTimeout { seconds: u64 },
    /// 409: the same work is under way (a purge while another runs).
    Conflict(String),
    /// 405: the path exists, the method does not; `allow` lists the methods it has.
    MethodNotAllowed { allow: &'static str },
    /// 413: the body is larger than the service's limit.
    PayloadTooLarge { limit: usize },
    /// 415: the body is not declared as JSON.
    UnsupportedMediaType(String),
    /// 503: a backend (Datastore) is down or too slow; worth retrying.
    Unavailable(String),
    /// 500: a bug.
    Internal(String),
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    message: &'a str,
}

impl ApiError {
    /// What the client reads in `message`. A 500 does not show its cause; the log has it.
    fn public_message(&self) -> String {
        match self {
            Self::BadRequest(m)
            | Self::Refused { message: m, .. }
            | Self::Unauthorized(m)
            | Self::Forbidden(m)
            | Self::NotFound(m)
            | Self::Conflict(m)
            | Self::UnsupportedMediaType(m) => m.clone(),
            Self::MethodNotAllowed { allow } => format!("method not allowed; allowed: {allow}"),
            Self::PayloadTooLarge { limit } => {
                format!("request body is larger than the limit of {limit} bytes")
            }
            Self::RequestTimeout { seconds } => {
                format!("the request body did not arrive within {seconds} s")
            }
            Self::Unavailable(_) => "the service is temporarily unavailable; retry later".into(),
            Self::Internal(_) => "internal error".into(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unavailable(cause) => write!(f, "unavailable: {cause}"),
            Self::Internal(cause) => write!(f, "internal error: {cause}"),
            Self::Refused { message, cause } => {
                write!(f, "{message} ({})", crate::telemetry::loggable(cause))
            }
            other => f.write_str(&other.public_message()),
        }
    }
}

impl std::error::Error for ApiError {}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::Refused { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::RequestTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        // Called inside the request, so these lines carry its trace id.
        match self {
            Self::Internal(_) => log::error!("{self}"),
            Self::Unavailable(_) | Self::Refused { .. } => log::warn!("{self}"),
            _ => log::debug!("rejected: {self}"),
        }
        let mut response = HttpResponse::build(self.status_code());
        match self {
            Self::MethodNotAllowed { allow } => {
                response.insert_header((header::ALLOW, *allow));
            }
            Self::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            _ => {}
        }
        response.json(ErrorBody {
            message: &self.public_message(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    async fn render(error: ApiError) -> (StatusCode, String, String) {
        let response = error.error_response();
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = to_bytes(response.into_body())
            .await
            .expect("in-memory body");
        (
            status,
            content_type,
            String::from_utf8(body.to_vec()).expect("utf-8"),
        )
    }

    #[actix_web::test]
    async fn every_error_is_a_json_message() {
        let cases = [
            (
                ApiError::BadRequest("bad".into()),
                400,
                r#"{"message":"bad"}"#,
            ),
            (
                ApiError::Refused {
                    message: "refused".into(),
                    cause: "the backend's words".into(),
                },
                400,
                r#"{"message":"refused"}"#,
            ),
            (
                ApiError::Unauthorized("who?".into()),
                401,
                r#"{"message":"who?"}"#,
            ),
            (
                ApiError::Forbidden("not you".into()),
                403,
                r#"{"message":"not you"}"#,
            ),
            (
                ApiError::NotFound("nope".into()),
                404,
                r#"{"message":"nope"}"#,
            ),
            (
                ApiError::MethodNotAllowed { allow: "POST" },
                405,
                r#"{"message":"method not allowed; allowed: POST"}"#,
            ),
            (
                ApiError::RequestTimeout { seconds: 30 },
                408,
                r#"{"message":"the request body did not arrive within 30 s"}"#,
            ),
            (
                ApiError::PayloadTooLarge { limit: 10 },
                413,
                r#"{"message":"request body is larger than the limit of 10 bytes"}"#,
            ),
            (
                ApiError::UnsupportedMediaType("json only".into()),
                415,
                r#"{"message":"json only"}"#,
            ),
            (
                ApiError::Unavailable("datastore: connection refused".into()),
                503,
                r#"{"message":"the service is temporarily unavailable; retry later"}"#,
            ),
            (
                ApiError::Internal("secret detail".into()),
                500,
                r#"{"message":"internal error"}"#,
            ),
        ];
        for (error, status, body) in cases {
            let (got_status, content_type, got_body) = render(error).await;
            assert_eq!(got_status.as_u16(), status);
            assert_eq!(content_type, "application/json");
            assert_eq!(got_body, body);
        }
    }

    #[test]
    fn method_not_allowed_names_the_allowed_methods() {
        let response = ApiError::MethodNotAllowed { allow: "GET, HEAD" }.error_response();
        assert_eq!(
            response.headers().get(header::ALLOW).map(|v| v.as_bytes()),
            Some(&b"GET, HEAD"[..])
        );
    }
}
