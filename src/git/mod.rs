//! A thin wrapper over gix: the only module that names it (tests/architecture.rs).
//!
//! Shelling out to `git` is left to what gix cannot do (push), and to the
//! `git upload-pack` that gix itself spawns for local fetches.

mod buffered;
pub mod changes;
pub mod fetch;
mod index_trees;
mod local;
pub mod merge;
pub mod overlay;
mod pack;
pub mod query;
pub mod remote;
pub mod scan;
#[cfg(test)]
mod scratch_repo;
pub mod split;
pub mod subtree;
pub mod sync;
pub mod tree;
pub mod worktree;

/// https fetches (gix through reqwest) need a TLS crypto provider; ring is
/// the one this binary ships. Installed on the first connection, so commands
/// that never touch the network (the hooks, status) do not pay for it.
pub(crate) fn ensure_tls_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // An error only means a provider is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

use std::path::{Path, PathBuf};

/// Object ids, as every layer names commits, trees and blobs.
pub use gix::ObjectId;
/// Byte-string helpers (`lines`, `contains_str`, `to_str_lossy`) for file
/// contents and paths as git stores them.
pub use gix::bstr::ByteSlice;
use gix::bstr::{BStr, BString};
/// The kind of a tree entry (blob, executable, link, tree, submodule).
pub use gix::objs::tree::EntryKind;
use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};
use gix::refs::{FullName, Target};
pub use query::{InProgress, IndexEntry, NotesTree, Time};

/// A git failure with what was being done.
#[derive(Debug, thiserror::Error)]
#[error("git: failed to {action}")]
pub struct GitError {
    pub action: String,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl GitError {
    pub fn new(
        action: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self {
            action: action.into(),
            source: source.into(),
        }
    }
}

/// Adds "what we were doing" to any error.
pub trait GitContext<T> {
    fn ctx(self, action: impl FnOnce() -> String) -> Result<T, GitError>;
}

impl<T, E: Into<Box<dyn std::error::Error + Send + Sync>>> GitContext<T> for Result<T, E> {
    fn ctx(self, action: impl FnOnce() -> String) -> Result<T, GitError> {
        self.map_err(|e| GitError::new(action(), e))
    }
}

/// A repository whose worktree is a project root.
pub struct Git {
    /// Private: callers ask `Git` (query.rs and the other files here).
    repo: gix::Repository,
    /// Set when new objects are kept in memory until
    /// [`Git::write_buffered_objects`] writes them as one pack
    /// (buffered.rs).
    buffered: Option<buffered::Buffered>,
}

/// Decoded objects kept per repository handle. A command looks up paths in
/// the same few trees again and again (HEAD's root tree, `modules/`): without
/// the cache each lookup re-reads and re-inflates them (a `status` read the
/// root tree 32 times). Small, so memory stays below git's.
const OBJECT_CACHE_BYTES: usize = 4 * 1024 * 1024;

/// Pack slots of the object store of a command that writes. gix sizes its
/// slot map once, when the repository is opened (the packs on disk + 10%,
/// at least 32), and a pack written later that finds no free slot makes
/// every lookup fail ("too few index slots"): one `apply` writes a pack per
/// module it fetches, so its 33rd module broke it. Reading commands keep
/// gix's default: the slots cost an allocation each at start and exit,
/// which a no-op `status` or hook would pay on every run.
const WRITE_PACK_SLOTS: usize = 1024;

/// Discovers the repository containing `dir` as git does (honouring
/// `GIT_DIR` and friends); with room for [`WRITE_PACK_SLOTS`] packs when
/// `writes`.
pub(crate) fn discover_repo(dir: &Path, writes: bool) -> Option<gix::Repository> {
    let mut options = gix::sec::trust::Mapping::<gix::open::Options>::default();
    if writes {
        for o in [&mut options.full, &mut options.reduced] {
            *o = std::mem::take(o).object_store_slots(pack_slots());
        }
    }
    gix::ThreadSafeRepository::discover_with_environment_overrides_opts(
        dir,
        Default::default(),
        options,
    )
    .ok()
    .map(Into::into)
}

fn pack_slots() -> gix::odb::store::init::Slots {
    gix::odb::store::init::Slots::AsNeededByDiskState {
        multiplier: 2.0,
        minimum: WRITE_PACK_SLOTS,
    }
}

/// A repository handle with the object cache set (unless configured).
pub(crate) fn with_object_cache(mut repo: gix::Repository) -> gix::Repository {
    repo.object_cache_size_if_unset(OBJECT_CACHE_BYTES);
    repo
}

/// Where HEAD points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadState {
    /// The branch HEAD is on (`None` when detached).
    pub branch: Option<String>,
    /// The commit (`None` when the branch is unborn).
    pub commit: Option<ObjectId>,
}

/// A commit author or committer.
pub type Signature = gix::actor::Signature;

/// One ref update with the value it must replace (compare-and-swap).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefUpdate {
    pub name: String,
    /// `None`: the ref must not exist.
    pub expected: Option<ObjectId>,
    /// `None`: delete the ref.
    pub new: Option<ObjectId>,
}

/// The git config key making rebase and amend carry our notes along.
pub const NOTES_REWRITE_KEY: &str = "notes.rewriteRef";

/// A repository whose worktree contains a project directory without
/// tracking anything in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enclosing {
    /// The enclosing repository's worktree root.
    pub workdir: PathBuf,
    /// The project directory relative to `workdir`, slash-separated.
    pub path: String,
    /// Whether the enclosing repository's ignore rules exclude the project
    /// directory; when not, it shows as an untracked directory there.
    pub ignored: bool,
}

/// The project directory is inside a repository that tracks files in it.
#[derive(Debug, thiserror::Error)]
#[error(
    "it is inside the git repository at `{}`, which tracks {tracked} file(s) under `{path}/`; a project must be at the root of its own repository",
    workdir.display()
)]
pub struct TrackedByEnclosing {
    pub workdir: PathBuf,
    pub path: String,
    pub tracked: usize,
}

impl TrackedByEnclosing {
    pub fn hint(&self) -> String {
        format!(
            "plan the project in a directory that repository does not track, or stop tracking this one (`git -C {} rm -r --cached {}`) and ignore it",
            self.workdir.display(),
            self.path
        )
    }
}

impl GitError {
    /// The next step, when the failure has an obvious one.
    pub fn hint(&self) -> Option<String> {
        self.source
            .downcast_ref::<TrackedByEnclosing>()
            .map(TrackedByEnclosing::hint)
    }
}

/// What git discovery finds for a project directory.
enum Discovered {
    /// A repository whose worktree root is the project directory.
    Root(Box<gix::Repository>),
    /// An enclosing repository that does not track the project directory.
    Enclosing(Enclosing),
    /// No repository at all.
    None,
}

/// Discovers the repository for the project directory `root`. An enclosing
/// repository that tracks files under `root` is an error: the project
/// cannot have a repository of its own there.
fn discover_project(root: &Path) -> Result<Discovered, GitError> {
    let Some(repo) = discover_repo(root, false) else {
        return Ok(Discovered::None);
    };
    let Some(workdir) = repo.workdir() else {
        return Err(GitError::new(
            format!("use `{}`: it is a bare repository", root.display()),
            "a project needs a worktree",
        ));
    };
    let canonical = |p: &Path| {
        p.canonicalize()
            .ctx(|| format!("resolve the path `{}`", p.display()))
    };
    let (workdir, project) = (canonical(workdir)?, canonical(root)?);
    if workdir == project {
        return Ok(Discovered::Root(Box::new(repo)));
    }
    let use_root = || format!("use `{}` as a project", root.display());
    let rel = project.strip_prefix(&workdir).map_err(|_| {
        GitError::new(
            use_root(),
            format!(
                "git found the repository at `{}`, whose worktree does not contain it",
                workdir.display()
            ),
        )
    })?;
    // Index paths are bytes with `/` separators, whatever the platform.
    let rel = gix::path::into_bstr(rel).ctx(use_root)?;
    let key = gix::path::to_unix_separators_on_windows(rel).into_owned();
    let path = key.to_str_lossy().into_owned();
    let index = repo.index_or_empty().ctx(|| {
        format!(
            "read the index of the repository at `{}`",
            workdir.display()
        )
    })?;
    let tracked = tracked_under(&index, key.as_ref());
    if tracked > 0 {
        return Err(GitError::new(
            use_root(),
            TrackedByEnclosing {
                workdir,
                path,
                tracked,
            },
        ));
    }
    let ignored = is_ignored_dir(&repo, &index, key.as_ref()).ctx(|| {
        format!(
            "read the ignore rules of the repository at `{}`",
            workdir.display()
        )
    })?;
    Ok(Discovered::Enclosing(Enclosing {
        workdir,
        path,
        ignored,
    }))
}

/// How many index entries are at `path` or under `path/`.
fn tracked_under(index: &gix::index::State, path: &BStr) -> usize {
    let exact = usize::from(index.entry_index_by_path(path).is_ok());
    let mut dir = BString::from(path);
    dir.push(b'/');
    let under = index.prefixed_entries(dir.as_ref()).map_or(0, <[_]>::len);
    exact + under
}

/// Whether `path` or one of its parent directories is ignored, as git
/// decides for an untracked directory.
fn is_ignored_dir(
    repo: &gix::Repository,
    index: &gix::index::State,
    path: &BStr,
) -> gix::Result<bool> {
    let mut excludes = repo.excludes(
        index,
        None,
        gix::worktree::stack::state::ignore::Source::WorktreeThenIdMappingIfNotSkipped,
    )?;
    let mut prefix = BString::default();
    for part in path.split_str("/") {
        if !prefix.is_empty() {
            prefix.push(b'/');
        }
        prefix.extend_from_slice(part);
        let platform = excludes.at_entry(prefix.as_bstr(), Some(gix::index::entry::Mode::DIR))?;
        if platform.is_excluded() {
            return Ok(true);
        }
    }
    Ok(false)
}

impl Git {
    /// A handle on `repo` that writes objects as they come.
    pub(crate) fn wrap(repo: gix::Repository) -> Git {
        Git {
            repo,
            buffered: None,
        }
    }

    /// Opens the repository whose worktree root is `root`; `Ok(None)` when
    /// `root` has no repository of its own yet: it is in none, or in a
    /// directory that an enclosing repository does not track (apply then
    /// creates one at `root`, as `git init` in a subdirectory would).
    pub fn open_at_root(root: &Path) -> Result<Option<Git>, GitError> {
        Ok(match discover_project(root)? {
            Discovered::Root(repo) => Some(Git::wrap(with_object_cache(*repo))),
            Discovered::Enclosing(_) | Discovered::None => None,
        })
    }

    /// The same repository, reopened with room for the packs a writing
    /// command may add (see [`WRITE_PACK_SLOTS`]); unchanged when it cannot
    /// be reopened (the caller already holds a working handle).
    pub fn for_writing(self) -> Git {
        match discover_repo(&self.workdir(), true) {
            Some(repo) if repo.git_dir() == self.repo.git_dir() => {
                Git::wrap(with_object_cache(repo))
            }
            _ => self,
        }
    }

    /// The repository around `root` that does not track it, when `root` has
    /// no repository of its own yet; `None` otherwise.
    pub fn enclosing(root: &Path) -> Result<Option<Enclosing>, GitError> {
        Ok(match discover_project(root)? {
            Discovered::Enclosing(e) => Some(e),
            Discovered::Root(_) | Discovered::None => None,
        })
    }

    /// Creates a repository at `root` (honouring `init.defaultBranch`).
    pub fn init(root: &Path) -> Result<Git, GitError> {
        let repo: gix::Repository = gix::ThreadSafeRepository::init_opts(
            root,
            gix::create::Kind::WithWorktree,
            gix::create::Options::default(),
            gix::open::Options::default().object_store_slots(pack_slots()),
        )
        .map(Into::into)
        .ctx(|| format!("create a git repository in `{}`", root.display()))?;
        Ok(Git::wrap(with_object_cache(repo)))
    }

    pub fn workdir(&self) -> PathBuf {
        self.repo
            .workdir()
            .map(Path::to_owned)
            .unwrap_or_else(|| self.repo.git_dir().to_owned())
    }

    pub fn git_dir(&self) -> &Path {
        self.repo.git_dir()
    }

    /// The git dir shared by all linked worktrees (refs, objects, config).
    pub fn common_dir(&self) -> &Path {
        self.repo.common_dir()
    }

    /// The author and committer git would use, or an error when unset.
    pub fn identity(&self) -> Result<(Signature, Signature), GitError> {
        let author = self
            .repo
            .author()
            .ok_or_else(|| {
                GitError::new(
                    "find your git identity",
                    "user.name and user.email are not set",
                )
            })?
            .ctx(|| "read the author date".into())?
            .to_owned()
            .ctx(|| "read the author identity".into())?;
        let committer = self
            .repo
            .committer()
            .ok_or_else(|| {
                GitError::new(
                    "find your git identity",
                    "user.name and user.email are not set",
                )
            })?
            .ctx(|| "read the committer date".into())?
            .to_owned()
            .ctx(|| "read the committer identity".into())?;
        Ok((author, committer))
    }

    pub fn head(&self) -> Result<HeadState, GitError> {
        let head = self.repo.head().ctx(|| "read HEAD".into())?;
        let branch = head.referent_name().map(|n| n.as_bstr().to_string());
        let commit = head.id().map(|id| id.detach());
        Ok(HeadState { branch, commit })
    }

    /// The tree of a commit.
    pub fn tree_of(&self, commit: ObjectId) -> Result<ObjectId, GitError> {
        Ok(self
            .repo
            .find_commit(commit)
            .ctx(|| format!("find commit {commit}"))?
            .tree_id()
            .ctx(|| format!("read the tree of {commit}"))?
            .detach())
    }

    pub fn empty_tree(&self) -> ObjectId {
        ObjectId::empty_tree(self.repo.object_hash())
    }

    pub fn write_blob(&self, bytes: &[u8]) -> Result<ObjectId, GitError> {
        Ok(self
            .repo
            .write_blob(bytes)
            .ctx(|| "write a blob".into())?
            .detach())
    }

    pub fn read_blob(&self, id: ObjectId) -> Result<Vec<u8>, GitError> {
        Ok(self
            .repo
            .find_object(id)
            .ctx(|| format!("read object {id}"))?
            .detach()
            .data)
    }

    /// The size of an object from its header, without loading it.
    pub fn blob_size(&self, id: ObjectId) -> Result<u64, GitError> {
        Ok(self
            .repo
            .find_header(id)
            .ctx(|| format!("read the header of {id}"))?
            .size())
    }

    /// Writes a commit object without moving any ref.
    pub fn write_commit(
        &self,
        message: &str,
        tree: ObjectId,
        parents: &[ObjectId],
        author: &Signature,
        committer: &Signature,
    ) -> Result<ObjectId, GitError> {
        let commit = gix::objs::Commit {
            message: message.into(),
            tree,
            author: author.clone(),
            committer: committer.clone(),
            encoding: None,
            parents: parents.iter().copied().collect(),
            extra_headers: Default::default(),
        };
        Ok(self
            .repo
            .write_object(&commit)
            .ctx(|| "write a commit".into())?
            .detach())
    }

    /// The first line of a commit's message.
    pub fn commit_summary(&self, id: ObjectId) -> Result<String, GitError> {
        let commit = self
            .repo
            .find_commit(id)
            .ctx(|| format!("find commit {id}"))?;
        let message = commit
            .message()
            .ctx(|| format!("read the message of {id}"))?;
        Ok(message.summary().to_string())
    }

    /// A git config value as a string (lossy UTF-8), when set and not empty.
    pub fn config_string(&self, key: &str) -> Option<String> {
        use gix::bstr::ByteSlice;
        self.repo
            .config_snapshot()
            .string(key)
            .map(|v| v.to_str_lossy().into_owned())
            .filter(|v| !v.is_empty())
    }

    /// A commit's whole message (lossy UTF-8), for the secret scan of `push`.
    pub fn commit_message(&self, id: ObjectId) -> Result<String, GitError> {
        let commit = self
            .repo
            .find_commit(id)
            .ctx(|| format!("find commit {id}"))?;
        let raw = commit
            .message_raw()
            .ctx(|| format!("read the message of {id}"))?;
        Ok(String::from_utf8_lossy(raw.as_ref()).into_owned())
    }

    pub fn parents(&self, id: ObjectId) -> Result<Vec<ObjectId>, GitError> {
        let commit = self
            .repo
            .find_commit(id)
            .ctx(|| format!("find commit {id}"))?;
        Ok(commit.parent_ids().map(|p| p.detach()).collect())
    }

    /// `git rev-parse --short`, as git-subtree writes it (an object kept in
    /// memory is abbreviated among those and the ones on disk).
    pub fn short_id(&self, id: ObjectId) -> Result<String, GitError> {
        use gix::prelude::ObjectIdExt;
        // While objects are kept in memory, every id is abbreviated against
        // them too (gix's own looks at the disk only, and an object it
        // does not find there made it rescan the pack directory first).
        if self.buffers() && self.repo.has_object(id) {
            return self.short_id_buffered(id);
        }
        id.attach(&self.repo)
            .shorten()
            .map(|short| short.to_string())
            .ctx(|| format!("abbreviate {id}"))
    }

    pub fn ref_target(&self, name: &str) -> Result<Option<ObjectId>, GitError> {
        match self
            .repo
            .try_find_reference(name)
            .ctx(|| format!("read ref `{name}`"))?
        {
            Some(mut r) => Ok(Some(
                r.peel_to_id()
                    .ctx(|| format!("resolve ref `{name}`"))?
                    .detach(),
            )),
            None => Ok(None),
        }
    }

    /// Every ref with what it points at, not peeled (`name id` or `name
    /// -> target`, one per line, sorted): a fingerprint of the refs for
    /// caches keyed on the repository's committed state.
    pub fn refs_fingerprint(&self) -> Result<Vec<u8>, GitError> {
        let platform = self.repo.references().ctx(|| "list refs".into())?;
        let mut lines = Vec::new();
        for r in platform.all().ctx(|| "list refs".into())? {
            let r = r.map_err(|e| GitError::new("read a ref", e.to_string()))?;
            let mut line = r.name().as_bstr().to_vec();
            match r.target() {
                gix::refs::TargetRef::Object(id) => {
                    line.push(b' ');
                    line.extend_from_slice(id.to_hex().to_string().as_bytes());
                }
                gix::refs::TargetRef::Symbolic(name) => {
                    line.extend_from_slice(b" -> ");
                    line.extend_from_slice(name.as_bstr());
                }
            }
            lines.push(line);
        }
        lines.sort();
        Ok(lines.join(&b'\n'))
    }

    /// Every ref under `prefix`, with its target.
    pub fn refs_with_prefix(&self, prefix: &str) -> Result<Vec<(String, ObjectId)>, GitError> {
        let platform = self.repo.references().ctx(|| "list refs".into())?;
        let mut out = Vec::new();
        for r in platform
            .prefixed(prefix)
            .ctx(|| format!("list refs under `{prefix}`"))?
        {
            let mut r = r.map_err(|e| {
                GitError::new(format!("read a ref under `{prefix}`"), e.to_string())
            })?;
            let name = r.name().as_bstr().to_string();
            if let Ok(id) = r.peel_to_id() {
                out.push((name, id.detach()));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Applies ref updates in one transaction; each states the value it replaces.
    /// Objects kept in memory are written first: a ref never names an
    /// object that is not on disk.
    pub fn update_refs(&self, updates: &[RefUpdate], log_message: &str) -> Result<(), GitError> {
        if updates.is_empty() {
            return Ok(());
        }
        self.write_buffered_objects()?;
        let edits = updates
            .iter()
            .map(|u| {
                let name: FullName = u.name.as_str().try_into().map_err(
                    |e: gix::validate::reference::name::Error| {
                        GitError::new(format!("use ref name `{}`", u.name), e)
                    },
                )?;
                let expected = match u.expected {
                    Some(id) => PreviousValue::ExistingMustMatch(Target::Object(id)),
                    None => PreviousValue::MustNotExist,
                };
                let change = match u.new {
                    Some(id) => Change::Update {
                        log: LogChange {
                            mode: RefLog::AndReference,
                            force_create_reflog: false,
                            message: log_message.into(),
                        },
                        expected,
                        new: Target::Object(id),
                    },
                    None => Change::Delete {
                        expected,
                        log: RefLog::AndReference,
                    },
                };
                Ok(RefEdit {
                    change,
                    name,
                    deref: false,
                })
            })
            .collect::<Result<Vec<_>, GitError>>()?;
        let names: Vec<&str> = updates.iter().map(|u| u.name.as_str()).collect();
        self.repo
            .edit_references(edits)
            .ctx(|| format!("update refs {}", names.join(", ")))?;
        Ok(())
    }

    /// Sets a value in the repository's own config file (.git/config) unless present.
    pub fn ensure_local_config(&self, key: &str, value: &str) -> Result<bool, GitError> {
        let current = self.repo.config_snapshot();
        if current
            .strings(key)
            .unwrap_or_default()
            .iter()
            .any(|v| v.as_bstr() == value.as_bytes().as_bstr())
        {
            return Ok(false);
        }
        let path = self.repo.git_dir().join("config");
        let mut file =
            gix::config::File::from_path_no_includes(path.clone(), gix::config::Source::Local)
                .ctx(|| format!("read `{}`", path.display()))?;
        let (section, name) = key
            .split_once('.')
            .ok_or_else(|| GitError::new(format!("set `{key}`"), "not a section.name key"))?;
        let mut sect = file
            .section_mut_or_create_new(section, None)
            .ctx(|| format!("edit section `{section}` of `{}`", path.display()))?;
        sect.push(name, Some(value.as_bytes().as_bstr()))
            .ctx(|| format!("set `{key}`"))?;
        let mut buf = Vec::new();
        file.write_to(&mut buf)
            .ctx(|| format!("render `{}`", path.display()))?;
        crate::fsutil::write_atomic(&path, &buf).ctx(|| format!("write `{}`", path.display()))?;
        Ok(true)
    }
}
