//! Logs and spans, human-readable on standard error.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `RUST_LOG`, when set, wins over `filter`. Calling it twice is
/// harmless (tests do).
pub fn init(filter: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        // A failed write to a closed stderr would otherwise be reported with `eprintln!`, which
        // panics on that same closed stderr: losing log lines must not stop the service.
        .log_internal_errors(false)
        .try_init();
}
