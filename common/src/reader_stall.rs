//! A streamed answer whose client stops reading is cut off, so that what the answer holds (its
//! Datastore page, its share of a budget) goes back at once instead of when the client leaves or
//! Cloud Run's request timeout (300 s by default) ends it (docs/reliability.md, "Readers").
//!
//! actix stops polling a body while the connection's buffers are full, and has no write timeout:
//! the answer cannot notice the stall itself. A watchdog task per answer does, and shuts the
//! connection's socket down; actix then fails the write, drops the connection and with it the body.

use std::any::Any;
use std::cell::Cell;
use std::net::{Shutdown, TcpStream};
use std::os::fd::AsFd;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::HttpRequest;
use actix_web::dev::Extensions;
use actix_web::web::Bytes;
use futures_util::Stream;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, sleep_until};

/// The connection's socket, kept with the connection (`HttpServer::on_connect`): a duplicate of
/// actix's descriptor, so that a shutdown can never reach another connection's socket.
struct ConnectionSocket(Rc<TcpStream>);

/// For `HttpServer::on_connect`: keeps the socket of every TCP connection for [`cut_when_stalled`].
pub fn keep_socket(connection: &dyn Any, data: &mut Extensions) {
    let Some(stream) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() else {
        return;
    };
    match stream.as_fd().try_clone_to_owned() {
        Ok(socket) => {
            data.insert(ConnectionSocket(Rc::new(TcpStream::from(socket))));
        }
        // Out of descriptors: this connection's answers are not watched, and the log says so.
        Err(e) => log::warn!("cannot keep a connection's socket: {e}"),
    }
}

/// `answer`, cut off with its connection when the client has not taken a piece of it for `stall`
/// (logged once, with the route and how many bytes had been handed to the connection). Time spent
/// producing a piece (waiting on Datastore) does not count: only a piece given and not taken.
pub fn cut_when_stalled<S, E>(answer: S, req: &HttpRequest, stall: Duration) -> Watched<S>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    let given_at = Rc::new(Cell::new(None));
    let sent = Rc::new(Cell::new(0));
    let watchdog = req.conn_data::<ConnectionSocket>().map(|socket| {
        let route = format!("{} {}", req.method(), req.path());
        actix_web::rt::spawn(watch(
            Rc::clone(&socket.0),
            Rc::clone(&given_at),
            Rc::clone(&sent),
            stall,
            route,
        ))
    });
    Watched {
        answer: Box::pin(answer),
        given_at,
        sent,
        watchdog,
    }
}

async fn watch(
    socket: Rc<TcpStream>,
    given_at: Rc<Cell<Option<Instant>>>,
    sent: Rc<Cell<u64>>,
    stall: Duration,
    route: String,
) {
    loop {
        match given_at.get() {
            None => sleep(stall).await,
            Some(at) if at.elapsed() < stall => sleep_until(at + stall).await,
            Some(_) => {
                log::warn!(
                    "{route}: the client took no part of the answer for {stall:?} after {} bytes; connection cut",
                    sent.get()
                );
                if let Err(e) = socket.shutdown(Shutdown::Both) {
                    log::warn!("{route}: cannot cut the connection: {e}");
                }
                return;
            }
        }
    }
}

/// An answer under watch; see [`cut_when_stalled`].
pub struct Watched<S> {
    answer: Pin<Box<S>>,
    /// When the last piece was handed out, until the connection asks for the next.
    given_at: Rc<Cell<Option<Instant>>>,
    sent: Rc<Cell<u64>>,
    watchdog: Option<JoinHandle<()>>,
}

impl<S, E> Stream for Watched<S>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    type Item = Result<Bytes, E>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.given_at.set(None);
        let next = self.answer.as_mut().poll_next(cx);
        if let Poll::Ready(Some(Ok(piece))) = &next {
            self.sent.set(self.sent.get() + piece.len() as u64);
            self.given_at.set(Some(Instant::now()));
        }
        next
    }
}

impl<S> Drop for Watched<S> {
    fn drop(&mut self) {
        if let Some(watchdog) = &self.watchdog {
            watchdog.abort();
        }
    }
}
