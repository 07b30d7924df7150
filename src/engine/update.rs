//! Updating embedded modules: which upstream version to move to (semver
//! tags, branches, pins), the three-way merge of each prefix (git-subtree's
//! `pull --squash`, hash for hash), and the preview of all of it.
//!
//! An update is a step of the ordinary pipeline: [`select`] lists and
//! fetches what the modules move to and yields [`UpdateModule`]s; `resolve`
//! (execute.rs) merges each one in memory with [`resolve_step`]; `prepare`
//! writes the squash and merge commits with [`commit_step`]. A conflict
//! either refuses the whole operation or pauses it (see `pause.rs`).

use std::collections::BTreeMap;

use crate::git::ObjectId;
use serde::Serialize;

use super::modules::{self, prefix_of};
use super::plan::UpdateModule;
use super::untrusted::{self, Limits};
pub use super::upstream_cache::{Available, Cached, load_cache};
use super::upstream_cache::{cached, save_cache};
use super::{EngineError, Event, Workspace};
use crate::catalog::TagScheme;
use crate::git::fetch::{FetchError, Offers, is_commit_id};
use crate::git::merge::{MergeConflict, PrefixMerge};
use crate::git::remote::RemoteRef;
use crate::git::tree::TreeEdit;
use crate::git::{Git, GitError, Signature};
use crate::manifest::{MANIFEST_FILE, Manifest};
use crate::state::ModuleState;
use crate::value::Value;

// ---------------------------------------------------------------------------
// Versions
// ---------------------------------------------------------------------------

/// A semver tag (`v1.2.3` or `1.2.3`).
pub fn parse_version(tag: &str) -> Option<semver::Version> {
    semver::Version::parse(tag.strip_prefix('v').unwrap_or(tag)).ok()
}

/// A version as manifests write it (`1.2` is `1.2.0`, a leading `v` is allowed).
pub fn lenient_version(text: &str) -> Option<semver::Version> {
    let t = text.trim().trim_start_matches('v');
    parse_version(t).or_else(|| match t.split('.').count() {
        1 => parse_version(&format!("{t}.0.0")),
        2 => parse_version(&format!("{t}.0")),
        _ => None,
    })
}

/// The upgrade notes for the versions crossed moving `from` → `to`
/// (each note's version `v` with `from < v <= to`; moving back, none).
pub fn notes_crossed(
    notes: &[(String, String)],
    from: Option<&str>,
    to: Option<&str>,
) -> Vec<String> {
    let to_v = to.and_then(lenient_version);
    let from_v = from.and_then(lenient_version);
    notes
        .iter()
        .filter(|(v, _)| match (lenient_version(v), &from_v, &to_v) {
            (Some(v), Some(f), Some(t)) => *f < v && v <= *t,
            (Some(v), None, Some(t)) => v <= *t,
            _ => Some(v.as_str()) == to,
        })
        .map(|(v, text)| format!("{v}: {}", text.trim_end()))
        .collect()
}

/// What the project does not meet of the modules' `requires:` — refusals
/// (nothing can satisfy it) and warnings (only part of the project's stack
/// can). Only modules that change, or that need one that changes, count.
pub fn check_requirements(
    modules: &BTreeMap<String, Option<&Manifest>>,
    changed: &std::collections::BTreeSet<String>,
) -> (Vec<String>, Vec<String>) {
    use crate::compat::{self, Declared, Needs, PROJECT_DJANGOS, PROJECT_PYTHONS};
    let mut refusals = Vec::new();
    let mut warnings = Vec::new();
    let tool = env!("CARGO_PKG_VERSION");
    for (name, manifest) in modules {
        let Some(m) = manifest else { continue };
        let r = &m.requires;
        let who = format!("module {name} {}", m.version);
        if changed.contains(name) {
            for implied in m.implies.iter().filter(|i| !modules.contains_key(*i)) {
                warnings.push(format!(
                    "{who}: upstream QuickScale adds module {implied} along with it (module.yml implies), and it is not embedded; `git quickscale plan --add {implied}` adds it"
                ));
            }
        }
        let relevant = changed.contains(name) || r.modules.keys().any(|d| changed.contains(d));
        if !relevant || r.is_empty() {
            continue;
        }
        if let Some(range) = &r.quickscale
            && compat::allows(range, tool) == Some(false)
        {
            refusals.push(format!(
                "{who} needs git-quickscale {range} (module.yml requires.quickscale); this is {tool}: upgrade git-quickscale, or stay on a version of {name} that accepts it"
            ));
        }
        for (what, range, supported) in [
            ("Python", &r.python, PROJECT_PYTHONS),
            ("Django", &r.django, PROJECT_DJANGOS),
        ] {
            let Some(range) = range else { continue };
            let ok: Vec<&str> = supported
                .iter()
                .copied()
                .filter(|v| compat::allows(range, v) != Some(false))
                .collect();
            if ok.is_empty() {
                refusals.push(format!(
                    "{who} needs {what} {range} (module.yml requires.{}), which the project's stack ({}) cannot meet: stay on a version of {name} that supports it",
                    what.to_lowercase(),
                    supported.join(", ")
                ));
            } else if ok.len() < supported.len() {
                let declared = Declared {
                    text: range.clone(),
                    field: format!("module.yml requires.{}", what.to_lowercase()),
                };
                let needs = if what == "Python" {
                    Needs {
                        python: Some(declared),
                        django: None,
                    }
                } else {
                    Needs {
                        python: None,
                        django: Some(declared),
                    }
                };
                warnings.extend(compat::check(name, &needs).into_iter().map(|m| m.message));
            }
        }
        for (dep, range) in &r.modules {
            match modules.get(dep) {
                None => refusals.push(format!(
                    "{who} needs module {dep} {range} (module.yml requires.modules), which is not embedded: add it with `git quickscale plan --add {dep}`"
                )),
                // Any version (upstream's bare `required_modules: [auth]`).
                Some(_) if range.trim() == "*" => {}
                Some(other) => {
                    let version = other.map(|o| o.version.as_str()).unwrap_or("(no version)");
                    if compat::allows(range, version) != Some(true) {
                        refusals.push(format!(
                            "{who} needs module {dep} {range} (module.yml requires.modules); {dep} is {version}: move {dep} to a version in that range (`git quickscale update {dep} --to REF`), or {name} to one that accepts {dep} {version}"
                        ));
                    }
                }
            }
        }
    }
    (refusals, warnings)
}

/// Whether `new` is compatible with `old` by caret rules: same major; for
/// 0.x, same minor (and for 0.0.x, the same version).
pub fn is_compatible(old: &semver::Version, new: &semver::Version) -> bool {
    if old.major != new.major {
        return false;
    }
    if old.major == 0 {
        if old.minor != new.minor {
            return false;
        }
        if old.minor == 0 {
            return old.patch == new.patch;
        }
    }
    true
}

/// What a module's ref follows upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Follows {
    /// A semver tag: moves to newer compatible tags.
    Version,
    /// Another tag: moves only when asked (`--to`).
    Tag,
    /// A branch: moves to its tip.
    Branch,
    /// A commit id: pinned; moves only when asked (`--to`).
    Commit,
}

/// How `update` picks the target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// Breaking versions (another major, or minor for 0.x) are allowed.
    pub major: bool,
    /// An explicit target ref (branch, tag or commit).
    pub to: Option<String>,
}

/// The full name of `git_ref` among `refs` (tags win over branches, as git).
fn find_ref<'r>(refs: &'r [RemoteRef], git_ref: &str) -> Option<&'r RemoteRef> {
    if git_ref.starts_with("refs/") {
        return refs.iter().find(|r| r.name == git_ref);
    }
    refs.iter()
        .find(|r| r.tag() == Some(git_ref))
        .or_else(|| refs.iter().find(|r| r.branch() == Some(git_ref)))
}

/// Whether `commit` is the commit `hex` names.
fn is_at(commit: ObjectId, hex: &str) -> bool {
    ObjectId::from_hex(hex.as_bytes()).ok() == Some(commit)
}

fn is_full_hex(r: &str) -> bool {
    r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit())
}

/// What `git_ref` follows, given the upstream's refs and how its tags
/// name versions.
pub fn follows(git_ref: &str, refs: &[RemoteRef], scheme: &TagScheme) -> Follows {
    match find_ref(refs, git_ref) {
        Some(r) if r.branch().is_some() => Follows::Branch,
        Some(r) if r.tag().and_then(|t| scheme.version_of(t)).is_some() => Follows::Version,
        Some(_) => Follows::Tag,
        None if is_full_hex(git_ref) => Follows::Commit,
        None if scheme.version_of(git_ref).is_some() => Follows::Version,
        None if git_ref == "HEAD" => Follows::Branch,
        None => Follows::Tag,
    }
}

/// The version tags of `refs` under `scheme`, newest first (pre-releases left out).
fn versions<'r>(
    refs: &'r [RemoteRef],
    scheme: &TagScheme,
) -> Vec<(semver::Version, &'r RemoteRef)> {
    let mut out: Vec<_> = refs
        .iter()
        .filter_map(|r| Some((scheme.version_of(r.tag()?)?, r)))
        .filter(|(v, _)| v.pre.is_empty())
        .collect();
    out.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.name.cmp(&b.1.name)));
    out
}

/// Newer versions than `current_ref` (or the branch's new tip).
pub fn available(
    current_ref: &str,
    current_commit: &str,
    refs: &[RemoteRef],
    scheme: &TagScheme,
) -> Available {
    let mut out = Available::default();
    match follows(current_ref, refs, scheme) {
        Follows::Version => {
            let Some(current) = scheme.version_of(current_ref) else {
                return out;
            };
            for (v, r) in versions(refs, scheme) {
                if v <= current {
                    break;
                }
                let tag = r.tag().unwrap_or_default().to_owned();
                if is_compatible(&current, &v) {
                    out.compatible.get_or_insert(tag);
                } else {
                    out.breaking.get_or_insert(tag);
                }
            }
        }
        Follows::Branch => {
            let tip = if current_ref == "HEAD" {
                refs.iter().find(|r| r.name == "HEAD")
            } else {
                find_ref(refs, current_ref)
            };
            if let Some(tip) = tip
                && !is_at(tip.commit, current_commit)
            {
                out.branch_tip = Some(tip.commit.to_string());
            }
        }
        Follows::Tag | Follows::Commit => {}
    }
    out
}

/// Where `update` moves a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// To `git_ref` (a short name as the user writes it), fetched as `fetch`.
    Move { git_ref: String, fetch: String },
    /// It is at the newest version the policy allows.
    Current { why: String },
}

/// Picks the target of one module.
pub fn choose(
    current_ref: &str,
    current_commit: &str,
    refs: &[RemoteRef],
    policy: &Policy,
    scheme: &TagScheme,
) -> Result<Target, String> {
    if let Some(to) = &policy.to {
        return choose_explicit(to, refs, scheme);
    }
    match follows(current_ref, refs, scheme) {
        Follows::Version => {
            let Some(current) = scheme.version_of(current_ref) else {
                return Ok(Target::Current {
                    why: "its ref is not a version".into(),
                });
            };
            let newest = versions(refs, scheme)
                .into_iter()
                .find(|(v, _)| *v > current && (policy.major || is_compatible(&current, v)));
            Ok(match newest {
                Some((_, r)) => Target::Move {
                    git_ref: r.tag().unwrap_or_default().to_owned(),
                    fetch: r.name.clone(),
                },
                None => {
                    let breaking = available(current_ref, current_commit, refs, scheme).breaking;
                    Target::Current {
                        why: match breaking {
                            Some(b) if !policy.major => format!(
                                "{current_ref} is the newest compatible version ({b} is a breaking version: --major or --to {b})"
                            ),
                            _ => format!("{current_ref} is the newest version"),
                        },
                    }
                }
            })
        }
        Follows::Branch => {
            let tip = if current_ref == "HEAD" {
                refs.iter().find(|r| r.name == "HEAD")
            } else {
                find_ref(refs, current_ref)
            };
            match tip {
                Some(t) if is_at(t.commit, current_commit) => Ok(Target::Current {
                    why: format!("it is at the tip of {current_ref}"),
                }),
                Some(t) => Ok(Target::Move {
                    git_ref: current_ref.to_owned(),
                    fetch: t.name.clone(),
                }),
                None => Err(format!(
                    "the branch `{current_ref}` is gone upstream; the module has: {}",
                    names(refs, scheme)
                )),
            }
        }
        Follows::Tag => Ok(match find_ref(refs, current_ref) {
            Some(t) if !is_at(t.commit, current_commit) => Target::Move {
                git_ref: current_ref.to_owned(),
                fetch: t.name.clone(),
            },
            _ => Target::Current {
                why: format!("it is pinned to tag {current_ref} (--to REF moves it)"),
            },
        }),
        Follows::Commit => Ok(Target::Current {
            why: "it is pinned to a commit (--to REF moves it)".into(),
        }),
    }
}

/// The target `--to` names: a ref, a commit id, or a bare version of the
/// module's tag scheme.
fn choose_explicit(to: &str, refs: &[RemoteRef], scheme: &TagScheme) -> Result<Target, String> {
    // A commit id (7+ hex) that is no ref name: found in the fetched history.
    if is_commit_id(to) && find_ref(refs, to).is_none() {
        return Ok(Target::Move {
            git_ref: to.to_owned(),
            fetch: to.to_owned(),
        });
    }
    // A bare version names the module's own tag (`--to 0.88.1`), as in
    // quickscale.yml (`source::resolve`), even where the repository has a
    // tag of that name: upstream's `0.88.1` tags the whole monorepo, whose
    // tree is no module.
    let to = &scheme.tag_for(to).unwrap_or_else(|| to.to_owned());
    match find_ref(refs, to) {
        Some(r) => Ok(Target::Move {
            git_ref: to.clone(),
            fetch: r.name.clone(),
        }),
        // A version of the module's scheme without its tag: the fetch
        // looks for it through the monorepo's version tag.
        None if matches!(scheme, TagScheme::Pattern { .. }) && scheme.version_of(to).is_some() => {
            Ok(Target::Move {
                git_ref: to.clone(),
                fetch: to.clone(),
            })
        }
        None => Err(format!(
            "`{to}` is not a branch, tag or commit upstream; the module has: {}",
            names(refs, scheme)
        )),
    }
}

/// What the module offers upstream (its versions and branches), for messages.
fn names(refs: &[RemoteRef], scheme: &TagScheme) -> String {
    let offers = match scheme {
        TagScheme::Semver => Offers::default(),
        TagScheme::Pattern { prefix, .. } => Offers {
            tag_prefix: Some(prefix.clone()),
            branch: Some(prefix.trim_end_matches('/').to_owned()),
        },
    };
    let list = offers.names(refs);
    if list.is_empty() {
        "no branches or tags".into()
    } else {
        list.join(", ")
    }
}

// ---------------------------------------------------------------------------
// Selecting and fetching (the `update` command)
// ---------------------------------------------------------------------------

/// A module that does not move, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unchanged {
    pub module: String,
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub why: String,
}

/// What `update` will do: the steps (fetched), and the modules left alone.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub steps: Vec<UpdateModule>,
    pub unchanged: Vec<Unchanged>,
    /// What each module's upstream offers (for `--check`), by module.
    pub available: BTreeMap<String, Available>,
}

/// Why a module could not be updated (one line each, for the batch report).
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.iter().map(|(m, why)| format!("module {m}: {why}")).collect::<Vec<_>>().join("\n"))]
pub struct BatchError(pub Vec<(String, String)>);

/// Lists each source URL once, picks every module's target, and fetches
/// all targets of a URL over one connection. Any failure fails the batch.
pub fn select(
    ws: &Workspace,
    names: &[String],
    policy: &Policy,
    events: &mut dyn FnMut(Event),
) -> Result<Selection, EngineError> {
    let git = ws
        .git
        .as_ref()
        .ok_or_else(|| GitError::new("open the repository", "it is missing"))?;
    let applied = ws
        .applied
        .as_ref()
        .ok_or_else(|| EngineError::Options(vec!["no module is embedded yet".into()]))?;
    let by_url = group_by_source(&applied.modules, names)?;
    let mut failed: Vec<(String, String)> = Vec::new();
    let mut selection = Selection::default();
    let mut cache = load_cache(git);
    for (url, modules) in &by_url {
        let fetch_url = fetch_url(ws, url);
        events(Event::Listing {
            url: url.clone(),
            modules: modules.len(),
        });
        let refs = match git.list_remote(&fetch_url) {
            Ok(r) => r,
            Err(e) => {
                for m in modules {
                    failed.push(((*m).clone(), fetch_error_text(&e)));
                }
                continue;
            }
        };
        let current: Vec<(&String, &ModuleState)> = modules
            .iter()
            .map(|name| (*name, &applied.modules[*name]))
            .collect();
        let targets = targets_of(url, &current, &refs, policy, &ws.catalog);
        for (name, available) in &targets.available {
            let git_ref = &applied.modules[name].git_ref;
            cache.insert(name.clone(), cached(url, git_ref, available));
        }
        selection.available.extend(targets.available);
        selection.unchanged.extend(targets.unchanged);
        failed.extend(targets.failed);
        let mut steps = targets.steps;
        let module_list = modules
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        if let Err(e) = fetch_listed(
            git,
            &fetch_url,
            url,
            &module_list,
            &refs,
            targets.wanted,
            events,
        ) {
            for m in modules {
                failed.push(((*m).clone(), fetch_error_text(&e)));
            }
            continue;
        }
        failed.extend(fetch_unlisted(
            ws,
            git,
            &fetch_url,
            url,
            targets.by_want,
            &mut steps,
            events,
        ));
        drop_steps_already_there(&mut steps, &applied.modules, &mut selection.unchanged);
        read_tip_versions(git, &steps, &mut selection.available, &mut cache);
        events(Event::Fetched {
            module: module_list,
            commit: String::new(),
        });
        selection.steps.extend(steps);
    }
    save_cache(git, &cache);
    if !failed.is_empty() {
        failed.sort();
        return Err(EngineError::Batch(BatchError(failed)));
    }
    // Keep the order the user gave.
    selection
        .steps
        .sort_by_key(|s| names.iter().position(|n| *n == s.name));
    Ok(selection)
}

/// Why a module stays: the target is its own ref, at the commit it is at.
fn already_there(
    name: &str,
    current: &ModuleState,
    git_ref: &str,
    commit: Option<ObjectId>,
) -> Option<Unchanged> {
    (git_ref == current.git_ref && commit.is_some_and(|c| is_at(c, &current.commit))).then(|| {
        Unchanged {
            module: name.to_owned(),
            git_ref: current.git_ref.clone(),
            why: format!("it is at {git_ref} already"),
        }
    })
}

/// A version found through the monorepo tag is resolved only by the
/// fetch: one the module is at already is no step (as a listed tag's is,
/// in `targets_of`).
fn drop_steps_already_there(
    steps: &mut Vec<UpdateModule>,
    embedded: &BTreeMap<String, ModuleState>,
    unchanged: &mut Vec<Unchanged>,
) {
    steps.retain(|s| {
        let commit = s
            .commit
            .as_deref()
            .and_then(|c| ObjectId::from_hex(c.as_bytes()).ok());
        let there = embedded
            .get(&s.name)
            .and_then(|current| already_there(&s.name, current, &s.to_ref, commit));
        let stays = there.is_some();
        unchanged.extend(there);
        !stays
    });
}

/// The modules to update by source URL (each URL is listed once).
fn group_by_source<'n>(
    embedded: &BTreeMap<String, ModuleState>,
    names: &'n [String],
) -> Result<BTreeMap<String, Vec<&'n String>>, EngineError> {
    let mut by_url: BTreeMap<String, Vec<&String>> = BTreeMap::new();
    for name in names {
        let m = embedded.get(name).ok_or_else(|| EngineError::NotEmbedded {
            name: name.clone(),
            embedded: embedded.keys().cloned().collect(),
        })?;
        by_url.entry(m.source.clone()).or_default().push(name);
    }
    Ok(by_url)
}

/// What one source's refs decide for its modules, before anything is fetched.
#[derive(Debug, Default, PartialEq)]
struct UrlTargets {
    /// Refs the remote lists that the steps move to (fetched together).
    wanted: Vec<String>,
    /// (module, ref) the remote does not list by name — a commit id or a
    /// version without its tag — fetched one by one.
    by_want: Vec<(String, String)>,
    steps: Vec<UpdateModule>,
    unchanged: Vec<Unchanged>,
    available: BTreeMap<String, Available>,
    failed: Vec<(String, String)>,
}

/// Picks each module's target from its source's refs: a step, or why it
/// stays (already at the target, or at the newest the policy allows), or
/// why it cannot move.
fn targets_of(
    url: &str,
    modules: &[(&String, &ModuleState)],
    refs: &[RemoteRef],
    policy: &Policy,
    catalog: &crate::catalog::Catalog,
) -> UrlTargets {
    let mut out = UrlTargets::default();
    for (name, current) in modules {
        let scheme = catalog
            .get(name)
            .map(|e| e.scheme_for(url))
            .unwrap_or_default();
        let available = available(&current.git_ref, &current.commit, refs, &scheme);
        out.available.insert((*name).clone(), available);
        match choose(&current.git_ref, &current.commit, refs, policy, &scheme) {
            Ok(Target::Move { git_ref, fetch }) => {
                let listed = refs.iter().find(|r| r.name == fetch).map(|r| r.commit);
                if let Some(there) = already_there(name, current, &git_ref, listed) {
                    out.unchanged.push(there);
                    continue;
                }
                if listed.is_some() {
                    out.wanted.push(fetch.clone());
                } else {
                    out.by_want.push(((*name).clone(), git_ref.clone()));
                }
                out.steps.push(UpdateModule {
                    name: (*name).clone(),
                    source: url.to_owned(),
                    from_ref: current.git_ref.clone(),
                    to_ref: git_ref,
                    commit: listed
                        .map(|c| c.to_string())
                        .or_else(|| is_full_hex(&fetch).then(|| fetch.clone())),
                });
            }
            Ok(Target::Current { why }) => out.unchanged.push(Unchanged {
                module: (*name).clone(),
                git_ref: current.git_ref.clone(),
                why,
            }),
            Err(why) => out.failed.push(((*name).clone(), why)),
        }
    }
    out
}

/// Fetches the listed refs the steps move to over one connection, unless
/// their objects are here already (e.g. a second run).
fn fetch_listed(
    git: &Git,
    fetch_url: &str,
    url: &str,
    module_list: &str,
    refs: &[RemoteRef],
    mut wanted: Vec<String>,
    events: &mut dyn FnMut(Event),
) -> Result<(), FetchError> {
    wanted.retain(|src| {
        refs.iter()
            .find(|r| &r.name == src)
            .is_none_or(|r| !git.has_object(r.commit))
    });
    if wanted.is_empty() {
        return Ok(());
    }
    events(Event::Fetching {
        module: module_list.to_owned(),
        url: url.to_owned(),
        git_ref: wanted
            .iter()
            .map(|s| short_ref(s))
            .collect::<Vec<_>>()
            .join(", "),
    });
    git.fetch_refs(fetch_url, &wanted)
}

/// Fetches the targets the remote does not list by name and records their
/// commits in the steps. Returns the modules that failed, with why.
fn fetch_unlisted(
    ws: &Workspace,
    git: &Git,
    fetch_url: &str,
    url: &str,
    by_want: Vec<(String, String)>,
    steps: &mut [UpdateModule],
    events: &mut dyn FnMut(Event),
) -> Vec<(String, String)> {
    let mut failed = Vec::new();
    for (name, git_ref) in by_want {
        let want = crate::source::want(&name, url, &git_ref, Some(&ws.catalog));
        match git.fetch_commit(fetch_url, &want) {
            Ok(resolved) => {
                if let Some(how) = &resolved.how {
                    events(Event::Resolved {
                        module: name.clone(),
                        how: how.clone(),
                    });
                }
                if let Some(step) = steps.iter_mut().find(|s| s.name == name) {
                    step.commit = Some(resolved.commit.to_string());
                    if is_commit_id(&git_ref) {
                        step.to_ref = resolved.commit.to_string();
                    }
                }
            }
            Err(e) => failed.push((name, fetch_error_text(&e))),
        }
    }
    failed
}

/// A branch has no version in its name: its manifest at the fetched tip
/// says it (shown by `--check`, kept in the upstream cache).
fn read_tip_versions(
    git: &Git,
    steps: &[UpdateModule],
    available: &mut BTreeMap<String, Available>,
    cache: &mut BTreeMap<String, Cached>,
) {
    for step in steps {
        let Some(available) = available.get_mut(&step.name) else {
            continue;
        };
        let tip = step
            .commit
            .as_deref()
            .and_then(|c| ObjectId::from_hex(c.as_bytes()).ok())
            .filter(|id| git.has_object(*id));
        if available.branch_tip.is_some()
            && let Some(tip) = tip
            && let Ok(Some(m)) =
                crate::source::manifest_at_commit(git, tip, &step.name, "module.yml")
        {
            available.tip_version = Some(m.version);
            if let Some(c) = cache.get_mut(&step.name) {
                c.available.tip_version = available.tip_version.clone();
            }
        }
    }
}

fn short_ref(full: &str) -> String {
    full.strip_prefix("refs/tags/")
        .or_else(|| full.strip_prefix("refs/heads/"))
        .unwrap_or(full)
        .to_owned()
}

fn fetch_error_text(e: &FetchError) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

/// The URL to fetch from: a local path resolved against the project.
pub fn fetch_url(ws: &Workspace, url: &str) -> String {
    match crate::source::location(url, &ws.root) {
        crate::source::Location::Local(path) => path.to_string_lossy().into_owned(),
        crate::source::Location::Remote(url) => url,
    }
}

// ---------------------------------------------------------------------------
// The merge of one module, in memory
// ---------------------------------------------------------------------------

/// A version as the preview shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct At {
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub commit: String,
    /// The manifest's `version`.
    pub version: Option<String>,
}

/// An upstream commit, one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommitLine {
    pub commit: String,
    pub subject: String,
}

/// One file of the upstream change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileStat {
    pub path: String,
    /// `added`, `modified` or `deleted`.
    pub status: &'static str,
    pub insertions: usize,
    pub deletions: usize,
}

/// How an option changes with the new version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OptionDelta {
    pub option: String,
    /// `added`, `removed`, `changed` (value) or `refused` (an immutable
    /// option whose meaning changed).
    pub change: &'static str,
    pub old: Option<Value>,
    pub new: Option<Value>,
    pub note: String,
}

/// Everything the preview shows for one module.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Preview {
    pub module: String,
    pub from: At,
    pub to: At,
    /// Upstream commits gained, newest first.
    pub commits: Vec<CommitLine>,
    /// Upstream commits lost (moving back), newest first.
    pub reverted: Vec<CommitLine>,
    /// The upstream change, file by file.
    pub files: Vec<FileStat>,
    /// Files of the prefix changed locally since the last embed (kept).
    pub local_changes: Vec<String>,
    pub conflicts: Vec<MergeConflict>,
    pub options: Vec<OptionDelta>,
    /// New database migrations (run `python manage.py migrate`).
    pub migrations: Vec<String>,
    /// Upgrade notes the module ships for the versions crossed.
    pub notes: Vec<String>,
    /// Requirements of the new version the project does not meet.
    pub incompatible: Vec<String>,
}

/// One module merged in memory.
#[derive(Debug, Clone)]
pub struct Merged {
    pub step: UpdateModule,
    pub upstream: ObjectId,
    pub upstream_tree: ObjectId,
    /// The squash commit of this pull (its id labels their side of conflicts).
    pub squash: ObjectId,
    pub merge: PrefixMerge,
    pub manifest: Option<Manifest>,
    pub options: BTreeMap<String, Value>,
    pub preview: Preview,
    /// The upstream commit is the one embedded already (only the ref
    /// changes): no squash or merge commit, as `git subtree pull` says
    /// "already at commit".
    pub noop: bool,
}

/// Everything a step needs from the operation around it.
pub struct StepContext<'a> {
    pub ws: &'a Workspace,
    pub git: &'a Git,
    pub head_tree: ObjectId,
    /// The newest squash of each prefix (one history walk for all modules).
    pub squashes: &'a BTreeMap<String, (ObjectId, ObjectId)>,
    pub limits: Limits,
    pub author: &'a Signature,
    pub committer: &'a Signature,
    /// A resolution given by the user (a paused update going on): the
    /// squash already made and the prefix tree to commit.
    pub resolution: Option<(ObjectId, ObjectId)>,
}

/// Fetches (unless done), checks and merges one module in memory.
pub fn resolve_step(
    cx: &StepContext<'_>,
    step: &UpdateModule,
    given: &BTreeMap<String, Value>,
    events: &mut dyn FnMut(Event),
) -> Result<Merged, EngineError> {
    let git = cx.git;
    let name = &step.name;
    let prefix = prefix_of(name);
    let current = cx
        .ws
        .applied
        .as_ref()
        .and_then(|a| a.modules.get(name))
        .ok_or_else(|| EngineError::Options(vec![format!("module {name} is not embedded")]))?;
    let upstream = git.peel_to_commit(upstream_commit(cx, step, events)?)?;
    let upstream_tree = git.tree_of(upstream)?;
    untrusted::check_tree(git, name, upstream_tree, cx.limits)?;
    untrusted::check_shape(
        git,
        name,
        upstream_tree,
        cx.ws.catalog.get(name),
        &step.to_ref,
    )?;
    let (old_squash, old_split) = cx.squashes.get(&prefix).copied().ok_or_else(|| {
        EngineError::Options(vec![format!(
            "module {name}: no squash commit for `{prefix}` is reachable from HEAD (a shallow clone? `git fetch --unshallow`), so there is no base for the merge"
        )])
    })?;
    events(Event::Merging {
        module: name.clone(),
    });
    let sides = Sides {
        old_split,
        base_tree: git.tree_of(old_squash)?,
        upstream,
        upstream_tree,
    };
    let noop = upstream == old_split && cx.resolution.is_none();
    let (squash, merge) = merge_module(cx, &prefix, old_squash, &sides, noop)?;
    let manifest = merged_manifest(git, step, &merge, upstream)?;
    for w in manifest.iter().flat_map(|m| &m.warnings) {
        events(Event::Warning(w.clone()));
    }
    let old_manifest = modules::read_manifest(git, cx.head_tree, name)?;
    let options = modules::resolve_options(name, manifest.as_ref(), given)?;
    let option_deltas = option_deltas(
        name,
        old_manifest.as_ref(),
        manifest.as_ref(),
        &current.options,
        &options,
    );
    let refused = refused_options(name, &option_deltas);
    if !refused.is_empty() {
        return Err(EngineError::Options(refused));
    }
    let manifests = (old_manifest.as_ref(), manifest.as_ref());
    let preview = preview_of(cx, step, current, &sides, &merge, manifests, option_deltas)?;
    Ok(Merged {
        step: step.clone(),
        upstream,
        upstream_tree,
        squash,
        merge,
        manifest,
        options,
        preview,
        noop,
    })
}

/// The upstream commit a step moves to: fetched by [`select`] already, or
/// fetched now.
fn upstream_commit(
    cx: &StepContext<'_>,
    step: &UpdateModule,
    events: &mut dyn FnMut(Event),
) -> Result<ObjectId, EngineError> {
    let git = cx.git;
    let name = &step.name;
    let known = step
        .commit
        .as_deref()
        .and_then(|c| ObjectId::from_hex(c.as_bytes()).ok())
        .filter(|id| git.has_object(*id));
    if let Some(id) = known {
        return Ok(id);
    }
    events(Event::Fetching {
        module: name.clone(),
        url: step.source.clone(),
        git_ref: step.to_ref.clone(),
    });
    let want = crate::source::want(name, &step.source, &step.to_ref, Some(&cx.ws.catalog));
    let id = git
        .fetch_commit(&fetch_url(cx.ws, &step.source), &want)
        .map_err(|source| EngineError::Fetch {
            module: name.clone(),
            source,
        })?
        .commit;
    events(Event::Fetched {
        module: name.clone(),
        commit: id.to_string(),
    });
    Ok(id)
}

/// The upstream versions a step moves between: the split commit embedded
/// now (its squash's tree is the merge base) and the new upstream commit.
struct Sides {
    old_split: ObjectId,
    base_tree: ObjectId,
    upstream: ObjectId,
    upstream_tree: ObjectId,
}

/// The squash commit and the merged tree: nothing to merge when upstream
/// is the commit embedded already, the user's resolution of a paused
/// update, else git-subtree's squash commit and a three-way merge of the
/// prefix.
fn merge_module(
    cx: &StepContext<'_>,
    prefix: &str,
    old_squash: ObjectId,
    sides: &Sides,
    noop: bool,
) -> Result<(ObjectId, PrefixMerge), EngineError> {
    let git = cx.git;
    Ok(match cx.resolution {
        None if noop => (
            old_squash,
            PrefixMerge {
                tree: cx.head_tree,
                prefix_tree: git.subtree_at(cx.head_tree, prefix)?,
                conflicts: Vec::new(),
                raw: Vec::new(),
            },
        ),
        Some((squash, prefix_tree)) => {
            let tree = git.edit_tree(
                cx.head_tree,
                &[TreeEdit {
                    path: prefix.to_owned(),
                    target: Some((crate::git::EntryKind::Tree, prefix_tree)),
                }],
            )?;
            (
                squash,
                PrefixMerge {
                    tree,
                    prefix_tree: Some(prefix_tree),
                    conflicts: Vec::new(),
                    raw: Vec::new(),
                },
            )
        }
        None => {
            let squash = git.squash_pull_commit(
                prefix,
                old_squash,
                sides.old_split,
                sides.upstream,
                cx.author,
                cx.committer,
            )?;
            let merge = git.merge_prefix(
                cx.head_tree,
                prefix,
                sides.base_tree,
                sides.upstream_tree,
                &squash.to_string(),
            )?;
            (squash, merge)
        }
    })
}

/// The manifest the wiring uses: the merged one (local patches kept), or
/// upstream's while module.yml itself is in conflict.
fn merged_manifest(
    git: &Git,
    step: &UpdateModule,
    merge: &PrefixMerge,
    upstream: ObjectId,
) -> Result<Option<Manifest>, EngineError> {
    let name = &step.name;
    let manifest_path = format!("{}/{MANIFEST_FILE}", prefix_of(name));
    let label = format!("{}@{}:{MANIFEST_FILE}", step.source, step.to_ref);
    Ok(if merge.conflicts.iter().any(|c| c.path == manifest_path) {
        crate::source::manifest_at_commit(git, upstream, name, &label)?
    } else {
        modules::read_manifest(git, merge.tree, name)?
    })
}

/// The refused option changes, one line each.
fn refused_options(module: &str, deltas: &[OptionDelta]) -> Vec<String> {
    deltas
        .iter()
        .filter(|d| d.change == "refused")
        .map(|d| format!("module {module}: option {}: {}", d.option, d.note))
        .collect()
}

/// What the preview shows of one step: the versions, the upstream commits
/// and files, local changes kept, conflicts, options, new migrations,
/// upgrade notes and unmet requirements.
fn preview_of(
    cx: &StepContext<'_>,
    step: &UpdateModule,
    current: &ModuleState,
    sides: &Sides,
    merge: &PrefixMerge,
    (old_manifest, manifest): (Option<&Manifest>, Option<&Manifest>),
    options: Vec<OptionDelta>,
) -> Result<Preview, EngineError> {
    let git = cx.git;
    let name = &step.name;
    let prefix = prefix_of(name);
    let Sides {
        old_split,
        base_tree,
        upstream,
        upstream_tree,
    } = *sides;
    let incompatible: Vec<String> = modules::compat_of(git, upstream_tree, "", name)?
        .into_iter()
        .map(|m| m.message)
        .collect();
    Ok(Preview {
        module: name.clone(),
        from: At {
            git_ref: current.git_ref.clone(),
            commit: old_split.to_string(),
            version: old_manifest.map(|m| m.version.clone()),
        },
        to: At {
            git_ref: step.to_ref.clone(),
            commit: upstream.to_string(),
            version: manifest.map(|m| m.version.clone()),
        },
        commits: commit_lines(git, upstream, old_split)?,
        reverted: commit_lines(git, old_split, upstream)?,
        files: file_stats(git, base_tree, upstream_tree)?,
        local_changes: git
            .diff_trees(
                base_tree,
                git.subtree_at(cx.head_tree, &prefix)?.unwrap_or(base_tree),
            )?
            .into_iter()
            .map(|c| format!("{prefix}/{}", c.path))
            // A conflicted file is listed once, as a conflict.
            .filter(|p| !merge.conflicts.iter().any(|c| &c.path == p))
            .collect(),
        conflicts: merge.conflicts.clone(),
        options,
        migrations: git
            .diff_trees(base_tree, upstream_tree)?
            .into_iter()
            .filter(|c| c.old.is_none() && c.new.is_some() && is_migration(&c.path))
            .map(|c| format!("{prefix}/{}", c.path))
            .collect(),
        notes: manifest
            .map(|m| {
                notes_crossed(
                    &m.upgrade_notes,
                    old_manifest.map(|o| o.version.as_str()),
                    Some(m.version.as_str()),
                )
            })
            .unwrap_or_default(),
        incompatible,
    })
}

/// Commits the merge of one module onto `parent`: the squash commit (made
/// by [`resolve_step`]) and the merge commit, as `git subtree pull
/// --squash` makes them. Returns (merge commit, its tree).
pub fn commit_step(
    git: &Git,
    merged: &Merged,
    parent: ObjectId,
    tree: ObjectId,
    branch: &str,
    author: &Signature,
    committer: &Signature,
) -> Result<(ObjectId, ObjectId), EngineError> {
    let prefix = prefix_of(&merged.step.name);
    let prefix_tree = merged.merge.prefix_tree.ok_or_else(|| {
        GitError::new(
            format!("merge `{prefix}`"),
            "the merge left no files in the module",
        )
    })?;
    let new_tree = git.edit_tree(
        tree,
        &[TreeEdit {
            path: prefix,
            target: Some((crate::git::EntryKind::Tree, prefix_tree)),
        }],
    )?;
    let merge =
        git.subtree_merge_commit(parent, merged.squash, new_tree, branch, author, committer)?;
    Ok((merge, new_tree))
}

fn commit_lines(git: &Git, tip: ObjectId, hide: ObjectId) -> Result<Vec<CommitLine>, GitError> {
    Ok(git
        .log_between(tip, hide)?
        .into_iter()
        .map(|(_, short, subject)| CommitLine {
            commit: short,
            subject,
        })
        .collect())
}

/// Whether `path` (inside a module) is a Django migration.
fn is_migration(path: &str) -> bool {
    let mut parts = path.rsplit('/');
    let file = parts.next().unwrap_or_default();
    parts.next() == Some("migrations") && file.ends_with(".py") && file != "__init__.py"
}

/// Lines added and removed per file between two trees (text files).
pub fn file_stats(git: &Git, old: ObjectId, new: ObjectId) -> Result<Vec<FileStat>, GitError> {
    let mut out = Vec::new();
    for c in git.diff_trees(old, new)? {
        let read = |leaf: Option<crate::git::tree::Leaf>| -> Result<String, GitError> {
            Ok(match leaf {
                Some(l) => String::from_utf8_lossy(&git.read_blob(l.id)?).into_owned(),
                None => String::new(),
            })
        };
        let (a, b) = (read(c.old)?, read(c.new)?);
        let diff = similar::TextDiff::from_lines(&a, &b);
        let mut insertions = 0;
        let mut deletions = 0;
        for change in diff.iter_all_changes() {
            match change.tag() {
                similar::ChangeTag::Insert => insertions += 1,
                similar::ChangeTag::Delete => deletions += 1,
                similar::ChangeTag::Equal => {}
            }
        }
        out.push(FileStat {
            path: c.path,
            status: match (c.old, c.new) {
                (None, _) => "added",
                (_, None) => "deleted",
                _ => "modified",
            },
            insertions,
            deletions,
        });
    }
    Ok(out)
}

/// How the options change between two manifests; an immutable option whose
/// value or type would change is refused (its meaning is fixed once embedded).
fn option_deltas(
    module: &str,
    old: Option<&Manifest>,
    new: Option<&Manifest>,
    current: &BTreeMap<String, Value>,
    resolved: &BTreeMap<String, Value>,
) -> Vec<OptionDelta> {
    let mut out = Vec::new();
    let old_specs = old.map(|m| m.options.as_slice()).unwrap_or_default();
    let new_specs = new.map(|m| m.options.as_slice()).unwrap_or_default();
    for spec in new_specs {
        let before = current.get(&spec.name).cloned();
        let after = resolved.get(&spec.name).cloned();
        let old_spec = old_specs.iter().find(|o| o.name == spec.name);
        match old_spec {
            None => out.push(OptionDelta {
                option: spec.name.clone(),
                change: "added",
                old: None,
                new: after.clone(),
                note: format!(
                    "new option{}",
                    spec.description
                        .as_deref()
                        .map(|d| format!(": {d}"))
                        .unwrap_or_default()
                ),
            }),
            Some(o) if !spec.mutable || !o.mutable => {
                let type_changed = o.ty != spec.ty;
                if type_changed || before != after {
                    let keep = before
                        .as_ref()
                        .filter(|b| spec.check(b).is_ok())
                        .map(|b| {
                            format!(
                                "; to keep it, set `modules.{module}.{}: {}` in quickscale.yml",
                                spec.name,
                                b.to_yaml()
                            )
                        })
                        .unwrap_or_else(|| {
                            "; the new version cannot keep it: stay on the current version (`sources.<name>.ref`)"
                                .into()
                        });
                    out.push(OptionDelta {
                        option: spec.name.clone(),
                        change: "refused",
                        old: before.clone(),
                        new: after.clone(),
                        note: if type_changed {
                            format!(
                                "it is immutable and its type changes from {} to {}{keep}",
                                o.ty.name(),
                                spec.ty.name()
                            )
                        } else {
                            format!(
                                "it is immutable and would change from {} to {}{keep}",
                                show(&before),
                                show(&after)
                            )
                        },
                    });
                }
            }
            Some(_) => {
                if before != after {
                    out.push(OptionDelta {
                        option: spec.name.clone(),
                        change: "changed",
                        old: before,
                        new: after,
                        note: "its default changed".into(),
                    });
                }
            }
        }
    }
    for spec in old_specs {
        if !new_specs.iter().any(|n| n.name == spec.name) {
            out.push(OptionDelta {
                option: spec.name.clone(),
                change: "removed",
                old: current.get(&spec.name).cloned(),
                new: None,
                note: "the new version no longer has this option".into(),
            });
        }
    }
    out
}

fn show(v: &Option<Value>) -> String {
    v.as_ref()
        .map(Value::to_yaml)
        .unwrap_or_else(|| "(unset)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: TagScheme = TagScheme::Semver;

    fn r(name: &str, n: u8) -> RemoteRef {
        RemoteRef {
            name: name.into(),
            commit: ObjectId::from_bytes_or_panic(&[n; 20]),
        }
    }

    fn refs() -> Vec<RemoteRef> {
        vec![
            r("refs/heads/main", 9),
            r("refs/tags/v1.0.0", 1),
            r("refs/tags/v1.1.0", 2),
            r("refs/tags/v1.2.0", 3),
            r("refs/tags/v2.0.0", 4),
            r("refs/tags/v2.1.0-rc.1", 5),
            r("refs/tags/stable", 3),
        ]
    }

    fn target(current: &str, policy: &Policy) -> Target {
        choose(current, "", &refs(), policy, &S).expect("choose")
    }

    #[test]
    fn caret_rules() {
        let v = |s: &str| parse_version(s).expect("version");
        assert!(is_compatible(&v("1.0.0"), &v("1.9.3")));
        assert!(!is_compatible(&v("1.0.0"), &v("2.0.0")));
        assert!(is_compatible(&v("0.3.0"), &v("0.3.7")));
        assert!(!is_compatible(&v("0.3.0"), &v("0.4.0")));
        assert!(!is_compatible(&v("0.0.3"), &v("0.0.4")));
        assert_eq!(parse_version("v1.2.3"), parse_version("1.2.3"));
        assert_eq!(parse_version("main"), None);
    }

    #[test]
    fn picks_the_newest_compatible_version_unless_told_otherwise() {
        let moved = |to: &str| Target::Move {
            git_ref: to.into(),
            fetch: format!("refs/tags/{to}"),
        };
        assert_eq!(target("v1.0.0", &Policy::default()), moved("v1.2.0"));
        let major = Policy {
            major: true,
            to: None,
        };
        assert_eq!(target("v1.0.0", &major), moved("v2.0.0"));
        let to = Policy {
            major: false,
            to: Some("v1.1.0".into()),
        };
        assert_eq!(target("v1.0.0", &to), moved("v1.1.0"));
        assert!(matches!(
            target("v1.2.0", &Policy::default()),
            Target::Current { why } if why.contains("v2.0.0")
        ));
        assert!(matches!(target("v2.0.0", &major), Target::Current { .. }));
        assert!(
            choose(
                "v1.0.0",
                "",
                &refs(),
                &Policy {
                    major: false,
                    to: Some("nope".into())
                },
                &S
            )
            .is_err()
        );
    }

    #[test]
    fn branches_move_to_their_tip_and_pins_stay() {
        let tip = ObjectId::from_bytes_or_panic(&[9; 20]).to_string();
        assert_eq!(
            target("main", &Policy::default()),
            Target::Move {
                git_ref: "main".into(),
                fetch: "refs/heads/main".into()
            }
        );
        assert!(matches!(
            choose("main", &tip, &refs(), &Policy::default(), &S),
            Ok(Target::Current { .. })
        ));
        assert!(matches!(
            target("stable", &Policy::default()),
            Target::Move { .. }
        ));
        assert!(matches!(
            target(&"a".repeat(40), &Policy::default()),
            Target::Current { .. }
        ));
        assert_eq!(follows("v1.0.0", &refs(), &S), Follows::Version);
        assert_eq!(follows("main", &refs(), &S), Follows::Branch);
        assert_eq!(follows(&"a".repeat(40), &refs(), &S), Follows::Commit);
    }

    #[test]
    fn availability_separates_compatible_and_breaking() {
        let a = available("v1.0.0", "", &refs(), &S);
        assert_eq!(a.compatible.as_deref(), Some("v1.2.0"));
        assert_eq!(a.breaking.as_deref(), Some("v2.0.0"));
        let a = available("v2.0.0", "", &refs(), &S);
        assert_eq!(a, Available::default());
    }

    #[test]
    fn split_tags_are_the_module_s_versions_and_nothing_else_is() {
        let splits = TagScheme::parse("splits/crm-module/{version}").expect("scheme");
        let upstream = vec![
            r("refs/heads/splits/crm-module", 9),
            r("refs/tags/splits/crm-module/0.88.0", 1),
            r("refs/tags/splits/crm-module/0.88.1", 2),
            r("refs/tags/splits/crm-module/0.89.0", 3),
            r("refs/tags/splits/auth-module/0.88.5", 4),
            r("refs/tags/v0.88.9", 5),
            r("refs/tags/0.88.7", 6),
        ];
        let current = "splits/crm-module/0.88.0";
        assert_eq!(follows(current, &upstream, &splits), Follows::Version);
        // Without the scheme the same tag is an ordinary pin.
        assert_eq!(follows(current, &upstream, &S), Follows::Tag);
        let a = available(current, "", &upstream, &splits);
        assert_eq!(a.compatible.as_deref(), Some("splits/crm-module/0.88.1"));
        assert_eq!(a.breaking.as_deref(), Some("splits/crm-module/0.89.0"));
        assert_eq!(
            choose(current, "", &upstream, &Policy::default(), &splits),
            Ok(Target::Move {
                git_ref: "splits/crm-module/0.88.1".into(),
                fetch: "refs/tags/splits/crm-module/0.88.1".into()
            })
        );
        let to = Policy {
            major: false,
            to: Some("0.89.0".into()),
        };
        assert_eq!(
            choose(current, "", &upstream, &to, &splits),
            Ok(Target::Move {
                git_ref: "splits/crm-module/0.89.0".into(),
                fetch: "refs/tags/splits/crm-module/0.89.0".into()
            })
        );
        // The split branch follows its tip, as before.
        assert_eq!(
            follows("splits/crm-module", &upstream, &splits),
            Follows::Branch
        );
    }

    #[test]
    fn upgrade_notes_of_the_versions_crossed() {
        let notes = vec![
            ("1.1.0".to_owned(), "one".to_owned()),
            ("1.2".to_owned(), "two".to_owned()),
            ("2.0.0".to_owned(), "three".to_owned()),
        ];
        assert_eq!(
            notes_crossed(&notes, Some("1.0.0"), Some("1.2.0")),
            vec!["1.1.0: one".to_owned(), "1.2: two".to_owned()]
        );
        assert!(notes_crossed(&notes, Some("1.2.0"), Some("1.1.0")).is_empty());
    }

    #[test]
    fn requirements_refuse_what_nothing_satisfies() {
        let parse = |name: &str, version: &str, extra: &str| {
            Manifest::parse(
                &format!("name: {name}\nversion: \"{version}\"\n{extra}"),
                "module.yml",
                name,
            )
            .expect("manifest")
        };
        let crm = parse(
            "crm",
            "1.2.0",
            "requires:\n  modules:\n    auth: \"^2.0\"\n  django: \">=9\"\n  quickscale: \">=99\"\n",
        );
        let auth = parse("auth", "1.4.0", "");
        let modules = BTreeMap::from([
            ("crm".to_owned(), Some(&crm)),
            ("auth".to_owned(), Some(&auth)),
        ]);
        let changed = std::collections::BTreeSet::from(["crm".to_owned()]);
        let (refusals, _) = check_requirements(&modules, &changed);
        assert_eq!(refusals.len(), 3, "{refusals:?}");
        assert!(
            refusals
                .iter()
                .any(|r| r.contains("auth ^2.0") && r.contains("auth is 1.4.0"))
        );
        assert!(refusals.iter().any(|r| r.contains("Django >=9")));
        assert!(refusals.iter().any(|r| r.contains("git-quickscale >=99")));
        // Nothing that changed is involved: nothing to say.
        let (refusals, _) = check_requirements(
            &modules,
            &std::collections::BTreeSet::from(["x".to_owned()]),
        );
        assert!(refusals.is_empty());
    }

    #[test]
    fn upstream_required_and_implied_modules() {
        let parse = |name: &str, version: &str, extra: &str| {
            Manifest::parse(
                &format!("name: {name}\nversion: \"{version}\"\n{extra}"),
                "module.yml",
                name,
            )
            .expect("manifest")
        };
        let crm = parse(
            "crm",
            "0.88.0",
            "required_modules: [\"orgs>=0.86.0\", auth]\nimplies: [{name: orgs}, {name: notifications}]\n",
        );
        let orgs = parse("orgs", "0.88.0", "");
        let changed = std::collections::BTreeSet::from(["crm".to_owned()]);
        // auth has no manifest (no version): a bare requirement is met by its presence.
        let modules = BTreeMap::from([
            ("crm".to_owned(), Some(&crm)),
            ("orgs".to_owned(), Some(&orgs)),
            ("auth".to_owned(), None),
        ]);
        let (refusals, warnings) = check_requirements(&modules, &changed);
        assert!(refusals.is_empty(), "{refusals:?}");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("adds module notifications"),
            "{warnings:?}"
        );
        let old_orgs = parse("orgs", "0.85.0", "");
        let modules = BTreeMap::from([
            ("crm".to_owned(), Some(&crm)),
            ("orgs".to_owned(), Some(&old_orgs)),
        ]);
        let (refusals, _) = check_requirements(&modules, &changed);
        assert_eq!(refusals.len(), 2, "{refusals:?}");
        assert!(
            refusals
                .iter()
                .any(|r| r.contains("orgs >=0.86.0") && r.contains("orgs is 0.85.0"))
        );
        assert!(
            refusals
                .iter()
                .any(|r| r.contains("needs module auth *") && r.contains("plan --add auth"))
        );
    }

    #[test]
    fn migrations_are_recognised() {
        assert!(is_migration("pkg/migrations/0002_more.py"));
        assert!(!is_migration("pkg/migrations/__init__.py"));
        assert!(!is_migration("pkg/models.py"));
    }

    fn embedded(git_ref: &str, commit: u8) -> ModuleState {
        ModuleState {
            source: "https://example.com/crm.git".into(),
            git_ref: git_ref.into(),
            commit: ObjectId::from_bytes_or_panic(&[commit; 20]).to_string(),
            prefix: "modules/crm".into(),
            tree: "0".repeat(40),
            version: None,
            options: BTreeMap::new(),
        }
    }

    #[test]
    fn each_module_gets_a_step_or_a_reason_from_its_source_s_refs() {
        let url = "https://example.com/crm.git";
        let names: Vec<String> = ["crm", "orgs", "notes", "pinned", "headless"]
            .map(String::from)
            .to_vec();
        let states = [
            embedded("v1.0.0", 1), // moves to v1.2.0 (listed: fetched with the others)
            embedded("v1.2.0", 3), // at the newest compatible version
            embedded("main", 9),   // at the branch's tip
            embedded("stable", 1), // a tag that moved upstream: fetch it again
            embedded("HEAD", 1),   // follows a HEAD the remote does not list
        ];
        let modules: Vec<(&String, &ModuleState)> = names.iter().zip(&states).collect();
        let catalog = crate::catalog::Catalog::default();
        let t = targets_of(url, &modules, &refs(), &Policy::default(), &catalog);
        assert_eq!(
            t.steps
                .iter()
                .map(|s| (s.name.as_str(), s.from_ref.as_str(), s.to_ref.as_str()))
                .collect::<Vec<_>>(),
            vec![("crm", "v1.0.0", "v1.2.0"), ("pinned", "stable", "stable")]
        );
        assert_eq!(
            t.steps[0].commit,
            Some(ObjectId::from_bytes_or_panic(&[3; 20]).to_string())
        );
        assert_eq!(t.wanted, vec!["refs/tags/v1.2.0", "refs/tags/stable"]);
        assert!(t.by_want.is_empty(), "{:?}", t.by_want);
        let unchanged: Vec<(&str, &str)> = t
            .unchanged
            .iter()
            .map(|u| (u.module.as_str(), u.why.as_str()))
            .collect();
        assert_eq!(unchanged.len(), 2, "{unchanged:?}");
        assert_eq!(unchanged[0].0, "orgs");
        assert!(unchanged[0].1.contains("v2.0.0"), "{unchanged:?}");
        assert_eq!(unchanged[1], ("notes", "it is at the tip of main"));
        assert_eq!(t.failed.len(), 1, "{:?}", t.failed);
        assert_eq!(t.failed[0].0, "headless");
        assert!(t.failed[0].1.contains("is gone upstream"), "{:?}", t.failed);
        assert_eq!(t.available.len(), 5, "every module's offer is kept");
        assert_eq!(t.available["crm"].compatible.as_deref(), Some("v1.2.0"));
    }

    #[test]
    fn a_target_the_remote_does_not_list_is_fetched_on_its_own() {
        let url = "https://example.com/crm.git";
        let name = "crm".to_owned();
        let state = embedded("v1.0.0", 1);
        let id = "b".repeat(40);
        let to_commit = Policy {
            major: false,
            to: Some(id.clone()),
        };
        let catalog = crate::catalog::Catalog::default();
        let t = targets_of(url, &[(&name, &state)], &refs(), &to_commit, &catalog);
        assert!(t.wanted.is_empty(), "{:?}", t.wanted);
        assert_eq!(t.by_want, vec![("crm".to_owned(), id.clone())]);
        assert_eq!(t.steps.len(), 1, "{t:?}");
        assert_eq!(t.steps[0].commit.as_deref(), Some(id.as_str()));

        // `--to` the ref it is on: nothing to do when the ref is where it
        // was embedded, a step when the tag moved since.
        let to_same = Policy {
            major: false,
            to: Some("v1.0.0".into()),
        };
        let t = targets_of(url, &[(&name, &state)], &refs(), &to_same, &catalog);
        assert!(t.steps.is_empty(), "{:?}", t.steps);
        assert_eq!(t.unchanged[0].why, "it is at v1.0.0 already");
        let moved_tag = embedded("v1.0.0", 7);
        let t = targets_of(url, &[(&name, &moved_tag)], &refs(), &to_same, &catalog);
        assert_eq!(t.steps.len(), 1, "{t:?}");
        assert_eq!(t.wanted, vec!["refs/tags/v1.0.0"]);
    }

    #[test]
    fn modules_are_grouped_by_source_and_unknown_ones_are_named() {
        let mut fork = embedded("v1.0.0", 1);
        fork.source = "https://example.com/fork.git".into();
        let embedded_modules = BTreeMap::from([
            ("crm".to_owned(), embedded("v1.0.0", 1)),
            ("orgs".to_owned(), embedded("v1.0.0", 1)),
            ("auth".to_owned(), fork),
        ]);
        let names: Vec<String> = ["orgs", "auth", "crm"].map(String::from).to_vec();
        let by_url = group_by_source(&embedded_modules, &names).expect("all embedded");
        let grouped: Vec<(&str, Vec<&str>)> = by_url
            .iter()
            .map(|(u, ms)| (u.as_str(), ms.iter().map(|m| m.as_str()).collect()))
            .collect();
        assert_eq!(
            grouped,
            vec![
                ("https://example.com/crm.git", vec!["orgs", "crm"]),
                ("https://example.com/fork.git", vec!["auth"]),
            ]
        );
        let missing = ["crm", "billing"].map(String::from).to_vec();
        match group_by_source(&embedded_modules, &missing) {
            Err(EngineError::NotEmbedded { name, embedded }) => {
                assert_eq!(name, "billing");
                assert_eq!(embedded, vec!["auth", "crm", "orgs"]);
            }
            other => panic!("expected NotEmbedded, got {other:?}"),
        }
    }

    fn manifest(config: &str) -> Manifest {
        let text = format!("name: crm\nversion: \"1.0.0\"\nconfig:\n{config}");
        Manifest::parse(&text, "module.yml", "crm").expect("valid manifest")
    }

    fn options(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn option_deltas_between_two_manifests() {
        let old = manifest(
            "  mutable:\n    per_page: {type: integer, default: 25}\n    legacy: {type: boolean, default: true}\n  immutable:\n    stages: {type: list, default: [a]}\n",
        );
        let new = manifest(
            "  mutable:\n    per_page: {type: integer, default: 50}\n    theme: {type: string, default: dark, description: Colours}\n  immutable:\n    stages: {type: list, default: [a]}\n",
        );
        let current = options(&[
            ("per_page", Value::Int(25)),
            ("legacy", Value::Bool(true)),
            ("stages", Value::List(vec![Value::Str("a".into())])),
        ]);
        let resolved = options(&[
            ("per_page", Value::Int(50)),
            ("theme", Value::Str("dark".into())),
            ("stages", Value::List(vec![Value::Str("a".into())])),
        ]);
        let deltas = option_deltas("crm", Some(&old), Some(&new), &current, &resolved);
        let got: Vec<(&str, &str, &str)> = deltas
            .iter()
            .map(|d| (d.option.as_str(), d.change, d.note.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("per_page", "changed", "its default changed"),
                ("theme", "added", "new option: Colours"),
                (
                    "legacy",
                    "removed",
                    "the new version no longer has this option"
                ),
            ]
        );
        assert!(refused_options("crm", &deltas).is_empty());
    }

    #[test]
    fn an_immutable_option_that_would_change_refuses_the_update() {
        let old = manifest("  immutable:\n    stages: {type: list, default: [a]}\n");
        let retyped = manifest("  immutable:\n    stages: {type: string, default: a}\n");
        let current = options(&[("stages", Value::List(vec![Value::Str("a".into())]))]);
        let resolved = options(&[("stages", Value::Str("a".into()))]);
        let deltas = option_deltas("crm", Some(&old), Some(&retyped), &current, &resolved);
        assert_eq!(deltas.len(), 1, "{deltas:?}");
        assert_eq!(deltas[0].change, "refused");
        assert!(
            deltas[0]
                .note
                .contains("its type changes from list to string")
                && deltas[0].note.contains("cannot keep it"),
            "{}",
            deltas[0].note
        );
        // Same type, new default: keeping the old value is possible and said.
        let redefaulted = manifest("  immutable:\n    stages: {type: list, default: [b]}\n");
        let resolved = options(&[("stages", Value::List(vec![Value::Str("b".into())]))]);
        let deltas = option_deltas("crm", Some(&old), Some(&redefaulted), &current, &resolved);
        assert_eq!(
            refused_options("crm", &deltas),
            vec![
                "module crm: option stages: it is immutable and would change from [a] to [b]; to keep it, set `modules.crm.stages: [a]` in quickscale.yml"
                    .to_owned()
            ]
        );
    }
}
