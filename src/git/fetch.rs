//! Fetching a module's upstream at a branch, tag or commit with gix.
//!
//! Nothing is written under refs: the wanted refs are fetched with
//! destination-less refspecs, so the objects land in the object database
//! and the commit comes from the advertisement (annotated tags peeled, as
//! `git rev-parse REF^{commit}`). Two commands fetching at once cannot
//! collide, and a killed one leaves no ref behind. Scratch refs that older
//! versions left are removed by [`Git::remove_scratch_refs`], the one
//! cleanup every writing command and `recover` run.

use std::collections::HashSet;

use gix::ObjectId;
use gix::bstr::ByteSlice;

use super::remote::{Advertise, RemoteRef};
use super::{Git, GitContext, GitError};
use crate::refs::TMP_PREFIX;

/// Why a fetch did not produce a commit.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot reach `{url}`")]
    Unreachable {
        url: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("`{url}` has no branch, tag or commit `{git_ref}`{}", list(available))]
    RefNotFound {
        url: String,
        git_ref: String,
        /// What the module offers there (its versions and branches).
        available: Vec<String>,
    },
    #[error("`{git_ref}` is an ambiguous commit id in `{url}`: it starts {}", candidates.join(", "))]
    Ambiguous {
        url: String,
        git_ref: String,
        candidates: Vec<String>,
    },
    #[error("`{git_ref}` in `{url}` is not a commit")]
    NotACommit { url: String, git_ref: String },
    #[error(
        "`{url}` is a shallow clone (its history is cut): fetching from it would make this repository shallow too, and pushing the module refs would then be refused; the module was not embedded"
    )]
    ShallowSource { url: String },
    #[error(transparent)]
    Git(#[from] GitError),
}

fn list(available: &[String]) -> String {
    if available.is_empty() {
        "; the module has no versions or branches there".into()
    } else {
        format!("; the module has: {}", available.join(", "))
    }
}

/// The shortest abbreviation accepted as a commit id (as git's default).
pub const MIN_ABBREV: usize = 7;

/// Whether `r` can only be meant as a commit id (7 to 40 hex digits).
pub fn is_commit_id(r: &str) -> bool {
    (MIN_ABBREV..=40).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A version of a module kept in a monorepo (upstream QuickScale before its
/// split tags): the repository's version tag, the module's directory at
/// that tag, and the split branch holding the module alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonorepoVersion {
    /// The version, without `v` (the tags `X` and `vX` are tried).
    pub version: String,
    /// The module's directory in the monorepo, e.g. `quickscale_modules/auth`.
    pub subdir: String,
    /// The split branch, e.g. `splits/auth-module`.
    pub branch: String,
}

/// Which refs of a source are the module's own, for messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offers {
    /// Only tags under this prefix are the module's versions (with
    /// [`Offers::branch`] its only branch); `None`: any semver tag, any branch.
    pub tag_prefix: Option<String>,
    pub branch: Option<String>,
}

impl Offers {
    /// The short names of `refs` the module offers, sorted.
    pub fn names(&self, refs: &[RemoteRef]) -> Vec<String> {
        let mut out: Vec<String> = refs
            .iter()
            .filter_map(|r| {
                if let Some(tag) = r.tag() {
                    let ok = match &self.tag_prefix {
                        Some(p) => tag.starts_with(p.as_str()),
                        None => {
                            semver::Version::parse(tag.strip_prefix('v').unwrap_or(tag)).is_ok()
                        }
                    };
                    ok.then(|| tag.to_owned())
                } else if let Some(branch) = r.branch() {
                    let ok = match (&self.tag_prefix, &self.branch) {
                        (Some(_), Some(b)) => b == branch,
                        (Some(_), None) => false,
                        (None, _) => true,
                    };
                    ok.then(|| branch.to_owned())
                } else {
                    None
                }
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// What to fetch: a ref as the user wrote it, and how to find it when the
/// source has no such branch or tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Want {
    pub git_ref: String,
    pub monorepo: Option<MonorepoVersion>,
    pub offers: Offers,
}

impl Want {
    /// A ref with no fallback, any semver tag and branch offered.
    pub fn plain(git_ref: &str) -> Want {
        Want {
            git_ref: git_ref.to_owned(),
            monorepo: None,
            offers: Offers::default(),
        }
    }
}

/// The commit a [`Want`] resolved to, and how when it took more than a
/// branch or tag lookup (for the plan to say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub commit: ObjectId,
    pub how: Option<String>,
}

/// Which refs of the source the want needs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pick {
    /// One branch, tag or HEAD (full name).
    Ref(String),
    /// A commit id or abbreviation: every branch and tag, then history.
    Commit(String),
    /// A monorepo version: its tag (full name) and the split branch.
    Monorepo {
        tag: String,
        branch: String,
    },
    Missing,
}

fn pick(refs: &[RemoteRef], want: &Want) -> Pick {
    let r = want.git_ref.as_str();
    let has = |name: &str| refs.iter().any(|x| x.name == name);
    if r == "HEAD" || r.starts_with("refs/") {
        return if has(r) {
            Pick::Ref(r.to_owned())
        } else {
            Pick::Missing
        };
    }
    // Tags win over branches of the same name, as in `git rev-parse`.
    for full in [format!("refs/tags/{r}"), format!("refs/heads/{r}")] {
        if has(&full) {
            return Pick::Ref(full);
        }
    }
    if is_commit_id(r) {
        return Pick::Commit(r.to_ascii_lowercase());
    }
    if let Some(m) = &want.monorepo {
        let branch = format!("refs/heads/{}", m.branch);
        let tag = [
            format!("refs/tags/{}", m.version),
            format!("refs/tags/v{}", m.version),
        ]
        .into_iter()
        .find(|t| has(t));
        if let (Some(tag), true) = (tag, has(&branch)) {
            return Pick::Monorepo { tag, branch };
        }
    }
    Pick::Missing
}

fn commit_of(refs: &[RemoteRef], name: &str) -> Option<ObjectId> {
    refs.iter().find(|r| r.name == name).map(|r| r.commit)
}

fn peel_to_commit(
    repo: &gix::Repository,
    id: ObjectId,
    url: &str,
    git_ref: &str,
) -> Result<ObjectId, FetchError> {
    let object = repo.find_object(id).ctx(|| format!("read {id}"))?;
    object
        .peel_to_commit()
        .map(|c| c.id)
        .map_err(|_| FetchError::NotACommit {
            url: url.to_owned(),
            git_ref: git_ref.to_owned(),
        })
}

/// Finds the commit of a picked want in `repo`, which holds the objects.
fn finish(
    repo: &gix::Repository,
    url: &str,
    refs: &[RemoteRef],
    want: &Want,
    pick: &Pick,
) -> Result<Resolved, FetchError> {
    let not_found = || FetchError::RefNotFound {
        url: url.to_owned(),
        git_ref: want.git_ref.clone(),
        available: want.offers.names(refs),
    };
    match pick {
        Pick::Ref(name) => {
            let id = commit_of(refs, name).ok_or_else(not_found)?;
            Ok(Resolved {
                commit: peel_to_commit(repo, id, url, &want.git_ref)?,
                how: None,
            })
        }
        Pick::Commit(prefix) if prefix.len() == 40 => {
            let id = ObjectId::from_hex(prefix.as_bytes()).ctx(|| format!("parse `{prefix}`"))?;
            if !repo.has_object(id) {
                return Err(not_found());
            }
            let commit = peel_to_commit(repo, id, url, &want.git_ref)?;
            // Being in the object database is not enough (another module's
            // commit, the project's own): the source's history must hold it.
            let found = commits_with_prefix(repo, &source_tips(refs), &commit.to_string())?;
            if !found.contains(&commit) {
                return Err(not_found());
            }
            Ok(Resolved { commit, how: None })
        }
        Pick::Commit(prefix) => {
            let found = commits_with_prefix(repo, &source_tips(refs), prefix)?;
            match found.as_slice() {
                [one] => Ok(Resolved {
                    commit: *one,
                    how: None,
                }),
                [] => Err(not_found()),
                many => Err(FetchError::Ambiguous {
                    url: url.to_owned(),
                    git_ref: want.git_ref.clone(),
                    candidates: many
                        .iter()
                        .map(|c| c.to_hex_with_len(12).to_string())
                        .collect(),
                }),
            }
        }
        Pick::Monorepo { tag, branch } => {
            let Some(m) = &want.monorepo else {
                return Err(not_found());
            };
            let (Some(tag_id), Some(tip)) = (commit_of(refs, tag), commit_of(refs, branch)) else {
                return Err(not_found());
            };
            let mono = peel_to_commit(repo, tag_id, url, tag)?;
            let tip = peel_to_commit(repo, tip, url, branch)?;
            let Some(tree) = subtree_of(repo, mono, &m.subdir)? else {
                return Err(not_found());
            };
            let when = repo
                .find_commit(mono)
                .ctx(|| format!("read {mono}"))?
                .time()
                .map(|t| t.seconds)
                .unwrap_or_default();
            let Some(commit) = commit_with_tree(repo, tip, tree, when)? else {
                return Err(not_found());
            };
            let short_tag = tag.trim_start_matches("refs/tags/");
            Ok(Resolved {
                commit,
                how: Some(format!(
                    "`{url}` has no tag `{}`: version {} is commit {} of `{}`, whose files equal `{}` at the repository's tag `{short_tag}` (monorepo tag)",
                    want.git_ref,
                    m.version,
                    commit.to_hex_with_len(12),
                    m.branch,
                    m.subdir,
                )),
            })
        }
        Pick::Missing => Err(not_found()),
    }
}

/// The commits the source's branches, tags and HEAD name.
fn source_tips(refs: &[RemoteRef]) -> Vec<ObjectId> {
    refs.iter()
        .filter(|r| r.tag().is_some() || r.branch().is_some() || r.name == "HEAD")
        .map(|r| r.commit)
        .collect()
}

/// Every commit reachable from `tips` whose id starts with `prefix`.
fn commits_with_prefix(
    repo: &gix::Repository,
    tips: &[ObjectId],
    prefix: &str,
) -> Result<Vec<ObjectId>, GitError> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut tips: Vec<ObjectId> = tips
        .iter()
        .filter_map(|t| {
            repo.find_object(*t)
                .ok()
                .and_then(|o| o.peel_to_commit().ok())
                .map(|c| c.id)
        })
        .collect();
    tips.sort();
    tips.dedup();
    if tips.is_empty() {
        return Ok(out);
    }
    let walk = repo
        .rev_walk(tips)
        .all()
        .ctx(|| "walk the fetched history".into())?;
    for info in walk {
        let info = info.ctx(|| "walk the fetched history".into())?;
        if seen.insert(info.id) && info.id.to_string().starts_with(prefix) {
            out.push(info.id);
        }
    }
    Ok(out)
}

/// The tree at `path` in `commit`, when it is a directory.
fn subtree_of(
    repo: &gix::Repository,
    commit: ObjectId,
    path: &str,
) -> Result<Option<ObjectId>, GitError> {
    let tree = repo
        .find_commit(commit)
        .ctx(|| format!("read {commit}"))?
        .tree()
        .ctx(|| format!("read the tree of {commit}"))?;
    let entry = tree
        .lookup_entry_by_path(path)
        .ctx(|| format!("look up `{path}` in {commit}"))?;
    Ok(entry.filter(|e| e.mode().is_tree()).map(|e| e.object_id()))
}

/// The commit reachable from `tip` whose tree is `tree`; among several
/// (a later merge that changed nothing), the one committed closest to
/// `when` (`git subtree split` keeps the monorepo commit's dates, so that
/// is the split of the tagged commit).
fn commit_with_tree(
    repo: &gix::Repository,
    tip: ObjectId,
    tree: ObjectId,
    when: i64,
) -> Result<Option<ObjectId>, GitError> {
    let walk = repo
        .rev_walk([tip])
        .all()
        .ctx(|| format!("walk the history of {tip}"))?;
    let mut best: Option<(i64, ObjectId)> = None;
    for info in walk {
        let info = info.ctx(|| format!("walk the history of {tip}"))?;
        let commit = repo
            .find_commit(info.id)
            .ctx(|| format!("read {}", info.id))?;
        if commit
            .tree_id()
            .ctx(|| format!("read {}", info.id))?
            .detach()
            != tree
        {
            continue;
        }
        let time = commit.time().map(|t| t.seconds).unwrap_or_default();
        let distance = (time - when).abs();
        if best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, info.id));
        }
    }
    Ok(best.map(|(_, id)| id))
}

/// Every branch and tag of a local repository with the commit it names
/// (annotated tags peeled), as a remote would advertise them.
pub fn local_refs(repo: &gix::Repository) -> Result<Vec<RemoteRef>, GitError> {
    let mut out = Vec::new();
    let platform = repo.references().ctx(|| "list refs".into())?;
    for prefix in ["refs/heads/", "refs/tags/"] {
        for r in platform
            .prefixed(prefix)
            .ctx(|| format!("list refs under `{prefix}`"))?
        {
            let Ok(mut r) = r else { continue };
            let name = r.name().as_bstr().to_string();
            if let Ok(id) = r.peel_to_id() {
                out.push(RemoteRef {
                    name,
                    commit: id.detach(),
                });
            }
        }
    }
    if let Ok(id) = repo.head_id() {
        out.push(RemoteRef {
            name: "HEAD".into(),
            commit: id.detach(),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Resolves `want` in a local repository (a `file://` or path source read
/// at plan time) exactly as [`Git::fetch_commit`] resolves it remotely.
pub fn resolve_local(repo: &super::Git, url: &str, want: &Want) -> Result<Resolved, FetchError> {
    let repo = &repo.repo;
    let refs = local_refs(repo)?;
    let p = pick(&refs, want);
    finish(repo, url, &refs, want, &p)
}

/// The refs a remote advertises (branches, tags, HEAD; annotated tags peeled).
pub(super) fn advertised(map: &gix::remote::fetch::RefMap) -> Vec<RemoteRef> {
    let mut out: Vec<RemoteRef> = map
        .remote_refs
        .iter()
        .filter_map(|r| {
            let (name, target, peeled) = r.unpack();
            let name = name.to_str().ok()?;
            if !(name.starts_with("refs/heads/")
                || name.starts_with("refs/tags/")
                || name == "HEAD")
                || name.ends_with("^{}")
            {
                return None;
            }
            Some(RemoteRef {
                name: name.to_owned(),
                commit: peeled.or(target)?.to_owned(),
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out.dedup_by(|a, b| a.name == b.name);
    out
}

impl Git {
    /// Fetches what `want` names from `url` and returns its commit (never a
    /// tag object). No ref is written (see the module doc).
    pub fn fetch_commit(&self, url: &str, want: &Want) -> Result<Resolved, FetchError> {
        // One connection when the ref is a branch, tag or HEAD (the usual
        // case): its specs are fetched; otherwise a second one fetches what
        // the advertisement showed is needed.
        let r = want.git_ref.as_str();
        // A full id whose commit is here already needs nothing fetched when
        // a branch or tag the source advertises, also here, reaches it (as
        // `update` skips refs whose objects it has). Being here is not
        // enough: it may be another module's commit, or the project's.
        if r.len() == 40
            && let Ok(id) = ObjectId::from_hex(r.as_bytes())
            && let Ok(Some(object)) = self.repo.try_find_object(id)
            && let Ok(commit) = object.peel_to_commit()
        {
            let refs = self.list_remote(url)?;
            // A history not all here (a walk error) is fetched below.
            let reached =
                commits_with_prefix(&self.repo, &source_tips(&refs), &commit.id.to_string())
                    .unwrap_or_default();
            if reached.contains(&commit.id) {
                return Ok(Resolved {
                    commit: commit.id,
                    how: None,
                });
            }
        }
        if is_commit_id(r) {
            let refs = self.list_remote(url)?;
            if let Pick::Commit(_) = pick(&refs, want) {
                // Every branch and tag, by name (a glob would need a
                // destination), then the id is looked up in their history.
                let all: Vec<String> = refs
                    .iter()
                    .filter(|x| x.tag().is_some() || x.branch().is_some())
                    .map(|x| x.name.clone())
                    .collect();
                self.fetch_specs(url, &all)?;
                return finish(
                    &self.repo,
                    url,
                    &refs,
                    want,
                    &Pick::Commit(r.to_ascii_lowercase()),
                );
            }
        }
        let first: Vec<String> = if r == "HEAD" || r.starts_with("refs/") {
            vec![r.to_owned()]
        } else {
            vec![format!("refs/tags/{r}"), format!("refs/heads/{r}")]
        };
        let (refs, fetched) = self.fetch_specs(url, &first)?;
        let p = pick(&refs, want);
        if let (false, Pick::Monorepo { tag, branch }) = (fetched, &p) {
            self.fetch_specs(url, &[tag.clone(), branch.clone()])?;
        }
        finish(&self.repo, url, &refs, want, &p)
    }

    /// Fetches the refs matching `specs` (no destinations) over one
    /// connection; returns every ref the remote advertised, and whether
    /// anything matched.
    fn fetch_specs(
        &self,
        url: &str,
        specs: &[String],
    ) -> Result<(Vec<RemoteRef>, bool), FetchError> {
        // A repository on this machine is copied from directly (local.rs).
        if let Some(copied) = self.copy_local_specs(url, specs) {
            return Ok(copied);
        }
        let specs: Vec<&str> = specs.iter().map(String::as_str).collect();
        let listing = self
            .connect::<FetchError>(url, &specs, Advertise::All, |listing| Ok(listing.any_match))?;
        Ok((listing.refs, listing.any_match))
    }

    /// Removes every scratch ref under `refs/quickscale/tmp/` (loose or
    /// packed, whatever object it holds) and the ref locks a killed command
    /// left there. Nothing writes that namespace any more: what is there is
    /// a leftover of an older version, so removing it loses nothing.
    /// Returns how many refs were removed.
    pub fn remove_scratch_refs(&self) -> Result<usize, GitError> {
        let dir = self
            .repo
            .common_dir()
            .join(TMP_PREFIX.trim_end_matches('/'));
        remove_lock_files(&dir)?;
        let platform = self.repo.references().ctx(|| "list refs".into())?;
        let mut names = Vec::new();
        for r in platform
            .prefixed(TMP_PREFIX)
            .ctx(|| format!("list refs under `{TMP_PREFIX}`"))?
        {
            let r = r.map_err(|e| {
                GitError::new(format!("read a ref under `{TMP_PREFIX}`"), e.to_string())
            })?;
            // The stored value, not the peeled one: it is what the delete expects.
            if let Some(id) = r.target().try_id() {
                names.push((r.name().as_bstr().to_string(), id.to_owned()));
            }
        }
        let updates: Vec<super::RefUpdate> = names
            .iter()
            .map(|(name, id)| super::RefUpdate {
                name: name.clone(),
                expected: Some(*id),
                new: None,
            })
            .collect();
        self.update_refs(&updates, "git quickscale: remove scratch refs")?;
        if dir.is_dir() {
            // Empty directories only; a ref written meanwhile stays.
            let _ = remove_empty_dirs(&dir);
        }
        Ok(names.len())
    }
}

/// Deletes `*.lock` files under `dir` (ref locks of a killed command).
fn remove_lock_files(dir: &std::path::Path) -> Result<(), GitError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for e in entries.flatten() {
        let path = e.path();
        let kind = e.file_type().ctx(|| format!("read {}", path.display()))?;
        if kind.is_dir() {
            remove_lock_files(&path)?;
        } else if path.extension().is_some_and(|x| x == "lock") {
            fs_err::remove_file(&path)
                .ctx(|| format!("remove the stale lock {}", path.display()))?;
        }
    }
    Ok(())
}

fn remove_empty_dirs(dir: &std::path::Path) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)?.flatten() {
        if e.file_type()?.is_dir() {
            remove_empty_dirs(&e.path())?;
        }
    }
    std::fs::remove_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(name: &str, hex: &str) -> RemoteRef {
        RemoteRef {
            name: name.into(),
            commit: ObjectId::from_hex(hex.repeat(40 / hex.len()).as_bytes()).expect("hex"),
        }
    }

    #[test]
    fn tags_win_over_branches_and_ids_need_seven_hex() {
        let refs = vec![r("refs/heads/v1", "a"), r("refs/tags/v1", "b")];
        assert_eq!(
            pick(&refs, &Want::plain("v1")),
            Pick::Ref("refs/tags/v1".into())
        );
        assert_eq!(pick(&refs, &Want::plain("abcdef")), Pick::Missing);
        assert_eq!(
            pick(&refs, &Want::plain("ABCDEF0")),
            Pick::Commit("abcdef0".into())
        );
    }

    #[test]
    fn a_monorepo_version_needs_its_tag_and_the_split_branch() {
        let mut want = Want::plain("splits/auth-module/0.63.0");
        want.monorepo = Some(MonorepoVersion {
            version: "0.63.0".into(),
            subdir: "quickscale_modules/auth".into(),
            branch: "splits/auth-module".into(),
        });
        let refs = vec![r("refs/tags/v0.63.0", "a")];
        assert_eq!(pick(&refs, &want), Pick::Missing);
        let refs = vec![
            r("refs/tags/v0.63.0", "a"),
            r("refs/heads/splits/auth-module", "b"),
        ];
        assert_eq!(
            pick(&refs, &want),
            Pick::Monorepo {
                tag: "refs/tags/v0.63.0".into(),
                branch: "refs/heads/splits/auth-module".into()
            }
        );
    }

    #[test]
    fn offers_are_the_modules_own() {
        let refs = vec![
            r("refs/heads/main", "a"),
            r("refs/heads/splits/crm-module", "a"),
            r("refs/tags/splits/crm-module/0.88.0", "b"),
            r("refs/tags/splits/auth-module/0.88.0", "b"),
            r("refs/tags/0.63.0", "c"),
            r("refs/tags/nightly", "c"),
        ];
        let crm = Offers {
            tag_prefix: Some("splits/crm-module/".into()),
            branch: Some("splits/crm-module".into()),
        };
        assert_eq!(
            crm.names(&refs),
            vec!["splits/crm-module", "splits/crm-module/0.88.0"]
        );
        let plain = Offers::default();
        assert_eq!(
            plain.names(&refs),
            vec!["0.63.0", "main", "splits/crm-module"]
        );
    }
}
