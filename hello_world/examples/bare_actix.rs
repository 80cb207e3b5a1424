//! The benchmark's yardstick (`scripts/bench-hello.sh`): the hello contract in a bare actix-web
//! handler, without our configuration, telemetry, error mapping or body checks.

use actix_web::{App, HttpResponse, HttpServer, web};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct Hello {
    name: Option<String>,
}

#[derive(Serialize)]
struct Greeting {
    message: String,
}

async fn hello(body: web::Json<Hello>) -> HttpResponse {
    let name = body.name.as_deref().unwrap_or("World");
    HttpResponse::Ok().json(Greeting {
        message: format!("Hello, {name}!"),
    })
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or(8080);
    HttpServer::new(|| {
        App::new()
            .route("/", web::get().to(|| async { "Hello world service. " }))
            .route("/api/v1/hello", web::post().to(hello))
    })
    .bind(("0.0.0.0", port))?
    .run()
    .await
}
