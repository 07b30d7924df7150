//! A thin wrapper over gix: the only module (with `state`) that touches it.
//!
//! Shelling out to `git` is left to what gix cannot do (push), and to the
//! `git upload-pack` that gix itself spawns for local fetches.

pub mod fetch;
pub mod merge;
pub mod remote;
pub mod subtree;
pub mod tree;
pub mod worktree;

use std::path::{Path, PathBuf};

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};
use gix::refs::{FullName, Target};

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
    pub repo: gix::Repository,
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

impl Git {
    /// Opens the repository whose worktree root is `root`; `Ok(None)` when
    /// `root` is not in any repository.
    pub fn open_at_root(root: &Path) -> Result<Option<Git>, GitError> {
        let repo = match gix::discover_with_environment_overrides(root) {
            Ok(repo) => repo,
            Err(_) => return Ok(None),
        };
        let Some(workdir) = repo.workdir() else {
            return Err(GitError::new(
                format!("use `{}`: it is a bare repository", root.display()),
                "a project needs a worktree",
            ));
        };
        let same = match (workdir.canonicalize(), root.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if !same {
            return Err(GitError::new(
                format!("use `{}` as a project", root.display()),
                format!(
                    "it is inside the git repository at `{}`; the project must be at the root of its repository",
                    workdir.display()
                ),
            ));
        }
        Ok(Some(Git { repo }))
    }

    /// Creates a repository at `root` (honouring `init.defaultBranch`).
    pub fn init(root: &Path) -> Result<Git, GitError> {
        let repo =
            gix::init(root).ctx(|| format!("create a git repository in `{}`", root.display()))?;
        Ok(Git { repo })
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

    pub fn parents(&self, id: ObjectId) -> Result<Vec<ObjectId>, GitError> {
        let commit = self
            .repo
            .find_commit(id)
            .ctx(|| format!("find commit {id}"))?;
        Ok(commit.parent_ids().map(|p| p.detach()).collect())
    }

    /// `git rev-parse --short`, as git-subtree writes it.
    pub fn short_id(&self, id: ObjectId) -> Result<String, GitError> {
        use gix::prelude::ObjectIdExt;
        Ok(id
            .attach(&self.repo)
            .shorten()
            .ctx(|| format!("abbreviate {id}"))?
            .to_string())
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
    pub fn update_refs(&self, updates: &[RefUpdate], log_message: &str) -> Result<(), GitError> {
        if updates.is_empty() {
            return Ok(());
        }
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
