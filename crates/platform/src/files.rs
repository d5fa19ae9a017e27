//! Files at rest are their owner's alone. What a service writes under its data directory
//! (SQLite databases with their `-wal` and `-shm`, evidence blobs and the temporary files they
//! stream into, development keys) holds narratives, sealed identities and keys: no other user
//! of the host may read it, whatever umask the service was started with.
//!
//! [`protect`] sets the process's umask to `077`, so every file and directory created from then
//! on — by Docket, by SQLite, by the object store — is `0600` or `0700`, and tightens what an
//! earlier version left readable at the top of the directory. Files deeper down (blobs) are
//! reached only through directories that are now `0700`.

use std::io;
use std::path::Path;

/// The mode of every directory Docket writes into.
pub const DIRECTORY_MODE: u32 = 0o700;
/// The mode of every file Docket writes.
pub const FILE_MODE: u32 = 0o600;

/// Has every file and directory the process creates from now on readable by its owner only,
/// and makes the data directory `dir` and what lies directly in it its owner's alone. A
/// directory the process cannot change (a volume owned by another user) is reported, not
/// fatal: what the process creates in it is still `0600`.
pub fn protect(dir: &Path) {
    restrict_umask();
    if let Err(error) = tighten(dir) {
        tracing::warn!(
            dir = %dir.display(),
            %error,
            "cannot make the data directory its owner's alone: other users of the host may list it"
        );
    }
}

fn tighten(dir: &Path) -> io::Result<()> {
    if !dir.exists() {
        // Created when first written to, under the umask just set.
        return Ok(());
    }
    set_mode(dir, DIRECTORY_MODE)?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            set_mode(&entry.path(), DIRECTORY_MODE)?;
        } else if kind.is_file() {
            set_mode(&entry.path(), FILE_MODE)?;
        }
    }
    Ok(())
}

/// Creates `dir` and its missing parents `0700`, and makes `dir` itself `0700` if it existed.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    create_missing_dirs(dir)?;
    set_mode(dir, DIRECTORY_MODE)
}

/// Creates `dir` and its missing parents `0700`; directories that exist are left as they are
/// (the parent of a database file configured elsewhere may be anyone's).
pub fn create_missing_dirs(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIRECTORY_MODE);
    builder.create(dir)
}

/// Creates `file` empty with mode `0600` if it is missing, and makes it `0600` if it exists.
pub fn create_private_file(file: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    options.open(file)?;
    set_mode(file, FILE_MODE)
}

/// Makes `file` `0600` if it exists.
pub fn restrict_file(file: &Path) -> io::Result<()> {
    match set_mode(file, FILE_MODE) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Has the files and directories the process creates from now on readable by their owner only
/// (`umask 077`). The umask belongs to the whole process; only ever narrowing it is safe for
/// any other code in it.
pub fn restrict_umask() {
    #[cfg(unix)]
    {
        use rustix::fs::Mode;
        let previous = rustix::process::umask(Mode::from_raw_mode(0o077));
        // Keep a stricter mask than ours.
        let stricter = previous | Mode::from_raw_mode(0o077);
        if stricter != Mode::from_raw_mode(0o077) {
            rustix::process::umask(stricter);
        }
    }
}

fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let current = std::fs::metadata(path)?.permissions().mode() & 0o777;
        if current != mode {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        }
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_data_directory_and_what_lies_in_it_become_the_owners_alone() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(dir.join("intake.db"), b"x").unwrap();
        std::fs::set_permissions(
            dir.join("intake.db"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        std::fs::create_dir(dir.join("blobs")).unwrap();
        std::fs::set_permissions(dir.join("blobs"), std::fs::Permissions::from_mode(0o777))
            .unwrap();
        protect(&dir);
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("intake.db")), 0o600);
        assert_eq!(mode(&dir.join("blobs")), 0o700);
        // And what the process creates afterwards.
        std::fs::write(dir.join("new"), b"x").unwrap();
        assert_eq!(mode(&dir.join("new")), 0o600);
        let created = root.path().join("a/b");
        create_private_dir(&created).unwrap();
        assert_eq!(mode(&root.path().join("a")), 0o700);
        assert_eq!(mode(&created), 0o700);
        create_private_file(&created.join("f")).unwrap();
        assert_eq!(mode(&created.join("f")), 0o600);
    }
}
