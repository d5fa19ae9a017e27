//! SIGTERM and SIGINT, turned into one signal every part of the process can wait for.
//!
//! Shutdown has two steps. First the process *announces* that it is leaving: health turns
//! NOT_SERVING so that load balancers and Kubernetes take it out of their endpoints, while
//! everything keeps working and new connections are still accepted (clients that have not yet
//! heard must not be refused). Then, after `shutdown_delay_ms`, it is *triggered*: listeners stop
//! accepting, in-flight calls drain within `shutdown_grace_seconds`, background work ends.

use tokio::sync::watch;

/// Where the process stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Running,
    /// Health says NOT_SERVING; everything else still runs.
    Leaving,
    /// Stop accepting, drain, end.
    Stopping,
}

/// The sending half: `trigger` starts the shutdown of everything holding a [`ShutdownSignal`].
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Sender<Phase>);

/// The receiving half, cheap to clone.
#[derive(Debug, Clone)]
pub struct ShutdownSignal(watch::Receiver<Phase>);

impl Shutdown {
    pub fn new() -> (Self, ShutdownSignal) {
        let (sender, receiver) = watch::channel(Phase::Running);
        (Self(sender), ShutdownSignal(receiver))
    }

    /// Announces the shutdown to come: what waits on [`ShutdownSignal::leaving`] goes on, what
    /// waits on [`ShutdownSignal::wait`] does not yet.
    pub fn announce(&self) {
        self.0.send_if_modified(|phase| {
            let earlier = *phase < Phase::Leaving;
            if earlier {
                *phase = Phase::Leaving;
            }
            earlier
        });
    }

    /// Starts the shutdown (and announces it, if that was not done).
    pub fn trigger(&self) {
        self.0.send_replace(Phase::Stopping);
    }

    pub fn signal(&self) -> ShutdownSignal {
        ShutdownSignal(self.0.subscribe())
    }
}

impl ShutdownSignal {
    /// Resolves once shutdown was triggered (or its sender is gone).
    pub async fn wait(mut self) {
        // An error means the sender was dropped, which also means: stop.
        let _ = self.0.wait_for(|phase| *phase == Phase::Stopping).await;
    }

    /// Resolves once shutdown was announced or triggered (or its sender is gone).
    pub async fn leaving(mut self) {
        let _ = self.0.wait_for(|phase| *phase >= Phase::Leaving).await;
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn an_announced_shutdown_is_leaving_but_not_yet_stopping() {
        let (shutdown, signal) = Shutdown::new();
        shutdown.announce();
        tokio::time::timeout(Duration::from_secs(1), signal.clone().leaving())
            .await
            .expect("leaving resolves once announced");
        assert!(
            tokio::time::timeout(Duration::from_millis(50), signal.clone().wait())
                .await
                .is_err(),
            "wait does not resolve before the trigger"
        );
        shutdown.trigger();
        tokio::time::timeout(Duration::from_secs(1), signal.wait())
            .await
            .expect("wait resolves once triggered");
    }

    #[tokio::test]
    async fn a_trigger_without_announcement_also_means_leaving() {
        let (shutdown, signal) = Shutdown::new();
        shutdown.trigger();
        shutdown.announce(); // too late: stays stopping
        tokio::time::timeout(Duration::from_secs(1), signal.clone().leaving())
            .await
            .unwrap();
        tokio::time::timeout(Duration::from_secs(1), signal.wait())
            .await
            .unwrap();
    }
}
