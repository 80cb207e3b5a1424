use std::process::ExitCode;

use common::datastore::DatastoreSettings;

#[actix_web::main]
async fn main() -> ExitCode {
    common::startup::serve(DatastoreSettings::read, message_board::startup::build).await
}
