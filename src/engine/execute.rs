//! Executing a plan in three steps:
//!
//! 1. [`resolve`]: fetch every module to embed, check its tree, read every
//!    manifest and resolve every option once, compute the wiring. All user
//!    input is validated here.
//! 2. [`prepare`]: write commits, the state note and the final tree as
//!    objects only, and list the worktree paths and ref moves
//!    ([`txn::Prepared`]). Nothing is visible yet; only I/O can fail.
//! 3. [`txn::run`]: journal, worktree, index and one ref transaction.

use std::collections::BTreeMap;

use crate::git::EntryKind;
use crate::git::ObjectId;
use serde::Serialize;

pub use super::modules::{
    compat_of, has_package, prefix_of, read_manifest, render_wiring, resolve_options, url_style,
};
use super::plan::{Plan, Scope};
use super::untrusted::{self, Limits};
use super::{EngineError, Event, Workspace};
use crate::config::CONFIG_FILE;
use crate::git::tree::{Leaf, TreeEdit};
use crate::git::{Git, GitError, NOTES_REWRITE_KEY, Signature};
use crate::manifest::{MANIFEST_FILE, Manifest};
use crate::render::{self, FileMap};
use crate::source::{self, Location};
use crate::state::refs::{self, NOTES_REF, UNDO_REF};
use crate::state::{AppliedState, ModuleState, Operation, notes};
use crate::txn::{self, PathChange, Prepared, RefChange};
use crate::value::Value;
use crate::wiring::{self, ModuleInput};

/// What an operation did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub head: ObjectId,
    /// Commits made, oldest first, with their summaries.
    pub commits: Vec<(ObjectId, String)>,
    pub state: AppliedState,
    pub created_repo: bool,
    pub files_written: usize,
    /// The Python the project's modules need after the operation.
    pub python: crate::compat::ProjectPython,
}

/// A module fetched for embedding.
struct Fetched {
    name: String,
    source: String,
    git_ref: String,
    upstream: ObjectId,
    upstream_tree: ObjectId,
}

/// A prefix already in the tree (e.g. from `git subtree add`) to record.
struct Adopted {
    name: String,
    source: String,
    git_ref: String,
    upstream: Option<ObjectId>,
    prefix_tree: ObjectId,
}

/// Every module of the final state, read once.
struct FinalModule {
    manifest: Option<Manifest>,
    options: BTreeMap<String, Value>,
}

/// How an operation treats warnings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOptions {
    /// Compatibility mismatches are errors.
    pub strict: bool,
    /// What a merge conflict of an update does.
    pub conflicts: ConflictMode,
    /// Updates resolved by the user (a paused update going on): module →
    /// (its squash commit, the prefix tree to commit).
    pub resolutions: BTreeMap<String, (ObjectId, ObjectId)>,
    /// The user committed the paused update's merge with `git commit`:
    /// HEAD is the merge, only the wiring and the state follow.
    pub premerged: bool,
    /// `adopt`: upstream files the operation takes over.
    pub takeover: Option<Takeover>,
}

/// What `adopt` adds to an operation: files of upstream QuickScale it
/// removes or replaces whatever their state in the worktree, kept first in
/// a snapshot commit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Takeover {
    /// Files the commit removes from the tree and the worktree.
    pub retire: Vec<String>,
    /// Paths whose worktree content, committed or not, the operation may
    /// replace: every one of them is in `snapshot`.
    pub paths: Vec<String>,
    /// A commit holding `paths` as found (`refs/quickscale/adopted`).
    pub snapshot: Option<ObjectId>,
    /// Written into the note of the operation's commit.
    pub record: Option<crate::state::Adopted>,
    /// The title of the operation's commit.
    pub summary: Option<String>,
    /// User-owned files the operation creates, named in its plan (adopt's
    /// kept upstream wiring); the user owns them afterwards.
    pub creates: Vec<String>,
}

/// What a merge conflict of an update does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ConflictMode {
    /// Refuse the whole operation before anything is written.
    #[default]
    Refuse,
    /// Go on: the caller pauses the operation with the conflicts in the files.
    Merge,
    /// Go on: the caller only shows them (a preview).
    Report,
}

/// A plan with everything it needs fetched, read and validated.
pub struct Resolved {
    plan: Plan,
    op: String,
    config_text: String,
    generate: Option<FileMap>,
    fetched: Vec<Fetched>,
    adopted: Vec<Adopted>,
    modules: BTreeMap<String, FinalModule>,
    managed: FileMap,
    updates: Vec<super::update::Merged>,
    opts: ExecOptions,
    python: crate::compat::ProjectPython,
    /// Who may open each URL include, by module (`adopt` keeps upstream's
    /// public pages public).
    access: BTreeMap<String, Vec<(crate::spec::UrlInclude, crate::spec::Access)>>,
}

impl Resolved {
    /// Each module's URL includes with the access level the wiring gives them.
    pub fn access(&self) -> &BTreeMap<String, Vec<(crate::spec::UrlInclude, crate::spec::Access)>> {
        &self.access
    }

    /// The updates, merged in memory, with their previews.
    pub fn updates(&self) -> &[super::update::Merged] {
        &self.updates
    }

    /// Whether any update left a conflict.
    pub fn has_conflicts(&self) -> bool {
        self.updates.iter().any(|u| !u.merge.conflicts.is_empty())
    }

    /// The managed files as this operation renders them.
    pub fn managed(&self) -> &FileMap {
        &self.managed
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The Python the project's modules need after this operation.
    pub fn python(&self) -> &crate::compat::ProjectPython {
        &self.python
    }

    pub fn op(&self) -> &str {
        &self.op
    }

    pub fn config_text(&self) -> &str {
        &self.config_text
    }

    /// The same resolution under a plan that only adds what it shows
    /// (`adopt` lists the wiring it rewrites once it is rendered).
    pub fn with_plan(mut self, plan: Plan) -> Self {
        self.plan = plan;
        self
    }

    /// `adopt`: the managed files, plus the user-owned file of upstream's
    /// kept wiring, as the transaction writes them.
    pub fn managed_mut(&mut self) -> &mut FileMap {
        &mut self.managed
    }

    /// `adopt`: the upstream files the transaction takes over.
    pub fn with_takeover(mut self, takeover: Takeover) -> Self {
        self.opts.takeover = Some(takeover);
        self
    }
}

/// Runs `plan` as operation `op`, committing `config_text` as quickscale.yml
/// (and writing it into the worktree when it differs from what is there).
pub fn execute(
    ws: &mut Workspace,
    plan: &Plan,
    op: &str,
    config_text: &str,
    opts: ExecOptions,
    events: &mut dyn FnMut(Event),
) -> Result<Outcome, EngineError> {
    let created_repo = ws.git.is_none();
    if created_repo {
        check_identity_without_repo()?;
        // Objects of a failed attempt cannot be half-removed: start clean.
        txn::remove_leftovers(&ws.root)?;
        let git = Git::init(&ws.root)?;
        ws.lock =
            Some(super::session::open_for_write(&git, super::session::Mode::LockOnly)?.session);
        ws.git = Some(git);
    }
    let result = resolve(ws, plan, op, config_text, opts, events)
        .and_then(|resolved| commit_resolved(ws, resolved, created_repo, events));
    conclude(ws, result, created_repo, events)
}

/// Makes a resolved operation visible: its objects, then one transaction.
fn commit_resolved(
    ws: &Workspace,
    resolved: Resolved,
    created_repo: bool,
    events: &mut dyn FnMut(Event),
) -> Result<Outcome, EngineError> {
    let resume = !resolved.opts.resolutions.is_empty();
    let (prepared, outcome) = prepare(ws, resolved, created_repo)?;
    let (Some(git), Some(lock)) = (&ws.git, &ws.lock) else {
        return Err(GitError::new("write", "the repository is not locked").into());
    };
    events(Event::WritingFiles {
        count: prepared.paths.len(),
    });
    let extra = txn::Extra {
        pause: if resume {
            txn::PauseEffect::Resume
        } else {
            txn::PauseEffect::None
        },
        ..Default::default()
    };
    txn::run_with(git, lock, &prepared, &extra)?;
    Ok(outcome)
}

/// Runs an operation already resolved (e.g. shown as a preview first);
/// on any failure the repository is as it was.
pub fn execute_resolved(
    ws: &mut Workspace,
    resolved: Resolved,
    events: &mut dyn FnMut(Event),
) -> Result<Outcome, EngineError> {
    let result = commit_resolved(ws, resolved, false, events);
    conclude(ws, result, false, events)
}

fn conclude(
    ws: &mut Workspace,
    result: Result<Outcome, EngineError>,
    created_repo: bool,
    events: &mut dyn FnMut(Event),
) -> Result<Outcome, EngineError> {
    match result {
        Ok(mut outcome) => {
            if let Some(git) = &ws.git {
                git.ensure_local_config(NOTES_REWRITE_KEY, NOTES_REF)?;
            }
            outcome.created_repo = created_repo;
            events(Event::Done);
            Ok(outcome)
        }
        Err(e) => {
            // The error that stopped the operation is reported first, even
            // when cleaning up after it fails too.
            if let Err(cleanup) = clean_up_after_failure(ws, created_repo) {
                return Err(EngineError::NotRolledBack {
                    original: Box::new(e),
                    cleanup: cleanup.to_string(),
                });
            }
            Err(match e {
                EngineError::NoIdentity | EngineError::WouldOverwrite(_) => e,
                e => EngineError::RolledBack(Box::new(e)),
            })
        }
    }
}

/// Removes a repository this run created with nothing committed, or
/// rolls back what the failed operation wrote.
fn clean_up_after_failure(ws: &mut Workspace, created_repo: bool) -> Result<(), EngineError> {
    let Some(git) = ws.git.as_ref().filter(|g| g.git_dir().exists()) else {
        return Ok(());
    };
    if created_repo && git.head()?.commit.is_none() {
        // Nothing was committed into the repository this run created.
        let git_dir = git.git_dir().to_owned();
        ws.git = None;
        if let Some(session) = ws.lock.take() {
            // The repository goes away whole: nothing to clean in it.
            session.release_without_cleanup();
        }
        fs_err::remove_dir_all(&git_dir)
            .map_err(|io| GitError::new(format!("remove `{}`", git_dir.display()), io))?;
    } else if let Some(lock) = &ws.lock {
        txn::recover(git, lock)?;
    }
    Ok(())
}

/// Fetches, checks and reads everything the plan needs.
pub fn resolve(
    ws: &Workspace,
    plan: &Plan,
    op: &str,
    config_text: &str,
    opts: ExecOptions,
    events: &mut dyn FnMut(Event),
) -> Result<Resolved, EngineError> {
    let git = ws
        .git
        .as_ref()
        .ok_or_else(|| GitError::new("open the repository", "it is missing"))?;
    let desired = &ws.config.config;
    let generate = match &plan.generate {
        Some(identity) => {
            let files = generated_files(identity)?;
            let existing: Vec<String> = files
                .keys()
                .filter(|p| std::fs::symlink_metadata(ws.root.join(p)).is_ok())
                .cloned()
                .collect();
            if !existing.is_empty() {
                return Err(EngineError::WouldOverwrite(existing));
            }
            events(Event::Generating { files: files.len() });
            Some(files)
        }
        None => None,
    };
    let head = git.head()?.commit;
    let head_tree = match head {
        Some(h) => git.tree_of(h)?,
        None => git.empty_tree(),
    };
    // Cheap refusals first: nothing is fetched for a plan that cannot work.
    for add in &plan.add {
        let prefix = prefix_of(&add.name);
        if git.entry_at(head_tree, &prefix)?.is_some() {
            return Err(EngineError::Options(vec![format!(
                "module {}: `{prefix}` already exists in the tree",
                add.name
            )]));
        }
    }
    let given = |name: &str| {
        desired
            .module(name)
            .map(|m| m.options.clone())
            .unwrap_or_default()
    };
    let limits = Limits::from_config(git);
    let mut modules: BTreeMap<String, FinalModule> = BTreeMap::new();
    let mut installable: BTreeMap<String, bool> = BTreeMap::new();
    let mut fetched = Vec::new();
    let mut incompatible = Vec::new();
    // The files of each module the plan changes, for what upstream computes in Python.
    let mut module_trees: BTreeMap<String, ObjectId> = BTreeMap::new();
    for add in &plan.add {
        let fetch_url = match source::location(&add.source, &ws.root) {
            Location::Local(path) => path.to_string_lossy().into_owned(),
            Location::Remote(url) => url,
        };
        events(Event::Fetching {
            module: add.name.clone(),
            url: add.source.clone(),
            git_ref: add.git_ref.clone(),
        });
        let want = source::want(&add.name, &add.source, &add.git_ref, Some(&ws.catalog));
        let resolved =
            git.fetch_commit(&fetch_url, &want)
                .map_err(|source| EngineError::Fetch {
                    module: add.name.clone(),
                    source,
                })?;
        if let Some(how) = &resolved.how {
            events(Event::Resolved {
                module: add.name.clone(),
                how: how.clone(),
            });
        }
        let upstream = resolved.commit;
        events(Event::Fetched {
            module: add.name.clone(),
            commit: upstream.to_string(),
        });
        txn::test_pause(git.git_dir(), "fetched");
        let upstream_tree = git.tree_of(upstream)?;
        untrusted::check_tree(git, &add.name, upstream_tree, limits)?;
        let catalog_entry = ws.catalog.get(&add.name);
        untrusted::check_shape(git, &add.name, upstream_tree, catalog_entry, &add.git_ref)?;
        let label = format!("{}@{}:{MANIFEST_FILE}", add.source, add.git_ref);
        let manifest = source::manifest_at_commit(git, upstream, &add.name, &label)?;
        for w in manifest.iter().flat_map(|m| &m.warnings) {
            events(Event::Warning(w.clone()));
        }
        let options = resolve_options(&add.name, manifest.as_ref(), &given(&add.name))?;
        for m in compat_of(git, upstream_tree, "", &add.name)? {
            events(Event::Warning(m.message.clone()));
            incompatible.push(m.message);
        }
        installable.insert(add.name.clone(), has_package(git, upstream_tree, "")?);
        module_trees.insert(add.name.clone(), upstream_tree);
        modules.insert(add.name.clone(), FinalModule { manifest, options });
        fetched.push(Fetched {
            name: add.name.clone(),
            source: add.source.clone(),
            git_ref: add.git_ref.clone(),
            upstream,
            upstream_tree,
        });
    }
    let mut adopted = Vec::new();
    for adopt in &plan.adopt {
        let prefix = prefix_of(&adopt.name);
        let head = head.ok_or_else(|| GitError::new("adopt a module", "there is no commit"))?;
        let prefix_tree = git.subtree_at(head_tree, &prefix)?.ok_or_else(|| {
            GitError::new(format!("adopt `{prefix}`"), "it is not a directory in HEAD")
        })?;
        let upstream = git.latest_squash(head, &prefix)?.map(|(_, split)| split);
        let manifest = read_manifest(git, head_tree, &adopt.name)?;
        let options = resolve_options(&adopt.name, manifest.as_ref(), &given(&adopt.name))?;
        installable.insert(adopt.name.clone(), has_package(git, head_tree, &prefix)?);
        module_trees.insert(adopt.name.clone(), prefix_tree);
        modules.insert(adopt.name.clone(), FinalModule { manifest, options });
        adopted.push(Adopted {
            name: adopt.name.clone(),
            source: adopt.source.clone(),
            git_ref: adopt.git_ref.clone(),
            upstream,
            prefix_tree,
        });
    }
    let mut updates = Vec::new();
    if !plan.update.is_empty() {
        let head = head.ok_or_else(|| GitError::new("update a module", "there is no commit"))?;
        let squashes = git.squashes(head)?;
        // Without an identity (a dry run) the squash commit only labels conflicts.
        let (author, committer) = git.identity().unwrap_or_else(|_| {
            let sig = Signature {
                name: "git-quickscale".into(),
                email: "preview@git-quickscale".into(),
                time: Default::default(),
            };
            (sig.clone(), sig)
        });
        for step in &plan.update {
            let cx = super::update::StepContext {
                ws,
                git,
                head_tree,
                squashes: &squashes,
                limits,
                author: &author,
                committer: &committer,
                resolution: opts.resolutions.get(&step.name).copied(),
            };
            let merged = super::update::resolve_step(&cx, step, &given(&step.name), events)?;
            for w in &merged.preview.incompatible {
                events(Event::Warning(w.clone()));
                incompatible.push(w.clone());
            }
            installable.insert(
                step.name.clone(),
                has_package(git, merged.merge.tree, &prefix_of(&step.name))?,
            );
            if let Some(t) = git.subtree_at(merged.merge.tree, &prefix_of(&step.name))? {
                module_trees.insert(step.name.clone(), t);
            }
            modules.insert(
                step.name.clone(),
                FinalModule {
                    manifest: merged.manifest.clone(),
                    options: merged.options.clone(),
                },
            );
            updates.push(merged);
        }
        let conflicts: Vec<(String, String, Vec<crate::git::merge::MergeConflict>)> = updates
            .iter()
            .filter(|u| !u.merge.conflicts.is_empty())
            .map(|u| {
                (
                    u.step.name.clone(),
                    u.step.to_ref.clone(),
                    u.merge.conflicts.clone(),
                )
            })
            .collect();
        if !conflicts.is_empty() && opts.conflicts == ConflictMode::Refuse {
            return Err(EngineError::Conflicts(conflicts));
        }
    }
    // Modules that stay: their manifest from HEAD, their options as the scope says.
    if let Some(applied) = &ws.applied {
        for (name, current) in &applied.modules {
            if plan.remove.contains(name) || modules.contains_key(name) {
                continue;
            }
            let manifest = read_manifest(git, head_tree, name)?;
            let options = match (plan.scope, desired.module(name)) {
                (Scope::Full, Some(wanted)) => {
                    resolve_options(name, manifest.as_ref(), &wanted.options)?
                }
                _ => current.options.clone(),
            };
            installable.insert(name.clone(), has_package(git, head_tree, &prefix_of(name))?);
            modules.insert(name.clone(), FinalModule { manifest, options });
        }
    }
    // What the modules declare they need (`requires:` in module.yml).
    let changed: std::collections::BTreeSet<String> = plan
        .add
        .iter()
        .chain(&plan.adopt)
        .map(|a| a.name.clone())
        .chain(plan.update.iter().map(|u| u.name.clone()))
        .chain(plan.remove.iter().cloned())
        .collect();
    let manifests: BTreeMap<String, Option<&Manifest>> = modules
        .iter()
        .map(|(n, m)| (n.clone(), m.manifest.as_ref()))
        .collect();
    let (refusals, warnings) = super::update::check_requirements(&manifests, &changed);
    if !refusals.is_empty() {
        return Err(EngineError::Requirements(refusals));
    }
    for w in warnings {
        events(Event::Warning(w.clone()));
        incompatible.push(w);
    }
    if opts.strict && !incompatible.is_empty() {
        return Err(EngineError::Incompatible(incompatible));
    }
    let access = desired.access_overrides();
    let inputs: Vec<ModuleInput> = modules
        .iter()
        .map(|(name, m)| ModuleInput {
            name: name.clone(),
            hints: ws
                .catalog
                .get(name)
                .map(|e| e.wiring.clone())
                .unwrap_or_default(),
            options: m.options.clone(),
            manifest: m.manifest.clone(),
            installable: installable.get(name).copied().unwrap_or(false),
            access: access.get(name).cloned(),
        })
        .collect();
    for input in inputs.iter().filter(|i| changed.contains(&i.name)) {
        let Some(tree) = module_trees.get(&input.name) else {
            continue;
        };
        let adapters = crate::engine::notices::adapters(git, *tree)?;
        let notes = [
            crate::engine::notices::notice(input, &prefix_of(&input.name), &adapters),
            crate::engine::notices::vintage_note(input),
        ];
        for note in notes.into_iter().flatten() {
            events(Event::Warning(note));
        }
    }
    let project = match &plan.generate {
        Some(identity) => identity.clone(),
        None => ws
            .applied
            .as_ref()
            .map(|a| a.project.clone())
            .unwrap_or_else(|| desired.project.clone()),
    };
    let wiring = wiring::compute_for(
        &wiring::rules::Project {
            package: &project.package,
            theme: project.theme.name(),
            allowed: &desired.allowed_settings(),
        },
        &inputs,
    )?;
    let access = access_levels(&inputs);
    let style = url_style(git, head_tree, &project.package)?;
    let mut managed = wiring::render_styled(&project.package, &wiring, style);
    super::modules::keep_upstream_settings(git, head_tree, &project.package, &mut managed)?;
    let python = final_python(git, head_tree, &modules, &module_trees)?;
    // A new project names the Python its first modules need.
    let generate = match (&plan.generate, generate) {
        (Some(identity), Some(_)) => Some(generated_files_for(identity, &python)?),
        (_, generate) => generate,
    };
    Ok(Resolved {
        python,
        plan: plan.clone(),
        op: op.to_owned(),
        config_text: config_text.to_owned(),
        generate,
        fetched,
        adopted,
        modules,
        managed,
        updates,
        opts,
        access,
    })
}

/// Each module's URL includes with the access level the wiring gives them.
fn access_levels(
    inputs: &[ModuleInput],
) -> BTreeMap<String, Vec<(crate::spec::UrlInclude, crate::spec::Access)>> {
    inputs
        .iter()
        .map(|i| {
            let levels = wiring::module_urls(i)
                .0
                .into_iter()
                .map(|u| {
                    let level = wiring::include_access(i, &u.include);
                    (u, level)
                })
                .collect();
            (i.name.clone(), levels)
        })
        .collect()
}

/// The Python the modules of the operation's result need: each module's
/// files as the operation leaves them (fetched, merged or as in HEAD).
fn final_python(
    git: &Git,
    head_tree: ObjectId,
    modules: &BTreeMap<String, FinalModule>,
    module_trees: &BTreeMap<String, ObjectId>,
) -> Result<crate::compat::ProjectPython, EngineError> {
    let mut needs = Vec::new();
    for (name, m) in modules {
        let (tree, dir) = match module_trees.get(name) {
            Some(t) => (*t, String::new()),
            None => (head_tree, prefix_of(name)),
        };
        needs.push((
            name.clone(),
            super::python::needs_at(git, tree, &dir, m.manifest.as_ref())?,
        ));
    }
    Ok(crate::compat::project_python(&needs))
}

/// Builds every object of the operation and what the transaction must do.
fn prepare(
    ws: &Workspace,
    resolved: Resolved,
    created_repo: bool,
) -> Result<(Prepared, Outcome), EngineError> {
    let git = ws
        .git
        .as_ref()
        .ok_or_else(|| GitError::new("open the repository", "it is missing"))?;
    let (author, committer) = git.identity().map_err(|_| EngineError::NoIdentity)?;
    let Resolved {
        plan,
        op,
        config_text,
        generate,
        fetched,
        adopted,
        mut modules,
        managed,
        updates,
        opts,
        python,
        access: _,
    } = resolved;
    let head_state = git.head()?;
    let head = head_state.commit;
    let base_tree = match head {
        Some(h) => git.tree_of(h)?,
        None => git.empty_tree(),
    };
    let desired = &ws.config.config;
    let mut state = ws
        .applied
        .clone()
        .unwrap_or_else(|| AppliedState::new(desired.project.clone()));
    state.schema = crate::state::SCHEMA;
    state.tool = format!("git-quickscale {}", env!("CARGO_PKG_VERSION"));
    state.operation = Some(Operation {
        kind: op.clone(),
        before: head.map(|h| h.to_string()),
        config_before: std::fs::read_to_string(ws.root.join(CONFIG_FILE)).ok(),
    });
    state.adopted = None;
    let takeover = opts.takeover.clone().unwrap_or_default();
    let mut tip = head;
    let mut tree = base_tree;
    let mut commits = Vec::new();
    let mut notes_to_write: Vec<(ObjectId, String)> = Vec::new();
    let config_blob = git.write_blob(config_text.as_bytes())?;

    if let Some(files) = &generate {
        let mut edits = file_edits(git, files)?;
        edits.push(TreeEdit {
            path: CONFIG_FILE.to_owned(),
            target: Some((EntryKind::Blob, config_blob)),
        });
        tree = git.edit_tree(tree, &edits)?;
        state.managed = managed_ids(git, tree, &state.project.package)?;
        let summary = "Initial project structure";
        let id = git.write_commit(
            &format!("{summary}\n"),
            tree,
            &parents(tip),
            &author,
            &committer,
        )?;
        commits.push((id, summary.to_owned()));
        notes_to_write.push((id, state.to_note()));
        tip = Some(id);
    }

    let mut module_refs: Vec<(String, ObjectId)> = Vec::new();
    for f in &fetched {
        let prefix = prefix_of(&f.name);
        let parent =
            tip.ok_or_else(|| GitError::new("embed a module", "there is no commit to merge into"))?;
        let sa = git.squash_add(parent, tree, &prefix, f.upstream, &author, &committer)?;
        let m = modules.get(&f.name);
        state.modules.insert(
            f.name.clone(),
            ModuleState {
                source: f.source.clone(),
                git_ref: f.git_ref.clone(),
                commit: f.upstream.to_string(),
                prefix: prefix.clone(),
                tree: f.upstream_tree.to_string(),
                version: m
                    .and_then(|m| m.manifest.as_ref())
                    .map(|m| m.version.clone()),
                options: m.map(|m| m.options.clone()).unwrap_or_default(),
            },
        );
        module_refs.push((f.name.clone(), f.upstream));
        commits.push((sa.merge, git.commit_summary(sa.merge)?));
        notes_to_write.push((sa.merge, state.to_note()));
        tip = Some(sa.merge);
        tree = sa.tree;
    }
    let branch_name = super::session::branch_ref(head_state.branch.as_deref());
    for u in &updates {
        let m = modules.get(&u.step.name);
        state.modules.insert(
            u.step.name.clone(),
            ModuleState {
                source: u.step.source.clone(),
                git_ref: u.step.to_ref.clone(),
                commit: u.upstream.to_string(),
                prefix: prefix_of(&u.step.name),
                tree: u.upstream_tree.to_string(),
                version: m
                    .and_then(|m| m.manifest.as_ref())
                    .map(|m| m.version.clone()),
                options: m.map(|m| m.options.clone()).unwrap_or_default(),
            },
        );
        module_refs.push((u.step.name.clone(), u.upstream));
        if u.noop || opts.premerged {
            // Nothing to merge (or merged already by `git commit`): only
            // the state moves.
            continue;
        }
        let parent = tip
            .ok_or_else(|| GitError::new("update a module", "there is no commit to merge into"))?;
        let (merge, new_tree) =
            super::update::commit_step(git, u, parent, tree, &branch_name, &author, &committer)?;
        commits.push((merge, git.commit_summary(merge)?));
        notes_to_write.push((merge, state.to_note()));
        tip = Some(merge);
        tree = new_tree;
    }
    for a in &adopted {
        let m = modules.get(&a.name);
        state.modules.insert(
            a.name.clone(),
            ModuleState {
                source: a.source.clone(),
                git_ref: a.git_ref.clone(),
                commit: a.upstream.map(|u| u.to_string()).unwrap_or_default(),
                prefix: prefix_of(&a.name),
                tree: a.prefix_tree.to_string(),
                version: m
                    .and_then(|m| m.manifest.as_ref())
                    .map(|m| m.version.clone()),
                options: m.map(|m| m.options.clone()).unwrap_or_default(),
            },
        );
        if let Some(u) = a.upstream.filter(|u| git.has_object(*u)) {
            module_refs.push((a.name.clone(), u));
        }
    }

    // Removals, wiring and quickscale.yml go into one final commit.
    let mut edits = Vec::new();
    for name in &plan.remove {
        edits.push(TreeEdit {
            path: prefix_of(name),
            target: None,
        });
        state.modules.remove(name);
    }
    for (name, m) in state.modules.iter_mut() {
        if let Some(resolved) = modules.remove(name) {
            m.options = resolved.options;
        }
    }
    edits.extend(file_edits(git, &managed)?);
    for path in &takeover.retire {
        if git.entry_at(tree, path)?.is_some() {
            edits.push(TreeEdit {
                path: path.clone(),
                target: None,
            });
        }
    }
    edits.push(TreeEdit {
        path: CONFIG_FILE.to_owned(),
        target: Some((EntryKind::Blob, config_blob)),
    });
    let final_tree = git.edit_tree(tree, &edits)?;
    state.managed = managed_ids(git, final_tree, &state.project.package)?;
    state.adopted = takeover.record.clone();
    if final_tree != tree {
        let summary = match &takeover.summary {
            Some(s) => s.clone(),
            None => final_summary(&plan, git, tree, final_tree)?,
        };
        let parent = tip
            .ok_or_else(|| GitError::new("commit the wiring", "there is no commit to build on"))?;
        let id = git.write_commit(
            &format!("{summary}\n"),
            final_tree,
            &[parent],
            &author,
            &committer,
        )?;
        commits.push((id, summary));
        notes_to_write.push((id, state.to_note()));
        tip = Some(id);
        tree = final_tree;
    } else if let Some(t) = tip
        && notes_to_write.last().map(|(c, _)| *c) != Some(t)
    {
        // Nothing to commit (e.g. adopting a subtree): record the state on HEAD.
        let mut recorded = state.clone();
        recorded.operation = None;
        notes_to_write.push((t, recorded.to_note()));
    }
    let tip = tip.ok_or_else(|| GitError::new("finish the operation", "no commit was made"))?;

    // Everything is objects so far. Refuse to touch user-owned paths, or
    // paths with uncommitted work.
    let changes = git.diff_trees(base_tree, tree)?;
    let mut adopted_paths = vec![CONFIG_FILE.to_owned()];
    adopted_paths.extend(takeover.paths.iter().cloned());
    let mut unmerged = Vec::new();
    if !opts.resolutions.is_empty() {
        // A resolved update commits the prefixes as the user left them.
        let prefixes: Vec<String> = opts
            .resolutions
            .keys()
            .map(|n| format!("{}/", prefix_of(n)))
            .collect();
        let inside = |p: &str| prefixes.iter().any(|pre| p.starts_with(pre.as_str()));
        adopted_paths.extend(
            changes
                .iter()
                .filter(|c| inside(&c.path))
                .map(|c| c.path.clone()),
        );
        unmerged = git
            .unmerged_paths()?
            .into_iter()
            .filter(|p| inside(p))
            .collect();
    }
    let mut allowed = takeover.retire.clone();
    allowed.extend(takeover.creates.iter().cloned());
    guard_writes(ws, &changes, generate.as_ref(), &allowed, &state)?;
    let blocked = git.check_clean(&changes, &adopted_paths)?;
    if !blocked.is_empty() {
        return Err(EngineError::Dirty(
            blocked.iter().map(ToString::to_string).collect(),
        ));
    }
    let mut paths: Vec<PathChange> = Vec::new();
    for c in changes.iter().filter(|c| c.path != CONFIG_FILE) {
        let old = if adopted_paths.contains(&c.path) {
            let on_disk = git.journal_entry(&c.path)?;
            if on_disk == c.new.map(Into::into) {
                // Already as it will be committed (a resolved conflict).
                continue;
            }
            on_disk
        } else {
            c.old.map(Into::into)
        };
        paths.push(PathChange {
            path: c.path.clone(),
            old,
            new: c.new.map(Into::into),
        });
    }
    // Taken-over files the trees do not change (e.g. an untracked state
    // file): the worktree still moves to what the commit holds.
    let mut index_extra: Vec<(String, Option<Leaf>)> = Vec::new();
    for path in &takeover.paths {
        if paths.iter().any(|p| p.path == *path) || changes.iter().any(|c| c.path == *path) {
            continue;
        }
        let planned = match git.entry_at(tree, path)? {
            Some((kind, id)) if kind != EntryKind::Tree => Some(Leaf { id, kind }),
            _ => None,
        };
        let on_disk = git.journal_entry(path)?;
        if on_disk.map(Leaf::from) != planned {
            paths.push(PathChange {
                path: path.clone(),
                old: on_disk,
                new: planned.map(Into::into),
            });
        }
        index_extra.push((path.clone(), planned));
    }
    let config_on_disk = git.journal_entry(CONFIG_FILE)?;
    let config_new = Leaf {
        id: config_blob,
        kind: EntryKind::Blob,
    };
    if config_on_disk.map(Leaf::from) != Some(config_new) {
        paths.push(PathChange {
            path: CONFIG_FILE.to_owned(),
            old: config_on_disk,
            new: Some(config_new.into()),
        });
    }
    let mut index: Vec<(String, Option<Leaf>)> =
        changes.iter().map(|c| (c.path.clone(), c.new)).collect();
    index.extend(index_extra);
    for path in unmerged {
        if !index.iter().any(|(p, _)| *p == path) {
            let leaf = match git.entry_at(tree, &path)? {
                Some((kind, id)) if kind != EntryKind::Tree => Some(Leaf { id, kind }),
                _ => None,
            };
            index.push((path, leaf));
        }
    }
    let notes_parent = git.ref_target(NOTES_REF)?;
    let notes_commit = notes::write_commit(
        git,
        notes_parent,
        &notes_to_write,
        &committer,
        &format!("Notes added by 'git quickscale {op}'\n"),
    )?;
    let branch = super::session::branch_ref(head_state.branch.as_deref());
    let mut ref_changes = vec![RefChange {
        name: branch.clone(),
        old: head,
        new: Some(tip),
    }];
    if let Some(h) = head.filter(|h| *h != tip) {
        ref_changes.push(RefChange {
            name: UNDO_REF.to_owned(),
            old: git.ref_target(UNDO_REF)?,
            new: Some(h),
        });
    }
    ref_changes.push(RefChange {
        name: NOTES_REF.to_owned(),
        old: notes_parent,
        new: Some(notes_commit),
    });
    for name in &plan.remove {
        let r = refs::module_ref(name);
        if let Some(current) = git.ref_target(&r)? {
            ref_changes.push(RefChange {
                name: r,
                old: Some(current),
                new: None,
            });
        }
    }
    if let Some(snapshot) = takeover.snapshot {
        ref_changes.push(RefChange {
            name: refs::ADOPTED_REF.to_owned(),
            old: git.ref_target(refs::ADOPTED_REF)?,
            new: Some(snapshot),
        });
    }
    if plan.record_state.is_some() {
        for (name, id) in recorded_upstreams(git, &state) {
            if !module_refs.iter().any(|(n, _)| *n == name) {
                module_refs.push((name, id));
            }
        }
    }
    ref_changes.extend(module_ref_moves(git, module_refs)?);
    // Fetches write no scratch refs (src/git/fetch.rs); leftovers of older
    // versions went at the start, in recovery (`Git::remove_scratch_refs`).
    txn::test_pause(git.git_dir(), "prepared");
    let files_written = paths.len();
    Ok((
        Prepared {
            operation: op,
            created_repo,
            branch,
            paths,
            index,
            refs: ref_changes,
        },
        Outcome {
            python,
            head: tip,
            commits,
            state,
            created_repo,
            files_written,
        },
    ))
}

/// The upstream commit of every module of `state` that this repository has.
pub fn recorded_upstreams(git: &Git, state: &AppliedState) -> Vec<(String, ObjectId)> {
    state
        .modules
        .iter()
        .filter_map(|(name, m)| {
            ObjectId::from_hex(m.commit.as_bytes())
                .ok()
                .filter(|id| git.has_object(*id))
                .map(|id| (name.clone(), id))
        })
        .collect()
}

/// Moves `refs/quickscale/modules/<name>` to each given commit where it differs.
pub fn module_ref_moves(
    git: &Git,
    targets: impl IntoIterator<Item = (String, ObjectId)>,
) -> Result<Vec<RefChange>, EngineError> {
    let mut out = Vec::new();
    for (name, id) in targets {
        let r = refs::module_ref(&name);
        let current = git.ref_target(&r)?;
        if current != Some(id) {
            out.push(RefChange {
                name: r,
                old: current,
                new: Some(id),
            });
        }
    }
    Ok(out)
}

/// The engine's own guard (design §3): apart from generating a new project,
/// an operation writes only module-owned, tool-managed and desired-state
/// paths, classified with the package quickscale.yml names and every module
/// the operation embeds, keeps or removes. Checked on the prepared change,
/// before anything is visible.
fn guard_writes(
    ws: &Workspace,
    changes: &[crate::git::tree::TreeChange],
    generated: Option<&FileMap>,
    retired: &[String],
    state: &AppliedState,
) -> Result<(), EngineError> {
    let mut modules: Vec<String> = ws.embedded();
    modules.extend(state.modules.keys().cloned());
    let paths = changes
        .iter()
        .map(|c| c.path.as_str())
        .filter(|p| generated.is_none_or(|g| !g.contains_key(*p)))
        // adopt retires upstream QuickScale's state files: named in the plan,
        // confirmed, and kept in refs/quickscale/adopted first.
        .filter(|p| !retired.iter().any(|r| r == p));
    let project = crate::policy::Project {
        package: &ws.config.config.project.package,
        modules: &modules,
    };
    match crate::policy::check_tool_writes(paths, &project) {
        Some(violation) => Err(EngineError::UserOwnedWrite(Box::new(violation))),
        None => Ok(()),
    }
}

/// Every file a new project starts with: the theme plus empty wiring.
pub fn generated_files(identity: &crate::config::Identity) -> Result<FileMap, EngineError> {
    generated_files_for(identity, &crate::compat::ProjectPython::baseline())
}

/// [`generated_files`] on the Python the project's first modules need.
pub fn generated_files_for(
    identity: &crate::config::Identity,
    python: &crate::compat::ProjectPython,
) -> Result<FileMap, EngineError> {
    let mut files = render::render_project_for(identity, python)?;
    files.extend(wiring::render(
        &identity.package,
        &wiring::Wiring::default(),
    ));
    Ok(files)
}

fn parents(tip: Option<ObjectId>) -> Vec<ObjectId> {
    tip.into_iter().collect()
}

fn file_edits(git: &Git, files: &FileMap) -> Result<Vec<TreeEdit>, EngineError> {
    files
        .iter()
        .map(|(path, f)| {
            let blob = git.write_blob(&f.contents)?;
            let kind = if f.executable {
                EntryKind::BlobExecutable
            } else {
                EntryKind::Blob
            };
            Ok(TreeEdit {
                path: path.clone(),
                target: Some((kind, blob)),
            })
        })
        .collect()
}

fn managed_ids(
    git: &Git,
    tree: ObjectId,
    package: &str,
) -> Result<BTreeMap<String, String>, EngineError> {
    let mut out = BTreeMap::new();
    for path in wiring::managed_paths(package) {
        if let Some((_, id)) = git.entry_at(tree, &path)? {
            out.insert(path, id.to_string());
        }
    }
    Ok(out)
}

/// The title of the final commit: every kind of change it contains.
fn final_summary(
    plan: &Plan,
    git: &Git,
    before: ObjectId,
    after: ObjectId,
) -> Result<String, EngineError> {
    let mut parts = Vec::new();
    if !plan.add.is_empty() || !plan.adopt.is_empty() {
        let names: Vec<&str> = plan
            .add
            .iter()
            .chain(&plan.adopt)
            .map(|a| a.name.as_str())
            .collect();
        parts.push(format!(
            "Wire module{} {}",
            plural(names.len()),
            names.join(", ")
        ));
    }
    if !plan.update.is_empty() {
        let moves: Vec<String> = plan
            .update
            .iter()
            .map(|u| format!("{} {} → {}", u.name, u.from_ref, u.to_ref))
            .collect();
        parts.push(format!(
            "Update module{} {}",
            plural(moves.len()),
            moves.join(", ")
        ));
    }
    if !plan.remove.is_empty() {
        parts.push(format!(
            "Remove module{} {}",
            plural(plan.remove.len()),
            plan.remove.join(", ")
        ));
    }
    if !plan.reconfigure.is_empty() {
        let opts: Vec<String> = plan
            .reconfigure
            .iter()
            .map(|c| format!("{}.{}", c.module, c.option))
            .collect();
        parts.push(format!("Reconfigure {}", opts.join(", ")));
    }
    if parts.is_empty() {
        let changed = git.diff_trees(before, after)?;
        let wiring = changed.iter().any(|c| c.path != CONFIG_FILE);
        parts.push(if wiring {
            "Regenerate module wiring".to_owned()
        } else {
            format!("Record {CONFIG_FILE}")
        });
    }
    Ok(parts.join("; "))
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Without a repository yet, checks that git would find an identity
/// (environment, then global config), so nothing is written without one.
fn check_identity_without_repo() -> Result<(), EngineError> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let cfg = |k: &str| {
        crate::git::query::global_config_string(k).filter(|v: &String| !v.trim().is_empty())
    };
    let name = env("GIT_AUTHOR_NAME")
        .or_else(|| cfg("author.name"))
        .or_else(|| cfg("user.name"));
    let email = env("GIT_AUTHOR_EMAIL")
        .or_else(|| cfg("author.email"))
        .or_else(|| cfg("user.email"))
        .or_else(|| env("EMAIL"));
    let committer_name = env("GIT_COMMITTER_NAME")
        .or_else(|| cfg("committer.name"))
        .or_else(|| cfg("user.name"));
    let committer_email = env("GIT_COMMITTER_EMAIL")
        .or_else(|| cfg("committer.email"))
        .or_else(|| cfg("user.email"))
        .or_else(|| env("EMAIL"));
    if name.is_some() && email.is_some() && committer_name.is_some() && committer_email.is_some() {
        Ok(())
    } else {
        Err(EngineError::NoIdentity)
    }
}

/// Signatures for commands that only write notes (they need a committer).
pub fn committer(git: &Git) -> Result<Signature, EngineError> {
    git.identity()
        .map(|(_, c)| c)
        .map_err(|_| EngineError::NoIdentity)
}

/// A text file before and after (empty when absent), for unified diffs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TextChange {
    pub path: String,
    pub old: String,
    pub new: String,
}

/// The managed wiring files the operation changes.
pub fn wiring_changes(ws: &Workspace, resolved: &Resolved) -> Result<Vec<TextChange>, EngineError> {
    let (Some(git), Some(head)) = (&ws.git, ws.head) else {
        return Ok(Vec::new());
    };
    let tree = git.tree_of(head)?;
    let mut out = Vec::new();
    for (path, file) in resolved.managed() {
        let old = match git.entry_at(tree, path)? {
            Some((_, id)) => String::from_utf8_lossy(&git.read_blob(id)?).into_owned(),
            None => String::new(),
        };
        let new = String::from_utf8_lossy(&file.contents).into_owned();
        if old != new {
            out.push(TextChange {
                path: path.clone(),
                old,
                new,
            });
        }
    }
    Ok(out)
}

/// Every file of the updated prefixes that the merge changes (HEAD →
/// merged, conflict markers included), for `--diff`.
pub fn module_changes(ws: &Workspace, resolved: &Resolved) -> Result<Vec<TextChange>, EngineError> {
    let (Some(git), Some(head)) = (&ws.git, ws.head) else {
        return Ok(Vec::new());
    };
    let tree = git.tree_of(head)?;
    let mut out = Vec::new();
    for u in resolved.updates() {
        let prefix = prefix_of(&u.step.name);
        let old = git
            .subtree_at(tree, &prefix)?
            .unwrap_or_else(|| git.empty_tree());
        let new = u.merge.prefix_tree.unwrap_or_else(|| git.empty_tree());
        for c in git.diff_trees(old, new)? {
            let read = |leaf: Option<crate::git::tree::Leaf>| -> Result<String, GitError> {
                Ok(match leaf {
                    Some(l) => String::from_utf8_lossy(&git.read_blob(l.id)?).into_owned(),
                    None => String::new(),
                })
            };
            out.push(TextChange {
                path: format!("{prefix}/{}", c.path),
                old: read(c.old)?,
                new: read(c.new)?,
            });
        }
    }
    Ok(out)
}
