use std::process::ExitCode;

#[actix_web::main]
async fn main() -> ExitCode {
    common::startup::serve(|_| Ok(()), |config, ()| hello_world::startup::build(config)).await
}
