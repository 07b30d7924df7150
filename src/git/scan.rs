//! One walk of a worktree directory against the index: which files on disk
//! are tracked, and their stat data, read relative to the directory being
//! listed. `status` asked the same questions in two passes before (an
//! `lstat` by absolute path per tracked file, then a directory walk for
//! untracked files); the second pass's `readdir`s already name every file,
//! and a `statx` relative to the open directory skips the path lookup from
//! `/` (benches/README.md, "One walk of modules/"). On Linux the walk
//! reads directories with `getdents64` into one buffer and opens and
//! stats entries relative to their directory's descriptor (rustix), where
//! `std::fs::read_dir` gave each directory a 32 KiB heap buffer, an
//! `fstat` and a lookup of its whole path (benches/README.md, "Directory
//! descriptors").

use std::collections::HashMap;

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
    /// What is on disk and missing from the index, each a file or symlink,
    /// or a directory without tracked files (not walked), with whether it
    /// is a directory; `None` when there were more than
    /// [`MAX_UNTRACKED`] (only kept in a walk with stats). A project
    /// whose Django has run has a `__pycache__` in every package: when
    /// ignore rules exclude each of these, nothing is untracked, and no
    /// second walk is needed to say so.
    pub untracked: Option<Vec<(BString, bool)>>,
}

/// Beyond this many untracked entries the caller walks again with
/// git's rules instead of asking about each.
const MAX_UNTRACKED: usize = 256;

impl TrackedScan {
    /// The stat data of `path`, when this walk covered it: `Some(None)`
    /// means covered and absent.
    pub fn stat_of(&self, path: &BStr) -> Option<Option<&gix::index::entry::Stat>> {
        path.starts_with(self.prefix.as_bytes())
            .then(|| self.stats.get(path))
    }
}

/// Walks `workdir/dir` once. `None` when it cannot be read as a plain
/// tree (an unreadable directory, an error while listing, more open
/// directories than descriptors allowed): the caller then asks path by
/// path, as git would.
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
        untracked: with_stats.then(Vec::new),
    };
    let mut rel = out.prefix.clone().into_bytes();
    let mut walk = Walk {
        index,
        with_stats,
        out: &mut out,
    };
    walk.start(&workdir.join(dir), &mut rel).ok()?;
    Some(out)
}

/// One walk's fixed inputs and its result.
struct Walk<'a> {
    index: &'a gix::index::State,
    with_stats: bool,
    out: &'a mut TrackedScan,
}

/// What a directory entry is to the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dir,
    /// A file or a symlink.
    Leaf,
    Other,
}

impl Walk<'_> {
    /// Records the entry at `rel` (its path in the index): `true` when it
    /// is a directory to walk, or a tracked leaf whose stat data is wanted.
    /// A directory's `rel` gets its trailing `/` here.
    fn visit(&mut self, rel: &mut Vec<u8>, name: &[u8], kind: Kind) -> bool {
        match kind {
            Kind::Dir => {
                rel.push(b'/');
                // A nested repository, or a directory without tracked
                // files: untracked, unless ignored.
                if name == b".git" || self.index.prefixed_entries(rel.as_bstr()).is_none() {
                    self.untracked(&rel[..rel.len() - 1], true);
                    return false;
                }
                true
            }
            Kind::Leaf if self.index.entry_by_path(rel.as_bstr()).is_some() => self.with_stats,
            _ => {
                self.untracked(rel, false);
                false
            }
        }
    }

    fn untracked(&mut self, rel: &[u8], is_dir: bool) {
        self.out.all_tracked = false;
        if let Some(list) = &mut self.out.untracked {
            if list.len() < MAX_UNTRACKED {
                list.push((BString::from(rel), is_dir));
            } else {
                self.out.untracked = None;
            }
        }
    }

    /// Without stats the walk only asks whether everything is tracked,
    /// and stops at the first thing that is not.
    fn done(&self) -> bool {
        !self.with_stats && !self.out.all_tracked
    }

    fn record(&mut self, rel: &[u8], stat: gix::index::entry::Stat) {
        self.out.stats.insert(BString::from(rel), stat);
    }
}

#[cfg(target_os = "linux")]
impl Walk<'_> {
    fn start(&mut self, abs: &std::path::Path, rel: &mut Vec<u8>) -> std::io::Result<()> {
        use rustix::fs::{Mode, OFlags};
        let dir = rustix::fs::open(
            abs,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let mut buf = vec![std::mem::MaybeUninit::uninit(); 16 * 1024];
        self.walk(&dir, rel, &mut buf)
    }

    /// Lists `dir` (at `rel` in the index) into `buf`, then walks its
    /// subdirectories, each opened relative to it (and never through a
    /// symlink: one swapped in mid-walk fails the walk instead).
    fn walk(
        &mut self,
        dir: &rustix::fd::OwnedFd,
        rel: &mut Vec<u8>,
        buf: &mut [std::mem::MaybeUninit<u8>],
    ) -> std::io::Result<()> {
        use rustix::fs::{AtFlags, FileType, Mode, OFlags};
        let mut subdirs = Vec::new();
        let mut entries = rustix::fs::RawDir::new(dir, buf);
        while let Some(entry) = entries.next() {
            let entry = entry?;
            let name = entry.file_name();
            if matches!(name.to_bytes(), b"." | b"..") {
                continue;
            }
            let lstat = || rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW);
            // Some filesystems leave the type out of the listing.
            let (kind, mut stat) = match entry.file_type() {
                FileType::Unknown => {
                    let st = lstat()?;
                    (FileType::from_raw_mode(st.st_mode as _), Some(st))
                }
                kind => (kind, None),
            };
            let kind = match kind {
                FileType::Directory => Kind::Dir,
                FileType::RegularFile | FileType::Symlink => Kind::Leaf,
                _ => Kind::Other,
            };
            let len = rel.len();
            rel.extend_from_slice(name.to_bytes());
            if self.visit(rel, name.to_bytes(), kind) {
                if kind == Kind::Dir {
                    subdirs.push(name.to_owned());
                } else {
                    let st = match stat.take() {
                        Some(st) => st,
                        None => lstat()?,
                    };
                    self.record(rel, raw_stat(&st));
                }
            }
            rel.truncate(len);
            if self.done() {
                return Ok(());
            }
        }
        for name in subdirs {
            let len = rel.len();
            rel.extend_from_slice(name.to_bytes());
            rel.push(b'/');
            let child = rustix::fs::openat(
                dir,
                name.as_c_str(),
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
                Mode::empty(),
            );
            let walked = child
                .map_err(Into::into)
                .and_then(|c| self.walk(&c, rel, buf));
            rel.truncate(len);
            walked?;
            if self.done() {
                return Ok(());
            }
        }
        Ok(())
    }
}

#[cfg(not(target_os = "linux"))]
impl Walk<'_> {
    fn start(&mut self, abs: &std::path::Path, rel: &mut Vec<u8>) -> std::io::Result<()> {
        self.walk(&mut abs.to_owned(), rel)
    }

    /// Both paths are buffers grown and shrunk in place. A directory is
    /// listed and closed before its subdirectories are walked, so one
    /// listing buffer is live at a time.
    fn walk(&mut self, abs: &mut std::path::PathBuf, rel: &mut Vec<u8>) -> std::io::Result<()> {
        let mut subdirs = Vec::new();
        for entry in std::fs::read_dir(&*abs)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            let name = entry.file_name();
            let kind = if kind.is_dir() {
                Kind::Dir
            } else if kind.is_file() || kind.is_symlink() {
                Kind::Leaf
            } else {
                Kind::Other
            };
            let len = rel.len();
            rel.extend_from_slice(name.as_encoded_bytes());
            if self.visit(rel, name.as_encoded_bytes(), kind) {
                if kind == Kind::Dir {
                    subdirs.push(name);
                } else {
                    // A `stat` relative to the open directory, without
                    // following a symlink (as `lstat`).
                    let meta = entry.metadata()?;
                    self.record(rel, std_stat(&meta));
                }
            }
            rel.truncate(len);
            if self.done() {
                return Ok(());
            }
        }
        for name in subdirs {
            let len = rel.len();
            rel.extend_from_slice(name.as_encoded_bytes());
            rel.push(b'/');
            abs.push(&name);
            let walked = self.walk(abs, rel);
            abs.pop();
            rel.truncate(len);
            walked?;
            if self.done() {
                return Ok(());
            }
        }
        Ok(())
    }
}

/// The index's view of a file's metadata, as
/// `gix::index::entry::Stat::from_fs` makes it from an `lstat` (unit tests
/// compare the two): times before 1970 become zero, the rest is truncated
/// to 32 bits as git does.
#[cfg(unix)]
fn index_stat(
    (mtime, mtime_ns): (i64, i64),
    (ctime, ctime_ns): (i64, i64),
    dev: u64,
    ino: u64,
    uid: u32,
    gid: u32,
    size: u64,
) -> gix::index::entry::Stat {
    use gix::index::entry::stat::Time;
    let time = |secs: i64, nsecs: i64| match (u64::try_from(secs), u32::try_from(nsecs)) {
        (Ok(secs), Ok(nsecs)) if nsecs < 1_000_000_000 => Time {
            secs: secs as u32,
            nsecs,
        },
        _ => Time::default(),
    };
    gix::index::entry::Stat {
        mtime: time(mtime, mtime_ns),
        ctime: time(ctime, ctime_ns),
        dev: dev as u32,
        ino: ino as u32,
        uid,
        gid,
        size: size as u32,
    }
}

/// The kernel's `stat` fields differ in type between architectures
/// (`st_mtime` is unsigned on x86-64): each is read as the C type it
/// stands for.
#[cfg(target_os = "linux")]
#[allow(clippy::unnecessary_cast)]
fn raw_stat(st: &rustix::fs::Stat) -> gix::index::entry::Stat {
    index_stat(
        (st.st_mtime as i64, st.st_mtime_nsec as i64),
        (st.st_ctime as i64, st.st_ctime_nsec as i64),
        st.st_dev as u64,
        st.st_ino as u64,
        st.st_uid as u32,
        st.st_gid as u32,
        st.st_size as u64,
    )
}

/// The std walk's stat data (and, on Linux, the tests' reference).
#[cfg(all(unix, any(not(target_os = "linux"), test)))]
fn std_stat(meta: &std::fs::Metadata) -> gix::index::entry::Stat {
    use std::os::unix::fs::MetadataExt;
    index_stat(
        (meta.mtime(), meta.mtime_nsec()),
        (meta.ctime(), meta.ctime_nsec()),
        meta.dev(),
        meta.ino(),
        meta.uid(),
        meta.gid(),
        meta.size(),
    )
}

/// Elsewhere no stat data is compared: every tracked file the walk found
/// is hashed (correct, only slower).
#[cfg(not(unix))]
fn std_stat(_meta: &std::fs::Metadata) -> gix::index::entry::Stat {
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
            #[cfg(target_os = "linux")]
            let listed = rustix::fs::open(
                dir.path(),
                rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::DIRECTORY,
                rustix::fs::Mode::empty(),
            )
            .expect("open the directory");
            for entry in std::fs::read_dir(dir.path()).expect("read_dir") {
                let entry = entry.expect("entry");
                let expected = gix_stat(&entry.path());
                let ours = std_stat(&entry.metadata().expect("metadata"));
                assert_eq!(ours, expected, "{:?}", entry.path());
                #[cfg(target_os = "linux")]
                {
                    let raw = rustix::fs::statat(
                        &listed,
                        entry.file_name().as_os_str(),
                        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
                    )
                    .expect("statat");
                    assert_eq!(raw_stat(&raw), expected, "{:?}", entry.path());
                }
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
