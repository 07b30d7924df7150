//! Where a module comes from: its source URL and ref, after `sources:`
//! overrides, and reading a manifest from a local source without fetching.

use std::path::{Path, PathBuf};

use crate::catalog::Catalog;
use crate::config::ProjectConfig;
use crate::diag::Diagnostics;
use crate::git::fetch::{self, FetchError, MonorepoVersion, Offers, Resolved, Want};
use crate::git::{Git, ObjectId};
use crate::manifest::{MANIFEST_FILE, Manifest};

/// The ref used for a private module whose `sources:` entry names no ref.
pub const DEFAULT_REF: &str = "HEAD";

/// The effective source of one module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleSource {
    pub url: String,
    pub git_ref: String,
}

/// Resolves a module's source: `sources.<name>` wins over the catalog. A
/// `url` override replaces only the URL: the ref stays the catalog's unless
/// `sources.<name>.ref` (or `--module NAME@REF`) names one; a private module
/// (not in the catalog) without a ref follows its repository's HEAD.
pub fn resolve(name: &str, config: &ProjectConfig, catalog: &Catalog) -> Option<ModuleSource> {
    let over = config.sources.get(name);
    let entry = catalog.get(name);
    let url = over
        .and_then(|s| s.url.clone())
        .or_else(|| entry.map(|e| e.source.clone()))?;
    let git_ref = over
        .and_then(|s| s.git_ref.clone())
        .or_else(|| entry.map(|e| e.git_ref.clone()))
        .unwrap_or_else(|| DEFAULT_REF.to_owned());
    // A bare version names the module's own tag where the catalog says how
    // its source names them (`crm@0.88.0` → `splits/crm-module/0.88.0`).
    let git_ref = entry
        .and_then(|e| e.scheme_for(&url).tag_for(&git_ref))
        .unwrap_or(git_ref);
    Some(ModuleSource { url, git_ref })
}

/// The `plan` arguments that reproduce a module's effective source and ref
/// (`NAME@REF` and `--source NAME=URL` where they differ from the catalog),
/// so printed recipes keep the user's overrides and pins.
pub fn plan_args(name: &str, src: &ModuleSource, catalog: &Catalog) -> String {
    let entry = catalog.get(name);
    let mut out = name.to_owned();
    if entry.map(|e| e.git_ref.as_str()) != Some(src.git_ref.as_str()) {
        out.push('@');
        out.push_str(&src.git_ref);
    }
    if entry.map(|e| e.source.as_str()) != Some(src.url.as_str()) {
        out.push_str(&format!(" --source {name}={}", shell_word(&src.url)));
    }
    out
}

/// Quotes a word for a POSIX shell when it needs it.
pub fn shell_word(word: &str) -> String {
    crate::escape::shell_word(word)
}

/// A source URL classified by how it is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A repository on this machine (a path or a `file://` URL).
    Local(PathBuf),
    /// Anything reached over the network (https, ssh, git).
    Remote(String),
}

/// Classifies a URL; relative paths are relative to the project root.
pub fn location(url: &str, project_root: &Path) -> Location {
    if let Some(path) = url.strip_prefix("file://") {
        return Location::Local(PathBuf::from(path));
    }
    let has_scheme = url.split_once("://").is_some_and(|(scheme, _)| {
        !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+')
    });
    let scp_like = !has_scheme
        && url
            .split_once(':')
            .is_some_and(|(host, _)| !host.contains('/') && host.len() > 1);
    if has_scheme || scp_like {
        return Location::Remote(url.to_owned());
    }
    let path = Path::new(url);
    Location::Local(if path.is_absolute() {
        path.to_owned()
    } else {
        project_root.join(path)
    })
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("module {module}: `{path}` is not a git repository")]
    NotARepository {
        module: String,
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(
        "module {module}: `{url}` has no branch, tag or commit `{git_ref}`{}",
        list_refs(available)
    )]
    RefNotFound {
        module: String,
        url: String,
        git_ref: String,
        available: Vec<String>,
    },
    #[error("module {module}: `{git_ref}` in `{url}` does not point to a commit")]
    NotACommit {
        module: String,
        url: String,
        git_ref: String,
    },
    #[error("module {module}: cannot read `{what}`")]
    Git {
        module: String,
        what: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("{0}")]
    Manifest(Diagnostics),
}

fn list_refs(available: &[String]) -> String {
    if available.is_empty() {
        String::new()
    } else {
        format!("; the module has: {}", available.join(", "))
    }
}

impl SourceError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            SourceError::NotARepository { module, .. } => format!(
                "point `sources.{module}.url` at a git repository (a path, file://, https:// or ssh URL)"
            ),
            SourceError::RefNotFound { module, .. } => {
                format!("set `sources.{module}.ref` to one of the existing branches or tags")
            }
            SourceError::NotACommit { module, .. } => {
                format!("set `sources.{module}.ref` to a branch, tag or commit")
            }
            SourceError::Git { .. } => "check that the repository is readable".into(),
            SourceError::Manifest(_) => {
                "fix the module's module.yml upstream, or pin a ref whose manifest is valid".into()
            }
        })
    }
}

fn boxed<E: std::error::Error + Send + Sync + 'static>(
    e: E,
) -> Box<dyn std::error::Error + Send + Sync> {
    Box::new(e)
}

/// Where upstream QuickScale's monorepo keeps each module before it is
/// split out (`quickscale_modules/<name>`): a version with no split tag is
/// found there at the repository's version tag.
pub const MONOREPO_MODULES_DIR: &str = "quickscale_modules";

/// What to fetch for module `module` at `git_ref` from `url`: which refs
/// are this module's (for messages) and, for a version under a
/// `<branch>/{version}` tag scheme, the monorepo fallback (the version tag
/// of the whole repository and the split branch `<branch>`).
pub fn want(module: &str, url: &str, git_ref: &str, catalog: Option<&Catalog>) -> Want {
    let entry = catalog.and_then(|c| c.get(module));
    let mut want = Want::plain(git_ref);
    let (prefix, branch) = match entry.map(|e| (e.scheme_for(url), e)) {
        Some((crate::catalog::TagScheme::Pattern { prefix, .. }, e)) => {
            (Some(prefix), Some(e.git_ref.clone()))
        }
        // Without a catalog scheme, the shape `<branch>/<version>` says it.
        _ => match git_ref.rsplit_once('/') {
            Some((branch, v))
                if semver::Version::parse(v.strip_prefix('v').unwrap_or(v)).is_ok() =>
            {
                (Some(format!("{branch}/")), Some(branch.to_owned()))
            }
            _ => (None, None),
        },
    };
    if let (Some(prefix), Some(branch)) = (&prefix, &branch)
        && let Some(v) = git_ref.strip_prefix(prefix.as_str())
    {
        let v = v.strip_prefix('v').unwrap_or(v);
        if semver::Version::parse(v).is_ok() {
            want.monorepo = Some(MonorepoVersion {
                version: v.to_owned(),
                subdir: format!("{MONOREPO_MODULES_DIR}/{module}"),
                branch: branch.clone(),
            });
        }
    }
    want.offers = Offers {
        tag_prefix: prefix,
        branch,
    };
    want
}

/// Resolves `git_ref` in `repo` to a commit id, with the errors users need
/// (annotated tags peeled, commit ids of 7+ hex, monorepo versions).
pub fn resolve_commit(
    repo: &Git,
    module: &str,
    url: &str,
    git_ref: &str,
) -> Result<ObjectId, SourceError> {
    resolve_want(repo, module, url, &want(module, url, git_ref, None)).map(|r| r.commit)
}

/// [`resolve_commit`] with the catalog's tag scheme, saying how the
/// commit was found when it took more than a ref lookup.
pub fn resolve_want(
    repo: &Git,
    module: &str,
    url: &str,
    want: &Want,
) -> Result<Resolved, SourceError> {
    fetch::resolve_local(repo, url, want).map_err(|e| match e {
        FetchError::RefNotFound { available, .. } => SourceError::RefNotFound {
            module: module.to_owned(),
            url: url.to_owned(),
            git_ref: want.git_ref.clone(),
            available,
        },
        FetchError::NotACommit { .. } => SourceError::NotACommit {
            module: module.to_owned(),
            url: url.to_owned(),
            git_ref: want.git_ref.clone(),
        },
        e => SourceError::Git {
            module: module.to_owned(),
            what: format!("{url}@{}", want.git_ref),
            source: boxed(e),
        },
    })
}

/// How `git_ref` of a module from a local source resolves when it takes
/// more than a ref lookup (a version found through the monorepo tag), for
/// a plan shown before anything is fetched; `None` for a remote source,
/// a plain ref or a ref that does not resolve (apply says why).
pub fn local_resolution(
    root: &Path,
    catalog: &Catalog,
    module: &str,
    url: &str,
    git_ref: &str,
) -> Option<String> {
    let Location::Local(path) = location(url, root) else {
        return None;
    };
    let repo = Git::open_path(&path).ok()?;
    resolve_want(
        &repo,
        module,
        url,
        &want(module, url, git_ref, Some(catalog)),
    )
    .ok()?
    .how
}

/// Reads `module.yml` at `commit`; `Ok(None)` when the module has none.
pub fn manifest_at_commit(
    repo: &Git,
    commit: ObjectId,
    module: &str,
    label: &str,
) -> Result<Option<Manifest>, SourceError> {
    let git = |e: Box<dyn std::error::Error + Send + Sync>| SourceError::Git {
        module: module.to_owned(),
        what: label.to_owned(),
        source: e,
    };
    let tree = repo.tree_of(commit).map_err(|e| git(e.source))?;
    let Some((_, blob)) = repo
        .entry_at(tree, MANIFEST_FILE)
        .map_err(|e| git(e.source))?
    else {
        return Ok(None);
    };
    let data = repo.read_blob(blob).map_err(|e| git(e.source))?;
    let text = String::from_utf8(data).map_err(|e| git(boxed(e)))?;
    Manifest::parse(&text, label, module)
        .map(Some)
        .map_err(SourceError::Manifest)
}

/// Reads the manifest of a module from a local repository at `git_ref`.
pub fn read_local_manifest(
    path: &Path,
    url: &str,
    git_ref: &str,
    module: &str,
) -> Result<Option<Manifest>, SourceError> {
    let repo = Git::open_path(path).map_err(|e| SourceError::NotARepository {
        module: module.to_owned(),
        path: path.to_owned(),
        source: e.source,
    })?;
    let commit = resolve_commit(&repo, module, url, git_ref)?;
    manifest_at_commit(
        &repo,
        commit,
        module,
        &format!("{url}@{git_ref}:{MANIFEST_FILE}"),
    )
}

/// One row of `list-modules`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ListingRow {
    pub name: String,
    pub ready: bool,
    pub description: String,
    pub source: String,
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// How the source names this module's version tags (`tags` in the
    /// catalog), when not `v1.2.3`/`1.2.3`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<String>,
    /// Whether quickscale.yml asks for it; absent outside a project.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wanted: Option<bool>,
    /// Whether it is embedded now (the applied state); absent outside a project.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installed: Option<bool>,
}

/// The catalog as listed, with the modules a project wants marked.
/// Private modules of the project (given by `sources:`) are listed too.
pub fn listing(
    catalog: &Catalog,
    project: Option<&ProjectConfig>,
    installed: Option<&[String]>,
) -> Vec<ListingRow> {
    let mut rows: Vec<ListingRow> = catalog
        .entries()
        .iter()
        .map(|e| {
            // In a project, the source and ref this project uses (its overrides included).
            let effective = project.and_then(|p| resolve(&e.name, p, catalog));
            let url = effective
                .as_ref()
                .map_or(e.source.as_str(), |s| s.url.as_str());
            ListingRow {
                tags: e.scheme_for(url).pattern(),
                name: e.name.clone(),
                ready: e.ready,
                description: e.description.clone(),
                source: effective
                    .as_ref()
                    .map_or_else(|| e.source.clone(), |s| s.url.clone()),
                git_ref: effective.map_or_else(|| e.git_ref.clone(), |s| s.git_ref),
                wanted: project.map(|p| p.module(&e.name).is_some()),
                installed: installed.map(|i| i.contains(&e.name)),
            }
        })
        .collect();
    if let Some(p) = project {
        for m in &p.modules {
            if catalog.get(&m.name).is_none()
                && let Some(src) = resolve(&m.name, p, catalog)
            {
                rows.push(ListingRow {
                    name: m.name.clone(),
                    ready: true,
                    description: "(private module, from quickscale.yml `sources:`)".into(),
                    source: src.url,
                    git_ref: src.git_ref,
                    tags: None,
                    wanted: Some(true),
                    installed: installed.map(|i| i.contains(&m.name)),
                });
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_settings_alone_keeps_the_catalog_source() {
        let catalog = Catalog::load(&[]).expect("catalog");
        let text = "version: \"1\"\nproject: {slug: a, package: a}\nmodules:\n  crm: {}\nsources:\n  crm:\n    allow_settings: [DEBUG]\n";
        let config = crate::config::parse(text, "quickscale.yml", &catalog).expect("valid");
        let src = resolve("crm", &config, &catalog).expect("catalog source");
        assert_eq!(src.git_ref, "splits/crm-module");
        // A URL override keeps the catalog's ref.
        let text = "version: \"1\"\nproject: {slug: a, package: a}\nmodules:\n  crm: {}\nsources:\n  crm: {url: ../mine}\n";
        let config = crate::config::parse(text, "quickscale.yml", &catalog).expect("valid");
        let src = resolve("crm", &config, &catalog).expect("source");
        assert_eq!(
            (src.url.as_str(), src.git_ref.as_str()),
            ("../mine", "splits/crm-module")
        );
    }

    #[test]
    fn classifies_urls() {
        let root = Path::new("/p");
        assert_eq!(
            location("https://github.com/a/b.git", root),
            Location::Remote("https://github.com/a/b.git".into())
        );
        assert_eq!(
            location("git@github.com:a/b.git", root),
            Location::Remote("git@github.com:a/b.git".into())
        );
        assert_eq!(
            location("file:///srv/x", root),
            Location::Local("/srv/x".into())
        );
        assert_eq!(
            location("../mods/crm", root),
            Location::Local("/p/../mods/crm".into())
        );
        assert_eq!(
            location("/abs/crm", root),
            Location::Local("/abs/crm".into())
        );
    }
}
