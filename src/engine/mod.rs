//! The module engine: compare quickscale.yml with the applied state, plan
//! the changes as plain data, then execute them as one transaction.

pub mod adopt;
pub mod check;
pub mod execute;
pub mod extract;
pub mod installed;
pub mod kept;
pub mod modules;
pub mod notices;
pub mod pause;
pub mod plan;
pub mod push;
pub mod python;
pub mod recover;
pub mod remove;
pub mod request;
pub mod session;
pub mod stale;
pub mod status;
pub mod status_cache;
pub mod sync;
pub mod undo;
pub mod untrusted;
pub mod update;
pub mod update_run;
pub mod upstream_cache;

use std::path::PathBuf;

use crate::git::ObjectId;

use crate::catalog::Catalog;
use crate::config::ConfigFile;
use crate::git::fetch::FetchError;
use crate::git::{Git, GitError};
use crate::manifest::Manifest;
use crate::render::RenderError;
use crate::source::SourceError;
use crate::state::derive::Provenance;
use crate::state::{self, AppliedState, Origin, StateError};
use crate::txn::TxnError;
use crate::wiring::WiringError;

pub use plan::Plan;

/// Everything an operation reads: the project, its repository and state.
pub struct Workspace {
    pub root: PathBuf,
    pub config: ConfigFile,
    pub catalog: Catalog,
    pub git: Option<Git>,
    pub head: Option<ObjectId>,
    pub applied: Option<AppliedState>,
    pub origin: Origin,
    /// The write session (its lock), held by writing commands from before
    /// anything was read ([`session::open_for_write`]).
    pub lock: Option<session::WriteSession>,
}

impl Workspace {
    /// Whether the applied state comes from a state note (not derived from
    /// the tree, nor absent).
    pub fn from_note(&self) -> bool {
        matches!(self.origin, Origin::Note(_))
    }

    /// Loads the applied state of the project at `root` in `git` (which may
    /// not exist yet). Reads only.
    pub fn open(
        root: PathBuf,
        config: ConfigFile,
        catalog: Catalog,
        git: Option<Git>,
        lock: Option<session::WriteSession>,
    ) -> Result<Workspace, EngineError> {
        let head = match &git {
            Some(g) => g.head()?.commit,
            None => None,
        };
        let (applied, origin) = match (&git, head) {
            (Some(g), Some(h)) => match state::load(g, head, Some(&config.config), &catalog)? {
                (Some(note), Origin::Note(at)) => {
                    stale::settle_note(g, h, &config, &catalog, at, note)?
                }
                loaded => loaded,
            },
            _ => (None, Origin::None),
        };
        Ok(Workspace {
            root,
            config,
            catalog,
            git,
            head,
            applied,
            origin,
            lock,
        })
    }

    /// The manifest of an embedded module, read from HEAD's tree.
    pub fn embedded_manifest(&self, name: &str) -> Result<Option<Manifest>, EngineError> {
        let (Some(git), Some(head)) = (&self.git, self.head) else {
            return Ok(None);
        };
        execute::read_manifest(git, git.tree_of(head)?, name)
    }

    /// What proves each prefix was embedded (walks history once).
    pub fn provenance(&self) -> Result<Option<Provenance>, EngineError> {
        match (&self.git, self.head) {
            (Some(git), Some(head)) => Ok(Some(Provenance::gather(git, head)?)),
            _ => Ok(None),
        }
    }

    /// The names of the embedded modules (the applied state's).
    pub fn embedded(&self) -> Vec<String> {
        self.applied
            .as_ref()
            .map(|a| a.modules.keys().cloned().collect())
            .unwrap_or_default()
    }
}

/// Refuses to write in the middle of git's own work (a merge, rebase, …).
pub fn check_git_idle(git: &Git) -> Result<(), EngineError> {
    use crate::git::InProgress;
    let Some(state) = git.in_progress() else {
        return Ok(());
    };
    let (what, finish) = match state {
        InProgress::Merge => (
            "a merge",
            "finish it with `git commit` or abort it with `git merge --abort`",
        ),
        InProgress::Rebase => (
            "a rebase",
            "finish it with `git rebase --continue` or abort it with `git rebase --abort`",
        ),
        InProgress::CherryPick => (
            "a cherry-pick",
            "finish it with `git cherry-pick --continue` or abort it with `git cherry-pick --abort`",
        ),
        InProgress::Revert => (
            "a revert",
            "finish it with `git revert --continue` or abort it with `git revert --abort`",
        ),
        InProgress::Bisect => ("a bisect", "end it with `git bisect reset`"),
        InProgress::ApplyMailbox => (
            "a `git am`",
            "finish it with `git am --continue` or abort it with `git am --abort`",
        ),
    };
    Err(EngineError::GitBusy {
        what: what.into(),
        finish: finish.into(),
    })
}

/// Progress reported while executing, for the UI to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Generating {
        files: usize,
    },
    Fetching {
        module: String,
        url: String,
        git_ref: String,
    },
    Fetched {
        module: String,
        commit: String,
    },
    /// Listing the branches and tags of a source (`update`).
    Listing {
        url: String,
        modules: usize,
    },
    /// Merging a module's new upstream version in memory (`update`).
    Merging {
        module: String,
    },
    /// A module `update` leaves where it is, and why.
    UpToDate {
        module: String,
        git_ref: String,
        why: String,
    },
    /// `update --continue` found the paused merge committed by `git commit`:
    /// only the wiring and the state follow.
    MergeCommitted,
    /// Something the user should know before anything is written.
    Warning(String),
    /// A module's ref resolved other than by a branch or tag lookup (a
    /// version found through the monorepo tag): part of the plan.
    Resolved {
        module: String,
        how: String,
    },
    WritingFiles {
        count: usize,
    },
    Done,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Txn(#[from] TxnError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Wiring(#[from] WiringError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("module {module}: {source}")]
    Fetch {
        module: String,
        #[source]
        source: FetchError,
    },
    #[error(transparent)]
    Untrusted(#[from] untrusted::UntrustedError),
    #[error("{}", .0.join("\n"))]
    Options(Vec<String>),
    #[error("module {name} is not embedded in this project{}", if embedded.is_empty() { " (no module is)".to_owned() } else { format!(" (embedded: {})", embedded.join(", ")) })]
    NotEmbedded { name: String, embedded: Vec<String> },
    #[error("generating the project would overwrite existing files:\n{}", crate::diag::indented(.0))]
    WouldOverwrite(Vec<String>),
    #[error("these paths would be written but have changes that are not committed:\n{}", crate::diag::indented(.0))]
    Dirty(Vec<String>),
    #[error("no git identity: set user.name and user.email before anything is written")]
    NoIdentity,
    #[error("{0}\nnothing was changed: the repository is as it was before")]
    RolledBack(#[source] Box<EngineError>),
    /// The operation failed and undoing what it wrote failed too: the
    /// original error comes first.
    #[error("{original}\nundoing what it wrote failed too: {cleanup}")]
    NotRolledBack {
        original: Box<EngineError>,
        cleanup: String,
    },
    #[error("{}", .0.join("\n"))]
    Incompatible(Vec<String>),
    #[error("a module's requirements are not met; nothing was changed:\n{}", crate::diag::indented(.0))]
    Requirements(Vec<String>),
    #[error("{what} is in progress in this repository")]
    GitBusy { what: String, finish: String },
    #[error("the update failed, so no module was updated:\n{0}")]
    Batch(update::BatchError),
    #[error(transparent)]
    Pause(#[from] pause::PauseError),
    #[error("{}", conflict_report(.0))]
    Conflicts(Vec<(String, String, Vec<crate::git::merge::MergeConflict>)>),
    #[error("{}:\n{}", .0.message, crate::diag::indented(&.0.paths))]
    UserOwnedWrite(Box<crate::policy::Violation>),
    /// quickscale.yml cannot take an update's new refs (`resuming`: for
    /// `--continue`, where `apply` is no way out).
    #[error("{error}")]
    ConfigRefs {
        error: crate::config::edit::EditError,
        resuming: bool,
    },
    /// quickscale.yml with an update's new refs (or without a removed
    /// module) is not valid.
    #[error("{0}")]
    ConfigInvalid(String),
    /// quickscale.yml cannot be edited automatically.
    #[error("{0}")]
    ConfigEdit(crate::config::edit::EditError),
}

fn conflict_report(modules: &[(String, String, Vec<crate::git::merge::MergeConflict>)]) -> String {
    let mut out = String::from("the merge would conflict; nothing was changed:");
    for (module, to_ref, conflicts) in modules {
        out.push_str(&format!("\n  module {module} (to {to_ref}):"));
        for c in conflicts {
            out.push_str(&format!("\n    {}: {}", c.path, c.what));
        }
    }
    out
}

impl EngineError {
    pub fn hint(&self) -> Option<String> {
        match self {
            EngineError::Git(_) => Some("run `git status` to see the repository's state".into()),
            EngineError::State(e) => e.hint(),
            EngineError::Txn(e) => e.hint(),
            EngineError::Render(_) => Some("this is a bug in git-quickscale's templates; please report it".into()),
            EngineError::Wiring(e) => e.hint(),
            EngineError::Source(e) => e.hint(),
            EngineError::Fetch { module, source } => Some(match source {
                FetchError::Unreachable { .. } => format!(
                    "check the URL and your network, or point `sources.{module}.url` at a reachable copy"
                ),
                FetchError::RefNotFound { .. } | FetchError::NotACommit { .. } => {
                    format!("set `sources.{module}.ref` in quickscale.yml to an existing branch, tag or commit")
                }
                FetchError::Ambiguous { .. } => {
                    format!("give more digits of the commit id in `sources.{module}.ref` (or --to)")
                }
                FetchError::ShallowSource { url } => {
                    match crate::source::location(url, std::path::Path::new("")) {
                        crate::source::Location::Local(path) => format!(
                            "fetch its whole history first (`git -C {} fetch --unshallow`), or point `sources.{module}.url` at a full clone",
                            path.display()
                        ),
                        crate::source::Location::Remote(_) => {
                            format!("point `sources.{module}.url` at a full clone of the module")
                        }
                    }
                }
                FetchError::Git(_) => "check the repository with `git fsck`".into(),
            }),
            EngineError::Untrusted(e) => e.hint(),
            EngineError::NotEmbedded { name, embedded } => Some(match embedded.first() {
                Some(one) => format!(
                    "update an embedded module (`git quickscale update {one}`), or embed {name} first: `git quickscale plan --add {name}`, then `git quickscale apply`"
                ),
                None => format!(
                    "embed it first: `git quickscale plan --add {name}`, then `git quickscale apply`"
                ),
            }),
            EngineError::Options(_) => Some(
                "fix the options in quickscale.yml (`git quickscale plan --reconfigure --set MODULE.OPTION=VALUE`)".into(),
            ),
            EngineError::WouldOverwrite(_) => Some(
                "move those files away (or into a fresh directory with only quickscale.yml) and run apply again".into(),
            ),
            EngineError::Dirty(_) => Some("commit or stash those changes, then run the command again".into()),
            EngineError::NoIdentity => Some(
                "git config --global user.name \"Your Name\" && git config --global user.email you@example.com".into(),
            ),
            EngineError::RolledBack(inner) => inner.hint(),
            EngineError::NotRolledBack { .. } => Some(
                "`git quickscale recover` finishes the rollback; `git status` shows the repository's state".into(),
            ),
            EngineError::Incompatible(_) => Some(
                "pin a module version that supports the project's stack (`git quickscale plan --add NAME@REF`), or drop --strict to embed it anyway".into(),
            ),
            EngineError::Pause(e) => e.hint(),
            EngineError::Batch(_) => Some(
                "fix what is named above (or leave that module out: `git quickscale update NAME…`), then run the update again".into(),
            ),
            EngineError::Conflicts(modules) => Some(match modules.as_slice() {
                [(module, to_ref, _)] => format!(
                    "`git quickscale update {module} --to {to_ref} --conflicts=merge` leaves the conflicts in the files to resolve (then `update --continue`); `update {module} --to {to_ref} --dry-run` shows the whole preview"
                ),
                _ => "`git quickscale update --conflicts=merge` (with the same modules) leaves the conflicts in the files to resolve (then `update --continue`); `--dry-run` shows the whole preview".into(),
            }),
            EngineError::Requirements(_) => Some(
                "each line says what would satisfy it; `git quickscale update --dry-run` previews a version before it is applied".into(),
            ),
            EngineError::UserOwnedWrite(v) => Some(v.fix.clone()),
            EngineError::ConfigRefs { resuming: false, .. } => Some(
                "set `sources.<name>.ref` in quickscale.yml by hand, then run `git quickscale apply`".into(),
            ),
            EngineError::ConfigRefs { resuming: true, .. } | EngineError::ConfigInvalid(_) => None,
            EngineError::ConfigEdit(e) => Some(e.hint()),
            EngineError::GitBusy { finish, .. } => Some(format!(
                "{finish}, then run the command again; git quickscale never commits in the middle of git's own work"
            )),
        }
    }
}
