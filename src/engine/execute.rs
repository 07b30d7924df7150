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
use super::plan::{Plan, Scope, UpdateModule};
use super::session::{Transaction, WriteSession};
use super::untrusted::{self, Limits};
use super::{EngineError, Event, Workspace};
use crate::config::CONFIG_FILE;
use crate::git::tree::{Leaf, TreeEdit};
use crate::git::{Git, GitError, Signature};
use crate::manifest::{MANIFEST_FILE, Manifest};
use crate::render::{self, FileMap};
use crate::source::{self, Location};
use crate::state::refs;
use crate::state::{AppliedState, ModuleState, Operation};
use crate::txn::{self, PathChange};
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
    buffer_objects(ws);
    let result = resolve(ws, plan, op, config_text, opts, events)
        .and_then(|resolved| commit_resolved(ws, resolved, created_repo, events));
    conclude(ws, result, created_repo, events)
}

/// From now on the operation's objects (fetched, copied, made) stay in
/// memory and reach disk as one pack, before the transaction names them
/// (src/git/buffered.rs): one file where loose objects were hundreds.
pub fn buffer_objects(ws: &mut Workspace) {
    if let Some(git) = ws.git.as_mut() {
        git.buffer_objects();
    }
}

/// Makes a resolved operation visible: its objects, then one transaction.
fn commit_resolved(
    ws: &Workspace,
    resolved: Resolved,
    created_repo: bool,
    events: &mut dyn FnMut(Event),
) -> Result<Outcome, EngineError> {
    let resume = !resolved.opts.resolutions.is_empty();
    let (mut tx, outcome) = prepare(ws, resolved, created_repo)?;
    events(Event::WritingFiles {
        count: tx.paths().len(),
    });
    if resume {
        tx.with_extra(txn::Extra {
            pause: txn::PauseEffect::Resume,
            ..Default::default()
        });
    }
    tx.run()?;
    Ok(outcome)
}

/// Runs an operation already resolved (e.g. shown as a preview first);
/// on any failure the repository is as it was.
pub fn execute_resolved(
    ws: &mut Workspace,
    resolved: Resolved,
    events: &mut dyn FnMut(Event),
) -> Result<Outcome, EngineError> {
    buffer_objects(ws);
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

/// What resolving gathers, module by module, before the wiring is computed.
#[derive(Default)]
struct Gathered {
    modules: BTreeMap<String, FinalModule>,
    /// Whether each module has a Python package to install.
    installable: BTreeMap<String, bool>,
    fetched: Vec<Fetched>,
    adopted: Vec<Adopted>,
    updates: Vec<super::update::Merged>,
    /// The files of each module the plan changes, for what upstream
    /// computes in Python.
    module_trees: BTreeMap<String, ObjectId>,
    /// Requirements the project does not meet (errors with `strict`).
    incompatible: Vec<String>,
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
    let generate = generated_for_plan(ws, plan, events)?;
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
    let cx = ResolveContext {
        ws,
        git,
        head,
        head_tree,
        limits: Limits::from_config(git),
    };
    let mut g = Gathered::default();
    for add in &plan.add {
        cx.fetch_added(&mut g, add, events)?;
    }
    for adopt in &plan.adopt {
        cx.read_adopted(&mut g, adopt)?;
    }
    if !plan.update.is_empty() {
        cx.merge_updates(&mut g, &plan.update, &opts, events)?;
        refuse_conflicts(&g.updates, opts.conflicts)?;
    }
    cx.read_staying(&mut g, plan)?;
    let changed = changed_modules(plan);
    check_requirements(&mut g, &changed, opts.strict, events)?;
    let inputs = cx.module_inputs(&g);
    cx.show_notices(&g, &inputs, &changed, events)?;
    let project = match &plan.generate {
        Some(identity) => identity.clone(),
        None => ws
            .applied
            .as_ref()
            .map(|a| a.project.clone())
            .unwrap_or_else(|| ws.config.config.project.clone()),
    };
    let managed = cx.render_managed(&project, &inputs)?;
    let access = access_levels(&inputs);
    let python = final_python(git, head_tree, &g.modules, &g.module_trees)?;
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
        fetched: g.fetched,
        adopted: g.adopted,
        modules: g.modules,
        managed,
        updates: g.updates,
        opts,
        access,
    })
}

/// A new project's files, refused when any is already on disk.
fn generated_for_plan(
    ws: &Workspace,
    plan: &Plan,
    events: &mut dyn FnMut(Event),
) -> Result<Option<FileMap>, EngineError> {
    let Some(identity) = &plan.generate else {
        return Ok(None);
    };
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
    Ok(Some(files))
}

/// Every module the plan embeds, adopts, updates or removes: the ones
/// whose requirements and upstream notices are checked.
fn changed_modules(plan: &Plan) -> std::collections::BTreeSet<String> {
    plan.add
        .iter()
        .chain(&plan.adopt)
        .map(|a| a.name.clone())
        .chain(plan.update.iter().map(|u| u.name.clone()))
        .chain(plan.remove.iter().cloned())
        .collect()
}

/// A merge conflict refuses the whole operation unless the caller pauses
/// with it (`--conflicts=merge`) or only shows it (a preview).
fn refuse_conflicts(
    updates: &[super::update::Merged],
    mode: ConflictMode,
) -> Result<(), EngineError> {
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
    conflict_decision(conflicts, mode)
}

/// [`refuse_conflicts`]'s decision on the conflicts by module.
fn conflict_decision(
    conflicts: Vec<(String, String, Vec<crate::git::merge::MergeConflict>)>,
    mode: ConflictMode,
) -> Result<(), EngineError> {
    if !conflicts.is_empty() && mode == ConflictMode::Refuse {
        return Err(EngineError::Conflicts(conflicts));
    }
    Ok(())
}

/// What the modules declare they need (`requires:` in module.yml): unmet
/// ones of changed modules refuse; the rest are warnings, errors with `strict`.
fn check_requirements(
    g: &mut Gathered,
    changed: &std::collections::BTreeSet<String>,
    strict: bool,
    events: &mut dyn FnMut(Event),
) -> Result<(), EngineError> {
    let manifests: BTreeMap<String, Option<&Manifest>> = g
        .modules
        .iter()
        .map(|(n, m)| (n.clone(), m.manifest.as_ref()))
        .collect();
    let (refusals, warnings) = super::update::check_requirements(&manifests, changed);
    if !refusals.is_empty() {
        return Err(EngineError::Requirements(refusals));
    }
    for w in warnings {
        events(Event::Warning(w.clone()));
        g.incompatible.push(w);
    }
    if strict && !g.incompatible.is_empty() {
        return Err(EngineError::Incompatible(g.incompatible.clone()));
    }
    Ok(())
}

/// The options a module that stays is resolved from: quickscale.yml's for
/// a full apply (when it lists the module); `None`: they stay as applied
/// (an update, a removal).
fn staying_options(
    scope: Scope,
    in_config: Option<&BTreeMap<String, Value>>,
) -> Option<&BTreeMap<String, Value>> {
    match scope {
        Scope::Full => in_config,
        _ => None,
    }
}

/// What every step of [`resolve`] reads.
struct ResolveContext<'a> {
    ws: &'a Workspace,
    git: &'a Git,
    head: Option<ObjectId>,
    head_tree: ObjectId,
    limits: Limits,
}

impl ResolveContext<'_> {
    fn given(&self, name: &str) -> BTreeMap<String, Value> {
        self.ws
            .config
            .config
            .module(name)
            .map(|m| m.options.clone())
            .unwrap_or_default()
    }

    /// Fetches a module to embed, checks its tree (untrusted input), reads
    /// its manifest and resolves its options.
    fn fetch_added(
        &self,
        g: &mut Gathered,
        add: &super::plan::AddModule,
        events: &mut dyn FnMut(Event),
    ) -> Result<(), EngineError> {
        let (ws, git) = (self.ws, self.git);
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
        untrusted::check_tree(git, &add.name, upstream_tree, self.limits)?;
        let catalog_entry = ws.catalog.get(&add.name);
        untrusted::check_shape(git, &add.name, upstream_tree, catalog_entry, &add.git_ref)?;
        let label = format!("{}@{}:{MANIFEST_FILE}", add.source, add.git_ref);
        let manifest = source::manifest_at_commit(git, upstream, &add.name, &label)?;
        for w in manifest.iter().flat_map(|m| &m.warnings) {
            events(Event::Warning(w.clone()));
        }
        let options = resolve_options(&add.name, manifest.as_ref(), &self.given(&add.name))?;
        for m in compat_of(git, upstream_tree, "", &add.name)? {
            events(Event::Warning(m.message.clone()));
            g.incompatible.push(m.message);
        }
        g.installable
            .insert(add.name.clone(), has_package(git, upstream_tree, "")?);
        g.module_trees.insert(add.name.clone(), upstream_tree);
        g.modules
            .insert(add.name.clone(), FinalModule { manifest, options });
        g.fetched.push(Fetched {
            name: add.name.clone(),
            source: add.source.clone(),
            git_ref: add.git_ref.clone(),
            upstream,
            upstream_tree,
        });
        Ok(())
    }

    /// A prefix already in HEAD's tree, recorded as it is (its upstream:
    /// the newest git-subtree squash).
    fn read_adopted(
        &self,
        g: &mut Gathered,
        adopt: &super::plan::AddModule,
    ) -> Result<(), EngineError> {
        let git = self.git;
        let prefix = prefix_of(&adopt.name);
        let head = self
            .head
            .ok_or_else(|| GitError::new("adopt a module", "there is no commit"))?;
        let prefix_tree = git.subtree_at(self.head_tree, &prefix)?.ok_or_else(|| {
            GitError::new(format!("adopt `{prefix}`"), "it is not a directory in HEAD")
        })?;
        let upstream = git.latest_squash(head, &prefix)?.map(|(_, split)| split);
        let manifest = read_manifest(git, self.head_tree, &adopt.name)?;
        let options = resolve_options(&adopt.name, manifest.as_ref(), &self.given(&adopt.name))?;
        g.installable.insert(
            adopt.name.clone(),
            has_package(git, self.head_tree, &prefix)?,
        );
        g.module_trees.insert(adopt.name.clone(), prefix_tree);
        g.modules
            .insert(adopt.name.clone(), FinalModule { manifest, options });
        g.adopted.push(Adopted {
            name: adopt.name.clone(),
            source: adopt.source.clone(),
            git_ref: adopt.git_ref.clone(),
            upstream,
            prefix_tree,
        });
        Ok(())
    }

    /// Merges each update in memory (the user's resolution, when going on
    /// with a paused one).
    fn merge_updates(
        &self,
        g: &mut Gathered,
        steps: &[UpdateModule],
        opts: &ExecOptions,
        events: &mut dyn FnMut(Event),
    ) -> Result<(), EngineError> {
        let git = self.git;
        let head = self
            .head
            .ok_or_else(|| GitError::new("update a module", "there is no commit"))?;
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
        for step in steps {
            let cx = super::update::StepContext {
                ws: self.ws,
                git,
                head_tree: self.head_tree,
                squashes: &squashes,
                limits: self.limits,
                author: &author,
                committer: &committer,
                resolution: opts.resolutions.get(&step.name).copied(),
            };
            let merged = super::update::resolve_step(&cx, step, &self.given(&step.name), events)?;
            for w in &merged.preview.incompatible {
                events(Event::Warning(w.clone()));
                g.incompatible.push(w.clone());
            }
            let prefix = prefix_of(&step.name);
            g.installable.insert(
                step.name.clone(),
                has_package(git, merged.merge.tree, &prefix)?,
            );
            if let Some(t) = git.subtree_at(merged.merge.tree, &prefix)? {
                g.module_trees.insert(step.name.clone(), t);
            }
            g.modules.insert(
                step.name.clone(),
                FinalModule {
                    manifest: merged.manifest.clone(),
                    options: merged.options.clone(),
                },
            );
            g.updates.push(merged);
        }
        Ok(())
    }

    /// Modules that stay: their manifest from HEAD, their options as the
    /// scope says.
    fn read_staying(&self, g: &mut Gathered, plan: &Plan) -> Result<(), EngineError> {
        let Some(applied) = &self.ws.applied else {
            return Ok(());
        };
        let git = self.git;
        for (name, current) in &applied.modules {
            if plan.remove.contains(name) || g.modules.contains_key(name) {
                continue;
            }
            let manifest = read_manifest(git, self.head_tree, name)?;
            let in_config = self.ws.config.config.module(name).map(|m| &m.options);
            let options = match staying_options(plan.scope, in_config) {
                Some(wanted) => resolve_options(name, manifest.as_ref(), wanted)?,
                None => current.options.clone(),
            };
            g.installable.insert(
                name.clone(),
                has_package(git, self.head_tree, &prefix_of(name))?,
            );
            g.modules
                .insert(name.clone(), FinalModule { manifest, options });
        }
        Ok(())
    }

    /// What the wiring is computed from, module by module.
    fn module_inputs(&self, g: &Gathered) -> Vec<ModuleInput> {
        let access = self.ws.config.config.access_overrides();
        g.modules
            .iter()
            .map(|(name, m)| ModuleInput {
                name: name.clone(),
                hints: self
                    .ws
                    .catalog
                    .get(name)
                    .map(|e| e.wiring.clone())
                    .unwrap_or_default(),
                options: m.options.clone(),
                manifest: m.manifest.clone(),
                installable: g.installable.get(name).copied().unwrap_or(false),
                access: access.get(name).cloned(),
            })
            .collect()
    }

    /// What upstream computes in a changed module's Python that the wiring
    /// does not, and modules of another QuickScale vintage: warnings.
    fn show_notices(
        &self,
        g: &Gathered,
        inputs: &[ModuleInput],
        changed: &std::collections::BTreeSet<String>,
        events: &mut dyn FnMut(Event),
    ) -> Result<(), EngineError> {
        for input in inputs.iter().filter(|i| changed.contains(&i.name)) {
            let Some(tree) = g.module_trees.get(&input.name) else {
                continue;
            };
            let adapters = crate::engine::notices::adapters(self.git, *tree)?;
            let notes = [
                crate::engine::notices::notice(input, &prefix_of(&input.name), &adapters),
                crate::engine::notices::vintage_note(input),
            ];
            for note in notes.into_iter().flatten() {
                events(Event::Warning(note));
            }
        }
        Ok(())
    }

    /// The managed files rendered from the wiring (checked against the
    /// project's rules), in the project's URL style, upstream's kept
    /// settings included.
    fn render_managed(
        &self,
        project: &crate::config::Identity,
        inputs: &[ModuleInput],
    ) -> Result<FileMap, EngineError> {
        let desired = &self.ws.config.config;
        let wiring = wiring::compute_for(
            &wiring::rules::Project {
                package: &project.package,
                theme: project.theme.name(),
                allowed: &desired.allowed_settings(),
            },
            inputs,
        )?;
        let style = url_style(self.git, self.head_tree, &project.package)?;
        let mut managed = wiring::render_styled(&project.package, &wiring, style);
        super::modules::keep_upstream_settings(
            self.git,
            self.head_tree,
            &project.package,
            &mut managed,
        )?;
        Ok(managed)
    }
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

/// The Python the project (its pyproject.toml in HEAD) and the modules of
/// the operation's result need: each module's files as the operation
/// leaves them (fetched, merged or as in HEAD).
fn final_python(
    git: &Git,
    head_tree: ObjectId,
    modules: &BTreeMap<String, FinalModule>,
    module_trees: &BTreeMap<String, ObjectId>,
) -> Result<crate::compat::ProjectPython, EngineError> {
    let mut needs = vec![super::python::project_needs(git, head_tree)?];
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

/// The commits of an operation as they are built, oldest first, with the
/// applied state each one records.
struct Commits<'a> {
    git: &'a Git,
    author: Signature,
    committer: Signature,
    state: AppliedState,
    /// The newest commit (HEAD before the first one).
    tip: Option<ObjectId>,
    tree: ObjectId,
    made: Vec<(ObjectId, String)>,
    notes: Vec<(ObjectId, String)>,
    /// The module refs the operation moves, with their commits.
    module_refs: Vec<(String, ObjectId)>,
}

/// A module's state as the operation leaves it.
fn module_state(
    source: &str,
    git_ref: &str,
    commit: String,
    name: &str,
    tree: ObjectId,
    resolved: Option<&FinalModule>,
) -> ModuleState {
    ModuleState {
        source: source.to_owned(),
        git_ref: git_ref.to_owned(),
        commit,
        prefix: prefix_of(name),
        tree: tree.to_string(),
        version: resolved
            .and_then(|m| m.manifest.as_ref())
            .map(|m| m.version.clone()),
        options: resolved.map(|m| m.options.clone()).unwrap_or_default(),
    }
}

/// The applied state an operation starts from: what is applied (or an
/// empty state for the project), stamped with this operation.
fn starting_state(ws: &Workspace, op: &str, head: Option<ObjectId>) -> AppliedState {
    let mut state = ws
        .applied
        .clone()
        .unwrap_or_else(|| AppliedState::new(ws.config.config.project.clone()));
    state.schema = crate::state::SCHEMA;
    state.tool = format!("git-quickscale {}", env!("CARGO_PKG_VERSION"));
    state.operation = Some(Operation {
        kind: op.to_owned(),
        before: head.map(|h| h.to_string()),
        config_before: std::fs::read_to_string(ws.root.join(CONFIG_FILE)).ok(),
    });
    state.adopted = None;
    state
}

impl Commits<'_> {
    /// Records `id` (titled `summary`) as the new tip, noted with the state.
    fn made(&mut self, id: ObjectId, summary: String, tree: ObjectId) {
        self.made.push((id, summary));
        self.notes.push((id, self.state.to_note()));
        self.tip = Some(id);
        self.tree = tree;
    }

    /// "Initial project structure": a new project's files and quickscale.yml.
    fn commit_generated(
        &mut self,
        files: &FileMap,
        config_blob: ObjectId,
    ) -> Result<(), EngineError> {
        let git = self.git;
        let mut edits = file_edits(git, files)?;
        edits.push(TreeEdit {
            path: CONFIG_FILE.to_owned(),
            target: Some((EntryKind::Blob, config_blob)),
        });
        let tree = git.edit_tree(self.tree, &edits)?;
        self.state.managed = managed_ids(git, tree, &self.state.project.package)?;
        let summary = "Initial project structure";
        let id = git.write_commit(
            &format!("{summary}\n"),
            tree,
            &parents(self.tip),
            &self.author,
            &self.committer,
        )?;
        self.made(id, summary.to_owned(), tree);
        Ok(())
    }

    /// A squash commit and a merge commit per fetched module (`git subtree add`).
    fn embed_fetched(
        &mut self,
        fetched: &[Fetched],
        modules: &BTreeMap<String, FinalModule>,
    ) -> Result<(), EngineError> {
        let git = self.git;
        for f in fetched {
            let parent = self.tip.ok_or_else(|| {
                GitError::new("embed a module", "there is no commit to merge into")
            })?;
            let prefix = prefix_of(&f.name);
            let sa = git.squash_add(
                parent,
                self.tree,
                &prefix,
                f.upstream,
                &self.author,
                &self.committer,
            )?;
            self.state.modules.insert(
                f.name.clone(),
                module_state(
                    &f.source,
                    &f.git_ref,
                    f.upstream.to_string(),
                    &f.name,
                    f.upstream_tree,
                    modules.get(&f.name),
                ),
            );
            self.module_refs.push((f.name.clone(), f.upstream));
            self.made(sa.merge, git.commit_summary(sa.merge)?, sa.tree);
        }
        Ok(())
    }

    /// A squash and merge commit per updated module (`git subtree pull`),
    /// none when it only changes the ref or the user committed the merge.
    fn commit_updates(
        &mut self,
        updates: &[super::update::Merged],
        modules: &BTreeMap<String, FinalModule>,
        premerged: bool,
        branch: &str,
    ) -> Result<(), EngineError> {
        let git = self.git;
        for u in updates {
            let name = &u.step.name;
            self.state.modules.insert(
                name.clone(),
                module_state(
                    &u.step.source,
                    &u.step.to_ref,
                    u.upstream.to_string(),
                    name,
                    u.upstream_tree,
                    modules.get(name),
                ),
            );
            self.module_refs.push((name.clone(), u.upstream));
            if u.noop || premerged {
                // Nothing to merge (or merged already by `git commit`): only
                // the state moves.
                continue;
            }
            let parent = self.tip.ok_or_else(|| {
                GitError::new("update a module", "there is no commit to merge into")
            })?;
            let (merge, tree) = super::update::commit_step(
                git,
                u,
                parent,
                self.tree,
                branch,
                &self.author,
                &self.committer,
            )?;
            self.made(merge, git.commit_summary(merge)?, tree);
        }
        Ok(())
    }

    /// Prefixes already in the tree enter the state as they are.
    fn record_adopted(&mut self, adopted: &[Adopted], modules: &BTreeMap<String, FinalModule>) {
        for a in adopted {
            let commit = a.upstream.map(|u| u.to_string()).unwrap_or_default();
            self.state.modules.insert(
                a.name.clone(),
                module_state(
                    &a.source,
                    &a.git_ref,
                    commit,
                    &a.name,
                    a.prefix_tree,
                    modules.get(&a.name),
                ),
            );
            if let Some(u) = a.upstream.filter(|u| self.git.has_object(*u)) {
                self.module_refs.push((a.name.clone(), u));
            }
        }
    }

    /// Removals, wiring and quickscale.yml go into one final commit (none
    /// when the tree stays; the state is then noted on HEAD).
    fn commit_final(
        &mut self,
        plan: &Plan,
        mut modules: BTreeMap<String, FinalModule>,
        managed: &FileMap,
        takeover: &Takeover,
        config_blob: ObjectId,
    ) -> Result<(), EngineError> {
        let git = self.git;
        let mut edits = Vec::new();
        for name in &plan.remove {
            edits.push(TreeEdit {
                path: prefix_of(name),
                target: None,
            });
            self.state.modules.remove(name);
        }
        for (name, m) in self.state.modules.iter_mut() {
            if let Some(resolved) = modules.remove(name) {
                m.options = resolved.options;
            }
        }
        edits.extend(file_edits(git, managed)?);
        for path in &takeover.retire {
            if git.entry_at(self.tree, path)?.is_some() {
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
        let final_tree = git.edit_tree(self.tree, &edits)?;
        self.state.managed = managed_ids(git, final_tree, &self.state.project.package)?;
        self.state.adopted = takeover.record.clone();
        if final_tree != self.tree {
            let summary = match &takeover.summary {
                Some(s) => s.clone(),
                None => final_summary(plan, git, self.tree, final_tree)?,
            };
            let parent = self.tip.ok_or_else(|| {
                GitError::new("commit the wiring", "there is no commit to build on")
            })?;
            let id = git.write_commit(
                &final_message(&summary, plan, &self.state),
                final_tree,
                &[parent],
                &self.author,
                &self.committer,
            )?;
            self.made(id, summary, final_tree);
        } else if let Some(t) = self.tip
            && self.notes.last().map(|(c, _)| *c) != Some(t)
        {
            // Nothing to commit (e.g. adopting a subtree): record the state on HEAD.
            let mut recorded = self.state.clone();
            recorded.operation = None;
            self.notes.push((t, recorded.to_note()));
        }
        Ok(())
    }
}

/// The paths whose worktree content the operation may replace although it
/// is not what HEAD holds: quickscale.yml, the taken-over files, and the
/// prefixes of a resolved update as the user left them.
fn adopted_paths(
    changes: &[crate::git::tree::TreeChange],
    takeover: &Takeover,
    resolutions: &BTreeMap<String, (ObjectId, ObjectId)>,
) -> Vec<String> {
    let mut out = vec![CONFIG_FILE.to_owned()];
    out.extend(takeover.paths.iter().cloned());
    out.extend(
        changes
            .iter()
            .filter(|c| inside_resolved(resolutions, &c.path))
            .map(|c| c.path.clone()),
    );
    out
}

/// Whether `path` is inside the prefix of a module whose update the user resolved.
fn inside_resolved(resolutions: &BTreeMap<String, (ObjectId, ObjectId)>, path: &str) -> bool {
    resolutions
        .keys()
        .any(|n| path.starts_with(format!("{}/", prefix_of(n)).as_str()))
}

/// What a changed path's worktree move starts from: what is on disk for an
/// adopted path (`None` to skip it: already as committed), else HEAD's entry.
fn worktree_old(
    change: &crate::git::tree::TreeChange,
    adopted: bool,
    on_disk: impl FnOnce() -> Result<Option<txn::Entry>, GitError>,
) -> Result<Option<Option<txn::Entry>>, GitError> {
    if !adopted {
        return Ok(Some(change.old.map(Into::into)));
    }
    let on_disk = on_disk()?;
    if on_disk == change.new.map(Into::into) {
        // Already as it will be committed (a resolved conflict).
        return Ok(None);
    }
    Ok(Some(on_disk))
}

/// The worktree and index moves from `base_tree` to the built `tree`,
/// refused when they would touch user-owned paths or uncommitted work.
#[allow(clippy::too_many_arguments)]
fn plan_worktree(
    ws: &Workspace,
    tx: &mut Transaction<'_>,
    base_tree: ObjectId,
    tree: ObjectId,
    state: &AppliedState,
    opts: &ExecOptions,
    takeover: &Takeover,
    generate: Option<&FileMap>,
) -> Result<(), EngineError> {
    let git = tx_git(ws)?;
    let changes = git.diff_trees(base_tree, tree)?;
    let adopted = adopted_paths(&changes, takeover, &opts.resolutions);
    let mut allowed = takeover.retire.clone();
    allowed.extend(takeover.creates.iter().cloned());
    guard_writes(ws, &changes, generate, &allowed, state)?;
    let blocked = git.check_clean(&changes, &adopted)?;
    if !blocked.is_empty() {
        return Err(EngineError::Dirty(
            blocked.iter().map(ToString::to_string).collect(),
        ));
    }
    for c in changes.iter().filter(|c| c.path != CONFIG_FILE) {
        let is_adopted = adopted.contains(&c.path);
        if let Some(old) = worktree_old(c, is_adopted, || git.journal_entry(&c.path))? {
            tx.write_path(PathChange {
                path: c.path.clone(),
                old,
                new: c.new.map(Into::into),
            });
        }
    }
    tx.set_index(changes.iter().map(|c| (c.path.clone(), c.new)));
    // Taken-over files the trees do not change (e.g. an untracked state
    // file): the worktree still moves to what the commit holds.
    for path in &takeover.paths {
        if tx.paths().iter().any(|p| p.path == *path) || changes.iter().any(|c| c.path == *path) {
            continue;
        }
        let planned = leaf_at(git, tree, path)?;
        let on_disk = git.journal_entry(path)?;
        if on_disk.map(Leaf::from) != planned {
            tx.write_path(PathChange {
                path: path.clone(),
                old: on_disk,
                new: planned.map(Into::into),
            });
        }
        tx.set_index([(path.clone(), planned)]);
    }
    if !opts.resolutions.is_empty() {
        // Unmerged entries of a resolved update's prefixes get their stage 0.
        let unmerged: Vec<String> = git
            .unmerged_paths()?
            .into_iter()
            .filter(|p| inside_resolved(&opts.resolutions, p))
            .collect();
        for path in unmerged {
            if !tx.prepared().index.iter().any(|(p, _)| *p == path) {
                let leaf = leaf_at(git, tree, &path)?;
                tx.set_index([(path, leaf)]);
            }
        }
    }
    Ok(())
}

/// The operation's ref moves: the branch, undo, the notes, the module refs
/// and adopt's snapshot.
#[allow(clippy::too_many_arguments)]
fn move_refs(
    tx: &mut Transaction<'_>,
    git: &Git,
    plan: &Plan,
    head: Option<ObjectId>,
    tip: ObjectId,
    c: &Commits<'_>,
    op: &str,
    snapshot: Option<ObjectId>,
) -> Result<(), EngineError> {
    tx.move_branch(head, tip);
    if let Some(h) = head.filter(|h| *h != tip) {
        tx.set_undo(Some(h))?;
    }
    tx.write_notes(&c.notes, &c.committer, op)?;
    for name in &plan.remove {
        tx.remove_module_ref(name)?;
    }
    if let Some(snapshot) = snapshot {
        tx.move_ref(refs::ADOPTED_REF, Some(snapshot))?;
    }
    let mut module_refs = c.module_refs.clone();
    if plan.record_state.is_some() {
        for (name, id) in recorded_upstreams(git, &c.state) {
            if !module_refs.iter().any(|(n, _)| *n == name) {
                module_refs.push((name, id));
            }
        }
    }
    tx.move_module_refs(module_refs)?;
    Ok(())
}

/// The blob or link at `path` in `tree`.
fn leaf_at(git: &Git, tree: ObjectId, path: &str) -> Result<Option<Leaf>, GitError> {
    Ok(match git.entry_at(tree, path)? {
        Some((kind, id)) if kind != EntryKind::Tree => Some(Leaf { id, kind }),
        _ => None,
    })
}

/// The repository and the write session of a writing workspace.
fn writing(ws: &Workspace) -> Result<(&Git, &WriteSession), EngineError> {
    match (&ws.git, &ws.lock) {
        (Some(git), Some(session)) => Ok((git, session)),
        (None, _) => Err(GitError::new("open the repository", "it is missing").into()),
        (Some(_), None) => Err(GitError::new("write", "the repository is not locked").into()),
    }
}

fn tx_git(ws: &Workspace) -> Result<&Git, EngineError> {
    Ok(writing(ws)?.0)
}

/// Builds every object of the operation and the transaction that makes it
/// visible.
fn prepare(
    ws: &Workspace,
    resolved: Resolved,
    created_repo: bool,
) -> Result<(Transaction<'_>, Outcome), EngineError> {
    let (git, session) = writing(ws)?;
    let (author, committer) = git.identity().map_err(|_| EngineError::NoIdentity)?;
    let Resolved {
        plan,
        op,
        config_text,
        generate,
        fetched,
        adopted,
        modules,
        managed,
        updates,
        opts,
        python,
        access: _,
    } = resolved;
    let head = git.head()?.commit;
    let base_tree = match head {
        Some(h) => git.tree_of(h)?,
        None => git.empty_tree(),
    };
    let takeover = opts.takeover.clone().unwrap_or_default();
    let config_blob = git.write_blob(config_text.as_bytes())?;
    let mut c = Commits {
        git,
        author,
        committer,
        state: starting_state(ws, &op, head),
        tip: head,
        tree: base_tree,
        made: Vec::new(),
        notes: Vec::new(),
        module_refs: Vec::new(),
    };
    if let Some(files) = &generate {
        c.commit_generated(files, config_blob)?;
    }
    c.embed_fetched(&fetched, &modules)?;
    c.commit_updates(&updates, &modules, opts.premerged, &session.branch_ref())?;
    c.record_adopted(&adopted, &modules);
    c.commit_final(&plan, modules, &managed, &takeover, config_blob)?;
    let tip = c
        .tip
        .ok_or_else(|| GitError::new("finish the operation", "no commit was made"))?;

    // Everything is objects so far. Refuse to touch user-owned paths, or
    // paths with uncommitted work.
    let mut tx = session.transaction(git, &op);
    if created_repo {
        tx.created_repo();
    }
    plan_worktree(
        ws,
        &mut tx,
        base_tree,
        c.tree,
        &c.state,
        &opts,
        &takeover,
        generate.as_ref(),
    )?;
    tx.write_config(config_blob)?;
    move_refs(&mut tx, git, &plan, head, tip, &c, &op, takeover.snapshot)?;
    // Fetches write no scratch refs (src/git/fetch.rs); leftovers of older
    // versions went at the start, in recovery (`Git::remove_scratch_refs`).
    txn::test_pause(git.git_dir(), "prepared");
    let files_written = tx.paths().len();
    Ok((
        tx,
        Outcome {
            python,
            head: tip,
            commits: c.made,
            state: c.state,
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

/// The final commit's message: its title, and a trailer per module the
/// operation embedded or updated, naming the ref and the upstream commit
/// it resolved to (what a clone without notes derives the state from).
fn final_message(summary: &str, plan: &Plan, state: &AppliedState) -> String {
    let trailers: Vec<String> = plan
        .add
        .iter()
        .chain(&plan.adopt)
        .map(|a| a.name.as_str())
        .chain(plan.update.iter().map(|u| u.name.as_str()))
        .filter_map(|name| {
            let m = state.modules.get(name)?;
            (!m.commit.is_empty())
                .then(|| crate::state::derive::module_trailer(name, &m.git_ref, &m.commit))
        })
        .collect();
    if trailers.is_empty() {
        format!("{summary}\n")
    } else {
        format!("{summary}\n\n{}\n", trailers.join("\n"))
    }
}

/// The title of the final commit: every kind of change it contains.
fn final_summary(
    plan: &Plan,
    git: &Git,
    before: ObjectId,
    after: ObjectId,
) -> Result<String, EngineError> {
    let mut parts = summary_parts(plan);
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

/// One part of the final commit's title per kind of change the plan makes.
fn summary_parts(plan: &Plan) -> Vec<String> {
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
    parts
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::plan::{AddModule, OptionChange};
    use crate::git::merge::MergeConflict;
    use crate::git::tree::TreeChange;

    fn id(hex: &str) -> ObjectId {
        ObjectId::from_hex(hex.repeat(40 / hex.len()).as_bytes()).expect("hex")
    }

    fn leaf(hex: &str) -> Leaf {
        Leaf {
            id: id(hex),
            kind: EntryKind::Blob,
        }
    }

    fn add(name: &str) -> AddModule {
        AddModule {
            name: name.into(),
            source: format!("https://example.com/{name}.git"),
            git_ref: "v1.0.0".into(),
        }
    }

    fn step(name: &str, from: &str, to: &str) -> UpdateModule {
        UpdateModule {
            name: name.into(),
            source: format!("https://example.com/{name}.git"),
            from_ref: from.into(),
            to_ref: to.into(),
            commit: None,
        }
    }

    /// A plan with one change of every kind.
    fn every_kind() -> Plan {
        let mut plan = super::super::plan::updating(vec![step("blog", "v1.0.0", "v1.1.0")]);
        plan.add = vec![add("crm"), add("shop")];
        plan.adopt = vec![add("auth")];
        plan.remove = vec!["billing".into()];
        plan.reconfigure = vec![OptionChange {
            module: "crm".into(),
            option: "page_size".into(),
            old: Value::Int(10),
            new: Value::Int(20),
            setting: None,
        }];
        plan
    }

    #[test]
    fn the_changed_modules_are_those_embedded_adopted_updated_or_removed() {
        let changed: Vec<String> = changed_modules(&every_kind()).into_iter().collect();
        // A reconfigured module keeps its files: not "changed".
        assert_eq!(changed, ["auth", "billing", "blog", "crm", "shop"]);
    }

    #[test]
    fn the_final_title_names_every_kind_of_change() {
        assert_eq!(
            summary_parts(&every_kind()).join("; "),
            "Wire modules crm, shop, auth; Update module blog v1.0.0 → v1.1.0; Remove module billing; Reconfigure crm.page_size"
        );
        assert!(summary_parts(&super::super::plan::updating(Vec::new())).is_empty());
    }

    #[test]
    fn only_refuse_mode_turns_conflicts_into_an_error() {
        let conflicts = || {
            vec![(
                "crm".to_owned(),
                "v2.0.0".to_owned(),
                vec![MergeConflict {
                    path: "modules/crm/views.py".into(),
                    what: "both modified".into(),
                }],
            )]
        };
        assert!(matches!(
            conflict_decision(conflicts(), ConflictMode::Refuse),
            Err(EngineError::Conflicts(c)) if c.len() == 1
        ));
        assert!(conflict_decision(conflicts(), ConflictMode::Merge).is_ok());
        assert!(conflict_decision(conflicts(), ConflictMode::Report).is_ok());
        assert!(conflict_decision(Vec::new(), ConflictMode::Refuse).is_ok());
    }

    #[test]
    fn staying_modules_take_quickscale_yml_options_only_in_a_full_apply() {
        let listed: BTreeMap<String, Value> = [("page_size".to_owned(), Value::Int(20))].into();
        assert_eq!(staying_options(Scope::Full, Some(&listed)), Some(&listed));
        assert_eq!(staying_options(Scope::Full, None), None);
        assert_eq!(staying_options(Scope::UpdateOnly, Some(&listed)), None);
        assert_eq!(staying_options(Scope::RemoveOnly, Some(&listed)), None);
    }

    #[test]
    fn adopted_paths_are_the_config_taken_over_files_and_resolved_prefixes() {
        let change = |path: &str| TreeChange {
            path: path.into(),
            old: Some(leaf("a")),
            new: Some(leaf("b")),
        };
        let changes = [
            change("modules/crm/views.py"),
            change("modules/crm2/views.py"),
            change("shop/settings/base.py"),
        ];
        let takeover = Takeover {
            paths: vec![".quickscale/state.yml".into()],
            ..Default::default()
        };
        let resolutions: BTreeMap<String, (ObjectId, ObjectId)> =
            [("crm".to_owned(), (id("c"), id("d")))].into();
        assert_eq!(
            adopted_paths(&changes, &takeover, &resolutions),
            [CONFIG_FILE, ".quickscale/state.yml", "modules/crm/views.py"],
            "a prefix is a directory: modules/crm2 is not inside modules/crm"
        );
        assert_eq!(
            adopted_paths(&changes, &Takeover::default(), &BTreeMap::new()),
            [CONFIG_FILE]
        );
    }

    #[test]
    fn an_adopted_path_moves_from_what_is_on_disk_and_is_skipped_when_already_there() {
        let c = TreeChange {
            path: "modules/crm/views.py".into(),
            old: Some(leaf("a")),
            new: Some(leaf("b")),
        };
        let head_side = worktree_old(&c, false, || panic!("the disk is not read")).expect("ok");
        assert_eq!(head_side, Some(Some(leaf("a").into())));
        let resolved = worktree_old(&c, true, || Ok(Some(leaf("b").into()))).expect("ok");
        assert_eq!(resolved, None, "already as it will be committed");
        let edited = worktree_old(&c, true, || Ok(Some(leaf("e").into()))).expect("ok");
        assert_eq!(edited, Some(Some(leaf("e").into())));
        let gone = worktree_old(&c, true, || Ok(None)).expect("ok");
        assert_eq!(gone, Some(None));
    }

    #[test]
    fn a_module_state_takes_version_and_options_from_what_was_resolved() {
        let resolved = FinalModule {
            manifest: None,
            options: [("page_size".to_owned(), Value::Int(20))].into(),
        };
        let s = module_state(
            "src",
            "v1",
            "c0ffee".into(),
            "crm",
            id("a"),
            Some(&resolved),
        );
        assert_eq!(s.prefix, "modules/crm");
        assert_eq!(s.tree, id("a").to_string());
        assert_eq!(s.version, None, "no manifest, no version");
        assert_eq!(s.options, resolved.options);
        let bare = module_state("src", "v1", String::new(), "crm", id("a"), None);
        assert!(bare.options.is_empty());
    }
}
