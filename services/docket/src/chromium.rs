//! Headless Chromium (Debian's `chromium`) turns a report into a PDF (its print layout, A4) or
//! a screenshot. It runs on a file in a fresh temporary directory with a fresh profile, with
//! networking features off; the report itself fetches nothing (its Content-Security-Policy).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// Where Chromium is, if installed.
pub fn find() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// What to make of the page.
#[derive(Debug, Clone, Copy)]
pub enum Output<'a> {
    Pdf(&'a Path),
    /// A PNG of the first `height` pixels at `width` pixels wide.
    Screenshot {
        file: &'a Path,
        width: u32,
        height: u32,
    },
}

/// Renders `html` with headless Chromium into `output`.
pub fn render(html: &str, output: Output<'_>) -> anyhow::Result<()> {
    let chromium = find().context(
        "Chromium is not installed (Debian: apt-get install chromium); the HTML was written",
    )?;
    let dir = tempfile::tempdir().context("cannot make a temporary directory for Chromium")?;
    let page = dir.path().join("report.html");
    std::fs::write(&page, html).context("cannot write the page for Chromium")?;
    let profile = dir.path().join("profile");
    let mut command = Command::new(chromium);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()));
    let target = match output {
        Output::Pdf(file) => {
            command
                .arg("--no-pdf-header-footer")
                .arg(format!("--print-to-pdf={}", absolute(file)?.display()));
            file
        }
        Output::Screenshot {
            file,
            width,
            height,
        } => {
            command
                .arg(format!("--window-size={width},{height}"))
                .arg(format!("--screenshot={}", absolute(file)?.display()));
            file
        }
    };
    let _ = std::fs::remove_file(target);
    let ran = command
        .arg(format!("file://{}", page.display()))
        .output()
        .context("cannot run Chromium")?;
    if !ran.status.success() || !target.is_file() {
        bail!(
            "Chromium did not write {} ({}): {}",
            target.display(),
            ran.status,
            String::from_utf8_lossy(&ran.stderr).trim()
        );
    }
    Ok(())
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("cannot resolve {}", path.display()))
}
