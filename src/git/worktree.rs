//! Moving the worktree and index between two trees, touching only the
//! paths that differ, so everything else the user has (staged or not) stays.
//!
//! gix has no "read-tree -u -m"; this is the spike's `sync_worktree`, made
//! path-limited.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use gix::ObjectId;
use gix::bstr::{BString, ByteSlice};
use gix::objs::tree::{EntryKind, EntryMode};

use super::tree::{Leaf, TreeChange};
use super::{Git, GitContext, GitError};

/// What the worktree holds at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDisk {
    Absent,
    Leaf(Leaf),
    /// A directory or something else that is not a file or symlink.
    Other,
}

/// Why a path cannot be written safely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    pub path: String,
    pub reason: &'static str,
}

impl std::fmt::Display for Blocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.path, self.reason)
    }
}

impl Git {
    /// Checks that every changed path is exactly as the old tree has it, in
    /// the worktree and in the index, so writing it loses nothing. `adopted`
    /// paths are not checked: their current content is what gets committed,
    /// and the journal keeps a copy of them.
    pub fn check_clean(
        &self,
        changes: &[TreeChange],
        adopted: &[String],
    ) -> Result<Vec<Blocked>, GitError> {
        let workdir = self.workdir();
        let index = self.index_or_empty()?;
        let mut blocked = Vec::new();
        let mut checked_dirs = BTreeSet::new();
        let conflicts: BTreeSet<Vec<u8>> = index
            .entries()
            .iter()
            .filter(|e| e.stage_raw() != 0)
            .map(|e| e.path(&index).to_vec())
            .collect();
        for c in changes {
            if adopted.contains(&c.path) {
                continue;
            }
            let full = workdir.join(&c.path);
            if let Some(parent) = Path::new(&c.path).parent() {
                let mut dir = workdir.clone();
                for comp in parent.components() {
                    dir.push(comp);
                    if !checked_dirs.insert(dir.clone()) {
                        continue;
                    }
                    match std::fs::symlink_metadata(&dir) {
                        Ok(m) if m.is_dir() => {}
                        Ok(_) => blocked.push(Blocked {
                            path: dir
                                .strip_prefix(&workdir)
                                .unwrap_or(&dir)
                                .display()
                                .to_string(),
                            reason: "is a file or symlink where a directory is needed",
                        }),
                        Err(_) => {}
                    }
                }
            }
            let staged = index
                .entry_by_path(c.path.as_bytes().as_bstr())
                .map(|e| (e.id, e.mode, e.stage_raw()));
            let conflicted = conflicts.contains(c.path.as_bytes());
            if conflicted {
                blocked.push(Blocked {
                    path: c.path.clone(),
                    reason: "has an unresolved merge conflict",
                });
                continue;
            }
            match c.old {
                Some(old) => {
                    let index_ok = staged.is_some_and(|(id, mode, _)| {
                        id == old.id
                            && mode.to_tree_entry_mode().map(|m| m.kind()) == Some(old.kind)
                    });
                    if !index_ok {
                        blocked.push(Blocked {
                            path: c.path.clone(),
                            reason: "has staged changes",
                        });
                    } else if !self.worktree_matches(&full, old)? {
                        blocked.push(Blocked {
                            path: c.path.clone(),
                            reason: "has uncommitted changes",
                        });
                    }
                }
                None => {
                    if staged.is_some() {
                        blocked.push(Blocked {
                            path: c.path.clone(),
                            reason: "is staged but not committed",
                        });
                    } else if std::fs::symlink_metadata(&full).is_ok() {
                        blocked.push(Blocked {
                            path: c.path.clone(),
                            reason: "exists but is not committed",
                        });
                    }
                }
            }
        }
        blocked.sort_by(|a, b| a.path.cmp(&b.path));
        blocked.dedup();
        Ok(blocked)
    }

    fn worktree_matches(&self, path: &Path, leaf: Leaf) -> Result<bool, GitError> {
        let meta = match std::fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(_) => return Ok(false),
        };
        let (kind, data) = if meta.file_type().is_symlink() {
            let target =
                std::fs::read_link(path).ctx(|| format!("read link `{}`", path.display()))?;
            (
                EntryKind::Link,
                target.into_os_string().into_encoded_bytes(),
            )
        } else if meta.is_file() {
            use std::os::unix::fs::PermissionsExt;
            let exec = meta.permissions().mode() & 0o111 != 0;
            let data = fs_err::read(path).ctx(|| format!("read `{}`", path.display()))?;
            (
                if exec {
                    EntryKind::BlobExecutable
                } else {
                    EntryKind::Blob
                },
                data,
            )
        } else {
            return Ok(false);
        };
        let id = gix::objs::compute_hash(self.repo.object_hash(), gix::objs::Kind::Blob, &data)
            .ctx(|| format!("hash `{}`", path.display()))?;
        Ok(id == leaf.id && kind == leaf.kind)
    }

    fn index_or_empty(&self) -> Result<gix::index::File, GitError> {
        let path = self.repo.index_path();
        if path.exists() {
            self.repo
                .open_index()
                .ctx(|| format!("read the index `{}`", path.display()))
        } else {
            Ok(gix::index::File::from_state(
                gix::index::State::new(self.repo.object_hash()),
                path,
            ))
        }
    }

    /// What the worktree holds at `rel` now.
    pub fn on_disk(&self, rel: &str) -> Result<OnDisk, GitError> {
        let path = self.workdir().join(rel);
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(OnDisk::Absent),
            Err(e) if e.raw_os_error() == Some(20) => return Ok(OnDisk::Absent), // ENOTDIR
            Err(e) => return Err(GitError::new(format!("inspect `{}`", path.display()), e)),
        };
        let (kind, data) = if meta.file_type().is_symlink() {
            let target =
                std::fs::read_link(&path).ctx(|| format!("read link `{}`", path.display()))?;
            (
                EntryKind::Link,
                target.into_os_string().into_encoded_bytes(),
            )
        } else if meta.is_file() {
            use std::os::unix::fs::PermissionsExt;
            let exec = meta.permissions().mode() & 0o111 != 0;
            let data = fs_err::read(&path).ctx(|| format!("read `{}`", path.display()))?;
            let kind = if exec {
                EntryKind::BlobExecutable
            } else {
                EntryKind::Blob
            };
            (kind, data)
        } else {
            return Ok(OnDisk::Other);
        };
        let id = gix::objs::compute_hash(self.repo.object_hash(), gix::objs::Kind::Blob, &data)
            .ctx(|| format!("hash `{}`", path.display()))?;
        Ok(OnDisk::Leaf(Leaf { id, kind }))
    }

    /// Untracked files under `dir` as git sees them: `.gitignore` at every
    /// level, `.git/info/exclude` and `core.excludesFile` are honoured.
    /// `scanned` is a walk of `dir` already made, if any.
    pub fn untracked_under(
        &self,
        dir: &str,
        index: &gix::index::State,
        scanned: Option<&super::scan::TrackedScan>,
    ) -> Result<Vec<String>, GitError> {
        use gix::dir::walk::EmissionMode;
        let root = self.workdir().join(dir);
        if !root.is_dir() {
            return Ok(Vec::new());
        }
        // Nothing on disk the index lacks, or only what ignore rules
        // exclude: nothing untracked (most of a small project's `status`,
        // with or without `__pycache__`s). Anything else (an untracked
        // file, a nested repository, an unreadable directory, too many to
        // ask about) asks the full walk.
        let nothing_untracked = match scanned {
            Some(scan) if scan.prefix == format!("{dir}/") => {
                scan.all_tracked
                    || scan
                        .untracked
                        .as_deref()
                        .is_some_and(|list| self.all_ignored(index, list))
            }
            _ => super::scan::scan(&self.workdir(), dir, index, false)
                .is_some_and(|scan| scan.all_tracked),
        };
        if nothing_untracked {
            return Ok(Vec::new());
        }
        let options = self
            .repo
            .dirwalk_options()
            .ctx(|| "prepare a directory walk".into())?
            .emit_untracked(EmissionMode::Matching)
            .emit_ignored(None)
            .recurse_repositories(false);
        let mut collect = gix::dir::walk::delegate::Collect::default();
        self.repo
            .dirwalk(
                index,
                [gix::bstr::BString::from(format!("{dir}/"))],
                &AtomicBool::new(false),
                options,
                &mut collect,
            )
            .ctx(|| format!("list untracked files under `{dir}`"))?;
        Ok(collect
            .into_entries_by_path()
            .into_iter()
            .filter(|(e, _)| e.status == gix::dir::entry::Status::Untracked)
            .map(|(e, _)| e.rela_path.to_string())
            .collect())
    }

    /// Whether git's ignore rules (`.gitignore` at every level,
    /// `.git/info/exclude`, `core.excludesFile`) exclude each of `paths`
    /// (with whether it is a directory), as git's own walk asks when it
    /// meets them; a nested repository is never taken for ignored here.
    fn all_ignored(&self, index: &gix::index::State, paths: &[(BString, bool)]) -> bool {
        if paths
            .iter()
            .any(|(p, _)| p.split_str("/").any(|part| part == b".git"))
        {
            return false;
        }
        let Ok(mut excludes) = self.repo.excludes(index, None, Default::default()) else {
            return false;
        };
        paths.iter().all(|(path, is_dir)| {
            let mode = if *is_dir {
                gix::index::entry::Mode::DIR
            } else {
                gix::index::entry::Mode::FILE
            };
            excludes
                .at_entry(path.as_bstr(), Some(mode))
                .is_ok_and(|platform| platform.is_excluded())
        })
    }

    /// Writes leaves into the worktree, overwriting what is there.
    pub fn write_leaves<'a>(
        &self,
        leaves: impl Iterator<Item = (&'a str, Leaf)>,
    ) -> Result<(), GitError> {
        self.checkout_leaves(&self.workdir(), leaves)?;
        Ok(())
    }

    /// Deletes a file (and the directories it leaves empty).
    pub fn remove_path(&self, rel: &str) -> Result<(), GitError> {
        remove_file_and_empty_parents(&self.workdir(), rel)
    }

    /// The current index with `updates` applied, serialized. Stat data is
    /// read from the worktree for `written` paths (which hold exactly the new
    /// content) and for others whose content hashes to it; any other entry
    /// gets no stat data, so git compares its content instead of trusting it.
    pub fn index_bytes_with(
        &self,
        updates: &[(String, Option<Leaf>)],
        written: &BTreeSet<&str>,
    ) -> Result<Vec<u8>, GitError> {
        let workdir = self.workdir();
        let mut index = self.index_or_empty()?;
        let changed: BTreeSet<&[u8]> = updates.iter().map(|(p, _)| p.as_bytes()).collect();
        index.remove_entries(|_, path, _| changed.contains(path.as_bytes()));
        for (path, leaf) in updates {
            let Some(leaf) = leaf else { continue };
            let full = workdir.join(path);
            let matches = written.contains(path.as_str())
                || matches!(self.on_disk(path)?, OnDisk::Leaf(l) if l == *leaf);
            let stat = if matches {
                gix::index::fs::Metadata::from_path_no_follow(&full)
                    .ok()
                    .and_then(|m| gix::index::entry::Stat::from_fs(&m).ok())
                    .unwrap_or_default()
            } else {
                Default::default()
            };
            index.dangerously_push_entry(
                stat,
                leaf.id,
                gix::index::entry::Flags::empty(),
                gix::index::entry::Mode::from(EntryMode::from(leaf.kind)),
                path.as_bytes().as_bstr(),
            );
        }
        index.sort_entries();
        index.remove_tree();
        let mut out = Vec::new();
        index
            .write_to(&mut out, Default::default())
            .ctx(|| "serialize the index".into())?;
        Ok(out)
    }

    /// Replaces the index file as git does: through `index.lock` and a rename.
    /// Whether two index files hold the same entries (path, stage, mode,
    /// object) and differ at most in stat data or extensions, as after a
    /// `git status` refreshed one. Unreadable files compare unequal.
    pub fn same_index_entries(&self, a: &Path, b: &Path) -> bool {
        let entries = |path: &Path| {
            let file =
                gix::index::File::at(path, self.repo.object_hash(), false, Default::default())
                    .ok()?;
            Some(
                file.entries()
                    .iter()
                    .map(|e| (e.path(&file).to_owned(), e.stage_raw(), e.mode.bits(), e.id))
                    .collect::<Vec<_>>(),
            )
        };
        match (entries(a), entries(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        }
    }

    /// Takes git's `index.lock`, so that nobody (git included) writes the
    /// index between the caller's read and its write. Which lock file is
    /// ours is written down beside it ([`IndexLockOwner`]), so that a lock
    /// a killed command left can later be told from a live git's.
    pub fn lock_index(&self) -> Result<IndexLock, GitError> {
        let path = self.repo.index_path();
        let lock = path.with_extension("lock");
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock)
            .ctx(|| {
                format!(
                    "create `{}` (another git process may be running; if none is, delete it)",
                    lock.display()
                )
            })?;
        let owner = self.index_lock_owner_path();
        let recorded = IndexLockOwner::of(&file).is_some_and(|o| o.write(&owner));
        Ok(IndexLock {
            file: Some(file),
            lock,
            path,
            owner: recorded.then_some(owner),
        })
    }

    fn index_lock_owner_path(&self) -> PathBuf {
        self.repo
            .git_dir()
            .join("quickscale")
            .join("index-lock-owner")
    }

    /// Removes the `index.lock` a killed command of this tool left, and
    /// only that one: the file must be the very one it created (same
    /// inode and creation time), so a lock git took since is never
    /// touched. Callers hold the tool's own write lock, so no live
    /// command of the tool holds `index.lock`. Returns the removed path.
    pub fn clear_stale_index_lock(&self) -> Result<Option<PathBuf>, GitError> {
        let owner_path = self.index_lock_owner_path();
        let Some(owner) = IndexLockOwner::read(&owner_path) else {
            return Ok(None);
        };
        let lock = self.repo.index_path().with_extension("lock");
        let ours = std::fs::symlink_metadata(&lock)
            .ok()
            .and_then(|m| IndexLockOwner::from_metadata(&m))
            .is_some_and(|now| now == owner);
        if ours {
            match std::fs::remove_file(&lock) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(GitError::new(
                        format!("remove the stale `{}`", lock.display()),
                        e,
                    ));
                }
            }
        }
        match std::fs::remove_file(&owner_path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(GitError::new(
                    format!("remove `{}`", owner_path.display()),
                    e,
                ));
            }
        }
        Ok(ours.then_some(lock))
    }

    pub fn write_index_bytes(&self, bytes: &[u8]) -> Result<(), GitError> {
        self.lock_index()?.commit(bytes)
    }

    /// Writes the new side of every change into the worktree and index.
    /// `on_file` is called after each batch, for crash-test hooks.
    pub fn apply_changes(
        &self,
        changes: &[TreeChange],
        on_written: &mut dyn FnMut(usize),
    ) -> Result<(), GitError> {
        let workdir = self.workdir();
        let mut index = self.index_or_empty()?;
        let written = self.checkout_leaves(
            &workdir,
            changes
                .iter()
                .filter_map(|c| c.new.map(|leaf| (c.path.as_str(), leaf))),
        )?;
        on_written(written.len());
        for c in changes.iter().filter(|c| c.new.is_none()) {
            remove_file_and_empty_parents(&workdir, &c.path)?;
        }
        let changed: BTreeSet<&[u8]> = changes.iter().map(|c| c.path.as_bytes()).collect();
        index.remove_entries(|_, path, _| changed.contains(path.as_bytes()));
        for (path, stat, id, mode) in written {
            index.dangerously_push_entry(
                stat,
                id,
                gix::index::entry::Flags::empty(),
                mode,
                path.as_bytes().as_bstr(),
            );
        }
        index.sort_entries();
        index.remove_tree();
        index
            .write(Default::default())
            .ctx(|| "write the index".into())?;
        Ok(())
    }

    /// Puts the old side of every change back into the worktree (rollback);
    /// paths in `keep` (files the user had before) are left alone.
    pub fn restore_changes(&self, changes: &[TreeChange], keep: &[String]) -> Result<(), GitError> {
        let workdir = self.workdir();
        self.checkout_leaves(
            &workdir,
            changes
                .iter()
                .filter(|c| !keep.contains(&c.path))
                .filter_map(|c| c.old.map(|leaf| (c.path.as_str(), leaf))),
        )?;
        for c in changes
            .iter()
            .filter(|c| c.old.is_none() && !keep.contains(&c.path))
        {
            remove_file_and_empty_parents(&workdir, &c.path)?;
        }
        Ok(())
    }

    /// Checks out the given leaves, overwriting what is there; returns the
    /// index data (path, stat, id, mode) of each written entry.
    fn checkout_leaves<'a>(
        &self,
        workdir: &Path,
        leaves: impl Iterator<Item = (&'a str, Leaf)>,
    ) -> Result<
        Vec<(
            String,
            gix::index::entry::Stat,
            ObjectId,
            gix::index::entry::Mode,
        )>,
        GitError,
    > {
        let mut subset = gix::index::State::new(self.repo.object_hash());
        for (path, leaf) in leaves {
            let mode = gix::index::entry::Mode::from(EntryMode::from(leaf.kind));
            subset.dangerously_push_entry(
                Default::default(),
                leaf.id,
                gix::index::entry::Flags::empty(),
                mode,
                path.as_bytes().as_bstr(),
            );
        }
        if subset.entries().is_empty() {
            return Ok(Vec::new());
        }
        subset.sort_entries();
        let mut opts = self
            .repo
            .checkout_options(gix::worktree::stack::state::attributes::Source::IdMapping)
            .ctx(|| "prepare a checkout".into())?;
        opts.destination_is_initially_empty = false;
        opts.overwrite_existing = true;
        // One thread unless `checkout.workers` says otherwise, as git: the
        // files are a few hundred, and a second thread made an `apply`
        // costlier (threads, contention on the directories it creates).
        if self.config_string("checkout.workers").is_none() {
            opts.thread_limit = Some(1);
        }
        let objects = self
            .repo
            .objects
            .clone()
            .into_arc()
            .ctx(|| "share the object database".into())?;
        let outcome = gix::worktree::state::checkout(
            &mut subset,
            workdir,
            objects,
            &gix::progress::Discard,
            &gix::progress::Discard,
            &AtomicBool::new(false),
            opts,
        )
        .ctx(|| format!("write files into `{}`", workdir.display()))?;
        if let Some(e) = outcome.errors.first() {
            return Err(GitError::new(
                format!("write `{}`", e.path),
                e.error.to_string(),
            ));
        }
        if let Some(c) = outcome.collisions.first() {
            return Err(GitError::new(
                format!("write `{}`", c.path),
                "it collides with another path",
            ));
        }
        Ok(subset
            .entries()
            .iter()
            .map(|e| (e.path(&subset).to_string(), e.stat, e.id, e.mode))
            .collect())
    }
}

fn remove_file_and_empty_parents(workdir: &Path, rel: &str) -> Result<(), GitError> {
    let path = workdir.join(rel);
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(GitError::new(format!("remove `{}`", path.display()), e)),
    }
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d == workdir || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
    Ok(())
}

/// Which `index.lock` file this tool created: its inode and creation
/// time, which a file git creates later at the same path cannot share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct IndexLockOwner {
    dev: u64,
    ino: u64,
    created_nanos: u128,
}

impl IndexLockOwner {
    fn of(file: &std::fs::File) -> Option<IndexLockOwner> {
        Self::from_metadata(&file.metadata().ok()?)
    }

    #[cfg(unix)]
    fn from_metadata(meta: &std::fs::Metadata) -> Option<IndexLockOwner> {
        use std::os::unix::fs::MetadataExt;
        let created = meta.created().ok()?;
        let created_nanos = created
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_nanos();
        Some(IndexLockOwner {
            dev: meta.dev(),
            ino: meta.ino(),
            created_nanos,
        })
    }

    /// Without inode numbers a lock cannot be told apart: never recorded.
    #[cfg(not(unix))]
    fn from_metadata(_meta: &std::fs::Metadata) -> Option<IndexLockOwner> {
        None
    }

    /// Best effort: without the record, a killed command's lock is left
    /// for the user to delete, as git's own are.
    fn write(&self, path: &Path) -> bool {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let text = format!("{} {} {}\n", self.dev, self.ino, self.created_nanos);
        std::fs::write(path, text).is_ok()
    }

    fn read(path: &Path) -> Option<IndexLockOwner> {
        let text = std::fs::read_to_string(path).ok()?;
        let mut fields = text.split_whitespace();
        let owner = IndexLockOwner {
            dev: fields.next()?.parse().ok()?,
            ino: fields.next()?.parse().ok()?,
            created_nanos: fields.next()?.parse().ok()?,
        };
        fields.next().is_none().then_some(owner)
    }
}

/// git's `index.lock`, held: [`IndexLock::commit`] replaces the index with
/// new bytes; dropped uncommitted, the index stays as it was.
#[derive(Debug)]
pub struct IndexLock {
    file: Option<std::fs::File>,
    lock: PathBuf,
    path: PathBuf,
    /// The record of which lock file is ours, removed once it is released.
    owner: Option<PathBuf>,
}

impl IndexLock {
    /// The index as it is now (`None`: there is none), read under the lock.
    pub fn current(&self) -> Result<Option<Vec<u8>>, GitError> {
        crate::fsutil::read_if_exists(&self.path)
            .map_err(|e| GitError::new(format!("read `{}`", self.path.display()), e))
    }

    /// Writes `bytes` as the new index and releases the lock.
    pub fn commit(mut self, bytes: &[u8]) -> Result<(), GitError> {
        use std::io::Write;
        let Some(mut file) = self.file.take() else {
            return Err(GitError::new("write the index", "the lock was released"));
        };
        let written = file
            .write_all(bytes)
            .and_then(|()| file.sync_all())
            .and_then(|()| std::fs::rename(&self.lock, &self.path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&self.lock);
            self.forget_owner();
            return Err(GitError::new(format!("write `{}`", self.path.display()), e));
        }
        self.forget_owner();
        Ok(())
    }

    fn forget_owner(&mut self) {
        if let Some(owner) = self.owner.take() {
            let _ = std::fs::remove_file(owner);
        }
    }
}

impl Drop for IndexLock {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.lock);
        }
        self.forget_owner();
    }
}

#[cfg(test)]
mod tests {
    //! Which `index.lock` is the tool's: only a lock a killed command of
    //! this tool created is ever removed.
    use crate::git::scratch_repo::ScratchRepo;

    fn scratch() -> ScratchRepo {
        let repo = ScratchRepo::new();
        repo.commit("README.md", "hello\n");
        repo
    }

    #[test]
    fn a_lock_released_normally_leaves_no_record() {
        let repo = scratch();
        let git = repo.open();
        let lock_path = repo.dir.path().join(".git/index.lock");
        let owner = repo.dir.path().join(".git/quickscale/index-lock-owner");
        let lock = git.lock_index().expect("lock");
        assert!(lock_path.exists() && owner.exists());
        let bytes = lock.current().expect("read").expect("index");
        lock.commit(&bytes).expect("commit");
        assert!(!lock_path.exists() && !owner.exists());
        drop(git.lock_index().expect("lock again"));
        assert!(!lock_path.exists() && !owner.exists());
        assert_eq!(git.clear_stale_index_lock().expect("clear"), None);
    }

    #[test]
    fn the_lock_a_killed_command_left_is_cleared_and_git_works_again() {
        let repo = scratch();
        let git = repo.open();
        // A kill: neither released nor removed.
        std::mem::forget(git.lock_index().expect("lock"));
        let lock_path = repo.dir.path().join(".git/index.lock");
        assert!(lock_path.exists());
        let cleared = git.clear_stale_index_lock().expect("clear");
        let cleared = cleared.expect("the killed command's lock is cleared");
        assert_eq!(cleared.file_name(), lock_path.file_name());
        assert!(!lock_path.exists());
        assert!(
            !repo
                .dir
                .path()
                .join(".git/quickscale/index-lock-owner")
                .exists()
        );
        repo.commit("other.txt", "git can write the index again\n");
    }

    #[test]
    fn a_lock_git_took_after_ours_was_removed_is_never_touched() {
        let repo = scratch();
        let git = repo.open();
        std::mem::forget(git.lock_index().expect("lock"));
        let lock_path = repo.dir.path().join(".git/index.lock");
        // The user deleted our lock; git (here: a file in its place, made
        // a moment later) holds the index now.
        std::fs::remove_file(&lock_path).expect("remove");
        std::thread::sleep(std::time::Duration::from_millis(5));
        std::fs::write(&lock_path, "git's\n").expect("git's lock");
        assert_eq!(git.clear_stale_index_lock().expect("clear"), None);
        assert_eq!(
            std::fs::read_to_string(&lock_path).expect("kept"),
            "git's\n"
        );
        assert!(
            !repo
                .dir
                .path()
                .join(".git/quickscale/index-lock-owner")
                .exists()
        );
    }
}
