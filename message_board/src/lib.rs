//! The message board service: `POST /api/v1/store` and `POST /api/v1/retrieve` on Datastore.

pub mod messages;
pub mod retrieval;
pub mod routes;
pub mod settings;
pub mod startup;
