//! The instance's room for request bodies in flight, taken before a body is read.

use std::time::Duration;

use crate::budget::{ByteBudget, Share};
use crate::error::ApiError;

/// Body bytes admitted at once across the instance (`BODY_ROOM_BYTES`), as app data; the
/// application builds one for all its workers. Counted by what each request declares (the
/// service's limit when chunked) from before its body is read until the handler has answered (a
/// streamed answer goes on without it). A body and its copies (parsed JSON, Datastore values, the
/// encoded RPC) are a few times its size: without this, 80 requests of 1 MiB held 212 MiB while a
/// paused Datastore kept them waiting. Requests past it wait for room, unread and in turn, at most
/// [`BODY_ROOM_WAIT`], then 503.
#[derive(Debug, Clone)]
pub struct BodyRoom(pub ByteBudget);

/// A body holding room must keep coming: all of it within 2 s plus a second per 128 KiB it
/// declared (10 s for 1 MiB), or 408; so senders that trickle cannot keep the room from others.
const ROOM_HOLD_BASE: Duration = Duration::from_secs(2);
const ROOM_HOLD_BYTES_PER_SECOND: usize = 128 * 1024;
/// How long a request waits for room: longer than the longest hold, so that room held by
/// trickling senders comes free for those waiting first (the semaphore is fair).
pub const BODY_ROOM_WAIT: Duration = Duration::from_secs(20);

/// A request's share of the [`BodyRoom`], kept in its extensions until it is dropped.
pub(super) struct RoomTaken {
    _share: Share,
}

/// How long a body of `size` bytes may hold its room.
pub(super) fn hold_limit(size: usize) -> Duration {
    ROOM_HOLD_BASE + Duration::from_secs((size / ROOM_HOLD_BYTES_PER_SECOND) as u64)
}

impl BodyRoom {
    /// Room for a body of `size` bytes; 503 after [`BODY_ROOM_WAIT`].
    pub(super) async fn take(&self, size: usize) -> Result<RoomTaken, ApiError> {
        self.0
            .share_within(size, BODY_ROOM_WAIT)
            .await
            .map(|share| RoomTaken { _share: share })
            .ok_or_else(|| {
                ApiError::Unavailable(format!(
                    "no room for a {size}-byte body within {BODY_ROOM_WAIT:?}: {} bytes in flight",
                    self.0.bytes()
                ))
            })
    }
}
