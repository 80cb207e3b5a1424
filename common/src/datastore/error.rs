//! Datastore's failures as the services need to tell them apart, and the HTTP answer each gets.

use gcloud_sdk::tonic::{Code, Status};

use crate::error::ApiError;

/// Why a Datastore operation failed, as the caller needs to tell it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatastoreError {
    /// Down, too slow, or refusing for a reason that a later retry may not have: 503.
    Unavailable(String),
    /// Datastore would refuse what the client sent (an entity it cannot hold), found before the
    /// call: 400 with this text.
    Rejected(String),
    /// Datastore refused an entity we inserted (`INVALID_ARGUMENT` on an insert): the client's
    /// input that our checks did not catch. 400 with a plain reason; Datastore's words go to the log.
    Refused { datastore_says: String },
    /// Datastore refused any other call (`INVALID_ARGUMENT` on a query, a lookup, a delete): what
    /// we built is wrong, a bug, 500.
    Invalid { datastore_says: String },
    /// An insert of a named key that exists. Every named insert handles it (`storage_log::record`
    /// answers what was stored): one that reaches the HTTP edge is a bug, 500.
    AlreadyExists,
    /// A query's answer over the most bytes the call would take (gRPC's decoding limit): `bytes`,
    /// when tonic said it, is the answer's size. Ask for fewer entities.
    AnswerTooLarge { bytes: Option<usize> },
}

impl std::fmt::Display for DatastoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unavailable(cause) => write!(f, "Datastore unavailable: {cause}"),
            Self::Rejected(reason) => f.write_str(reason),
            Self::Refused { datastore_says } => {
                write!(f, "Datastore refused the entity: {datastore_says}")
            }
            Self::Invalid { datastore_says } => {
                write!(f, "Datastore refused the call: {datastore_says}")
            }
            Self::AlreadyExists => f.write_str("the entity already exists"),
            Self::AnswerTooLarge { bytes } => match bytes {
                Some(bytes) => write!(f, "Datastore's answer too large: {bytes} bytes"),
                None => f.write_str("Datastore's answer too large"),
            },
        }
    }
}

impl std::error::Error for DatastoreError {}

impl From<Status> for DatastoreError {
    fn from(status: Status) -> Self {
        match status.code() {
            Code::AlreadyExists => Self::AlreadyExists,
            // tonic's answer to a message over its decoding limit, in its own words (an upgrade
            // that changes them fails message_board's tests of retrieves of the largest messages).
            Code::OutOfRange
                if status
                    .message()
                    .contains("decoded message length too large") =>
            {
                Self::AnswerTooLarge {
                    bytes: answer_size(status.message()),
                }
            }
            Code::InvalidArgument => Self::Invalid {
                datastore_says: status.message().to_owned(),
            },
            code => Self::Unavailable(format!("{code:?}: {}", status.message())),
        }
    }
}

impl From<DatastoreError> for ApiError {
    fn from(error: DatastoreError) -> Self {
        match error {
            DatastoreError::Rejected(reason) => ApiError::BadRequest(reason),
            DatastoreError::Refused { datastore_says } => ApiError::Refused {
                message: "Datastore refused the entity.".into(),
                cause: datastore_says,
            },
            DatastoreError::AlreadyExists | DatastoreError::Invalid { .. } => {
                ApiError::Internal(error.to_string())
            }
            DatastoreError::Unavailable(_) | DatastoreError::AnswerTooLarge { .. } => {
                ApiError::Unavailable(error.to_string())
            }
        }
    }
}

/// The size in tonic's "decoded message length too large: found N bytes, the limit is: …".
fn answer_size(message: &str) -> Option<usize> {
    let (_, rest) = message.split_once("found ")?;
    rest.split_once(" bytes")?.0.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_what_the_caller_does() {
        assert_eq!(
            DatastoreError::from(Status::already_exists("dup")),
            DatastoreError::AlreadyExists
        );
        assert_eq!(
            ApiError::from(DatastoreError::Refused {
                datastore_says: "too long".into()
            }),
            ApiError::Refused {
                message: "Datastore refused the entity.".into(),
                cause: "too long".into()
            },
            "Datastore's own words go to the log, not to the client"
        );
        assert!(
            matches!(
                ApiError::from(DatastoreError::from(Status::invalid_argument("bad query"))),
                ApiError::Internal(_)
            ),
            "a refused query is ours to fix"
        );
        assert!(matches!(
            ApiError::from(DatastoreError::AlreadyExists),
            ApiError::Internal(_)
        ));
        assert!(matches!(
            DatastoreError::from(Status::unavailable("down")),
            DatastoreError::Unavailable(_)
        ));
        assert_eq!(
            DatastoreError::from(Status::out_of_range(
                "Error, decoded message length too large: found 6291641 bytes, the limit is: 4194304 bytes"
            )),
            DatastoreError::AnswerTooLarge {
                bytes: Some(6_291_641)
            }
        );
        assert!(matches!(
            DatastoreError::from(Status::out_of_range("cursor out of range")),
            DatastoreError::Unavailable(_)
        ));
        assert!(matches!(
            ApiError::from(DatastoreError::Rejected("x".into())),
            ApiError::BadRequest(_)
        ));
        assert!(matches!(
            ApiError::from(DatastoreError::Unavailable("x".into())),
            ApiError::Unavailable(_)
        ));
    }
}
