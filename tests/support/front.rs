//! One address for every running intake instance, as a Kubernetes Service gives: each new
//! connection goes to the first instance that accepts it. The other services reach intake
//! through it, so that when one instance dies they reach another — case management asks intake
//! about every allegation delivered, whichever instance's dispatcher delivers it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::net::{TcpListener, TcpStream};

/// Forwards each connection to the first of its instances that accepts it, until dropped.
#[derive(Debug)]
pub struct ServiceFront {
    addr: SocketAddr,
    instances: Arc<Mutex<Vec<SocketAddr>>>,
    accepting: tokio::task::JoinHandle<()>,
}

impl ServiceFront {
    /// Listens on a free loopback port, in front of `first`.
    pub async fn start(first: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let instances = Arc::new(Mutex::new(vec![first]));
        let known = Arc::clone(&instances);
        let accepting = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let candidates = known.lock().unwrap_or_else(PoisonError::into_inner).clone();
                tokio::spawn(forward(client, candidates));
            }
        });
        Ok(Self {
            addr,
            instances,
            accepting,
        })
    }

    /// Where the other services reach the instances.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Puts another instance behind the front.
    pub fn add(&self, instance: SocketAddr) {
        self.instances
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(instance);
    }
}

impl Drop for ServiceFront {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

async fn forward(mut client: TcpStream, candidates: Vec<SocketAddr>) {
    for instance in candidates {
        if let Ok(mut server) = TcpStream::connect(instance).await {
            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            return;
        }
    }
    // No instance accepts: the client's connection closes, as a Service with no endpoint's would.
}
