//! A request body of any type, read within the service's limit and deadline and the instance's
//! room for bodies in flight.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::StreamExt;

use super::room::{BodyRoom, hold_limit};
use crate::configuration::{DEFAULT_BODY_LIMIT, DEFAULT_BODY_TIMEOUT};
use crate::error::ApiError;

/// The largest body a service accepts, as app data; [`DEFAULT_BODY_LIMIT`] when absent.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// How long the whole body may take to arrive, as app data; [`DEFAULT_BODY_TIMEOUT`] when absent.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub Duration);

/// A request body of any type, read up to the service's limit: 413 before reading when the
/// declared length is over it, 413 as soon as a chunked body passes it, 408 when it has not all
/// arrived within the service's body timeout, 503 when there is no room for it ([`BodyRoom`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitedBody(pub Bytes);

impl FromRequest for LimitedBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<BodyLimit>()
            .map_or(DEFAULT_BODY_LIMIT, |limit| limit.0);
        let timeout = req
            .app_data::<BodyTimeout>()
            .map_or(DEFAULT_BODY_TIMEOUT, |timeout| timeout.0);
        let checked = check_declared_length(req, limit);
        let room = req.app_data::<BodyRoom>().cloned();
        let payload = payload.take();
        let req = req.clone();
        Box::pin(async move {
            let declared = checked?;
            let size = declared.unwrap_or(limit);
            if let Some(room) = room {
                let taken = room.take(size).await?;
                req.extensions_mut().insert(taken);
            }
            let deadline = timeout.min(hold_limit(size));
            tokio::time::timeout(deadline, read_body(payload, declared.unwrap_or(0), limit))
                .await
                .map_err(|_| ApiError::RequestTimeout {
                    seconds: deadline.as_secs(),
                })?
                .map(LimitedBody)
        })
    }
}

/// The declared length, if any; 413 when it is over `limit`.
fn check_declared_length(req: &HttpRequest, limit: usize) -> Result<Option<usize>, ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(length) if length > limit as u64 => Err(ApiError::PayloadTooLarge { limit }),
        Some(length) => Ok(usize::try_from(length).ok()),
        None => Ok(None),
    }
}

/// Reads the body, stopping as soon as it passes `limit` (chunked bodies declare no length), into
/// a buffer of the declared size, `expected` (grown by doubling, a 1 MiB body took 2 MiB).
async fn read_body(mut payload: Payload, expected: usize, limit: usize) -> Result<Bytes, ApiError> {
    let mut body = BytesMut::with_capacity(expected.min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::BadRequest(format!("could not read the body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn declared_length_over_the_limit_is_413() {
        let req = TestRequest::default()
            .insert_header((header::CONTENT_LENGTH, "11"))
            .to_http_request();
        assert_eq!(
            check_declared_length(&req, 10),
            Err(ApiError::PayloadTooLarge { limit: 10 })
        );
        assert_eq!(check_declared_length(&req, 11), Ok(Some(11)));
    }
}
