//! File writes that are never half-done.

use std::io::Write;
use std::path::Path;

/// Writes `contents` to `path` through a temporary file in the same
/// directory and a rename, keeping an existing file's permissions. A new
/// file gets the mode any program's new file gets (0666 less the umask), not
/// the private 0600 of a temporary file.
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    replace(path, contents, true)
}

/// [`write_atomic`] without the sync to disk, for caches: readers see the
/// old file or the new one, and a power loss may leave neither, which only
/// costs the cache.
pub fn replace_unsynced(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    replace(path, contents, false)
}

fn replace(path: &Path, contents: &[u8], durable: bool) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    builder.prefix(".quickscale-tmp-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // open(2) applies the umask to this mode, as for any new file.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir).map_err(|e| with_path(e, dir))?;
    tmp.write_all(contents).map_err(|e| with_path(e, path))?;
    if durable {
        tmp.as_file().sync_all().map_err(|e| with_path(e, path))?;
    }
    if let Ok(meta) = fs_err::metadata(path) {
        fs_err::set_permissions(tmp.path(), meta.permissions())?;
    }
    tmp.persist(path).map_err(|e| with_path(e.error, path))?;
    Ok(())
}

/// The bytes of the file at `path`, or `None` when there is none.
pub fn read_if_exists(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn with_path(e: std::io::Error, path: &Path) -> std::io::Error {
    std::io::Error::new(
        e.kind(),
        format!("failed to write `{}`: {e}", path.display()),
    )
}
