//! Request bodies, handled the same way by every service: read within the service's limit, its
//! deadline and the instance's room for bodies in flight ([`LimitedBody`]); a JSON object's shape
//! bounded before it is parsed ([`shape`]); JSON objects with typed field access ([`JsonObject`]).

mod json_object;
mod limited;
mod room;
pub mod shape;

pub use json_object::{JsonObject, JsonValueLimit, is_json, parse_object};
pub use limited::{BodyLimit, BodyTimeout, LimitedBody};
pub use room::{BODY_ROOM_WAIT, BodyRoom};
pub use shape::{MAX_JSON_DEPTH, MAX_JSON_VALUES, check_json_shape};
