//! One walk of a worktree directory against the index: which files on disk
//! are tracked, and their stat data, read relative to the directory being
//! listed. `status` asked the same questions in two passes before (an
//! `lstat` by absolute path per tracked file, then a directory walk for
//! untracked files); the second pass's `readdir`s already name every file,
//! and a `statx` relative to the open directory skips the path lookup from
//! `/` (benches/README.md, "One walk of modules/").

use std::collections::HashMap;
use std::path::PathBuf;

use gix::bstr::{BStr, BString, ByteSlice};

/// What one walk of `dir/` found.
#[derive(Debug, Default)]
pub struct TrackedScan {
    /// The directory walked, ending in `/`.
    pub prefix: String,
    /// The stat data of each tracked file or symlink found on disk, by its
    /// path in the index. A tracked path missing here is not on disk (or
    /// is not a file or symlink there).
    pub stats: HashMap<BString, gix::index::entry::Stat>,
    /// Nothing on disk under `dir/` is missing from the index: no
    /// untracked files, and no need for ignore rules.
    pub all_tracked: bool,
}

impl TrackedScan {
    /// The stat data of `path`, when this walk covered it: `Some(None)`
    /// means covered and absent.
    pub fn stat_of(&self, path: &BStr) -> Option<Option<&gix::index::entry::Stat>> {
        path.starts_with(self.prefix.as_bytes())
            .then(|| self.stats.get(path))
    }
}

/// Walks `workdir/dir` once. `None` when it cannot be read as a plain
/// tree (an unreadable directory, an error while listing): the caller then
/// asks path by path, as git would.
pub(super) fn scan(
    workdir: &std::path::Path,
    dir: &str,
    index: &gix::index::State,
    with_stats: bool,
) -> Option<TrackedScan> {
    let mut out = TrackedScan {
        prefix: format!("{dir}/"),
        stats: HashMap::new(),
        all_tracked: true,
    };
    let mut abs = workdir.join(dir);
    let mut rel = out.prefix.clone().into_bytes();
    walk(&mut abs, &mut rel, index, with_stats, &mut out).ok()?;
    Some(out)
}

/// Both paths are buffers grown and shrunk in place (a `format!` per file
/// cost more than the walk). A directory is listed and closed before its
/// subdirectories are walked: glibc gives each open directory a 32 KiB
/// buffer, and keeping one per level open made the heap grow by that much
/// per level. Without `with_stats` it stops at the first thing that is
/// not tracked.
fn walk(
    abs: &mut PathBuf,
    rel: &mut Vec<u8>,
    index: &gix::index::State,
    with_stats: bool,
    out: &mut TrackedScan,
) -> std::io::Result<()> {
    let mut subdirs = Vec::new();
    for entry in std::fs::read_dir(&*abs)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let name = entry.file_name();
        let len = rel.len();
        rel.extend_from_slice(name.as_encoded_bytes());
        if kind.is_dir() {
            rel.push(b'/');
            // A nested repository, or a directory without tracked files:
            // untracked (or ignored: the full walk decides).
            if name == ".git" || index.prefixed_entries(rel.as_bstr()).is_none() {
                out.all_tracked = false;
            } else {
                subdirs.push(name);
            }
        } else if (kind.is_file() || kind.is_symlink())
            && index.entry_by_path(rel.as_bstr()).is_some()
        {
            if with_stats {
                // `DirEntry::metadata` is a `statx` relative to the open
                // directory, without following a symlink (as `lstat`).
                let meta = entry.metadata()?;
                out.stats
                    .insert(BString::from(rel.as_slice()), stat_of(&meta));
            }
        } else {
            out.all_tracked = false;
        }
        rel.truncate(len);
        if !with_stats && !out.all_tracked {
            return Ok(());
        }
    }
    for name in subdirs {
        let len = rel.len();
        rel.extend_from_slice(name.as_encoded_bytes());
        rel.push(b'/');
        abs.push(&name);
        let walked = walk(abs, rel, index, with_stats, out);
        abs.pop();
        rel.truncate(len);
        walked?;
        if !with_stats && !out.all_tracked {
            return Ok(());
        }
    }
    Ok(())
}

/// The index's view of a file's metadata, as
/// `gix::index::entry::Stat::from_fs` makes it from an `lstat` (a unit
/// test compares the two): times before 1970 become zero, the rest is
/// truncated to 32 bits as git does.
#[cfg(unix)]
fn stat_of(meta: &std::fs::Metadata) -> gix::index::entry::Stat {
    use gix::index::entry::stat::Time;
    use std::os::unix::fs::MetadataExt;
    let time = |secs: i64, nsecs: i64| match (u64::try_from(secs), u32::try_from(nsecs)) {
        (Ok(secs), Ok(nsecs)) if nsecs < 1_000_000_000 => Time {
            secs: secs as u32,
            nsecs,
        },
        _ => Time::default(),
    };
    gix::index::entry::Stat {
        mtime: time(meta.mtime(), meta.mtime_nsec()),
        ctime: time(meta.ctime(), meta.ctime_nsec()),
        dev: meta.dev() as u32,
        ino: meta.ino() as u32,
        uid: meta.uid(),
        gid: meta.gid(),
        size: meta.size() as u32,
    }
}

/// Elsewhere no stat data is compared: every tracked file the walk found
/// is hashed (correct, only slower).
#[cfg(not(unix))]
fn stat_of(_meta: &std::fs::Metadata) -> gix::index::entry::Stat {
    gix::index::entry::Stat::default()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn gix_stat(path: &std::path::Path) -> gix::index::entry::Stat {
        let meta = gix::index::fs::Metadata::from_path_no_follow(path).expect("lstat");
        gix::index::entry::Stat::from_fs(&meta).expect("stat")
    }

    #[test]
    fn the_stat_of_a_listed_file_is_the_one_gix_makes_from_lstat() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("a.py");
        std::fs::write(&file, "x = 1\n").expect("write");
        std::os::unix::fs::symlink("a.py", dir.path().join("link")).expect("symlink");
        let old = dir.path().join("old.txt");
        std::fs::write(&old, "old").expect("write");
        // Before 1970 and after 2106 (beyond 32 bits).
        let when = |secs: i64| {
            let t = libc_timespec(secs);
            filetime_set(&old, t);
        };
        let mut seen = 0;
        for case in [None, Some(-86_400), Some(5_000_000_000)] {
            if let Some(secs) = case {
                when(secs);
            }
            for entry in std::fs::read_dir(dir.path()).expect("read_dir") {
                let entry = entry.expect("entry");
                let ours = stat_of(&entry.metadata().expect("metadata"));
                assert_eq!(ours, gix_stat(&entry.path()), "{:?}", entry.path());
                seen += 1;
            }
        }
        assert_eq!(seen, 9);
    }

    fn libc_timespec(secs: i64) -> std::time::SystemTime {
        if secs < 0 {
            std::time::UNIX_EPOCH - std::time::Duration::from_secs(secs.unsigned_abs())
        } else {
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs as u64)
        }
    }

    fn filetime_set(path: &std::path::Path, when: std::time::SystemTime) {
        let file = std::fs::File::options()
            .write(true)
            .open(path)
            .expect("open");
        file.set_modified(when).expect("set mtime");
    }
}
