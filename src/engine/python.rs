//! The Python a project needs, read from its embedded modules (their
//! pyproject.toml and manifest `requires:`), and the project files that
//! still name an older one.

use crate::git::ObjectId;

use super::modules::{prefix_of, read_manifest};
use super::{EngineError, Workspace};
use crate::compat::{self, Needs, ProjectPython, StalePython};
use crate::git::Git;
use crate::manifest::Manifest;

/// Files that name the project's Python: user-owned, written when the
/// project is generated, then only checked.
pub const PYTHON_FILES: &[&str] = &[
    ".python-version",
    "Dockerfile",
    ".github/workflows/ci.yml",
    "README.md",
];

/// What one module's tree (its own root, `dir` inside `tree`) needs.
pub fn needs_at(
    git: &Git,
    tree: ObjectId,
    dir: &str,
    manifest: Option<&Manifest>,
) -> Result<Needs, EngineError> {
    let path = if dir.is_empty() {
        "pyproject.toml".to_owned()
    } else {
        format!("{dir}/pyproject.toml")
    };
    let from_pyproject = match git.entry_at(tree, &path)? {
        Some((_, blob)) => compat::needs(&String::from_utf8_lossy(&git.read_blob(blob)?)),
        None => Needs::default(),
    };
    let requires = manifest.map(|m| &m.requires);
    Ok(compat::with_manifest(
        from_pyproject,
        requires.and_then(|r| r.python.as_deref()),
        requires.and_then(|r| r.django.as_deref()),
    ))
}

/// Where the project's own needs are named (its root pyproject.toml).
pub const PROJECT_NEEDS: &str = "pyproject.toml";

/// What the project's own pyproject.toml in `tree` asks for: upstream's
/// projects declare Python 3.14 there whatever their modules need.
pub fn project_needs(git: &Git, tree: ObjectId) -> Result<(String, Needs), EngineError> {
    Ok((PROJECT_NEEDS.to_owned(), needs_at(git, tree, "", None)?))
}

/// The Python of the project in `tree` and of the modules embedded in it
/// (`modules/<name>/`).
pub fn of_tree(
    git: &Git,
    tree: ObjectId,
    modules: &[String],
) -> Result<ProjectPython, EngineError> {
    let mut needs = vec![project_needs(git, tree)?];
    for name in modules {
        let manifest = read_manifest(git, tree, name).ok().flatten();
        needs.push((
            name.clone(),
            needs_at(git, tree, &prefix_of(name), manifest.as_ref())?,
        ));
    }
    Ok(compat::project_python(&needs))
}

/// The Python of the project as HEAD has it (no HEAD: the baseline).
pub fn of_head(ws: &Workspace) -> Result<ProjectPython, EngineError> {
    match (&ws.git, ws.head) {
        (Some(git), Some(head)) => of_tree(git, git.tree_of(head)?, &ws.embedded()),
        _ => Ok(ProjectPython::baseline()),
    }
}

/// Lines of the project's files (in the worktree) naming an older Python.
pub fn stale_files(root: &std::path::Path, python: &ProjectPython) -> Vec<StalePython> {
    PYTHON_FILES
        .iter()
        .filter_map(|p| Some((*p, std::fs::read_to_string(root.join(p)).ok()?)))
        .flat_map(|(p, text)| compat::stale_python(p, &text, &python.version))
        .collect()
}
