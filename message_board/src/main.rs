use std::process::ExitCode;

use message_board::retrieval::Retrieval;
use message_board::settings::Settings;

#[actix_web::main]
async fn main() -> ExitCode {
    common::startup::serve(Settings::read, |config, settings| {
        message_board::startup::build(
            config,
            settings.datastore,
            Retrieval::new(settings.retrieve),
        )
    })
    .await
}
