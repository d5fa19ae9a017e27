//! `docket`: runs Docket's services (`docket serve`) and its operator commands.

mod backup;
mod bench;
mod chromium;
mod cli;
mod crypt;
mod evidence;
mod health;
mod keys;
mod release;
mod report;
mod serve;

use std::process::ExitCode;

/// mimalloc rather than the system allocator: a submission allocates and frees many small
/// buffers across threads, and glibc's malloc, free and chunk consolidation were ~17 % of the
/// service's CPU under load (`docs/BENCHMARKS.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("docket: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli.run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("docket: {error:#}");
            ExitCode::FAILURE
        }
    }
}
