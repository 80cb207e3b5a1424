use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A TCP proxy in front of a backend that a test can cut and restore: a network outage of
/// Datastore without restarting the emulator, so that what was stored before survives it.
/// Cut, the port refuses connections and open ones are closed. It also counts the gRPC calls
/// that pass it (HTTP/2 requests), so that a test can see how many queries an answer took.
pub struct CutProxy {
    address: SocketAddr,
    backend: String,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
    calls: Arc<AtomicUsize>,
}

impl CutProxy {
    /// Listens on a free port of loopback and forwards to `backend` (`host:port`).
    pub async fn start(backend: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("bound");
        let proxy = Self {
            address,
            backend: backend.to_owned(),
            tasks: Arc::default(),
            calls: Arc::default(),
        };
        proxy.serve(listener);
        proxy
    }

    /// `host:port` to give the service instead of the backend's.
    pub fn host(&self) -> String {
        self.address.to_string()
    }

    /// gRPC calls (HTTP/2 requests) sent through the proxy so far.
    pub fn grpc_calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn serve(&self, listener: TcpListener) {
        let backend = self.backend.clone();
        let tasks = Arc::clone(&self.tasks);
        let calls = Arc::clone(&self.calls);
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let backend = backend.clone();
                let calls = Arc::clone(&calls);
                let forward = tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(&backend).await {
                        let (client_read, client_write) = client.into_split();
                        let (server_read, mut server_write) = server.into_split();
                        let requests = forward_counting(client_read, &mut server_write, &calls);
                        let answers = copy_all(server_read, client_write);
                        let _ = tokio::join!(requests, answers);
                    }
                });
                tasks.lock().expect("not poisoned").push(forward);
            }
        });
        self.tasks.lock().expect("not poisoned").push(accept);
    }

    /// The outage begins: stop listening, close every open connection.
    pub fn cut(&self) {
        for task in self.tasks.lock().expect("not poisoned").drain(..) {
            task.abort();
        }
    }

    /// The outage ends: listen again on the same port.
    pub async fn restore(&self) {
        let listener = TcpListener::bind(self.address)
            .await
            .expect("rebind the same port");
        self.serve(listener);
    }
}

async fn copy_all(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
) {
    let _ = tokio::io::copy(&mut from, &mut to).await;
    let _ = to.shutdown().await;
}

/// Forwards a client's bytes, counting its HTTP/2 HEADERS frames: one per gRPC call.
async fn forward_counting(
    mut from: tokio::net::tcp::OwnedReadHalf,
    to: &mut tokio::net::tcp::OwnedWriteHalf,
    calls: &AtomicUsize,
) {
    let mut frames = Http2Frames::default();
    let mut buffer = vec![0; 64 * 1024];
    while let Ok(read) = from.read(&mut buffer).await {
        if read == 0 || to.write_all(&buffer[..read]).await.is_err() {
            break;
        }
        calls.fetch_add(frames.headers_in(&buffer[..read]), Ordering::SeqCst);
    }
    let _ = to.shutdown().await;
}

/// A client's side of an HTTP/2 connection, read as it passes: the preface, then frames of a
/// 9-byte header (24-bit length, type, flags, stream) and a payload. Not HTTP/2: nothing counted.
#[derive(Default)]
struct Http2Frames {
    /// Bytes of the connection seen so far, up to the end of the preface.
    seen: usize,
    not_http2: bool,
    header: Vec<u8>,
    payload_left: usize,
}

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const HEADERS_FRAME: u8 = 1;

impl Http2Frames {
    fn headers_in(&mut self, mut bytes: &[u8]) -> usize {
        let mut headers = 0;
        while !bytes.is_empty() && !self.not_http2 {
            if self.seen < PREFACE.len() {
                let take = (PREFACE.len() - self.seen).min(bytes.len());
                self.not_http2 = bytes[..take] != PREFACE[self.seen..self.seen + take];
                self.seen += take;
                bytes = &bytes[take..];
            } else if self.payload_left > 0 {
                let take = self.payload_left.min(bytes.len());
                self.payload_left -= take;
                bytes = &bytes[take..];
            } else {
                let take = (9 - self.header.len()).min(bytes.len());
                self.header.extend_from_slice(&bytes[..take]);
                bytes = &bytes[take..];
                if self.header.len() == 9 {
                    let h = &self.header;
                    self.payload_left =
                        usize::from(h[0]) << 16 | usize::from(h[1]) << 8 | usize::from(h[2]);
                    headers += usize::from(h[3] == HEADERS_FRAME);
                    self.header.clear();
                }
            }
        }
        headers
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.cut();
    }
}
