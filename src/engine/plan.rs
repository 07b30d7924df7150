//! The plan: what apply would change, as data (shown before acting,
//! Terraform-style, and serializable for `--json`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{EngineError, Workspace};
use crate::config::Identity;
use crate::source::{self, ModuleSource};
use crate::state::Origin;
use crate::state::derive::{Evidence, MODULES_DIR};
use crate::value::Value;

/// A module to embed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AddModule {
    pub name: String,
    pub source: String,
    #[serde(rename = "ref")]
    pub git_ref: String,
}

/// An embedded module moved to another upstream ref of the same source
/// (`update`, or a ref edited in quickscale.yml): merged, keeping local patches.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct UpdateModule {
    pub name: String,
    pub source: String,
    #[serde(rename = "from_ref")]
    pub from_ref: String,
    #[serde(rename = "to_ref")]
    pub to_ref: String,
    /// The upstream commit to move to, when already fetched (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// A mutable option that changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OptionChange {
    pub module: String,
    pub option: String,
    pub old: Value,
    pub new: Value,
    pub setting: Option<String>,
}

/// A change apply will not make, with the way to make it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refusal {
    pub subject: String,
    pub reason: String,
    pub recipe: Vec<String>,
}

/// Which modules' options the final wiring uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Everything quickscale.yml asks for (`apply`).
    Full,
    /// Only the listed removals; other modules keep their applied options (`remove`).
    RemoveOnly,
    /// Only the listed updates; other modules keep their applied options (`update`).
    UpdateOnly,
}

/// What an operation will do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub scope: Scope,
    /// Generate a new project with this identity first.
    pub generate: Option<Identity>,
    pub add: Vec<AddModule>,
    /// Modules already in the tree (e.g. added by `git subtree add`) to record.
    pub adopt: Vec<AddModule>,
    pub remove: Vec<String>,
    /// Modules to move to another ref of their source (a three-way merge).
    pub update: Vec<UpdateModule>,
    /// For each module to remove, the app labels whose database tables stay.
    pub tables: BTreeMap<String, Vec<String>>,
    pub reconfigure: Vec<OptionChange>,
    /// Managed files that differ from what the wiring produces (edited by hand).
    pub rewire: Vec<String>,
    /// Why the state note must be (re)written although nothing else changes.
    pub record_state: Option<String>,
    pub refused: Vec<Refusal>,
}

impl Plan {
    fn empty(scope: Scope) -> Self {
        Self {
            scope,
            generate: None,
            add: Vec::new(),
            adopt: Vec::new(),
            remove: Vec::new(),
            update: Vec::new(),
            tables: BTreeMap::new(),
            reconfigure: Vec::new(),
            rewire: Vec::new(),
            record_state: None,
            refused: Vec::new(),
        }
    }

    /// `adopt`: record modules already embedded (by upstream QuickScale),
    /// nothing else but the state and the wiring.
    pub fn for_adopt(adopt: Vec<AddModule>, why: String) -> Self {
        let mut plan = Self::empty(Scope::Full);
        plan.adopt = adopt;
        plan.record_state = Some(why);
        plan
    }

    /// Whether executing would change anything.
    pub fn has_changes(&self) -> bool {
        self.generate.is_some()
            || !self.add.is_empty()
            || !self.adopt.is_empty()
            || !self.remove.is_empty()
            || !self.update.is_empty()
            || !self.reconfigure.is_empty()
            || !self.rewire.is_empty()
            || self.record_state.is_some()
    }
}

/// Compares quickscale.yml with the applied state.
pub fn build(ws: &Workspace) -> Result<Plan, EngineError> {
    let desired = &ws.config.config;
    let mut plan = Plan::empty(Scope::Full);
    let Some(applied) = &ws.applied else {
        // Not generated yet (or a repository without the project in it).
        plan.generate = Some(desired.project.clone());
        for m in &desired.modules {
            let src = resolve(ws, &m.name)?;
            plan.add.push(AddModule {
                name: m.name.clone(),
                source: src.url,
                git_ref: src.git_ref,
            });
        }
        return Ok(plan);
    };

    let identity = &applied.project;
    for (what, old, new) in [
        (
            "slug",
            identity.slug.as_str(),
            desired.project.slug.as_str(),
        ),
        (
            "package",
            identity.package.as_str(),
            desired.project.package.as_str(),
        ),
        ("theme", identity.theme.name(), desired.project.theme.name()),
    ] {
        if old != new {
            plan.refused.push(Refusal {
                subject: format!("project.{what}: {old} → {new}"),
                reason: format!("the project's {what} is fixed once the project is generated"),
                recipe: vec![format!(
                    "set `project.{what}: {old}` back in quickscale.yml"
                )],
            });
        }
    }

    let head_tree = match (&ws.git, ws.head) {
        (Some(git), Some(head)) => Some(git.tree_of(head)?),
        _ => None,
    };
    let mut provenance = None;
    for m in &desired.modules {
        let src = resolve(ws, &m.name)?;
        let Some(current) = applied.modules.get(&m.name) else {
            let entry = AddModule {
                name: m.name.clone(),
                source: src.url,
                git_ref: src.git_ref,
            };
            let prefix = format!("{MODULES_DIR}/{}", m.name);
            let present = match (&ws.git, head_tree) {
                (Some(git), Some(tree)) => git.entry_at(tree, &prefix)?.is_some(),
                _ => false,
            };
            if !present {
                plan.add.push(entry);
                continue;
            }
            if provenance.is_none() {
                provenance = ws.provenance()?;
            }
            match provenance.as_ref().map(|p| p.of(&m.name)) {
                Some(Evidence::Trailers(..) | Evidence::Ref(_)) => plan.adopt.push(entry),
                _ => plan.refused.push(Refusal {
                    subject: format!("{}: {prefix} exists", m.name),
                    reason: format!(
                        "`{prefix}` is not an embedded module (no state note, `refs/quickscale/modules/{}` ref or git-subtree trailers prove it was embedded), so it is your code and git quickscale will not replace it",
                        m.name
                    ),
                    recipe: vec![
                        format!(
                            "git mv {prefix} {prefix}_local && git commit -m \"Move my code out of {prefix}\""
                        ),
                        "git quickscale apply".into(),
                    ],
                }),
            }
            continue;
        };
        let derived = ws.origin.derived();
        if current.source == src.url && current.git_ref != src.git_ref {
            plan.update.push(UpdateModule {
                name: m.name.clone(),
                source: src.url.clone(),
                from_ref: current.git_ref.clone(),
                to_ref: src.git_ref.clone(),
                commit: None,
            });
            // Its options are resolved against the new manifest by the update.
            continue;
        } else if current.source != src.url {
            plan.refused.push(Refusal {
                subject: format!(
                    "{}: source {}@{} → {}@{}",
                    m.name, current.source, current.git_ref, src.url, src.git_ref
                ),
                reason: "moving an embedded module to another source is a new embed (`update` moves it to another ref of the same source)".into(),
                recipe: vec![
                    format!("git quickscale plan --remove {}", m.name),
                    "git quickscale apply".into(),
                    format!(
                        "git quickscale plan --add {}",
                        source::plan_args(&m.name, &src, &ws.catalog)
                    ),
                    "git quickscale apply".into(),
                ],
            });
        }
        let Some(manifest) = ws.embedded_manifest(&m.name)? else {
            if !m.options.is_empty() {
                plan.refused.push(Refusal {
                    subject: format!("{}: options", m.name),
                    reason: format!(
                        "module {} has no module.yml, so it takes no options",
                        m.name
                    ),
                    recipe: vec![format!("remove the options under `modules.{}`", m.name)],
                });
            }
            continue;
        };
        let resolved = match manifest.resolve_options(&m.name, &m.options) {
            Ok(r) => r,
            Err(problems) => {
                for p in problems {
                    plan.refused.push(Refusal {
                        subject: format!("{}: options", m.name),
                        reason: p,
                        recipe: vec![
                            "git quickscale plan --reconfigure --set MODULE.OPTION=VALUE".into(),
                        ],
                    });
                }
                continue;
            }
        };
        for spec in &manifest.options {
            let old = current
                .options
                .get(&spec.name)
                .cloned()
                .unwrap_or(Value::Null);
            let new = resolved.get(&spec.name).cloned().unwrap_or(Value::Null);
            if old == new || derived.is_some() && !current.options.contains_key(&spec.name) {
                continue;
            }
            if spec.mutable {
                plan.reconfigure.push(OptionChange {
                    module: m.name.clone(),
                    option: spec.name.clone(),
                    old,
                    new,
                    setting: spec.django_setting.clone(),
                });
            } else {
                plan.refused.push(Refusal {
                    subject: format!("{}.{}: {} → {}", m.name, spec.name, old, new),
                    reason: format!("option {} of module {} is immutable", spec.name, m.name),
                    recipe: vec![
                        format!("git quickscale plan --remove {}", m.name),
                        "git quickscale apply".into(),
                        format!(
                            "git quickscale plan --add {} --set {}.{}={}",
                            source::plan_args(&m.name, &src, &ws.catalog),
                            m.name,
                            spec.name,
                            new
                        ),
                        "git quickscale apply".into(),
                    ],
                });
            }
        }
    }
    for name in applied.modules.keys() {
        if desired.module(name).is_none() {
            match unproven_refusal(ws, name) {
                Some(r) => plan.refused.push(r),
                None => {
                    plan.tables.insert(name.clone(), app_labels(ws, name));
                    plan.remove.push(name.clone());
                }
            }
        }
    }
    if let (Some(git), Some(head_tree)) = (&ws.git, head_tree) {
        if let Origin::Derived(_) = &ws.origin {
            plan.record_state = Some(
                "the applied state is not recorded in a note (fresh clone or rewritten history)"
                    .into(),
            );
        }
        plan.rewire = drifted_managed_files(ws, git, head_tree, applied)?;
    }
    Ok(plan)
}

/// Managed files in HEAD that differ from what the tool renders now.
fn drifted_managed_files(
    ws: &Workspace,
    git: &crate::git::Git,
    head_tree: crate::git::ObjectId,
    applied: &crate::state::AppliedState,
) -> Result<Vec<String>, EngineError> {
    Ok(managed_drift(ws, git, head_tree, applied)?
        .into_iter()
        .map(|d| d.path)
        .collect())
}

/// A managed file whose content in HEAD is not what the tool renders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedDrift {
    pub path: String,
    /// What the tool renders now; `None` when the wiring could not be
    /// rendered and the blob id the note recorded was compared instead.
    pub rendered: Option<Vec<u8>>,
}

/// Managed files in HEAD that differ from what the tool renders now from
/// the applied state and the embedded manifests (a hand edit, a changed
/// catalog). Where the wiring cannot be rendered, the blob ids the note
/// recorded are compared instead. `check` reports these with a line.
pub fn managed_drift(
    ws: &Workspace,
    git: &crate::git::Git,
    head_tree: crate::git::ObjectId,
    applied: &crate::state::AppliedState,
) -> Result<Vec<ManagedDrift>, EngineError> {
    let options: BTreeMap<String, BTreeMap<String, Value>> = applied
        .modules
        .iter()
        .map(|(n, m)| (n.clone(), m.options.clone()))
        .collect();
    let mut drifted = Vec::new();
    match super::modules::render_wiring(
        git,
        head_tree,
        &options,
        &ws.catalog,
        // The owner's access levels as quickscale.yml has them now: a change
        // there shows as a managed file to rewire.
        &ws.config.config.access_overrides(),
        &applied.project.package,
    ) {
        Ok(files) => {
            for (path, file) in files {
                let now = git.entry_at(head_tree, &path)?.map(|(_, id)| id);
                let rendered = git.hash_blob(&file.contents);
                if now != rendered {
                    drifted.push(ManagedDrift {
                        path,
                        rendered: Some(file.contents),
                    });
                }
            }
        }
        Err(_) => {
            for (path, recorded) in &applied.managed {
                let actual = git.entry_at(head_tree, path)?.map(|(_, id)| id.to_string());
                if actual.as_deref() != Some(recorded.as_str()) {
                    drifted.push(ManagedDrift {
                        path: path.clone(),
                        rendered: None,
                    });
                }
            }
        }
    }
    Ok(drifted)
}

/// The app labels of a module's own Django apps (their tables stay when it
/// is removed).
fn app_labels(ws: &Workspace, name: &str) -> Vec<String> {
    ws.embedded_manifest(name)
        .ok()
        .flatten()
        .map(|m| m.django_apps)
        .unwrap_or_default()
        .into_iter()
        .filter(|a| !a.starts_with("django.") && a.contains(name))
        .map(|a| a.rsplit('.').next().unwrap_or(&a).to_owned())
        .collect()
}

/// Removing a module that a shallow clone could not prove was embedded is refused.
fn unproven_refusal(ws: &Workspace, name: &str) -> Option<Refusal> {
    let derived = ws.origin.derived()?;
    if !derived.unproven.iter().any(|n| n == name) {
        return None;
    }
    Some(Refusal {
        subject: format!("{name}: remove"),
        reason: format!(
            "this shallow clone cannot prove that `{MODULES_DIR}/{name}` was embedded (its git-subtree trailers are out of reach), so removing it could delete your code"
        ),
        recipe: vec![
            "git fetch --unshallow".into(),
            "git quickscale apply".into(),
        ],
    })
}

/// Compatibility of the modules the plan embeds, where it can be read
/// without fetching (local sources); remote ones are checked after the fetch.
pub fn compat_preview(ws: &Workspace, plan: &Plan) -> Vec<crate::compat::Mismatch> {
    let mut out = Vec::new();
    for add in &plan.add {
        let source::Location::Local(path) = source::location(&add.source, &ws.root) else {
            continue;
        };
        let Ok(repo) = crate::git::Git::open_path(&path) else {
            continue;
        };
        let Ok(commit) = source::resolve_commit(&repo, &add.name, &add.source, &add.git_ref) else {
            continue;
        };
        let text = repo
            .tree_of(commit)
            .ok()
            .and_then(|t| repo.entry_at(t, "pyproject.toml").ok().flatten())
            .and_then(|(_, blob)| repo.read_blob(blob).ok())
            .map(|data| String::from_utf8_lossy(&data).into_owned());
        if let Some(text) = text {
            out.extend(crate::compat::check(
                &add.name,
                &crate::compat::needs(&text),
            ));
        }
    }
    out
}

/// A plan that only updates (for `git quickscale update`).
pub fn updating(steps: Vec<UpdateModule>) -> Plan {
    let mut plan = Plan::empty(Scope::UpdateOnly);
    plan.update = steps;
    plan
}

/// A plan that only removes `name` (for `git quickscale remove`).
pub fn removal(ws: &Workspace, name: &str) -> Plan {
    let mut plan = Plan::empty(Scope::RemoveOnly);
    match unproven_refusal(ws, name) {
        Some(r) => plan.refused.push(r),
        None => {
            plan.tables.insert(name.to_owned(), app_labels(ws, name));
            plan.remove.push(name.to_owned());
        }
    }
    if ws.config.config.module(name).is_some() {
        plan.refused.push(Refusal {
            subject: name.to_owned(),
            reason: format!("module {name} is still listed in quickscale.yml"),
            recipe: vec![format!("git quickscale plan --remove {name}")],
        });
    }
    plan
}

fn resolve(ws: &Workspace, name: &str) -> Result<ModuleSource, EngineError> {
    source::resolve(name, &ws.config.config, &ws.catalog).ok_or_else(|| {
        EngineError::Options(vec![format!(
            "module {name}: no source (not in the catalog and no `sources.{name}.url`)"
        )])
    })
}
