use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A TCP proxy in front of a backend that a test can cut and restore: a network outage of
/// Datastore without restarting the emulator, so that what was stored before survives it.
/// Cut, the port refuses connections and open ones are closed.
pub struct CutProxy {
    address: SocketAddr,
    backend: String,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
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
        };
        proxy.serve(listener);
        proxy
    }

    /// `host:port` to give the service instead of the backend's.
    pub fn host(&self) -> String {
        self.address.to_string()
    }

    fn serve(&self, listener: TcpListener) {
        let backend = self.backend.clone();
        let tasks = Arc::clone(&self.tasks);
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let backend = backend.clone();
                let forward = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&backend).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
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

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.cut();
    }
}
