use std::process::ExitCode;

use storage_logging::settings::Settings;

#[actix_web::main]
async fn main() -> ExitCode {
    common::startup::serve(Settings::read, storage_logging::startup::build).await
}
