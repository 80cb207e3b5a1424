use actix_web::{HttpResponse, web};
use common::datastore::Datastore;
use common::{ApiError, JsonObject};
use serde::Serialize;

use crate::messages::{self, StoredMessage};

#[derive(Serialize)]
struct Messages<'a> {
    name: &'a str,
    messages: Vec<StoredMessage>,
}

/// `POST /api/v1/retrieve` `{"name"}` → every message of that name, oldest first.
pub async fn retrieve(
    body: JsonObject,
    datastore: web::Data<Datastore>,
) -> Result<HttpResponse, ApiError> {
    let name = body.required_str("name", "name property is required.")?;
    let messages = messages::for_name(&datastore, name).await?;
    Ok(HttpResponse::Ok().json(Messages { name, messages }))
}
