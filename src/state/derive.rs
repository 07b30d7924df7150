//! Deriving the applied state from the tree and history when there is no
//! usable note (fresh clone without notes, squash-merged history, a prefix
//! added by `git subtree add`).
//!
//! A directory under `modules/` counts as an embedded module only with
//! positive evidence: a `refs/quickscale/modules/<name>` ref, or git-subtree
//! trailers for exactly that prefix in reachable history. Everything else
//! there is the user's. In a shallow clone, whose history may not reach the
//! trailers, a directory that the committed quickscale.yml lists is taken as
//! embedded but *unproven*: nothing destructive is done to it.

use std::collections::BTreeMap;

use crate::git::ObjectId;

use super::{AppliedState, Derived, ModuleState, StateError};
use crate::config::{CONFIG_FILE, ProjectConfig};
use crate::git::Git;
use crate::manifest::{MANIFEST_FILE, Manifest};
use crate::wiring;

pub use crate::layout::MODULES_DIR;

/// What proves that `modules/<name>` was embedded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    /// `refs/quickscale/modules/<name>` names this upstream commit.
    Ref(ObjectId),
    /// A git-subtree squash for the prefix: (squash commit, upstream split commit).
    Trailers(ObjectId, ObjectId),
    /// No proof found; `shallow` says history is cut, so it may exist.
    None { shallow: bool },
}

/// Provenance facts for every prefix, gathered once.
pub struct Provenance {
    squashes: BTreeMap<String, (ObjectId, ObjectId)>,
    refs: BTreeMap<String, ObjectId>,
    /// What the tool's own commits recorded (their [`MODULE_TRAILER`]s):
    /// module, ref, upstream commit; newest first.
    records: Vec<(String, String, ObjectId)>,
    pub shallow: bool,
}

/// The trailer the tool's final commit of an operation carries for each
/// module it embedded or updated: `Quickscale-Module: <name>@<ref> <commit>`.
/// It ties a ref to the upstream commit it resolved to, so a clone without
/// notes can tell whether quickscale.yml's ref is the one embedded (a
/// cherry-picked ref change without its update is not).
pub const MODULE_TRAILER: &str = "Quickscale-Module";

/// One [`MODULE_TRAILER`] line.
pub fn module_trailer(name: &str, git_ref: &str, commit: &str) -> String {
    format!("{MODULE_TRAILER}: {name}@{git_ref} {commit}")
}

/// The value of a [`MODULE_TRAILER`] line: (name, ref, commit).
fn parse_module_trailer(value: &str) -> Option<(String, String, ObjectId)> {
    let (named, commit) = value.rsplit_once(' ')?;
    let (name, git_ref) = named.split_once('@')?;
    let commit = ObjectId::from_hex(commit.trim().as_bytes()).ok()?;
    Some((name.to_owned(), git_ref.to_owned(), commit))
}

impl Provenance {
    /// Walks `head`'s history once for git-subtree trailers and reads the module refs.
    pub fn gather(git: &Git, head: ObjectId) -> Result<Provenance, StateError> {
        let (squashes, values) = git.squashes_and_trailers(head, Some(MODULE_TRAILER))?;
        let records = values
            .iter()
            .filter_map(|v| parse_module_trailer(v))
            .collect();
        let refs = git
            .refs_with_prefix(super::refs::MODULES_PREFIX)?
            .into_iter()
            .map(|(name, id)| {
                (
                    name.trim_start_matches(super::refs::MODULES_PREFIX)
                        .to_owned(),
                    id,
                )
            })
            .collect();
        let shallow = git.is_shallow();
        Ok(Provenance {
            squashes,
            refs,
            records,
            shallow,
        })
    }

    /// The ref the tool's newest record says `commit` of module `name` was
    /// embedded as, if any record names that commit.
    pub fn recorded_ref(&self, name: &str, commit: &str) -> Option<&str> {
        let commit = ObjectId::from_hex(commit.as_bytes()).ok()?;
        self.records
            .iter()
            .find(|(n, _, c)| n == name && *c == commit)
            .map(|(_, r, _)| r.as_str())
    }

    pub fn of(&self, name: &str) -> Evidence {
        if let Some((squash, split)) = self.squashes.get(&format!("{MODULES_DIR}/{name}")) {
            return Evidence::Trailers(*squash, *split);
        }
        if let Some(id) = self.refs.get(name) {
            return Evidence::Ref(*id);
        }
        Evidence::None {
            shallow: self.shallow,
        }
    }
}

/// One embedded module's state, read from its prefix's tree: its manifest
/// and the options and source quickscale.yml gives it.
fn module_state(
    git: &Git,
    config: &ProjectConfig,
    catalog: &crate::catalog::Catalog,
    name: &str,
    prefix: String,
    prefix_tree: ObjectId,
    commit: String,
) -> Result<ModuleState, StateError> {
    let manifest = match git.entry_at(prefix_tree, MANIFEST_FILE)? {
        Some((_, blob)) => {
            let text = String::from_utf8_lossy(&git.read_blob(blob)?).into_owned();
            Manifest::parse(&text, &format!("{prefix}/{MANIFEST_FILE}"), name).ok()
        }
        None => None,
    };
    let given = config
        .module(name)
        .map(|w| w.options.clone())
        .unwrap_or_default();
    let options = manifest
        .as_ref()
        .and_then(|m| m.resolve_options(name, &given).ok())
        .unwrap_or_default();
    let (source, git_ref) = crate::source::resolve(name, config, catalog)
        .map(|s| (s.url, s.git_ref))
        .unwrap_or_default();
    Ok(ModuleState {
        source,
        git_ref,
        commit,
        prefix,
        tree: prefix_tree.to_string(),
        version: manifest.map(|m| m.version),
        options,
    })
}

/// Rebuilds the state at `head` from its tree, its committed quickscale.yml,
/// the `module.yml` files and the provenance evidence. `None` when the tree
/// has no quickscale.yml. `worktree_config` is used only when the committed
/// quickscale.yml cannot be read.
pub fn derive(
    git: &Git,
    head: ObjectId,
    worktree_config: Option<&ProjectConfig>,
    catalog: &crate::catalog::Catalog,
) -> Result<Option<(AppliedState, Derived)>, StateError> {
    let tree = git.tree_of(head)?;
    let Some((_, config_blob)) = git.entry_at(tree, CONFIG_FILE)? else {
        return Ok(None);
    };
    let mut derived = Derived::default();
    let committed_text = String::from_utf8(git.read_blob(config_blob)?).ok();
    let committed = committed_text
        .as_deref()
        .and_then(|t| crate::config::parse(t, &format!("HEAD:{CONFIG_FILE}"), catalog).ok());
    let config = match (&committed, worktree_config) {
        (Some(c), _) => c,
        (None, Some(w)) => {
            derived.unverified.push(format!(
                "the committed {CONFIG_FILE} is not valid; the one in the worktree was used"
            ));
            w
        }
        (None, None) => return Ok(None),
    };
    derived.unverified.push(format!(
        "module sources, refs and options are taken from the committed {CONFIG_FILE}"
    ));
    let provenance = Provenance::gather(git, head)?;
    derived.shallow = provenance.shallow;
    if provenance.shallow {
        derived.unverified.push(
            "the clone is shallow: git-subtree trailers may be out of reach (`git fetch --unshallow` fetches them)"
                .into(),
        );
    }
    let mut state = AppliedState::new(config.project.clone());
    if let Some(modules_tree) = git.subtree_at(tree, MODULES_DIR)? {
        for (name, (kind, prefix_tree)) in git.tree_entries(modules_tree)? {
            if kind != crate::git::EntryKind::Tree {
                continue;
            }
            let prefix = format!("{MODULES_DIR}/{name}");
            let commit = match provenance.of(&name) {
                Evidence::Trailers(_, split) => split.to_string(),
                Evidence::Ref(id) => id.to_string(),
                Evidence::None { shallow: true } if config.module(&name).is_some() => {
                    derived.unverified.push(format!(
                        "module {name}: no git-subtree trailers within the shallow history; taken as embedded because {CONFIG_FILE} lists it"
                    ));
                    derived.unproven.push(name.clone());
                    String::new()
                }
                Evidence::None { .. } => {
                    derived.user_dirs.push(prefix);
                    continue;
                }
            };
            if !crate::identity::is_module_name(&name) {
                derived.user_dirs.push(prefix);
                continue;
            }
            let mut module =
                module_state(git, config, catalog, &name, prefix, prefix_tree, commit)?;
            // quickscale.yml's ref proves nothing; the tool's record of the
            // embedded commit does (a ref changed without its update then
            // shows as not applied, as the note would show it).
            if let Some(recorded) = provenance.recorded_ref(&name, &module.commit)
                && recorded != module.git_ref
            {
                module.git_ref = recorded.to_owned();
            }
            state.modules.insert(name.clone(), module);
        }
    }
    for path in wiring::managed_paths(&config.project.package) {
        if let Some((_, blob)) = git.entry_at(tree, &path)? {
            state.managed.insert(path, blob.to_string());
        }
    }
    Ok(Some((state, derived)))
}

#[cfg(test)]
mod trailer_tests {
    use super::*;

    #[test]
    fn a_module_trailer_reads_back_as_written_and_junk_is_ignored() {
        let commit = "0123456789abcdef0123456789abcdef01234567";
        let line = module_trailer("crm", "v1.1.0", commit);
        assert_eq!(line, format!("Quickscale-Module: crm@v1.1.0 {commit}"));
        let value = line.strip_prefix("Quickscale-Module: ").expect("key");
        let (name, git_ref, id) = parse_module_trailer(value).expect("parsed");
        assert_eq!((name.as_str(), git_ref.as_str()), ("crm", "v1.1.0"));
        assert_eq!(id.to_string(), commit);
        // The source's default ref is empty; a ref may hold '@'.
        let (_, empty, _) = parse_module_trailer(&format!("crm@ {commit}")).expect("empty ref");
        assert_eq!(empty, "");
        let (_, at, _) = parse_module_trailer(&format!("crm@a@b {commit}")).expect("ref with @");
        assert_eq!(at, "a@b");
        assert!(parse_module_trailer("crm v1.1.0").is_none());
        assert!(parse_module_trailer(&format!("crm@v1 {}", &commit[..12])).is_none());
    }
}
