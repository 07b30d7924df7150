//! What the rest of the crate asks a repository, in the project's own types:
//! objects, config, history walks, the index and its stat data, shallow
//! boundaries, git's own operations in progress and the notes tree. Callers
//! never hold gix's handles (tests/architecture.rs checks that gix is named
//! only under src/git/).

use std::path::{Path, PathBuf};

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::objs::tree::EntryKind;

use super::{Git, GitContext, GitError};

/// An operation git itself has in progress in the repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InProgress {
    Merge,
    Rebase,
    CherryPick,
    Revert,
    Bisect,
    /// `git am`.
    ApplyMailbox,
}

/// One entry of the index, with whether its stat data still vouches for
/// the worktree file (as git decides before hashing it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    pub path: String,
    pub id: ObjectId,
    /// The worktree file's stat data matches the entry and is not racy.
    pub stat_clean: bool,
}

/// The notes tree of a notes commit, for looking up and editing notes.
pub struct NotesTree(gix::note::plumbing::State);

/// A commit met on a history walk, with its parents.
pub type WalkedCommit = (ObjectId, Vec<ObjectId>);

/// The time of a signature or commit.
pub type Time = gix::date::Time;

impl Git {
    /// Opens the repository at `path` (any repository: a local module
    /// source, not a project).
    pub fn open_path(path: &Path) -> Result<Git, GitError> {
        let repo = gix::open(path).ctx(|| format!("open the repository `{}`", path.display()))?;
        Ok(Git::wrap(repo))
    }

    /// The worktree git discovers from `dir` (honouring `GIT_DIR` and
    /// `GIT_WORK_TREE`), if any.
    pub fn discover_workdir(dir: &Path) -> Option<PathBuf> {
        let repo = gix::discover_with_environment_overrides(dir).ok()?;
        repo.workdir().map(Path::to_owned)
    }

    /// The worktree root, `None` for a bare repository.
    pub fn workdir_if_any(&self) -> Option<&Path> {
        self.repo.workdir()
    }

    /// The index file (the one `GIT_INDEX_FILE` names, if set).
    pub fn index_path(&self) -> PathBuf {
        self.repo.index_path()
    }

    pub fn has_object(&self, id: ObjectId) -> bool {
        self.repo.has_object(id)
    }

    /// The size of an object, from its header only.
    pub fn object_size(&self, id: ObjectId) -> Result<u64, GitError> {
        Ok(self
            .repo
            .find_header(id)
            .ctx(|| format!("read object {id}"))?
            .size())
    }

    /// The id a blob of `data` has, without writing it.
    pub fn hash_blob(&self, data: &[u8]) -> Option<ObjectId> {
        gix::objs::compute_hash(self.repo.object_hash(), gix::objs::Kind::Blob, data).ok()
    }

    /// The direct entries of `tree`: (name, kind, id), names lossily decoded.
    pub fn tree_entries_lossy(
        &self,
        tree: ObjectId,
    ) -> Result<Vec<(String, EntryKind, ObjectId)>, GitError> {
        Ok(self
            .tree_entries_raw(tree)?
            .into_iter()
            .map(|(name, kind, id)| (String::from_utf8_lossy(&name).into_owned(), kind, id))
            .collect())
    }

    /// The direct entries of `tree` with their names as stored (bytes: an
    /// untrusted tree may hold names that are not UTF-8).
    pub fn tree_entries_raw(
        &self,
        tree: ObjectId,
    ) -> Result<Vec<(Vec<u8>, EntryKind, ObjectId)>, GitError> {
        let obj = self
            .repo
            .find_object(tree)
            .ctx(|| format!("read tree {tree}"))?;
        let tree_obj = obj.into_tree();
        let decoded = tree_obj.decode().ctx(|| format!("decode tree {tree}"))?;
        Ok(decoded
            .entries
            .iter()
            .map(|e| (e.filename.to_vec(), e.mode.kind(), e.oid.to_owned()))
            .collect())
    }

    /// The commit `id` names, peeling tags.
    pub fn peel_to_commit(&self, id: ObjectId) -> Result<ObjectId, GitError> {
        Ok(self
            .repo
            .find_object(id)
            .map_err(|e| GitError::new(format!("read {id}"), e))?
            .peel_to_commit()
            .map_err(|e| GitError::new(format!("read {id} as a commit"), e))?
            .id)
    }

    /// The commit a revision (`main`, `HEAD~2`, a hex id, a tag) names, if
    /// it names one.
    pub fn rev_parse_commit(&self, spec: &str) -> Option<ObjectId> {
        Some(
            self.repo
                .rev_parse_single(spec)
                .ok()?
                .object()
                .ok()?
                .peel_to_commit()
                .ok()?
                .id,
        )
    }

    /// The committer time of a commit, if it can be read.
    pub fn commit_time(&self, id: ObjectId) -> Option<Time> {
        self.repo.find_commit(id).ok()?.time().ok()
    }

    /// Every commit reachable from `tip` and from none of `hidden`, with its
    /// parents, newest first. The last item is an error when the walk could
    /// not go on (a shallow boundary, a missing object).
    pub fn walk(
        &self,
        tip: ObjectId,
        hidden: &[ObjectId],
    ) -> Result<Vec<Result<WalkedCommit, GitError>>, GitError> {
        let walk = self
            .repo
            .rev_walk([tip])
            .with_hidden(hidden.iter().copied())
            .all()
            .ctx(|| format!("walk the history of {tip}"))?;
        let mut out = Vec::new();
        for info in walk {
            let item = info
                .map(|i| (i.id, i.parent_ids.to_vec()))
                .ctx(|| format!("walk the history of {tip}"));
            let stop = item.is_err();
            out.push(item);
            if stop {
                break;
            }
        }
        Ok(out)
    }

    /// The best common ancestor of two commits, if they have one.
    pub fn merge_base(&self, a: ObjectId, b: ObjectId) -> Option<ObjectId> {
        match self.repo.merge_base(a, b) {
            Ok(Some(id)) => Some(id.detach()),
            _ => None,
        }
    }

    /// Whether the repository is a shallow clone.
    pub fn is_shallow(&self) -> bool {
        self.repo.is_shallow().unwrap_or(false)
    }

    /// The commits at a shallow clone's boundary (their parents are missing).
    pub fn shallow_commits(&self) -> Vec<ObjectId> {
        match self.repo.shallow_commits() {
            Ok(Some(commits)) => commits.iter().copied().collect(),
            _ => Vec::new(),
        }
    }

    /// A string value of the repository's config (all scopes), empty
    /// values included (`config_string` leaves them out).
    pub fn config_string_raw(&self, key: &str) -> Option<String> {
        self.repo
            .config_snapshot()
            .string(key)
            .map(|v| v.to_str_lossy().into_owned())
    }

    /// Every value of a multi-valued config key (all scopes).
    pub fn config_strings(&self, key: &str) -> Vec<String> {
        self.repo
            .config_snapshot()
            .strings(key)
            .unwrap_or_default()
            .into_iter()
            .map(|v| v.to_str_lossy().into_owned())
            .collect()
    }

    /// Every value of `key` with the base relative paths in it are read
    /// against (the worktree, or the git dir of a bare repository).
    pub fn config_strings_with_base(&self, key: &str) -> (Vec<String>, PathBuf) {
        let base = self
            .repo
            .workdir()
            .unwrap_or_else(|| self.repo.git_dir())
            .to_owned();
        (self.config_strings(key), base)
    }

    /// An integer value of the repository's config.
    pub fn config_integer(&self, key: &str) -> Option<i64> {
        self.repo.config_snapshot().integer(key)
    }

    /// Whether a remote of that name is configured.
    pub fn has_remote(&self, name: &str) -> bool {
        self.repo.try_find_remote(name).is_some()
    }

    /// What git itself is in the middle of, if anything.
    pub fn in_progress(&self) -> Option<InProgress> {
        use gix::state::InProgress as G;
        Some(match self.repo.state()? {
            G::Merge => InProgress::Merge,
            G::Rebase | G::RebaseInteractive | G::ApplyMailboxRebase => InProgress::Rebase,
            G::CherryPick | G::CherryPickSequence => InProgress::CherryPick,
            G::Revert | G::RevertSequence => InProgress::Revert,
            G::Bisect => InProgress::Bisect,
            G::ApplyMailbox => InProgress::ApplyMailbox,
        })
    }

    /// Another handle on the same repository (for a session that cleans up
    /// after the command's own handle is gone).
    /// It writes objects as they come, even when this one buffers them.
    pub fn handle(&self) -> Git {
        let mut repo = self.repo.clone();
        repo.objects.take_object_memory();
        Git::wrap(repo)
    }

    /// The same repository with new objects kept in memory: reads see them,
    /// nothing is written to the object database.
    pub fn with_object_memory(&self) -> Git {
        Git::wrap(self.repo.clone().with_object_memory())
    }

    /// The index (without verifying its checksum, as git reads it: SHA-1
    /// of the whole file was a tenth of a small project's `status`);
    /// `None` when there is no index file.
    pub fn index_if_any(&self) -> Result<Option<gix::index::State>, GitError> {
        if !self.index_path().exists() {
            return Ok(None);
        }
        self.read_index_fast().map(Some)
    }

    /// One walk of `dir/` against `index` (see [`super::scan`]); `None`
    /// when a directory there cannot be listed.
    pub fn scan_tracked_under(
        &self,
        dir: &str,
        index: &gix::index::State,
    ) -> Option<super::scan::TrackedScan> {
        super::scan::scan(&self.workdir(), dir, index, true)
    }

    /// The entries of `index` whose path `keep` accepts, with their stat
    /// check: from `scanned` for the paths it covers, else by `lstat`.
    pub fn index_entries(
        &self,
        index: &gix::index::State,
        keep: impl Fn(&str) -> bool,
        scanned: Option<&super::scan::TrackedScan>,
    ) -> Vec<IndexEntry> {
        let workdir = self.workdir();
        // Paths are built in one buffer (`Path::join` per entry cost more
        // than the lstat), from a UTF-8 worktree path; else joined.
        let base = workdir
            .to_str()
            .map(|w| format!("{}/", w.trim_end_matches('/')));
        let mut buf = String::new();
        let stat_opts = gix::index::entry::stat::Options::default();
        let index_time = index.timestamp();
        let mut out = Vec::new();
        let is_clean = |e: &gix::index::Entry, st: &gix::index::entry::Stat| {
            e.stat.matches(st, stat_opts) && !e.stat.is_racy(index_time, stat_opts)
        };
        for e in index.entries() {
            let raw = e.path(index);
            let path = raw.to_str_lossy();
            if !keep(&path) {
                continue;
            }
            let path = path.into_owned();
            if let Some(found) = scanned.and_then(|scan| scan.stat_of(raw)) {
                out.push(IndexEntry {
                    stat_clean: found.is_some_and(|st| is_clean(e, st)),
                    path,
                    id: e.id,
                });
                continue;
            }
            let joined;
            let full = match &base {
                Some(base) => {
                    buf.clear();
                    buf.push_str(base);
                    buf.push_str(&path);
                    Path::new(buf.as_str())
                }
                None => {
                    joined = workdir.join(&path);
                    joined.as_path()
                }
            };
            // Like git: an entry whose stat data still matches, and is not racy, is clean.
            let stat_clean = gix::index::fs::Metadata::from_path_no_follow(full)
                .ok()
                .and_then(|m| gix::index::entry::Stat::from_fs(&m).ok())
                .is_some_and(|st| is_clean(e, &st));
            out.push(IndexEntry {
                path,
                id: e.id,
                stat_clean,
            });
        }
        out
    }

    /// Untracked files under `dir` as git sees them, against `index`.
    pub fn untracked_paths_under(
        &self,
        dir: &str,
        index: &gix::index::State,
        scanned: Option<&super::scan::TrackedScan>,
    ) -> Result<Vec<String>, GitError> {
        self.untracked_under(dir, index, scanned)
    }

    /// The paths under `dir/` that the index tracks or git sees as
    /// untracked (ignored files left out), sorted.
    pub fn paths_under(&self, dir: &str) -> Result<Vec<String>, GitError> {
        let index = self
            .repo
            .open_index()
            .map_err(|e| GitError::new("read the index", e))?;
        let slash = format!("{dir}/");
        let mut paths: Vec<String> = index
            .entries()
            .iter()
            .map(|e| e.path(&index).to_str_lossy().into_owned())
            .filter(|p| p.starts_with(&slash))
            .collect();
        paths.extend(self.untracked_under(dir, &index, None)?);
        paths.sort();
        paths.dedup();
        Ok(paths)
    }

    /// The notes tree of `notes_commit` (empty without one).
    pub fn notes_tree(&self, notes_commit: Option<ObjectId>) -> Result<NotesTree, GitError> {
        let root = match notes_commit {
            Some(c) => self.tree_of(c)?,
            None => self.empty_tree(),
        };
        gix::note::plumbing::State::new(root, &self.repo.objects)
            .map(NotesTree)
            .ctx(|| format!("read the notes tree {root}"))
    }

    /// The blob of the note on `commit` in `tree`, if any.
    pub fn note_of(
        &self,
        tree: &mut NotesTree,
        commit: ObjectId,
    ) -> Result<Option<ObjectId>, GitError> {
        tree.0
            .get(&commit, &self.repo.objects)
            .ctx(|| format!("look up the note of {commit}"))
    }

    /// Sets the note on `commit` to `blob` in `tree` (objects written only).
    pub fn set_note(
        &self,
        tree: &mut NotesTree,
        commit: ObjectId,
        blob: ObjectId,
    ) -> Result<(), GitError> {
        tree.0
            .edit(commit, Some(blob), &self.repo.objects)
            .map(|_| ())
            .ctx(|| format!("add the note of {commit}"))
    }

    /// Writes the notes tree; returns its root tree.
    pub fn write_notes_tree(&self, mut tree: NotesTree) -> Result<ObjectId, GitError> {
        tree.0
            .write(&self.repo.objects)
            .ctx(|| "write the notes tree".into())
    }
}

/// The SHA-1 blob id of `data` (no repository needed: for recognising
/// known file contents by their hash).
pub fn sha1_blob_id(data: &[u8]) -> Option<ObjectId> {
    gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::objs::Kind::Blob, data).ok()
}

/// Whether `name` is a valid full ref name (`refs/heads/x`), as git checks it.
pub fn is_valid_ref_name(name: &str) -> bool {
    gix::refs::FullName::try_from(name).is_ok()
}

/// The user's home directory, as git finds it (for `~/` in config paths).
pub fn home_dir() -> Option<PathBuf> {
    gix::path::env::home_dir()
}

/// A string value of the global and system git config (no repository).
pub fn global_config_string(key: &str) -> Option<String> {
    let globals = gix::config::File::from_globals().ok()?;
    globals.string(key).map(|v| v.to_string())
}

/// Every value of `key` in the config git reads at `cwd`: the repository's
/// (with its worktree or git dir as the base for relative paths) or, outside
/// one, the global and system config (`cwd` as the base).
pub fn config_strings_at(cwd: &Path, key: &str) -> (Vec<String>, PathBuf) {
    if let Ok(repo) = gix::discover(cwd) {
        let base = repo.workdir().unwrap_or_else(|| repo.git_dir()).to_owned();
        let values = repo
            .config_snapshot()
            .plumbing()
            .strings(key)
            .unwrap_or_default()
            .into_iter()
            .map(|v| v.to_string())
            .collect();
        return (values, base);
    }
    let values = match gix::config::File::from_globals() {
        Ok(file) => file
            .strings(key)
            .unwrap_or_default()
            .into_iter()
            .map(|v| v.to_string())
            .collect(),
        Err(_) => Vec::new(),
    };
    (values, cwd.to_owned())
}

/// What a revision names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revision {
    NotFound,
    /// It names an object that does not peel to a commit (a tree, a blob).
    NotACommit,
    Commit(ObjectId),
}

impl Git {
    /// Resolves a revision (`main`, `v1.2.0`, a hex id) to a commit.
    pub fn revision(&self, spec: &str) -> Result<Revision, GitError> {
        let Ok(id) = self.repo.rev_parse_single(spec) else {
            return Ok(Revision::NotFound);
        };
        let object = id.object().ctx(|| format!("read {spec}"))?;
        Ok(match object.peel_to_commit() {
            Ok(c) => Revision::Commit(c.id),
            Err(_) => Revision::NotACommit,
        })
    }

    /// Branch and tag short names, sorted (for messages).
    pub fn branch_and_tag_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        if let Ok(platform) = self.repo.references() {
            for prefix in ["refs/heads/", "refs/tags/"] {
                if let Ok(iter) = platform.prefixed(prefix) {
                    for r in iter.flatten() {
                        names.push(r.name().shorten().to_string());
                    }
                }
            }
        }
        names.sort();
        names.dedup();
        names
    }
}

/// Whether `path` is an entry of `index` (stage 0 or any).
pub fn index_contains(index: &gix::index::State, path: &str) -> bool {
    index
        .entry_by_path(gix::bstr::BStr::new(path.as_bytes()))
        .is_some()
}
