//! Deriving the applied state from the tree when there is no note (fresh
//! clone without notes, squash-merged history, a prefix added by
//! `git subtree add`). Facts that cannot be verified are listed.

use gix::ObjectId;

use super::{AppliedState, ModuleState, StateError};
use crate::config::{CONFIG_FILE, ProjectConfig};
use crate::git::Git;
use crate::manifest::{MANIFEST_FILE, Manifest};
use crate::wiring;

/// The directory holding module prefixes.
pub const MODULES_DIR: &str = "modules";

/// Rebuilds the state at `head` from its tree, `module.yml` files and
/// git-subtree trailers. `None` when the tree has no quickscale.yml.
pub fn derive(
    git: &Git,
    head: ObjectId,
    config: Option<&ProjectConfig>,
    catalog: &crate::catalog::Catalog,
) -> Result<Option<(AppliedState, Vec<String>)>, StateError> {
    let tree = git.tree_of(head)?;
    if git.entry_at(tree, CONFIG_FILE)?.is_none() {
        return Ok(None);
    }
    let Some(config) = config else {
        return Ok(None);
    };
    let mut unverified = vec![
        "module sources and refs are taken from quickscale.yml".to_owned(),
        "module options are taken from quickscale.yml".to_owned(),
    ];
    let mut state = AppliedState::new(config.project.clone());
    if let Some(modules_tree) = git.subtree_at(tree, MODULES_DIR)? {
        for (name, (kind, prefix_tree)) in git.tree_entries(modules_tree)? {
            if kind != gix::objs::tree::EntryKind::Tree {
                continue;
            }
            let prefix = format!("{MODULES_DIR}/{name}");
            let commit = match git.latest_squash(head, &prefix)? {
                Some((_, split)) => split.to_string(),
                None => {
                    unverified.push(format!(
                        "module {name}: no git-subtree trailers; upstream commit unknown"
                    ));
                    String::new()
                }
            };
            let manifest = match git.entry_at(prefix_tree, MANIFEST_FILE)? {
                Some((_, blob)) => {
                    let text = String::from_utf8_lossy(&git.read_blob(blob)?).into_owned();
                    Manifest::parse(&text, &format!("{prefix}/{MANIFEST_FILE}"), &name).ok()
                }
                None => None,
            };
            let given = config
                .module(&name)
                .map(|w| w.options.clone())
                .unwrap_or_default();
            let options = manifest
                .as_ref()
                .and_then(|m| m.resolve_options(&name, &given).ok())
                .unwrap_or_default();
            let (source, git_ref) = crate::source::resolve(&name, config, catalog)
                .map(|s| (s.url, s.git_ref))
                .unwrap_or_default();
            state.modules.insert(
                name.clone(),
                ModuleState {
                    source,
                    git_ref,
                    commit,
                    prefix,
                    tree: prefix_tree.to_string(),
                    version: manifest.map(|m| m.version),
                    options,
                },
            );
        }
    }
    for path in wiring::managed_paths(&config.project.package) {
        if let Some((_, blob)) = git.entry_at(tree, &path)? {
            state.managed.insert(path, blob.to_string());
        }
    }
    Ok(Some((state, unverified)))
}
