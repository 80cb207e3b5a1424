//! The message board service: `POST /api/v1/store` and `POST /api/v1/retrieve` on Datastore.

pub mod messages;
pub mod routes;
pub mod startup;
