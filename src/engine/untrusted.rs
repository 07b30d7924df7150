//! Module trees are untrusted input: checked before anything is written.
//!
//! Names are checked the way git's own `verify_path` does (`.git` in any
//! case and in its NTFS and HFS+ aliases), symlinks are resolved through the
//! module's own tree (so chains and `..` after a symlink count), and a tree
//! that is a whole repository rather than one module is refused.

use std::collections::BTreeMap;

use crate::git::EntryKind;
use crate::git::ObjectId;

use crate::catalog::CatalogEntry;
use crate::git::{Git, GitError};
use crate::manifest::MANIFEST_FILE;

/// Limits on a module tree; `git config quickscale.maxModuleBytes` and
/// `quickscale.maxModuleFiles` override the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: u64,
    pub max_files: usize,
    pub max_path_bytes: usize,
    pub max_component_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 100 * 1024 * 1024,
            max_files: 20_000,
            max_path_bytes: 1024,
            max_component_bytes: 255,
        }
    }
}

impl Limits {
    pub fn from_config(git: &Git) -> Self {
        let mut limits = Limits::default();
        if let Some(b) = git
            .config_integer("quickscale.maxModuleBytes")
            .filter(|b| *b > 0)
        {
            limits.max_bytes = b.unsigned_abs();
        }
        if let Some(f) = git
            .config_integer("quickscale.maxModuleFiles")
            .filter(|f| *f > 0)
        {
            limits.max_files = usize::try_from(f).unwrap_or(usize::MAX);
        }
        limits
    }
}

/// Symlinks followed while resolving one symlink, as Linux's MAXSYMLINKS.
const MAX_SYMLINK_HOPS: usize = 40;

#[derive(Debug, thiserror::Error)]
pub enum UntrustedError {
    #[error("module {module}: its tree contains a `.git` entry at `{path}`")]
    GitEntry { module: String, path: String },
    #[error("module {module}: its tree contains an entry named `{name}` under `{parent}`")]
    BadName {
        module: String,
        parent: String,
        name: String,
    },
    #[error("module {module}: the symlink `{path}` points outside the module (to `{target}`)")]
    SymlinkEscapes {
        module: String,
        path: String,
        target: String,
    },
    #[error("module {module}: the symlink `{path}` leads into a cycle ({})", .chain.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(" → "))]
    SymlinkCycle {
        module: String,
        path: String,
        chain: Vec<String>,
    },
    #[error(
        "module {module}: the symlink `{path}` goes through more than {MAX_SYMLINK_HOPS} symlinks"
    )]
    SymlinkTooDeep { module: String, path: String },
    #[error("module {module}: a path under `{parent}` is not valid UTF-8")]
    NotUtf8 { module: String, parent: String },
    #[error("module {module}: the path `{path}` is too long ({len} bytes; the limit is {limit})")]
    TooLong {
        module: String,
        path: String,
        len: usize,
        limit: usize,
    },
    #[error("module {module}: it contains a submodule (gitlink) at `{path}`")]
    Gitlink { module: String, path: String },
    #[error("module {module}: it is larger than the limit ({what})")]
    TooLarge { module: String, what: String },
    #[error("module {module}: {why}; this is not one module's tree")]
    NotAModule {
        module: String,
        why: String,
        hint: String,
    },
    #[error(transparent)]
    Git(#[from] GitError),
}

impl UntrustedError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            UntrustedError::TooLarge { .. } => {
                "raise `git config quickscale.maxModuleBytes` or `quickscale.maxModuleFiles` if the module really is that big".into()
            }
            UntrustedError::NotAModule { hint, .. } => hint.clone(),
            UntrustedError::Git(_) => "check the module's repository".into(),
            _ => "this module's tree is unsafe to embed; fix it upstream or pin another ref".into(),
        })
    }
}

/// What one path of the tree is, as far as symlink resolution cares.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Dir,
    File,
    Link(String),
}

/// Checks every entry of a module's upstream tree.
pub fn check_tree(
    git: &Git,
    module: &str,
    tree: ObjectId,
    limits: Limits,
) -> Result<(), UntrustedError> {
    let mut stack = vec![(tree, String::new())];
    let mut files = 0usize;
    let mut bytes = 0u64;
    let mut paths: BTreeMap<String, Kind> = BTreeMap::new();
    while let Some((id, dir)) = stack.pop() {
        let entries = git.tree_entries_raw(id)?;
        let parent = || {
            if dir.is_empty() {
                ".".to_owned()
            } else {
                dir.clone()
            }
        };
        for (filename, kind, oid) in entries {
            let Ok(name) = std::str::from_utf8(&filename) else {
                return Err(UntrustedError::NotUtf8 {
                    module: module.to_owned(),
                    parent: parent(),
                });
            };
            if matches!(name, "" | "." | "..") || name.contains(['/', '\0']) {
                return Err(UntrustedError::BadName {
                    module: module.to_owned(),
                    parent: parent(),
                    name: name.escape_debug().to_string(),
                });
            }
            let path = if dir.is_empty() {
                name.to_owned()
            } else {
                format!("{dir}/{name}")
            };
            if is_dotgit(name) {
                return Err(UntrustedError::GitEntry {
                    module: module.to_owned(),
                    path,
                });
            }
            let too_long = |len: usize, limit: usize| UntrustedError::TooLong {
                module: module.to_owned(),
                path: path.chars().take(80).collect::<String>()
                    + if path.len() > 80 { "…" } else { "" },
                len,
                limit,
            };
            if name.len() > limits.max_component_bytes {
                return Err(too_long(name.len(), limits.max_component_bytes));
            }
            if path.len() > limits.max_path_bytes {
                return Err(too_long(path.len(), limits.max_path_bytes));
            }
            match kind {
                EntryKind::Tree => {
                    paths.insert(path.clone(), Kind::Dir);
                    stack.push((oid, path));
                }
                EntryKind::Commit => {
                    return Err(UntrustedError::Gitlink {
                        module: module.to_owned(),
                        path,
                    });
                }
                EntryKind::Link => {
                    let target = String::from_utf8_lossy(&git.read_blob(oid)?).into_owned();
                    paths.insert(path, Kind::Link(target));
                    files += 1;
                }
                EntryKind::Blob | EntryKind::BlobExecutable => {
                    bytes += git.object_size(oid)?;
                    paths.insert(path, Kind::File);
                    files += 1;
                }
            }
            if files > limits.max_files {
                return Err(UntrustedError::TooLarge {
                    module: module.to_owned(),
                    what: format!("more than {} files", limits.max_files),
                });
            }
            if bytes > limits.max_bytes {
                return Err(UntrustedError::TooLarge {
                    module: module.to_owned(),
                    what: format!("more than {} bytes", limits.max_bytes),
                });
            }
        }
    }
    check_symlinks(module, &paths)
}

/// Resolves every symlink through the tree, in path order.
fn check_symlinks(module: &str, paths: &BTreeMap<String, Kind>) -> Result<(), UntrustedError> {
    for (path, kind) in paths {
        let Kind::Link(target) = kind else {
            continue;
        };
        let mut chain = Vec::new();
        let mut hops = 0;
        match resolve_link(paths, path, &mut chain, &mut hops) {
            Ok(_) => {}
            Err(LinkProblem::Escapes) => {
                return Err(UntrustedError::SymlinkEscapes {
                    module: module.to_owned(),
                    path: path.clone(),
                    target: target.clone(),
                });
            }
            Err(LinkProblem::Cycle(chain)) => {
                return Err(UntrustedError::SymlinkCycle {
                    module: module.to_owned(),
                    path: path.clone(),
                    chain,
                });
            }
            Err(LinkProblem::TooDeep) => {
                return Err(UntrustedError::SymlinkTooDeep {
                    module: module.to_owned(),
                    path: path.clone(),
                });
            }
        }
    }
    Ok(())
}

#[derive(Debug, PartialEq, Eq)]
enum LinkProblem {
    Escapes,
    /// The symlinks of the cycle, the first one repeated at the end.
    Cycle(Vec<String>),
    TooDeep,
}

/// Resolves the symlink at `link` to the components of the path it names,
/// relative to the module root, following every symlink met on the way as
/// the kernel would. Components that do not exist are taken as written.
/// `chain` holds the symlinks being resolved (to name a cycle), `hops` counts
/// every symlink followed.
fn resolve_link(
    paths: &BTreeMap<String, Kind>,
    link: &str,
    chain: &mut Vec<String>,
    hops: &mut usize,
) -> Result<Vec<String>, LinkProblem> {
    if let Some(start) = chain.iter().position(|c| c == link) {
        let mut cycle = chain[start..].to_vec();
        cycle.push(link.to_owned());
        return Err(LinkProblem::Cycle(cycle));
    }
    *hops += 1;
    if *hops > MAX_SYMLINK_HOPS {
        return Err(LinkProblem::TooDeep);
    }
    let mut out: Vec<String> = link.split('/').map(str::to_owned).collect();
    out.pop();
    let Some(Kind::Link(target)) = paths.get(link) else {
        return Ok(link.split('/').map(str::to_owned).collect());
    };
    if target.starts_with('/') || target.contains(['\0', '\\']) {
        return Err(LinkProblem::Escapes);
    }
    chain.push(link.to_owned());
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.pop().is_none() {
                    return Err(LinkProblem::Escapes);
                }
            }
            name => {
                out.push(name.to_owned());
                let here = out.join("/");
                if let Some(Kind::Link(_)) = paths.get(&here) {
                    out = resolve_link(paths, &here, chain, hops)?;
                }
            }
        }
    }
    chain.pop();
    Ok(out)
}

/// Code points HFS+ ignores in file names (git's `next_hfs_char`), so that
/// `.g\u{200c}it` names `.git` on a Mac.
fn hfs_ignorable(c: char) -> bool {
    matches!(c, '\u{200c}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{206a}'..='\u{206f}' | '\u{feff}')
}

/// Whether a tree entry's name would be `.git` on some file system: any
/// case; NTFS's trailing spaces and dots, `git~1` short name and `:` stream
/// suffix (a backslash separates components there); HFS+'s ignorable code
/// points. Mirrors git's `is_ntfs_dotgit` and `is_hfs_dotgit`.
pub fn is_dotgit(name: &str) -> bool {
    let hfs: String = name.chars().filter(|c| !hfs_ignorable(*c)).collect();
    hfs.eq_ignore_ascii_case(".git") || name.split('\\').any(is_ntfs_dotgit)
}

fn is_ntfs_dotgit(component: &str) -> bool {
    let bytes = component.as_bytes();
    let rest = if bytes.len() >= 4 && bytes[..4].eq_ignore_ascii_case(b".git") {
        &bytes[4..]
    } else if bytes.len() >= 5 && bytes[..5].eq_ignore_ascii_case(b"git~1") {
        &bytes[5..]
    } else {
        return false;
    };
    for &c in rest {
        if c == b':' {
            return true;
        }
        if c != b'.' && c != b' ' {
            return false;
        }
    }
    true
}

/// The directory of upstream QuickScale's monorepo that holds every module.
const MONOREPO_MODULES_DIR: &str = "quickscale_modules";

/// Refuses a tree that is not one module: a whole repository (upstream's
/// `quickscale_modules/` directory, a `pyproject.toml` of another project,
/// several Python projects side by side), or a tree with neither a
/// module.yml nor catalog wiring to say what it contributes. `catalog` is
/// the module's catalog entry, `git_ref` the ref that was fetched; together
/// they let the hint name the catalog's branch that holds only this module.
pub fn check_shape(
    git: &Git,
    module: &str,
    tree: ObjectId,
    catalog: Option<&CatalogEntry>,
    git_ref: &str,
) -> Result<(), UntrustedError> {
    let root = root_entries(git, tree)?;
    let has = |name: &str, dir: bool| {
        root.iter()
            .any(|(n, kind, _)| n == name && (*kind == EntryKind::Tree) == dir)
    };
    let refuse = |why: String| {
        let nested = format!("{MONOREPO_MODULES_DIR}/{module}");
        let mut hint = match catalog.filter(|c| c.git_ref != git_ref) {
            Some(c) => format!(
                "did you mean `{module}@{}`? That branch holds only this module: set `sources.{module}.ref: {}` in quickscale.yml",
                c.git_ref, c.git_ref
            ),
            None => format!(
                "point `sources.{module}` at a repository or branch whose root is the module itself (module.yml at the top)"
            ),
        };
        if git.subtree_at(tree, &nested).ok().flatten().is_some() {
            hint.push_str(&format!("; this repository has it under `{nested}/`"));
        }
        UntrustedError::NotAModule {
            module: module.to_owned(),
            why,
            hint,
        }
    };
    if has(MONOREPO_MODULES_DIR, true) {
        return Err(refuse(format!(
            "its root holds a `{MONOREPO_MODULES_DIR}/` directory, so it is the whole QuickScale repository"
        )));
    }
    if has(MANIFEST_FILE, false) {
        return Ok(());
    }
    let wired = catalog.is_some_and(|c| {
        let w = &c.wiring;
        w.django_apps.is_some()
            || w.middleware.is_some()
            || w.urls.is_some()
            || w.settings.is_some()
            || w.dependencies.is_some()
    });
    if !wired {
        return Err(refuse(format!(
            "it has no {MANIFEST_FILE} and the catalog has no wiring for it, so nothing says what it contributes"
        )));
    }
    if let Some((_, _, id)) = root
        .iter()
        .find(|(n, kind, _)| n == "pyproject.toml" && *kind != EntryKind::Tree)
    {
        let text = String::from_utf8_lossy(&git.read_blob(*id)?).into_owned();
        if let Some(name) = pyproject_name(&text)
            && !project_name_matches(module, &name)
        {
            return Err(refuse(format!(
                "it has no {MANIFEST_FILE} and its pyproject.toml is the project `{name}`"
            )));
        }
    }
    let projects = nested_projects(git, &root)?;
    if projects.len() > 1 {
        return Err(refuse(format!(
            "it has no {MANIFEST_FILE} and holds {} Python projects ({})",
            projects.len(),
            projects.join(", ")
        )));
    }
    Ok(())
}

fn root_entries(git: &Git, tree: ObjectId) -> Result<Vec<(String, EntryKind, ObjectId)>, GitError> {
    git.tree_entries_lossy(tree)
}

/// Directories one or two levels down that hold a Python project
/// (`pyproject.toml` or `setup.py`), sorted.
fn nested_projects(
    git: &Git,
    root: &[(String, EntryKind, ObjectId)],
) -> Result<Vec<String>, GitError> {
    let mut out = Vec::new();
    for (name, kind, id) in root {
        if *kind != EntryKind::Tree {
            continue;
        }
        let level1 = root_entries(git, *id)?;
        if is_project(&level1) {
            out.push(format!("{name}/"));
        }
        for (sub, kind, sub_id) in &level1 {
            if *kind == EntryKind::Tree && is_project(&root_entries(git, *sub_id)?) {
                out.push(format!("{name}/{sub}/"));
            }
        }
    }
    out.sort();
    Ok(out)
}

fn is_project(entries: &[(String, EntryKind, ObjectId)]) -> bool {
    entries
        .iter()
        .any(|(n, kind, _)| *kind != EntryKind::Tree && (n == "pyproject.toml" || n == "setup.py"))
}

/// The project name a pyproject.toml declares (`[project]` or `[tool.poetry]`).
fn pyproject_name(text: &str) -> Option<String> {
    let doc: toml::Table = toml::from_str(text).ok()?;
    let name = doc.get("project").and_then(|p| p.get("name")).or_else(|| {
        doc.get("tool")
            .and_then(|t| t.get("poetry"))
            .and_then(|p| p.get("name"))
    })?;
    name.as_str().map(str::to_owned)
}

/// Whether a Python project name is plausibly module `module`'s: its
/// normalized name (PEP 503) has the module's name as whole words, as
/// `quickscale-modules-crm` or `crm` does for `crm`.
fn project_name_matches(module: &str, project: &str) -> bool {
    let mut norm = String::new();
    for c in project.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            if !norm.ends_with('-') {
                norm.push('-');
            }
        } else {
            norm.push(c.to_ascii_lowercase());
        }
    }
    let m = module.replace('_', "-");
    format!("-{norm}-").contains(&format!("-{m}-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(entries: &[(&str, Kind)]) -> BTreeMap<String, Kind> {
        entries
            .iter()
            .map(|(p, k)| ((*p).to_owned(), k.clone()))
            .collect()
    }

    fn link(t: &str) -> Kind {
        Kind::Link(t.to_owned())
    }

    fn resolve(paths: &BTreeMap<String, Kind>, at: &str) -> Result<String, LinkProblem> {
        resolve_link(paths, at, &mut Vec::new(), &mut 0).map(|c| c.join("/"))
    }

    #[test]
    fn symlinks_resolve_through_the_tree() {
        let t = tree(&[
            ("README.md", Kind::File),
            ("a", Kind::Dir),
            ("a/b", Kind::Dir),
            ("a/b/up", link("..")),
            ("a/b/root", link("../..")),
            ("a/readme", link("../README.md")),
            ("hop", link("a/readme")),
            ("lexical_only", link("a/b/root/../x")),
            ("via_up", link("a/b/up/../x")),
            ("abs", link("/etc/passwd")),
            ("win", link("..\\x")),
            ("dangling", link("missing/file")),
        ]);
        assert_eq!(resolve(&t, "hop"), Ok("README.md".into()));
        assert_eq!(resolve(&t, "a/b/up"), Ok("a".into()));
        assert_eq!(resolve(&t, "a/b/root"), Ok(String::new()));
        assert_eq!(resolve(&t, "via_up"), Ok("x".into()));
        assert_eq!(resolve(&t, "lexical_only"), Err(LinkProblem::Escapes));
        assert_eq!(resolve(&t, "abs"), Err(LinkProblem::Escapes));
        assert_eq!(resolve(&t, "win"), Err(LinkProblem::Escapes));
        assert_eq!(resolve(&t, "dangling"), Ok("missing/file".into()));
    }

    #[test]
    fn symlink_cycles_and_long_chains() {
        let t = tree(&[
            ("a", link("b")),
            ("b", link("c")),
            ("c", link("./a")),
            ("d", link("a")),
        ]);
        assert_eq!(
            resolve(&t, "d"),
            Err(LinkProblem::Cycle(vec![
                "a".into(),
                "b".into(),
                "c".into(),
                "a".into()
            ]))
        );
        let mut chain: Vec<(String, Kind)> = (0..50)
            .map(|i| (format!("l{i}"), link(&format!("l{}", i + 1))))
            .collect();
        chain.push(("l50".into(), Kind::File));
        let t: BTreeMap<String, Kind> = chain.into_iter().collect();
        assert_eq!(resolve(&t, "l0"), Err(LinkProblem::TooDeep));
        assert_eq!(resolve(&t, "l20"), Ok("l50".into()));
    }

    #[test]
    fn dotgit_in_every_spelling() {
        for name in [
            ".git",
            ".GIT",
            ".Git",
            ".git.",
            ".git ",
            ".git . .",
            ".git:",
            ".git::$INDEX_ALLOCATION",
            "git~1",
            "GIT~1",
            "git~1 ",
            "x\\.git",
            ".g\u{200c}it",
            "\u{feff}.git",
            ".gi\u{206f}T\u{200e}",
        ] {
            assert!(is_dotgit(name), "{name:?}");
        }
        for name in [
            ".github",
            ".gitignore",
            ".git-blame-ignore-revs",
            "git",
            "git~2",
            ".git.x",
            "x.git",
            ".gіt", // Cyrillic і: a different name everywhere
        ] {
            assert!(!is_dotgit(name), "{name:?}");
        }
    }

    #[test]
    fn project_names() {
        assert!(project_name_matches("crm", "quickscale-modules-crm"));
        assert!(project_name_matches("crm", "Quickscale_Modules.CRM"));
        assert!(project_name_matches("crm", "crm"));
        assert!(project_name_matches("my_mod", "acme-my-mod-tools"));
        assert!(!project_name_matches("crm", "quickscale"));
        assert!(!project_name_matches("crm", "crmx"));
        assert!(!project_name_matches("my_mod", "my"));
        assert_eq!(
            pyproject_name("[project]\nname = \"a-b\"\n").as_deref(),
            Some("a-b")
        );
        assert_eq!(
            pyproject_name("[tool.poetry]\nname = \"c\"\n").as_deref(),
            Some("c")
        );
        assert_eq!(pyproject_name("not toml ["), None);
    }
}
