use actix_web::{HttpResponse, web};
use common::answer::http_date;
use common::datastore::Datastore;
use common::{ApiError, JsonObject};
use serde::Serialize;

use crate::messages;

const REQUIRED: &str = "name and message properties are required.";

#[derive(Serialize)]
struct Stored<'a> {
    name: &'a str,
    message: &'a str,
    timestamp: String,
}

/// `POST /api/v1/store` `{"name", "message"}` → the stored message with its timestamp.
pub async fn store(
    body: JsonObject,
    datastore: web::Data<Datastore>,
) -> Result<HttpResponse, ApiError> {
    let name = body.required_str("name", REQUIRED)?;
    let message = body.required_str("message", REQUIRED)?;
    let timestamp = messages::store(&datastore, name, message).await?;
    Ok(HttpResponse::Ok().json(Stored {
        name,
        message,
        timestamp: http_date(timestamp),
    }))
}
