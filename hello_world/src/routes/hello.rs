use actix_web::HttpResponse;
use common::{ApiError, JsonObject};
use serde::Serialize;

#[derive(Serialize)]
struct Greeting {
    message: String,
}

/// `POST /api/v1/hello` `{"name": "X"}` → `{"message": "Hello, X!"}`; no name greets the World.
pub async fn hello(body: JsonObject) -> Result<HttpResponse, ApiError> {
    let name = body.optional_str("name")?.unwrap_or("World");
    Ok(HttpResponse::Ok().json(Greeting {
        message: format!("Hello, {name}!"),
    }))
}
