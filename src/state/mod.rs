//! The applied state: what the tool embedded and configured, recorded in a
//! git note on the commits it makes (docs/state-format.md).
//!
//! The state of a checkout is the note on the nearest commit of HEAD's
//! first-parent history that has one. Without notes (fresh clone, squash
//! merge) the state is derived from the tree and marked unverified.

pub mod derive;
pub mod notes;
/// Ref and note names live in a leaf (`crate::refs`), so `git` can name them.
pub use crate::refs;

use std::collections::BTreeMap;

use crate::git::ObjectId;
use serde::{Deserialize, Serialize};

use crate::config::Identity;
use crate::git::{Git, GitError};
use crate::value::Value;

/// The note schema version this build writes and reads.
pub const SCHEMA: u32 = 1;

/// The applied state of a project at one commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppliedState {
    pub schema: u32,
    /// The tool that wrote the note, e.g. `git-quickscale 0.1.0`.
    pub tool: String,
    pub project: Identity,
    pub modules: BTreeMap<String, ModuleState>,
    /// Managed files and the blob id the tool wrote for each.
    pub managed: BTreeMap<String, String>,
    /// The operation that made this commit, for `undo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<Operation>,
    /// What `git quickscale adopt` took over from upstream QuickScale (on
    /// the note of the commit it made only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopted: Option<Adopted>,
}

/// The record of an adoption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adopted {
    /// The upstream files found, each with the format it is in.
    pub found: BTreeMap<String, String>,
    /// Upstream's files the commit removed, each with the blob it had in
    /// the worktree (committed or not); `refs/quickscale/adopted` keeps them.
    pub retired: BTreeMap<String, String>,
    /// Facts taken without proof (e.g. a ref inferred from a version).
    pub unverified: Vec<String>,
}

/// One embedded module.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModuleState {
    pub source: String,
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// The upstream commit embedded (hex).
    pub commit: String,
    pub prefix: String,
    /// The prefix's tree id when embedded (hex): local edits show against it.
    pub tree: String,
    /// The manifest's `version`, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Resolved options (defaults filled in).
    pub options: BTreeMap<String, Value>,
}

/// The writing operation a commit belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
    /// `apply`, `remove`, …
    pub kind: String,
    /// HEAD before the operation (hex), or `null` for a new repository.
    pub before: Option<String>,
    /// quickscale.yml in the worktree before the operation, so `undo` can
    /// give the user's text back (comments and edits included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_before: Option<String>,
}

impl AppliedState {
    pub fn new(project: Identity) -> Self {
        Self {
            schema: SCHEMA,
            tool: format!("git-quickscale {}", env!("CARGO_PKG_VERSION")),
            project,
            modules: BTreeMap::new(),
            managed: BTreeMap::new(),
            operation: None,
            adopted: None,
        }
    }

    pub fn to_note(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    pub fn from_note(text: &str) -> Result<AppliedState, StateError> {
        // One pass straight into the state (every hook and status reads a
        // note); anything unusual takes the path below, whose errors say why.
        if let Ok(state) = serde_json::from_str::<AppliedState>(text)
            && state.schema == SCHEMA
        {
            state.validate()?;
            return Ok(state);
        }
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| StateError::Corrupt(e.to_string()))?;
        let schema = value
            .get("schema")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
        if schema != u64::from(SCHEMA) {
            return Err(StateError::Schema(schema));
        }
        let state: AppliedState =
            serde_json::from_value(value).map_err(|e| StateError::Corrupt(e.to_string()))?;
        state.validate()?;
        Ok(state)
    }

    /// Notes are data from the repository: anything that becomes a path, a
    /// ref name or Python is checked before it is used.
    fn validate(&self) -> Result<(), StateError> {
        let bad = |what: String| Err(StateError::Corrupt(what));
        let is_hex =
            |s: &str| s.is_empty() || (s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit()));
        if crate::identity::validate_slug(&self.project.slug).is_err()
            || crate::identity::validate_package(&self.project.package).is_err()
        {
            return bad("the project identity is invalid".into());
        }
        for (name, m) in &self.modules {
            if !crate::identity::is_module_name(name) {
                return bad(format!("`{}` is not a module name", name.escape_debug()));
            }
            if m.prefix != format!("{}/{name}", derive::MODULES_DIR) {
                return bad(format!(
                    "module {name} has the prefix `{}`",
                    m.prefix.escape_debug()
                ));
            }
            if !is_hex(&m.commit) || !is_hex(&m.tree) {
                return bad(format!("module {name} has an invalid commit or tree id"));
            }
        }
        if let Some(a) = &self.adopted
            && a.retired.iter().any(|(path, id)| {
                !path.starts_with(".quickscale/") || path.contains("..") || !is_hex(id)
            })
        {
            return bad("`adopted.retired` names a file outside .quickscale/".into());
        }
        let expected = crate::wiring::managed_paths(&self.project.package);
        for (path, id) in &self.managed {
            if !expected.contains(path) || !is_hex(id) {
                return bad(format!("`{}` is not a managed file", path.escape_debug()));
            }
        }
        Ok(())
    }
}

/// Where the state shown came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// A note on this commit (HEAD or a first-parent ancestor).
    Note(ObjectId),
    /// Rebuilt from the tree and history; see [`Derived`].
    Derived(Derived),
    /// A project with no recorded or derivable state (not generated yet).
    None,
}

/// How a derived state was rebuilt, and what it could not prove.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Derived {
    /// Facts that could not be verified.
    pub unverified: Vec<String>,
    /// A note was found but is not a state note of this tool: why it was ignored.
    pub ignored_note: Option<String>,
    /// The clone is shallow: git-subtree trailers may be out of reach.
    pub shallow: bool,
    /// Modules taken as embedded without proof (history cut by a shallow
    /// clone): nothing destructive is done to them.
    pub unproven: Vec<String>,
    /// Directories under `modules/` that are not embedded modules (no note,
    /// ref or trailers prove them): user-owned.
    pub user_dirs: Vec<String>,
}

impl Origin {
    pub fn derived(&self) -> Option<&Derived> {
        match self {
            Origin::Derived(d) => Some(d),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("the state note is not valid: {0}")]
    Corrupt(String),
    #[error("the state note has schema {0}; this version reads schema {SCHEMA}")]
    Schema(u64),
    #[error(transparent)]
    Git(#[from] GitError),
}

impl StateError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            StateError::Corrupt(_) => {
                "run `git quickscale status --repair-state` to rewrite the note from the tree"
                    .into()
            }
            StateError::Schema(_) => {
                "use the git-quickscale version that wrote it, or a newer one; `git quickscale status --repair-state` rewrites it".into()
            }
            StateError::Git(_) => "check the repository with `git fsck`".into(),
        })
    }
}

/// Loads the applied state of HEAD: its note, else a derived state. A note
/// that cannot be read as this tool's state never fails a command: it is
/// ignored (and said so), and the state is derived.
pub fn load(
    git: &Git,
    head: Option<ObjectId>,
    config: Option<&crate::config::ProjectConfig>,
    catalog: &crate::catalog::Catalog,
) -> Result<(Option<AppliedState>, Origin), StateError> {
    let Some(head) = head else {
        return Ok((None, Origin::None));
    };
    let ignored = match notes::nearest_merged(git, head) {
        Ok(Some((commit, state))) => return Ok((Some(state), Origin::Note(commit))),
        Ok(None) => None,
        Err(notes::NoteProblem { commit, why }) => Some(format!(
            "the note on {} in {} is not a git-quickscale state note ({why}); it was ignored",
            commit.to_hex_with_len(12),
            refs::NOTES_REF
        )),
    };
    match derive::derive(git, head, config, catalog)? {
        Some((state, mut derived)) => {
            derived.ignored_note = ignored;
            Ok((Some(state), Origin::Derived(derived)))
        }
        None => Ok((None, Origin::None)),
    }
}

/// Whether the note's state (on, or merged at, `note_commit`) still says
/// what `head`'s tree holds: the managed files are the blobs it recorded,
/// and `modules/` is as it was at `note_commit`. Cheap (a few tree reads).
/// A note that disagrees may be stale — a commit the tool made was
/// cherry-picked, amended or rebased without its note — or the tree has
/// drifted; the engine tells the two apart by rendering
/// (`engine::stale`).
pub fn note_agrees_with_tree(
    git: &Git,
    note_commit: ObjectId,
    head: ObjectId,
    state: &AppliedState,
) -> Result<bool, GitError> {
    let head_tree = git.tree_of(head)?;
    for path in crate::wiring::managed_paths(&state.project.package) {
        let now = git
            .entry_at(head_tree, &path)?
            .map(|(_, id)| id.to_string());
        if now.as_ref() != state.managed.get(&path) {
            return Ok(false);
        }
    }
    if note_commit == head {
        // A note written for this very commit records its module trees; a
        // note `notes.rewriteRef` copied onto a rebased or amended copy may
        // not (the rebase brought a teammate's update along).
        for module in state.modules.values() {
            let now = git.subtree_at(head_tree, &module.prefix)?;
            if now.map(|id| id.to_string()).as_deref() != Some(module.tree.as_str()) {
                return Ok(false);
            }
        }
        return Ok(true);
    }
    let then = git.subtree_at(git.tree_of(note_commit)?, derive::MODULES_DIR)?;
    Ok(git.subtree_at(head_tree, derive::MODULES_DIR)? == then)
}
