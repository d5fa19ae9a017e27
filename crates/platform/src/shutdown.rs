//! SIGTERM and SIGINT, turned into one signal every part of the process can wait for.

use tokio::sync::watch;

/// The sending half: `trigger` starts the shutdown of everything holding a [`ShutdownSignal`].
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Sender<bool>);

/// The receiving half, cheap to clone.
#[derive(Debug, Clone)]
pub struct ShutdownSignal(watch::Receiver<bool>);

impl Shutdown {
    pub fn new() -> (Self, ShutdownSignal) {
        let (sender, receiver) = watch::channel(false);
        (Self(sender), ShutdownSignal(receiver))
    }

    pub fn trigger(&self) {
        self.0.send_replace(true);
    }

    pub fn signal(&self) -> ShutdownSignal {
        ShutdownSignal(self.0.subscribe())
    }
}

impl ShutdownSignal {
    /// Resolves once shutdown was triggered (or its sender is gone).
    pub async fn wait(mut self) {
        // An error means the sender was dropped, which also means: stop.
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

/// Resolves on the first SIGTERM or SIGINT (Ctrl-C).
pub async fn os_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = terminate.recv() => tracing::info!("SIGTERM received"),
                    _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl-C stops the process");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("Ctrl-C received");
    }
}
