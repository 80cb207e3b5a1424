//! What the three services share: configuration, telemetry, start-up and shutdown, the error
//! contract, JSON bodies and answers, the budgets an instance shares and streamed answers' stalled readers.

pub mod answer;
pub mod body;
pub mod budget;
pub mod configuration;
#[cfg(feature = "datastore")]
pub mod datastore;
pub mod error;
pub mod reader_stall;
pub mod routes;
pub mod startup;
pub mod telemetry;

pub use body::{JsonObject, LimitedBody};
pub use configuration::Config;
pub use error::ApiError;
pub use startup::Application;
