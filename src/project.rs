//! Finding the project a command runs in, and the catalog it sees.

use std::path::{Path, PathBuf};

use crate::catalog::{self, Catalog, CatalogError};
use crate::config::CONFIG_FILE;

/// A project directory: the one holding quickscale.yml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectDir {
    pub root: PathBuf,
}

impl ProjectDir {
    pub fn config_path(&self) -> PathBuf {
        self.root.join(CONFIG_FILE)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("no {CONFIG_FILE} in `{}` or any parent directory up to the repository root", start.display())]
    NotFound { start: PathBuf },
    #[error("cannot read the current directory")]
    Cwd(#[source] std::io::Error),
}

impl ProjectError {
    pub fn hint(&self) -> Option<String> {
        match self {
            ProjectError::NotFound { .. } => Some(
                "run the command inside a project, or create one with `git quickscale plan <slug>`"
                    .into(),
            ),
            ProjectError::Cwd(_) => None,
        }
    }
}

/// Walks up from `start` to the first directory with a quickscale.yml,
/// stopping at a repository root (a directory containing `.git`).
pub fn find(start: &Path) -> Option<ProjectDir> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        if d.join(CONFIG_FILE).is_file() {
            return Some(ProjectDir { root: d.to_owned() });
        }
        if d.join(".git").exists() {
            return None;
        }
        dir = d.parent();
    }
    None
}

/// Like [`find`], but an error when there is no project.
pub fn require(start: &Path) -> Result<ProjectDir, ProjectError> {
    find(start).ok_or_else(|| ProjectError::NotFound {
        start: start.to_owned(),
    })
}

pub fn current_dir() -> Result<PathBuf, ProjectError> {
    std::env::current_dir().map_err(ProjectError::Cwd)
}

/// Loads the catalog with every override that applies in `cwd`.
pub fn load_catalog(cwd: &Path, cli_overrides: &[PathBuf]) -> Result<Catalog, CatalogError> {
    let from_git = git_config_paths(cwd);
    Catalog::load(&catalog::override_paths(&from_git, cli_overrides))
}

/// [`load_catalog`] for a project whose repository is already open: its
/// configuration is read from that handle, not from a second discovery.
pub fn load_catalog_in(
    git: &crate::git::Git,
    cli_overrides: &[PathBuf],
) -> Result<Catalog, CatalogError> {
    Catalog::load(&catalog_paths_in(git, cli_overrides))
}

/// The catalog files [`load_catalog_in`] layers over the bundled index.
pub fn catalog_paths_in(git: &crate::git::Git, cli_overrides: &[PathBuf]) -> Vec<PathBuf> {
    let (values, base) = git.config_strings_with_base(catalog::INDEX_GIT_CONFIG);
    let from_git = catalog::git_config_index_paths(&values, &base);
    catalog::override_paths(&from_git, cli_overrides)
}

fn git_config_paths(cwd: &Path) -> Vec<PathBuf> {
    let (values, base) = crate::git::query::config_strings_at(cwd, catalog::INDEX_GIT_CONFIG);
    catalog::git_config_index_paths(&values, &base)
}
