//! The survey: adopt reads upstream's files, the git-subtree trailers and
//! quickscale.yml, and decides which modules are adopted, from which ref,
//! and what is reported. Each step is a function; nothing is written.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::catalog::Catalog;
use crate::config::CONFIG_FILE;
use crate::git::{Git, ObjectId};
use crate::state::derive::MODULES_DIR;
use crate::upstream::files;
use crate::value::Value;

use super::{AdoptError, AdoptedModule, Committed, Found, Survey, read_upstream, tag_commit};

/// What the survey read, shared by its per-module steps.
struct Inputs<'a> {
    root: &'a Path,
    git: &'a Git,
    head_tree: ObjectId,
    catalog: &'a Catalog,
    /// Module names quickscale.yml lists, and the options it gives each.
    listed: BTreeSet<String>,
    listed_options: BTreeMap<String, BTreeMap<String, Value>>,
    /// Modules with git-subtree trailers: (squash commit, upstream commit).
    embedded: BTreeMap<String, (ObjectId, ObjectId)>,
    in_state: BTreeMap<String, files::StateModule>,
    tracked: BTreeMap<String, files::TrackedModule>,
    default_remote: Option<String>,
}

/// Reads upstream's files, the trailers and quickscale.yml; decides which
/// modules are adopted, from which ref, and what is reported.
pub(super) fn survey(
    root: &Path,
    git: &Git,
    head: ObjectId,
    head_tree: ObjectId,
    present: &[String],
    catalog: &Catalog,
) -> Result<Survey, AdoptError> {
    let mut s = Survey {
        found: Vec::new(),
        modules: Vec::new(),
        unverified: Vec::new(),
        problems: Vec::new(),
        config_changes: Vec::new(),
        retire: present.to_vec(),
        regenerate: Vec::new(),
        config_text: String::new(),
        access_kept: Vec::new(),
        creates: Vec::new(),
        credentials: Vec::new(),
    };
    let (state_file, modules_file) = read_found(root, git, head_tree, present, &mut s)?;
    let config_path = root.join(CONFIG_FILE);
    let text = fs_err::read_to_string(&config_path).map_err(|source| AdoptError::Read {
        path: CONFIG_FILE.to_owned(),
        source,
    })?;
    let root_node = crate::yaml::parse(&text).ok().flatten();
    let mut text = rename_project(text, root_node.as_ref(), &mut s)?;
    let (listed, listed_options) = listed_modules(root_node.as_ref());
    let inputs = Inputs {
        root,
        git,
        head_tree,
        catalog,
        listed,
        listed_options,
        embedded: embedded_modules(git, head, head_tree)?,
        in_state: state_file.map(|st| st.modules).unwrap_or_default(),
        tracked: modules_file
            .as_ref()
            .map(|m| m.modules.clone())
            .unwrap_or_default(),
        default_remote: modules_file.and_then(|m| m.default_remote),
    };
    let mut names: BTreeSet<String> = inputs.embedded.keys().cloned().collect();
    names.extend(inputs.in_state.keys().cloned());
    names.extend(inputs.tracked.keys().cloned());
    names.extend(inputs.listed.iter().cloned());
    note_credentials(&inputs.in_state, &mut s);
    for name in &names {
        if let Some(m) = adopt_module(&inputs, name, &mut text, &mut s)? {
            s.modules.push(m);
        }
    }
    s.config_text = text;
    Ok(s)
}

/// Reads each of upstream's files present, noting how it is committed.
fn read_found(
    root: &Path,
    git: &Git,
    head_tree: ObjectId,
    present: &[String],
    s: &mut Survey,
) -> Result<(Option<files::State>, Option<files::Modules>), AdoptError> {
    let mut state_file = None;
    let mut modules_file = None;
    for path in present {
        let Some((text, committed)) = read_upstream(root, git, head_tree, path)? else {
            continue;
        };
        let format = match path.as_str() {
            files::STATE_FILE => {
                let parsed = files::parse_state(&text)?;
                let f = parsed
                    .as_ref()
                    .map(|p| p.generation.describe().to_owned())
                    .unwrap_or_else(|| "empty".into());
                state_file = parsed;
                f
            }
            files::MODULES_FILE => {
                modules_file = files::parse_modules(&text)?;
                "upstream module tracking (v0.62 on: prefix, branch, installed_version)".into()
            }
            files::HASHES_FILE => {
                files::parse_hashes(&text)?;
                "upstream managed-file hashes (0.8x)".into()
            }
            _ => {
                s.problems.push(format!(
                    "{path}: upstream's save of its state was interrupted; the file is retired with the others"
                ));
                "an interrupted save of upstream's state".into()
            }
        };
        match committed {
            Committed::No => s.problems.push(format!(
                "{path} was not committed (upstream leaves its final state in the worktree): it is read as it is in the worktree, kept in refs/quickscale/adopted and removed"
            )),
            Committed::Changed => s.problems.push(format!(
                "{path} has changes that are not committed: the worktree's version is read, kept in refs/quickscale/adopted and removed"
            )),
            Committed::Deleted => s.problems.push(format!(
                "{path} is committed but deleted from the worktree: the committed version is read, and removed from the tree"
            )),
            Committed::Yes => {}
        }
        s.found.push(Found {
            path: path.clone(),
            format,
            committed,
        });
    }
    Ok((state_file, modules_file))
}

/// quickscale.yml's oldest format names the project `project.name`: it
/// becomes `project.slug` and `project.package`.
fn rename_project(
    text: String,
    root_node: Option<&crate::yaml::Node>,
    s: &mut Survey,
) -> Result<String, AdoptError> {
    let project = root_node.and_then(|r| r.get("project"));
    let has = |key: &str| project.and_then(|p| p.get(key)).is_some();
    if !(has("name") && !has("slug") && !has("package")) {
        return Ok(text);
    }
    let name = project
        .and_then(|p| p.get("name"))
        .and_then(|n| match Value::from_node(n) {
            Value::Str(s) => Some(s),
            _ => None,
        })
        .unwrap_or_default();
    let package = name.replace('-', "_");
    let text = crate::config::edit::set_project(
        &text,
        &[("slug", name.as_str()), ("package", package.as_str())],
        &["name"],
    )?;
    s.config_changes.push(format!(
        "project.name: {name} (upstream v0.69–v0.7x) becomes project.slug: {name} and project.package: {package}"
    ));
    Ok(text)
}

/// The modules quickscale.yml lists, and the options it gives each, as written.
#[allow(clippy::type_complexity)]
fn listed_modules(
    root_node: Option<&crate::yaml::Node>,
) -> (BTreeSet<String>, BTreeMap<String, BTreeMap<String, Value>>) {
    let modules = root_node
        .and_then(|r| r.get("modules"))
        .and_then(|m| m.as_map());
    let listed = modules
        .map(|m| {
            m.iter()
                .filter_map(|(k, _)| k.key_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let options = modules
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| {
                    let opts = v
                        .as_map()
                        .map(|o| {
                            o.iter()
                                .filter_map(|(ok, ov)| {
                                    Some((ok.key_str()?.to_owned(), Value::from_node(ov)))
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    Some((k.key_str()?.to_owned(), opts))
                })
                .collect()
        })
        .unwrap_or_default();
    (listed, options)
}

/// Every `modules/<name>` with git-subtree trailers that is in HEAD.
fn embedded_modules(
    git: &Git,
    head: ObjectId,
    head_tree: ObjectId,
) -> Result<BTreeMap<String, (ObjectId, ObjectId)>, AdoptError> {
    let squashes = git.squashes(head)?;
    Ok(squashes
        .iter()
        .filter_map(|(prefix, ids)| {
            let name = prefix.strip_prefix(&format!("{MODULES_DIR}/"))?;
            (crate::identity::is_module_name(name)
                && matches!(git.subtree_at(head_tree, prefix), Ok(Some(_))))
            .then(|| (name.to_owned(), *ids))
        })
        .collect())
}

/// Raw credentials upstream kept in plain text, whatever became of the module.
fn note_credentials(in_state: &BTreeMap<String, files::StateModule>, s: &mut Survey) {
    for (name, m) in in_state {
        for (k, v) in &m.options {
            for c in files::credentials_in(name, k, v) {
                let file = files::STATE_FILE;
                s.problems.push(format!(
                    "{}: {file} holds a raw credential; it is not copied into the note, {CONFIG_FILE} or refs/quickscale/adopted (redacted there); keep it in an environment variable, and rotate it if the file was ever pushed",
                    c.path
                ));
                s.credentials.push((file.to_owned(), c.key, c.text));
            }
        }
    }
}

/// One module upstream names or embedded: adopted when its trailers prove
/// it (`None`: reported and left alone), refused when it exists unproven.
fn adopt_module(
    inputs: &Inputs<'_>,
    name: &str,
    text: &mut String,
    s: &mut Survey,
) -> Result<Option<AdoptedModule>, AdoptError> {
    let prefix = format!("{MODULES_DIR}/{name}");
    let Some((squash, split)) = inputs.embedded.get(name) else {
        unembedded(inputs, name, &prefix, s)?;
        return Ok(None);
    };
    let st = inputs.in_state.get(name);
    if !inputs.listed.contains(name) {
        add_unlisted(name, &prefix, st, text, s)?;
    }
    let (recorded_version, recorded_in) = recorded_version(inputs, name, &prefix, s);
    check_recorded(inputs, name, &prefix, *split, s);
    let source = source_url(inputs, name, text, s)?;
    let (git_ref, ref_from, pin) = choose_ref(
        inputs,
        name,
        &prefix,
        *split,
        &source,
        (recorded_version.as_deref(), recorded_in),
        text,
        s,
    );
    if let Some(p) = pin {
        *text = crate::config::edit::set_source(text, name, None, Some(&p))?;
        s.config_changes.push(format!(
            "sources.{name}.ref: {p} (the ref upstream embedded)"
        ));
    }
    Ok(Some(AdoptedModule {
        name: name.to_owned(),
        prefix,
        commit: split.to_string(),
        squash: squash.to_string(),
        source,
        git_ref,
        ref_from,
        recorded_version,
    }))
}

/// A module upstream names with no trailers: refused when its directory
/// exists (nothing proves it was embedded), else reported.
fn unembedded(
    inputs: &Inputs<'_>,
    name: &str,
    prefix: &str,
    s: &mut Survey,
) -> Result<(), AdoptError> {
    let mut listed_in = Vec::new();
    if inputs.listed.contains(name) {
        listed_in.push(CONFIG_FILE);
    }
    if inputs.in_state.contains_key(name) {
        listed_in.push(files::STATE_FILE);
    }
    if inputs.tracked.contains_key(name) {
        listed_in.push(files::MODULES_FILE);
    }
    if inputs.git.entry_at(inputs.head_tree, prefix)?.is_some() {
        return Err(AdoptError::Unproven {
            prefix: prefix.to_owned(),
            listed_in: listed_in.join(", "),
        });
    }
    s.problems.push(if inputs.listed.contains(name) {
        format!(
            "{name} is listed in {CONFIG_FILE} but {prefix} does not exist (upstream never embedded it): it stays in {CONFIG_FILE}, and `git quickscale apply` embeds it"
        )
    } else {
        format!(
            "{name} is still listed in {} but {prefix} does not exist (upstream's `remove` forgot it there): it is not adopted",
            listed_in.join(" and ")
        )
    });
    Ok(())
}

/// An embedded module quickscale.yml does not list: added, with the
/// options state.yml recorded (raw credentials left out).
fn add_unlisted(
    name: &str,
    prefix: &str,
    st: Option<&files::StateModule>,
    text: &mut String,
    s: &mut Survey,
) -> Result<(), AdoptError> {
    let options: BTreeMap<String, Value> = st
        .map(|m| {
            m.options
                .iter()
                .filter(|(k, v)| !files::is_raw_credential(k, v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    *text = crate::config::edit::add_module_with(text, name, &options)?;
    s.config_changes.push(format!("modules.{name} added"));
    s.problems.push(if st.is_some() {
        format!(
            "{name} is embedded and in {} but not in {CONFIG_FILE}: adopted, and added to {CONFIG_FILE} with the options state.yml recorded",
            files::STATE_FILE
        )
    } else {
        format!(
            "{name} is embedded ({prefix} has git-subtree trailers) but upstream lost track of it (not in {} nor {CONFIG_FILE}): adopted, and added to {CONFIG_FILE}",
            files::STATE_FILE
        )
    });
    Ok(())
}

/// The version upstream recorded (null before 0.88, placeholders in
/// config.yml), and the file it is from.
fn recorded_version(
    inputs: &Inputs<'_>,
    name: &str,
    prefix: &str,
    s: &mut Survey,
) -> (Option<String>, &'static str) {
    let st = inputs.in_state.get(name);
    let mut recorded = None;
    let mut recorded_in = files::STATE_FILE;
    if let Some(v) = st.and_then(|m| m.version.clone()) {
        recorded = Some(v);
    } else if st.is_some() {
        s.problems.push(format!(
            "{name}: {} records no version (upstream wrote null): the version is read from {prefix}/module.yml",
            files::STATE_FILE
        ));
    }
    if let Some(v) = inputs
        .tracked
        .get(name)
        .and_then(|m| m.installed_version.clone())
    {
        if files::is_placeholder_version(&v) {
            s.problems.push(format!(
                "{name}: {} says installed_version {v}, a value upstream wrote for every module whatever it embedded: ignored",
                files::MODULES_FILE
            ));
        } else if recorded.is_none() {
            recorded = Some(v);
            recorded_in = files::MODULES_FILE;
        }
    }
    (recorded, recorded_in)
}

/// What upstream recorded that the repository contradicts or lacks: a
/// commit other than the trailers', an upstream commit not in the
/// repository, options never applied.
fn check_recorded(inputs: &Inputs<'_>, name: &str, prefix: &str, split: ObjectId, s: &mut Survey) {
    let st = inputs.in_state.get(name);
    if let Some(sha) = st.and_then(|m| m.commit_sha.clone())
        && !split.to_string().starts_with(sha.trim())
    {
        s.problems.push(format!(
            "{name}: {} says commit {sha}, but the git-subtree trailers of {prefix} say {}: the trailers are taken",
            files::STATE_FILE,
            split.to_hex_with_len(12)
        ));
    }
    if !inputs.git.has_object(split) {
        s.unverified.push(format!(
            "{name}: the upstream commit {} is not in this repository (a clone leaves out what `git subtree add` fetched), so refs/quickscale/modules/{name} is not set; `git quickscale update` fetches it",
            split.to_hex_with_len(12)
        ));
    }
    // Options quickscale.yml asks for that upstream never applied.
    if let (Some(st), Some(wanted)) = (st, inputs.listed_options.get(name)) {
        let pending: Vec<&str> = wanted
            .iter()
            .filter(|(k, v)| {
                st.options
                    .get(*k)
                    .is_some_and(|old| old != *v && !files::is_raw_credential(k, old))
            })
            .map(|(k, _)| k.as_str())
            .collect();
        if !pending.is_empty() {
            s.problems.push(format!(
                "{name}: {CONFIG_FILE} sets {} differently from what {} says upstream applied: the wiring is rendered from {CONFIG_FILE}",
                pending.join(", "),
                files::STATE_FILE
            ));
        }
    }
}

/// Where the module comes from: quickscale.yml, else the catalog, else
/// upstream's default remote (written into quickscale.yml, unverified).
fn source_url(
    inputs: &Inputs<'_>,
    name: &str,
    text: &mut String,
    s: &mut Survey,
) -> Result<String, AdoptError> {
    let parsed = crate::config::parse(text, CONFIG_FILE, inputs.catalog).ok();
    let declared = parsed
        .as_ref()
        .and_then(|c| c.sources.get(name))
        .and_then(|o| o.url.clone())
        .or_else(|| inputs.catalog.get(name).map(|e| e.source.clone()));
    if let Some(url) = declared {
        return Ok(url);
    }
    let remote = inputs
        .default_remote
        .clone()
        .unwrap_or_else(|| "https://github.com/Experto-AI/quickscale.git".into());
    *text = crate::config::edit::set_source(text, name, Some(&remote), None)?;
    s.config_changes
        .push(format!("sources.{name}.url: {remote} (not in the catalog)"));
    s.unverified.push(format!(
        "{name}: the source {remote} is upstream's default remote; the module is not in the catalog"
    ));
    Ok(remote)
}

/// The ref recorded for the module, where it was taken from, and the ref
/// to pin in quickscale.yml: quickscale.yml's, else the recorded version's
/// tag when the source confirms it (peeled), else the embedded commit, else
/// the branch upstream recorded, else the catalog's.
#[allow(clippy::too_many_arguments)]
fn choose_ref(
    inputs: &Inputs<'_>,
    name: &str,
    prefix: &str,
    split: ObjectId,
    source: &str,
    (recorded_version, recorded_in): (Option<&str>, &str),
    text: &str,
    s: &mut Survey,
) -> (String, String, Option<String>) {
    let parsed = crate::config::parse(text, CONFIG_FILE, inputs.catalog).ok();
    let declared_ref = parsed
        .as_ref()
        .and_then(|c| c.sources.get(name))
        .and_then(|o| o.git_ref.clone());
    let entry = inputs.catalog.get(name);
    let scheme = entry.map(|e| e.scheme_for(source)).unwrap_or_default();
    let st = inputs.in_state.get(name);
    let branch = st
        .and_then(|m| m.branch.clone())
        .or_else(|| inputs.tracked.get(name).and_then(|m| m.branch.clone()));
    if let Some(r) = declared_ref {
        let full = scheme.tag_for(&r).unwrap_or_else(|| r.clone());
        return (full, format!("sources.{name}.ref in {CONFIG_FILE}"), None);
    }
    let version = recorded_version.filter(|v| !files::is_placeholder_version(v));
    if let Some((v, tag)) = version.and_then(|v| Some((v, scheme.tag_for(v)?))) {
        return version_ref(
            inputs,
            name,
            prefix,
            split,
            source,
            (v, recorded_in),
            tag,
            s,
        );
    }
    if let Some(b) = branch {
        let from = if st.and_then(|m| m.branch.as_ref()).is_some() {
            files::STATE_FILE
        } else {
            files::MODULES_FILE
        };
        s.unverified.push(format!(
            "{name}: embedded from the branch {b}, which has moved on since, probably"
        ));
        let pin = (entry.map(|e| e.git_ref.as_str()) != Some(b.as_str())).then(|| b.clone());
        return (b, format!("branch in {from}"), pin);
    }
    let r = entry
        .map(|e| e.git_ref.clone())
        .unwrap_or_else(|| crate::source::DEFAULT_REF.into());
    s.unverified.push(format!(
        "{name}: upstream recorded no ref; the catalog's {r} is taken"
    ));
    (r, "the catalog".into(), None)
}

/// The recorded version's tag when it names the embedded commit at the
/// source (peeled); else the embedded commit, and the version is named as
/// unverified.
#[allow(clippy::too_many_arguments)]
fn version_ref(
    inputs: &Inputs<'_>,
    name: &str,
    prefix: &str,
    split: ObjectId,
    source: &str,
    (v, recorded_in): (&str, &str),
    tag: String,
    s: &mut Survey,
) -> (String, String, Option<String>) {
    let found = tag_commit(inputs.git, inputs.root, source, &tag);
    if found == Some(Some(split)) {
        return (
            tag,
            format!("version {v} in {recorded_in}, checked at the source"),
            Some(v.to_owned()),
        );
    }
    let why = match found {
        Some(Some(c)) => format!("is commit {} at the source", c.to_hex_with_len(12)),
        Some(None) => "does not exist at the source".to_owned(),
        None => "could not be checked (the source is out of reach)".to_owned(),
    };
    s.unverified.push(format!(
        "{name}: {recorded_in} records version {v}, but its tag {tag} {why}: the module is recorded at the commit it embedded, {} (`git quickscale update {name} --to {tag}` moves it to the tag)",
        split.to_hex_with_len(12)
    ));
    let hex = split.to_string();
    (
        hex.clone(),
        format!("the git-subtree trailers of {prefix}"),
        Some(hex),
    )
}
