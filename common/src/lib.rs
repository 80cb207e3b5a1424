//! What the three services share: configuration, telemetry, start-up and shutdown, the error
//! contract, JSON bodies and process-wide budgets.

pub mod budget;
pub mod configuration;
#[cfg(feature = "datastore")]
pub mod datastore;
pub mod error;
pub mod json_body;
pub mod routes;
pub mod startup;
pub mod telemetry;

pub use configuration::Config;
pub use error::ApiError;
pub use json_body::{JsonObject, LimitedBody};
pub use startup::Application;
