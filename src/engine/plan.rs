//! The plan: what apply would change, as data (shown before acting,
//! Terraform-style, and serializable for `--json`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{EngineError, Workspace};
use crate::config::{Identity, ModuleRequest};
use crate::manifest::Manifest;
use crate::source::{self, ModuleSource};
use crate::state::derive::{Evidence, MODULES_DIR};
use crate::state::{ModuleState, Origin};
use crate::value::Value;

/// A module to embed.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct OptionChange {
    pub module: String,
    pub option: String,
    pub old: Value,
    pub new: Value,
    pub setting: Option<String>,
}

/// A change apply will not make, with the way to make it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Refusal {
    pub subject: String,
    pub reason: String,
    pub recipe: Vec<String>,
}

/// Which modules' options the final wiring uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
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
    let Some(applied) = &ws.applied else {
        return new_project(ws);
    };
    let mut plan = Plan::empty(Scope::Full);
    plan.refused
        .extend(identity_refusals(&applied.project, &desired.project));
    let head_tree = match (&ws.git, ws.head) {
        (Some(git), Some(head)) => Some(git.tree_of(head)?),
        _ => None,
    };
    let mut provenance = None;
    for m in &desired.modules {
        let src = resolve(ws, &m.name)?;
        match applied.modules.get(&m.name) {
            None => {
                let entry = AddModule {
                    name: m.name.clone(),
                    source: src.url,
                    git_ref: src.git_ref,
                };
                let present = match (&ws.git, head_tree) {
                    (Some(git), Some(tree)) => git.entry_at(tree, &prefix(&m.name))?.is_some(),
                    _ => false,
                };
                if !present {
                    plan.add.push(entry);
                    continue;
                }
                if provenance.is_none() {
                    provenance = ws.provenance()?;
                }
                let evidence = provenance.as_ref().map(|p| p.of(&m.name));
                match adopt_or_refuse(entry, evidence) {
                    Ok(adopt) => plan.adopt.push(adopt),
                    Err(refusal) => plan.refused.push(refusal),
                }
            }
            Some(current) => plan_recorded_module(ws, m, current, &src, &mut plan)?,
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

/// Not generated yet (or a repository without the project in it): generate
/// the project and add every module quickscale.yml lists.
fn new_project(ws: &Workspace) -> Result<Plan, EngineError> {
    let desired = &ws.config.config;
    let mut plan = Plan::empty(Scope::Full);
    plan.generate = Some(desired.project.clone());
    for m in &desired.modules {
        let src = resolve(ws, &m.name)?;
        plan.add.push(AddModule {
            name: m.name.clone(),
            source: src.url,
            git_ref: src.git_ref,
        });
    }
    Ok(plan)
}

/// The module's directory in the project.
fn prefix(name: &str) -> String {
    format!("{MODULES_DIR}/{name}")
}

/// Changes of the project's identity, each refused: it is fixed once the
/// project is generated.
fn identity_refusals(applied: &Identity, desired: &Identity) -> Vec<Refusal> {
    let mut refused = Vec::new();
    for (what, old, new) in [
        ("slug", applied.slug.as_str(), desired.slug.as_str()),
        (
            "package",
            applied.package.as_str(),
            desired.package.as_str(),
        ),
        ("theme", applied.theme.name(), desired.theme.name()),
    ] {
        if old != new {
            refused.push(Refusal {
                subject: format!("project.{what}: {old} → {new}"),
                reason: format!("the project's {what} is fixed once the project is generated"),
                recipe: vec![format!(
                    "set `project.{what}: {old}` back in quickscale.yml"
                )],
            });
        }
    }
    refused
}

/// A module the state does not record whose directory already exists: it
/// is adopted when a module ref or git-subtree trailers prove it was
/// embedded, else refused (it is the user's code).
fn adopt_or_refuse(entry: AddModule, evidence: Option<Evidence>) -> Result<AddModule, Refusal> {
    match evidence {
        Some(Evidence::Trailers(..) | Evidence::Ref(_)) => Ok(entry),
        _ => {
            let name = &entry.name;
            let prefix = prefix(name);
            Err(Refusal {
                subject: format!("{name}: {prefix} exists"),
                reason: format!(
                    "`{prefix}` is not an embedded module (no state note, `refs/quickscale/modules/{name}` ref or git-subtree trailers prove it was embedded), so it is your code and git quickscale will not replace it",
                ),
                recipe: vec![
                    format!(
                        "git mv {prefix} {prefix}_local && git commit -m \"Move my code out of {prefix}\""
                    ),
                    "git quickscale apply".into(),
                ],
            })
        }
    }
}

/// A module the state records: moved to another ref of its source (an
/// update), refused when its source changes, else its options compared.
fn plan_recorded_module(
    ws: &Workspace,
    m: &ModuleRequest,
    current: &ModuleState,
    src: &ModuleSource,
    plan: &mut Plan,
) -> Result<(), EngineError> {
    let add_args = source::plan_args(&m.name, src, &ws.catalog);
    match source_move(&m.name, current, src, &add_args) {
        Some(Ok(update)) => {
            plan.update.push(update);
            // Its options are resolved against the new manifest by the update.
            return Ok(());
        }
        Some(Err(refusal)) => plan.refused.push(refusal),
        None => {}
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
        return Ok(());
    };
    let derived = ws.origin.derived().is_some();
    option_changes(
        &m.name, &m.options, current, &manifest, derived, &add_args, plan,
    );
    Ok(())
}

/// Whether quickscale.yml moves a recorded module: another ref of the same
/// source is an update; another source is refused (it is a new embed, and
/// `add_args` are the `plan --add` arguments that make it).
fn source_move(
    name: &str,
    current: &ModuleState,
    src: &ModuleSource,
    add_args: &str,
) -> Option<Result<UpdateModule, Refusal>> {
    if current.source == src.url && current.git_ref != src.git_ref {
        return Some(Ok(UpdateModule {
            name: name.to_owned(),
            source: src.url.clone(),
            from_ref: current.git_ref.clone(),
            to_ref: src.git_ref.clone(),
            commit: None,
        }));
    }
    if current.source == src.url {
        return None;
    }
    Some(Err(Refusal {
        subject: format!(
            "{name}: source {}@{} → {}@{}",
            current.source, current.git_ref, src.url, src.git_ref
        ),
        reason: "moving an embedded module to another source is a new embed (`update` moves it to another ref of the same source)".into(),
        recipe: vec![
            format!("git quickscale plan --remove {name}"),
            "git quickscale apply".into(),
            format!("git quickscale plan --add {add_args}"),
            "git quickscale apply".into(),
        ],
    }))
}

/// The option changes quickscale.yml asks of an embedded module: mutable
/// ones reconfigure, immutable ones and invalid values are refused. On a
/// derived state (no note), options it does not record are not compared.
fn option_changes(
    name: &str,
    given: &BTreeMap<String, Value>,
    current: &ModuleState,
    manifest: &Manifest,
    derived: bool,
    add_args: &str,
    plan: &mut Plan,
) {
    let resolved = match manifest.resolve_options(name, given) {
        Ok(r) => r,
        Err(problems) => {
            for p in problems {
                plan.refused.push(Refusal {
                    subject: format!("{name}: options"),
                    reason: p,
                    recipe: vec![
                        "git quickscale plan --reconfigure --set MODULE.OPTION=VALUE".into(),
                    ],
                });
            }
            return;
        }
    };
    for spec in &manifest.options {
        let old = current
            .options
            .get(&spec.name)
            .cloned()
            .unwrap_or(Value::Null);
        let new = resolved.get(&spec.name).cloned().unwrap_or(Value::Null);
        if old == new || derived && !current.options.contains_key(&spec.name) {
            continue;
        }
        if spec.mutable {
            plan.reconfigure.push(OptionChange {
                module: name.to_owned(),
                option: spec.name.clone(),
                old,
                new,
                setting: spec.django_setting.clone(),
            });
        } else {
            plan.refused.push(Refusal {
                subject: format!("{name}.{}: {} → {}", spec.name, old, new),
                reason: format!("option {} of module {name} is immutable", spec.name),
                recipe: vec![
                    format!("git quickscale plan --remove {name}"),
                    "git quickscale apply".into(),
                    format!(
                        "git quickscale plan --add {add_args} --set {name}.{}={}",
                        spec.name, new
                    ),
                    "git quickscale apply".into(),
                ],
            });
        }
    }
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

#[cfg(test)]
mod tests {
    //! The plan's decisions from in-memory inputs: no repository, no files.
    use super::*;
    use crate::config::Theme;

    const CRM: &str = r#"
name: crm
version: "1.0.0"
config:
  mutable:
    deals_per_page: {type: integer, default: 25, django_setting: CRM_DEALS_PER_PAGE, validation: {min: 1}}
  immutable:
    stages: {type: list, default: [a, b], validation: {allowed_values: [a, b, c]}}
"#;

    fn crm() -> Manifest {
        Manifest::parse(CRM, "module.yml", "crm").expect("valid manifest")
    }

    fn identity(slug: &str, package: &str, theme: Theme) -> Identity {
        Identity {
            slug: slug.into(),
            package: package.into(),
            theme,
            name: None,
        }
    }

    fn recorded(source: &str, git_ref: &str, options: &[(&str, Value)]) -> ModuleState {
        ModuleState {
            source: source.into(),
            git_ref: git_ref.into(),
            commit: "0".repeat(40),
            prefix: "modules/crm".into(),
            tree: "0".repeat(40),
            version: Some("1.0.0".into()),
            options: options
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        }
    }

    fn src(url: &str, git_ref: &str) -> ModuleSource {
        ModuleSource {
            url: url.into(),
            git_ref: git_ref.into(),
        }
    }

    fn defaults() -> Vec<(&'static str, Value)> {
        vec![
            ("deals_per_page", Value::Int(25)),
            (
                "stages",
                Value::List(vec![Value::Str("a".into()), Value::Str("b".into())]),
            ),
        ]
    }

    fn given(options: &[(&str, Value)]) -> BTreeMap<String, Value> {
        options
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn identity_changes_are_refused_one_by_one_with_the_way_back() {
        let applied = identity("shop", "shop", Theme::ShowcaseHtml);
        assert!(identity_refusals(&applied, &applied.clone()).is_empty());
        let desired = identity("store", "shop", Theme::CrmReact);
        let refused = identity_refusals(&applied, &desired);
        let subjects: Vec<&str> = refused.iter().map(|r| r.subject.as_str()).collect();
        assert_eq!(
            subjects,
            vec![
                "project.slug: shop → store",
                "project.theme: showcase_html → crm_react"
            ]
        );
        assert_eq!(
            refused[0].recipe,
            vec!["set `project.slug: shop` back in quickscale.yml".to_owned()]
        );
    }

    #[test]
    fn an_existing_directory_is_adopted_only_with_proof() {
        let entry = AddModule {
            name: "crm".into(),
            source: "https://example.com/crm.git".into(),
            git_ref: "v1".into(),
        };
        let id = crate::git::ObjectId::from_hex(&[b'1'; 40]).expect("hex");
        assert_eq!(
            adopt_or_refuse(entry.clone(), Some(Evidence::Ref(id))),
            Ok(entry.clone())
        );
        assert_eq!(
            adopt_or_refuse(entry.clone(), Some(Evidence::Trailers(id, id))),
            Ok(entry.clone())
        );
        for evidence in [None, Some(Evidence::None { shallow: true })] {
            let refusal = adopt_or_refuse(entry.clone(), evidence).expect_err("not proven");
            assert_eq!(refusal.subject, "crm: modules/crm exists");
            assert!(
                refusal.recipe[0].starts_with("git mv modules/crm modules/crm_local"),
                "{:?}",
                refusal.recipe
            );
        }
    }

    #[test]
    fn a_new_ref_of_the_same_source_is_an_update_and_a_new_source_is_refused() {
        let url = "https://example.com/crm.git";
        let current = recorded(url, "v1", &[]);
        assert_eq!(source_move("crm", &current, &src(url, "v1"), "crm"), None);
        assert_eq!(
            source_move("crm", &current, &src(url, "v2"), "crm"),
            Some(Ok(UpdateModule {
                name: "crm".into(),
                source: url.into(),
                from_ref: "v1".into(),
                to_ref: "v2".into(),
                commit: None,
            }))
        );
        let moved = source_move(
            "crm",
            &current,
            &src("https://example.com/fork.git", "v1"),
            "crm --source crm=https://example.com/fork.git",
        );
        let Some(Err(refusal)) = moved else {
            panic!("another source must be refused: {moved:?}");
        };
        assert_eq!(
            refusal.subject,
            "crm: source https://example.com/crm.git@v1 → https://example.com/fork.git@v1"
        );
        assert_eq!(
            refusal.recipe[2],
            "git quickscale plan --add crm --source crm=https://example.com/fork.git"
        );
    }

    #[test]
    fn mutable_options_reconfigure_and_immutable_ones_are_refused() {
        let current = recorded("u", "v1", &defaults());
        let mut plan = Plan::empty(Scope::Full);
        let asked = given(&[
            ("deals_per_page", Value::Int(50)),
            ("stages", Value::List(vec![Value::Str("c".into())])),
        ]);
        option_changes("crm", &asked, &current, &crm(), false, "crm", &mut plan);
        assert_eq!(
            plan.reconfigure,
            vec![OptionChange {
                module: "crm".into(),
                option: "deals_per_page".into(),
                old: Value::Int(25),
                new: Value::Int(50),
                setting: Some("CRM_DEALS_PER_PAGE".into()),
            }]
        );
        assert_eq!(plan.refused.len(), 1, "{:?}", plan.refused);
        assert_eq!(
            plan.refused[0].reason,
            "option stages of module crm is immutable"
        );
        assert_eq!(
            plan.refused[0].recipe[2],
            "git quickscale plan --add crm --set crm.stages=[c]"
        );

        // Unchanged options (defaults filled in) plan nothing.
        let mut plan = Plan::empty(Scope::Full);
        option_changes(
            "crm",
            &given(&[]),
            &current,
            &crm(),
            false,
            "crm",
            &mut plan,
        );
        assert!(!plan.has_changes() && plan.refused.is_empty(), "{plan:?}");
    }

    #[test]
    fn invalid_options_are_refused_and_nothing_is_reconfigured() {
        let current = recorded("u", "v1", &defaults());
        let mut plan = Plan::empty(Scope::Full);
        let asked = given(&[("deals_per_page", Value::Int(0)), ("colour", Value::Null)]);
        option_changes("crm", &asked, &current, &crm(), false, "crm", &mut plan);
        assert!(plan.reconfigure.is_empty(), "{:?}", plan.reconfigure);
        assert_eq!(plan.refused.len(), 2, "{:?}", plan.refused);
        assert!(plan.refused.iter().all(|r| r.subject == "crm: options"));
    }

    #[test]
    fn a_derived_state_compares_only_the_options_it_recorded() {
        // Derived from history: the note is gone, only deals_per_page is known.
        let current = recorded("u", "v1", &[("deals_per_page", Value::Int(25))]);
        let asked = given(&[("stages", Value::List(vec![Value::Str("c".into())]))]);
        let mut plan = Plan::empty(Scope::Full);
        option_changes("crm", &asked, &current, &crm(), true, "crm", &mut plan);
        assert!(
            plan.refused.is_empty() && plan.reconfigure.is_empty(),
            "{plan:?}"
        );
        // With a note, the same request is an immutable change.
        let mut plan = Plan::empty(Scope::Full);
        option_changes("crm", &asked, &current, &crm(), false, "crm", &mut plan);
        assert_eq!(plan.refused.len(), 1, "{:?}", plan.refused);
    }
}
