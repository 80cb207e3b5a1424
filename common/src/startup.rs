//! Server start-up and graceful shutdown, the same for every service (docs/design.md, "Shutdown").

use std::io;
use std::net::TcpListener;
use std::process::ExitCode;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use tokio::signal::unix::{SignalKind, signal};

use crate::body::{BodyLimit, BodyRoom, BodyTimeout};
use crate::budget::ByteBudget;
use crate::configuration::{Config, ConfigError, Env};
use crate::{reader_stall, routes, telemetry};

/// Cloud Run kills the container 10 s after SIGTERM; in-flight requests get 7 of them, which
/// leaves room for the process to exit within 8 s.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(7);

/// A bound, not yet running, HTTP server.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Binds `config.host:config.port` (port 0: any free port) and builds the server with the
    /// service's routes. Does no other I/O: the port answers as soon as it runs.
    pub fn build<F>(config: &Config, routes: F) -> io::Result<Self>
    where
        F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
    {
        Self::build_keeping_sockets::<F, false>(config, routes)
    }

    /// As [`Application::build`], for a service whose answers stream: every connection keeps its
    /// socket, so that [`reader_stall::cut_when_stalled`] can cut off a client that stops reading
    /// (the others link none of it).
    pub fn build_streaming<F>(config: &Config, routes: F) -> io::Result<Self>
    where
        F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
    {
        Self::build_keeping_sockets::<F, true>(config, routes)
    }

    fn build_keeping_sockets<F, const KEEP_SOCKETS: bool>(
        config: &Config,
        routes: F,
    ) -> io::Result<Self>
    where
        F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
    {
        let listener = TcpListener::bind((config.host, config.port))?;
        let port = listener.local_addr()?.port();
        let body_limit = BodyLimit(config.body_limit);
        let body_timeout = BodyTimeout(config.body_timeout);
        // One room for all workers: it bounds the instance.
        let body_room = BodyRoom(ByteBudget::new(config.body_room));
        let server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(telemetry::request_telemetry))
                .app_data(body_limit)
                .app_data(body_timeout)
                .app_data(body_room.clone())
                .configure(routes.clone())
                .default_service(web::to(routes::not_found))
        })
        // Our own handler below: actix treats SIGINT as an immediate stop, we drain on both.
        .disable_signals();
        let server = if KEEP_SOCKETS {
            server.on_connect(reader_stall::keep_socket)
        } else {
            server
        };
        let server = server
            .shutdown_timeout(SHUTDOWN_TIMEOUT.as_secs())
            .listen(listener)?
            .run();
        Ok(Self { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting and lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> io::Result<()> {
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        let handle = self.server.handle();
        actix_web::rt::spawn(async move {
            let name = tokio::select! {
                _ = terminate.recv() => "SIGTERM",
                _ = interrupt.recv() => "SIGINT",
            };
            log::info!("{name} received: draining in-flight requests, then exiting");
            handle.stop(true).await;
        });
        self.server.await
    }
}

/// The whole life of a service process: read the configuration (common and the service's own),
/// install logging, bind, serve until a signal. A bad setting exits 2 with one line on stderr.
pub async fn serve<S>(
    read_settings: impl FnOnce(&Env<fn(&str) -> Option<String>>) -> Result<S, ConfigError>,
    build: impl FnOnce(&Config, S) -> io::Result<Application>,
) -> ExitCode {
    let env = Env::process();
    let (config, settings) = match Config::read(&env).and_then(|c| Ok((c, read_settings(&env)?))) {
        Ok(read) => read,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&config);
    let application = match build(&config, settings) {
        Ok(application) => application,
        Err(error) => {
            log::error!("cannot listen on {}:{}: {error}", config.host, config.port);
            return ExitCode::FAILURE;
        }
    };
    log::info!(port = application.port(); "listening on port {}", application.port());
    match application.run_until_stopped().await {
        Ok(()) => {
            log::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            log::error!("server failed: {error}");
            ExitCode::FAILURE
        }
    }
}
