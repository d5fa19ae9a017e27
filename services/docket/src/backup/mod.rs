//! `docket backup` and `docket restore`: a backup repository of snapshots that share their
//! evidence files.
//!
//! ```text
//! REPOSITORY/                           0700, every file 0600
//!   blobs/sha256/<2 hex>/<digest>[.age] evidence files, each copied once: blobs never change
//!   snapshots/<UTC time>/               one per backup, complete once it has its manifest
//!     reporting.db[.age] intake.db[.age] case-management.db[.age] manifest.json added/
//! ```
//!
//! With `--recipient`, every file but the manifest is an age file encrypted to the recipients
//! (`.age`): the machine holding the repository cannot read it, and can still check it against
//! the manifest, which records the SHA-256 of each file as stored and of its plaintext.
//!
//! A backup copies the databases one after another, each as of one moment (`VACUUM INTO`
//! while writers go on), in the order that makes them agree once restored: reporting first,
//! so its cursors never point past the streams it follows; then intake, then case management,
//! so that every delivery intake's copy counts as acknowledged is in case management's copy
//! (what intake's copy holds as undelivered is delivered again, and case management opens a
//! case once per allegation however often it is told). The evidence files are those intake's
//! copy refers to, each verified against its name as it is copied; a file already in the
//! repository is not copied again. The manifest lists every file with its SHA-256, so that a
//! restore refuses a snapshot with a file missing or changed before it writes anything.

pub(crate) mod files;
mod manifest;
mod restore;
mod sqlite;
mod stored;
mod take;

use std::path::PathBuf;

pub use restore::restore;
pub use take::backup;

/// `docket backup`.
#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// The backup repository: created if missing; a second backup into it copies only the
    /// evidence files it does not hold yet.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// A file of your own to keep in the snapshot and its manifest (a `pg_dump` of each
    /// PostgreSQL database, say); a restore checks it and leaves restoring it to you. Repeat for
    /// several.
    #[arg(long = "add", value_name = "FILE")]
    pub add: Vec<PathBuf>,
    /// An age recipient (`age1…`, from `age-keygen`) to encrypt every file of the snapshot to,
    /// so that the machine holding the repository cannot read it; repeat for several (any one
    /// of their identities restores it). The manifest stays readable: a repository is checked
    /// without the key.
    #[arg(long = "recipient", value_name = "AGE_RECIPIENT")]
    pub recipients: Vec<String>,
}

/// `docket restore`.
#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The backup repository that `docket backup --out` wrote.
    #[arg(long, value_name = "DIR")]
    pub from: PathBuf,
    /// The snapshot to restore (its name under `snapshots/`); the latest when left out.
    #[arg(long, value_name = "NAME")]
    pub snapshot: Option<String>,
    /// The age identity file (`AGE-SECRET-KEY-1…`) that opens an encrypted snapshot; repeat
    /// for several.
    #[arg(long = "identity", value_name = "FILE")]
    pub identities: Vec<PathBuf>,
}

/// The directory of snapshots in a repository.
const SNAPSHOTS: &str = "snapshots";
/// The directory of a snapshot holding the files added with `--add`.
const ADDED: &str = "added";
/// The directory of evidence files in a repository.
const BLOBS: &str = "blobs";
