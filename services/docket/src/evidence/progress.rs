//! Progress of a transfer: an indicatif bar on a terminal, and, since indicatif draws nothing
//! when stderr is not one (CI, pipes, logs), a plain line at every tenth of the way.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressStyle};

/// One transfer's progress, shared by the tasks that move its bytes.
#[derive(Debug, Clone)]
pub struct Progress {
    bar: ProgressBar,
    what: Arc<str>,
    total: u64,
    /// The last tenth reported as a line (0 to 10).
    reported: Arc<AtomicU64>,
    lines: bool,
}

impl Progress {
    pub fn new(what: &str, total: u64) -> Self {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_message(what.to_owned());
        Self {
            bar,
            what: what.into(),
            total,
            reported: Arc::default(),
            lines: !std::io::stderr().is_terminal(),
        }
    }

    /// Starts (again) from `position` bytes, as when resuming.
    pub fn resume_at(&self, position: u64) {
        self.bar.set_position(position);
        self.reported
            .store(self.tenths(position), Ordering::Relaxed);
        if self.lines {
            eprintln!("{}: {} of {} bytes", self.what, position, self.total);
        }
    }

    pub fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
        if self.lines {
            let tenths = self.tenths(self.bar.position());
            if self.reported.fetch_max(tenths, Ordering::Relaxed) < tenths {
                eprintln!(
                    "{}: {} of {} bytes ({}%)",
                    self.what,
                    self.bar.position(),
                    self.total,
                    tenths * 10
                );
            }
        }
    }

    /// Writes `message` without breaking the bar.
    pub fn note(&self, message: &str) {
        if self.lines {
            eprintln!("{message}");
        } else {
            self.bar.println(message);
        }
    }

    pub fn finish(&self) {
        self.bar.finish();
    }

    fn tenths(&self, position: u64) -> u64 {
        if self.total == 0 {
            10
        } else {
            u64::try_from(u128::from(position) * 10 / u128::from(self.total)).unwrap_or(10)
        }
    }
}
