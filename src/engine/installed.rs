//! What `list-modules` shows of a project besides the catalog: the modules
//! embedded now and what the last `update` saw upstream for them. Read only.

use std::path::Path;

use super::recover::{self, Pending};
use super::upstream_cache::{self, Cached};
use crate::catalog::Catalog;
use crate::config::ProjectConfig;
use crate::git::Git;

/// The project's side of the listing; empty where the repository or its
/// state cannot be read (the listing still shows the catalog).
#[derive(Debug, Clone, Default)]
pub struct Installed {
    /// Operations waiting for the user (reads never repair them).
    pub pending: Vec<Pending>,
    /// The modules embedded now, per the applied state.
    pub modules: Vec<String>,
    /// What the last `update` saw upstream for the embedded modules, where
    /// it looked at the ref embedded now.
    pub updates: Vec<(String, Cached)>,
}

/// Reads the project at `root` (whose quickscale.yml is `config`).
pub fn installed(root: &Path, config: &ProjectConfig, catalog: &Catalog) -> Installed {
    let Ok(Some(git)) = Git::open_at_root(root) else {
        return Installed::default();
    };
    let pending = recover::pending(&git);
    let head = git.head().ok().and_then(|h| h.commit);
    let Ok((Some(state), _)) = crate::state::load(&git, head, Some(config), catalog) else {
        return Installed {
            pending,
            ..Installed::default()
        };
    };
    let updates = upstream_cache::load_cache(&git)
        .into_iter()
        .filter(|(name, c)| {
            state
                .modules
                .get(name)
                .is_some_and(|m| m.source == c.source && m.git_ref == c.git_ref)
        })
        .collect();
    Installed {
        pending,
        modules: state.modules.keys().cloned().collect(),
        updates,
    }
}
