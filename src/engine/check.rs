//! `check`, the CI drift check, as data: is HEAD what quickscale.yml and
//! the embedded modules say it should be, and do the commits of a range
//! keep the ownership rules (what `--no-verify` let through)?
//!
//! Read-only, and it must work in a `git clone --depth 1` without notes:
//! the managed files are re-rendered and compared, never trusted from a
//! note. The JSON form is stable (docs/user-guide.md, "check JSON").

use std::collections::BTreeMap;

use crate::git::ObjectId;
use serde::Serialize;

use super::execute::{prefix_of, read_manifest, render_wiring};
use super::plan::{self, Plan};
use super::{EngineError, Workspace};
use crate::config::CONFIG_FILE;
use crate::git::subtree::parse_trailers;
use crate::git::{Git, GitError};
use crate::ownership::{self, Class};
use crate::policy::{self, ChangeSet};
use crate::state::derive::{Evidence, MODULES_DIR, Provenance};
use crate::state::{AppliedState, Origin, notes};
use crate::value::Value;

/// The JSON schema version of `check --format json`.
pub const CHECK_SCHEMA: u32 = 1;

/// What to check besides HEAD.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Check the commits of `BASE..HEAD` against the ownership rules.
    pub base: Option<String>,
    /// Local changes inside module prefixes are drift, not information.
    pub strict: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Drift or a broken rule: `check` exits 2.
    Error,
    /// Reported; does not fail the check.
    Warning,
    /// For information only.
    Info,
}

/// One thing `check` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable id: `not-applied`, `managed-drift`, `module-missing`,
    /// `module-modified`, a policy rule id, `no-note`, `ignored-note`, `unproven`.
    pub id: String,
    pub severity: Level,
    /// One line saying what is wrong.
    pub message: String,
    /// The file (or directory) it is about, for annotations.
    pub file: Option<String>,
    /// 1-based line in `file`, where there is one.
    pub line: Option<usize>,
    /// Every path concerned, sorted.
    pub paths: Vec<String>,
    /// The commit that broke a rule (`--base`).
    pub commit: Option<String>,
    /// What to do about it (may span lines).
    pub fix: Option<String>,
    /// The commit's subject line, for the text output.
    #[serde(skip)]
    pub subject: Option<String>,
}

impl Finding {
    fn new(id: &str, severity: Level, message: impl Into<String>) -> Self {
        Self {
            id: id.to_owned(),
            severity,
            message: message.into(),
            file: None,
            line: None,
            paths: Vec::new(),
            commit: None,
            fix: None,
            subject: None,
        }
    }

    fn file(mut self, file: impl Into<String>, line: Option<usize>) -> Self {
        let file = file.into();
        if self.paths.is_empty() {
            self.paths.push(file.clone());
        }
        self.file = Some(file);
        self.line = line;
        self
    }

    fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

/// The commits `--base` checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RangeInfo {
    /// The base as given.
    pub base: String,
    pub base_commit: String,
    /// Commits in `BASE..HEAD`.
    pub commits_checked: usize,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    pub schema: u32,
    pub head: Option<String>,
    /// `note`, `derived` or `none`.
    pub state: &'static str,
    pub note_commit: Option<String>,
    pub shallow: bool,
    pub strict: bool,
    pub range: Option<RangeInfo>,
    pub findings: Vec<Finding>,
    pub summary: Summary,
    /// Any error-level finding: `check` exits 2.
    pub drift: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("--base needs a git repository, and this project has none yet")]
    NoRepository,
    #[error("`{base}` is not a commit in this clone")]
    BaseNotFound { base: String, shallow: bool },
    #[error(
        "this clone is shallow: the history from `{base}` to HEAD is not all here (commit {commit} is cut from its parents)"
    )]
    TooShallow { base: String, commit: String },
}

impl From<GitError> for CheckError {
    fn from(e: GitError) -> Self {
        CheckError::Engine(e.into())
    }
}

const FETCH_HINT: &str = "in GitHub Actions, give `actions/checkout` `fetch-depth: 0`";

impl CheckError {
    pub fn hint(&self) -> Option<String> {
        match self {
            CheckError::Engine(e) => e.hint(),
            CheckError::NoRepository => Some("run `git quickscale apply` first".into()),
            CheckError::BaseNotFound { shallow: true, .. } => Some(format!(
                "fetch the base and the history up to HEAD: {FETCH_HINT}; elsewhere `git fetch --unshallow` and `git fetch origin <branch>`"
            )),
            CheckError::BaseNotFound { shallow: false, .. } => Some(format!(
                "name a branch, tag or commit of this clone (`git branch -a` lists them); a remote branch may need `git fetch origin <branch>` ({FETCH_HINT})"
            )),
            CheckError::TooShallow { .. } => Some(format!(
                "fetch the whole history: {FETCH_HINT}; elsewhere `git fetch --unshallow`"
            )),
        }
    }
}

/// Checks the workspace (opened read-only). Never writes.
pub fn check(ws: &Workspace, opts: &CheckOptions) -> Result<CheckReport, CheckError> {
    let git = ws.git.as_ref();
    let shallow = git.is_some_and(|g| g.is_shallow());
    let mut findings = state_findings(ws);
    let pending = plan::build(ws)?;
    let yml = YmlLines::new(&ws.config.text);
    findings.extend(desired_findings(&pending, &yml));
    // Provenance walks history: gathered once, only without a note.
    let provenance = match (&ws.origin, git, ws.head) {
        (Origin::Derived(_), Some(git), Some(head)) => {
            Some(Provenance::gather(git, head).map_err(EngineError::from)?)
        }
        _ => None,
    };
    if let (Some(git), Some(head), Some(applied)) = (git, ws.head, &ws.applied) {
        let head_tree = git.tree_of(head)?;
        if !pending.rewire.is_empty() {
            findings.extend(managed_findings(ws, git, head_tree, applied)?);
        }
        findings.extend(module_findings(
            ws,
            git,
            head_tree,
            applied,
            provenance.as_ref(),
            opts.strict,
        )?);
    }
    let range = match &opts.base {
        Some(base) => {
            let (Some(git), Some(head)) = (git, ws.head) else {
                return Err(CheckError::NoRepository);
            };
            let ctx = RangeContext {
                ws,
                git,
                provenance: provenance.as_ref(),
                package: ws
                    .applied
                    .as_ref()
                    .map(|a| a.project.package.as_str())
                    .unwrap_or(&ws.config.config.project.package),
            };
            Some(ctx.check(base, head, shallow, &mut findings)?)
        }
        None => None,
    };
    let mut summary = Summary::default();
    for f in &findings {
        match f.severity {
            Level::Error => summary.errors += 1,
            Level::Warning => summary.warnings += 1,
            Level::Info => summary.infos += 1,
        }
    }
    let (state, note_commit) = match &ws.origin {
        Origin::Note(c) => ("note", Some(c.to_string())),
        Origin::Derived(_) => ("derived", None),
        Origin::None => ("none", None),
    };
    Ok(CheckReport {
        schema: CHECK_SCHEMA,
        head: ws.head.map(|h| h.to_string()),
        state,
        note_commit,
        shallow,
        strict: opts.strict,
        range,
        drift: summary.errors > 0,
        findings,
        summary,
    })
}

/// Missing notes and what a derived state could not prove.
fn state_findings(ws: &Workspace) -> Vec<Finding> {
    let Some(derived) = ws.origin.derived() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(why) = &derived.ignored_note {
        out.push(
            Finding::new(
                "ignored-note",
                Level::Warning,
                format!("{why}; the state was derived from the tree"),
            )
            .fix("`git quickscale status --repair-state` rewrites the note (outside CI)"),
        );
    }
    let mut message = "the applied state is not recorded in a note in this clone (notes are not cloned); it was derived from the tree, so the managed files were checked by rendering them again".to_owned();
    // Facts about single modules have findings of their own.
    for fact in derived
        .unverified
        .iter()
        .filter(|f| !f.starts_with("module "))
    {
        message.push_str(&format!("; {fact}"));
    }
    out.push(Finding::new("no-note", Level::Warning, message).fix(
        "nothing to do in CI, whose clones have no notes: the checks above do not need them; in a working clone, `git quickscale sync` fetches the recorded state from the remote",
    ));
    for name in &derived.unproven {
        let prefix = prefix_of(name);
        out.push(
            Finding::new(
                "unproven",
                Level::Warning,
                format!(
                    "taken as module {name} because {CONFIG_FILE} lists it, but this shallow clone cannot prove it was embedded (its git-subtree trailers are out of reach)"
                ),
            )
            .file(prefix, None)
            .fix(format!("fetch more history ({FETCH_HINT}; elsewhere `git fetch --unshallow`)")),
        );
    }
    out
}

/// quickscale.yml asks for changes that apply has not made.
fn desired_findings(plan: &Plan, yml: &YmlLines) -> Vec<Finding> {
    let apply = "run `git quickscale apply` and commit the result";
    let not_applied = |message: String, line: Option<usize>| {
        Finding::new("not-applied", Level::Error, message)
            .file(CONFIG_FILE, line)
            .fix(apply)
    };
    let mut out = Vec::new();
    if let Some(identity) = &plan.generate {
        out.push(not_applied(
            format!(
                "project {} has not been generated from {CONFIG_FILE} yet",
                identity.slug
            ),
            yml.key(&["project"]),
        ));
        return out;
    }
    for add in &plan.add {
        out.push(not_applied(
            format!(
                "module {} is in {CONFIG_FILE} but not embedded ({}@{})",
                add.name, add.source, add.git_ref
            ),
            yml.key(&["modules", &add.name]),
        ));
    }
    // A ref edited by hand is work for apply (an update): drift too.
    for u in &plan.update {
        out.push(not_applied(
            format!(
                "module {} is at {} in the project but {CONFIG_FILE} asks for {} (of {})",
                u.name, u.from_ref, u.to_ref, u.source
            ),
            yml.key(&["sources", &u.name, "ref"])
                .or_else(|| yml.key(&["modules", &u.name])),
        ));
    }
    for adopt in &plan.adopt {
        out.push(not_applied(
            format!(
                "{} is in the tree and in {CONFIG_FILE}, but its embedding is not recorded",
                prefix_of(&adopt.name)
            ),
            yml.key(&["modules", &adopt.name]),
        ));
    }
    for name in &plan.remove {
        out.push(
            Finding::new(
                "not-applied",
                Level::Error,
                format!("module {name} is embedded but no longer in {CONFIG_FILE}"),
            )
            .file(CONFIG_FILE, yml.key(&["modules"]))
            .fix(format!(
                "`git quickscale apply` removes it (its database tables stay); or add it back to {CONFIG_FILE}"
            )),
        );
    }
    for c in &plan.reconfigure {
        out.push(not_applied(
            format!(
                "{}.{} is {} in {CONFIG_FILE} but {} in the project",
                c.module, c.option, c.new, c.old
            ),
            yml.key(&["modules", &c.module, &c.option])
                .or_else(|| yml.key(&["modules", &c.module])),
        ));
    }
    for r in &plan.refused {
        let module = r
            .subject
            .split([':', '.'])
            .next()
            .unwrap_or_default()
            .trim();
        let line = yml.key(&["modules", module]).or_else(|| {
            r.subject
                .starts_with("project.")
                .then(|| yml.key(&["project"]))
                .flatten()
        });
        out.push(
            Finding::new(
                "not-applied",
                Level::Error,
                format!(
                    "{CONFIG_FILE} asks for a change apply refuses: {}: {}",
                    r.subject, r.reason
                ),
            )
            .file(CONFIG_FILE, line)
            .fix(r.recipe.join("\n")),
        );
    }
    out
}

/// Managed files that are not what the tool renders, with the first line
/// that differs.
fn managed_findings(
    ws: &Workspace,
    git: &Git,
    head_tree: ObjectId,
    applied: &AppliedState,
) -> Result<Vec<Finding>, CheckError> {
    let mut out = Vec::new();
    for drift in plan::managed_drift(ws, git, head_tree, applied)? {
        let committed = match git.entry_at(head_tree, &drift.path)? {
            Some((_, blob)) => Some(git.read_blob(blob)?),
            None => None,
        };
        let (message, line) = match (&committed, &drift.rendered) {
            (None, _) => ("missing from HEAD".to_owned(), None),
            (Some(now), Some(rendered)) => (
                format!(
                    "differs from what git-quickscale renders from {CONFIG_FILE} and the embedded modules (a hand edit, or {CONFIG_FILE} changed without apply)"
                ),
                Some(first_difference(now, rendered)),
            ),
            (Some(_), None) => (
                "differs from what git-quickscale wrote (the wiring could not be rendered again, so the content the note recorded was compared)".to_owned(),
                None,
            ),
        };
        out.push(
            Finding::new("managed-drift", Level::Error, message)
                .file(drift.path.clone(), line)
                .fix(format!(
                    "git-quickscale regenerates this file: run `git quickscale apply` and commit the result; say what you want in {CONFIG_FILE} instead (`git quickscale plan --reconfigure --set MODULE.OPTION=VALUE`), or in your own files ({package}/settings/base.py, {package}/urls.py, requirements.txt)",
                    package = applied.project.package
                )),
        );
    }
    Ok(out)
}

/// Prefixes missing from HEAD, and local changes against the upstream tree
/// that was embedded (the note's tree; without a note, the squash commit's).
fn module_findings(
    ws: &Workspace,
    git: &Git,
    head_tree: ObjectId,
    applied: &AppliedState,
    provenance: Option<&Provenance>,
    strict: bool,
) -> Result<Vec<Finding>, CheckError> {
    let mut out = Vec::new();
    let tree_of_commit = |id: ObjectId| -> Result<Option<ObjectId>, CheckError> {
        if git.has_object(id) {
            Ok(Some(git.tree_of(id)?))
        } else {
            Ok(None)
        }
    };
    for (name, m) in &applied.modules {
        let prefix = prefix_of(name);
        let Some(current) = git.subtree_at(head_tree, &prefix)? else {
            out.push(
                Finding::new(
                    "module-missing",
                    Level::Error,
                    format!("module {name} is embedded but {prefix} is not in HEAD"),
                )
                .file(prefix.clone(), None)
                .fix(format!(
                    "put it back (`git restore --source=<a commit that has it> -- {prefix}`), or remove the module with `git quickscale remove {name}`, which also removes its wiring"
                )),
            );
            continue;
        };
        let recorded = match (&ws.origin, provenance.map(|p| p.of(name))) {
            (Origin::Note(_), _) => ObjectId::from_hex(m.tree.as_bytes())
                .ok()
                .filter(|t| git.has_object(*t)),
            (_, Some(Evidence::Trailers(squash, _))) => tree_of_commit(squash)?,
            (_, Some(Evidence::Ref(id))) => tree_of_commit(id)?,
            _ => None,
        };
        let Some(recorded) = recorded.filter(|r| *r != current) else {
            continue;
        };
        let paths: Vec<String> = git
            .diff_trees(recorded, current)?
            .into_iter()
            .map(|c| format!("{prefix}/{}", c.path))
            .collect();
        if paths.is_empty() {
            continue;
        }
        let severity = if strict { Level::Error } else { Level::Info };
        let upstream = if m.commit.is_empty() {
            String::new()
        } else {
            format!(" at {}", &m.commit[..m.commit.len().min(12)])
        };
        let mut f = Finding::new(
            "module-modified",
            severity,
            match paths.len() {
                1 => format!("1 path in {prefix} differs from the upstream module embedded{upstream}"),
                n => format!("{n} paths in {prefix} differ from the upstream module embedded{upstream}"),
            },
        )
        .file(prefix.clone(), None)
        .fix(format!(
            "local changes to a module conflict with its updates: send them upstream, or keep them knowingly{}",
            if strict { "" } else { " (`--strict` makes this drift)" }
        ));
        f.paths = paths;
        out.push(f);
    }
    Ok(out)
}

/// What the policy needs for a range, gathered once.
struct RangeContext<'a> {
    ws: &'a Workspace,
    git: &'a Git,
    provenance: Option<&'a Provenance>,
    package: &'a str,
}

impl RangeContext<'_> {
    /// Checks every commit of `base..head` (oldest first) against the policy.
    fn check(
        &self,
        base: &str,
        head: ObjectId,
        shallow: bool,
        findings: &mut Vec<Finding>,
    ) -> Result<RangeInfo, CheckError> {
        let git = self.git;
        let not_found = || CheckError::BaseNotFound {
            base: base.to_owned(),
            shallow,
        };
        let base_commit = git.rev_parse_commit(base).ok_or_else(not_found)?;
        let too_shallow = |commit: String| CheckError::TooShallow {
            base: base.to_owned(),
            commit,
        };
        let cut: Vec<ObjectId> = git.shallow_commits();
        let walk = git
            .walk(head, &[base_commit])
            .map_err(|e| GitError::new(format!("walk {base}..HEAD"), e.source))?;
        let mut commits = Vec::new();
        for info in walk {
            let id = match info {
                Ok((id, _)) => id,
                Err(e) if shallow => return Err(too_shallow(format!("? ({})", e.source))),
                Err(e) => return Err(GitError::new(format!("walk {base}..HEAD"), e.source).into()),
            };
            if cut.contains(&id) {
                return Err(too_shallow(id.to_hex_with_len(12).to_string()));
            }
            commits.push(id);
        }
        commits.reverse();
        for &id in &commits {
            findings.extend(self.commit_findings(id)?);
        }
        Ok(RangeInfo {
            base: base.to_owned(),
            base_commit: base_commit.to_string(),
            commits_checked: commits.len(),
        })
    }

    fn commit_findings(&self, id: ObjectId) -> Result<Vec<Finding>, CheckError> {
        let git = self.git;
        let parents = git.parents(id)?;
        let message = commit_message(git, id)?;
        // A root commit creates the project; a squash commit holds a
        // module's upstream tree, which the merge that follows brings in.
        let Some(&parent) = parents.first() else {
            return Ok(Vec::new());
        };
        if parents.len() == 1
            && let Some(t) = parse_trailers(&message)
            && parse_trailers(&commit_message(git, parent)?).is_some_and(|p| p.dir == t.dir)
        {
            return Ok(Vec::new());
        }
        let mut set = git.commit_changes(id)?;
        let modules = self.modules_before(parent)?;
        let project = policy::Project {
            package: self.package,
            modules: &modules,
        };
        set.by_tool = self.by_tool(id, &set, &project)?;
        let subject = message.lines().next().unwrap_or_default().to_owned();
        let short = id.to_hex_with_len(12).to_string();
        Ok(policy::evaluate(&set, &project)
            .into_iter()
            .map(|v| Finding {
                id: v.rule.id().to_owned(),
                severity: match v.severity {
                    policy::Severity::Error => Level::Error,
                    policy::Severity::Warning => Level::Warning,
                },
                fix: Some(history_fix(&v, &short)),
                message: v.message,
                file: v.paths.first().map(|p| p.trim_end_matches('/').to_owned()),
                line: None,
                paths: v.paths,
                commit: Some(id.to_string()),
                subject: Some(subject.clone()),
            })
            .collect())
    }

    /// The modules embedded before a commit: its parent's nearest note, or
    /// without one the `modules/` directories of the parent that provenance
    /// or quickscale.yml name as modules.
    fn modules_before(&self, parent: ObjectId) -> Result<Vec<String>, CheckError> {
        let git = self.git;
        if let Ok(Some((_, state))) = notes::nearest(git, parent) {
            return Ok(state.modules.into_keys().collect());
        }
        let tree = git.tree_of(parent)?;
        let Some(dir) = git.subtree_at(tree, MODULES_DIR)? else {
            return Ok(Vec::new());
        };
        let embedded = self.ws.embedded();
        Ok(git
            .tree_entries(dir)?
            .into_iter()
            .filter(|(_, (kind, _))| *kind == crate::git::EntryKind::Tree)
            .map(|(name, _)| name)
            .filter(|name| {
                embedded.contains(name)
                    || self.ws.config.config.module(name).is_some()
                    || self.provenance.is_some_and(|p| {
                        matches!(p.of(name), Evidence::Trailers(..) | Evidence::Ref(_))
                    })
            })
            .collect())
    }

    /// Whether the tool made this commit, so the rules about hand edits do
    /// not apply: its state note names an operation, or (no note, as in a
    /// fresh clone) its managed files are exactly what the tool renders from
    /// its own quickscale.yml and modules.
    fn by_tool(
        &self,
        id: ObjectId,
        set: &ChangeSet,
        project: &policy::Project,
    ) -> Result<bool, CheckError> {
        let touches = set.changes.iter().any(|c| {
            matches!(
                ownership::classify(&c.path, project.package, project.modules),
                Class::ToolManaged | Class::DesiredState
            )
        });
        if !touches || set.merge.is_some() {
            return Ok(false);
        }
        if let Some(text) = notes::read(self.git, id)?
            && let Ok(state) = AppliedState::from_note(&text)
            && state.operation.is_some()
        {
            return Ok(true);
        }
        self.renders_as_committed(id)
    }

    /// The managed files of `commit` are what the tool renders from its
    /// quickscale.yml and the modules in its tree.
    fn renders_as_committed(&self, commit: ObjectId) -> Result<bool, CheckError> {
        let git = self.git;
        let tree = git.tree_of(commit)?;
        let Some((_, blob)) = git.entry_at(tree, CONFIG_FILE)? else {
            return Ok(false);
        };
        let Ok(text) = String::from_utf8(git.read_blob(blob)?) else {
            return Ok(false);
        };
        let label = format!("{}:{CONFIG_FILE}", commit.to_hex_with_len(12));
        let Ok(config) = crate::config::parse(&text, &label, &self.ws.catalog) else {
            return Ok(false);
        };
        if config.project.package != self.package {
            return Ok(false);
        }
        let mut options: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
        for m in &config.modules {
            if git.subtree_at(tree, &prefix_of(&m.name))?.is_none() {
                return Ok(false);
            }
            let resolved = match read_manifest(git, tree, &m.name) {
                Ok(Some(manifest)) => manifest.resolve_options(&m.name, &m.options).ok(),
                Ok(None) if m.options.is_empty() => Some(BTreeMap::new()),
                _ => None,
            };
            let Some(resolved) = resolved else {
                return Ok(false);
            };
            options.insert(m.name.clone(), resolved);
        }
        let Ok(files) = render_wiring(
            git,
            tree,
            &options,
            &self.ws.catalog,
            &config.access_overrides(),
            self.package,
        ) else {
            return Ok(false);
        };
        for (path, file) in files {
            let rendered = git.hash_blob(&file.contents);
            if git.entry_at(tree, &path)?.map(|(_, id)| id) != rendered {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// The fix for a rule broken by a commit that is already made (the
/// policy's own fix is for the change being committed).
fn history_fix(v: &policy::Violation, short: &str) -> String {
    use policy::Rule;
    let rework = format!(
        "rework the branch before it is merged: `git rebase -i {short}^`, mark {short} `edit`"
    );
    match v.rule {
        Rule::MixedCommit => format!(
            "split the commit: {rework}, then `git reset HEAD^`, commit the module files and your own files separately, and `git rebase --continue`"
        ),
        Rule::ManagedEdit => {
            // The policy's hint per file: which quickscale.yml change does it.
            let per_file: Vec<&str> = v.fix.lines().skip(1).collect();
            let mut fix = format!(
                "drop the hand edit: {rework} (or `drop`), or `git revert {short}`; say what you want in {CONFIG_FILE} instead"
            );
            if !per_file.is_empty() {
                fix.push(':');
                for line in per_file {
                    fix.push('\n');
                    fix.push_str(line);
                }
            }
            fix
        }
        Rule::SubtreeMerge => format!(
            "redo the merge so it changes only the module's prefix and the managed files (reset the branch to before {short} and pull the module again), and make the other changes in a commit of their own"
        ),
        Rule::PrefixRemoved => {
            let name = v
                .paths
                .first()
                .and_then(|p| p.trim_end_matches('/').strip_prefix("modules/"))
                .unwrap_or("NAME");
            format!(
                "bring the module back (`git revert {short}`), then remove it with `git quickscale remove {name}`, which also removes its wiring and its {CONFIG_FILE} entry"
            )
        }
        Rule::DesiredNotApplied | Rule::UserOwnedWrite => v.fix.clone(),
    }
}

fn commit_message(git: &Git, id: ObjectId) -> Result<String, CheckError> {
    Ok(git.commit_message(id)?)
}

/// The 1-based number of the first line where `now` differs from
/// `rendered` (at most the last line of `now`).
pub fn first_difference(now: &[u8], rendered: &[u8]) -> usize {
    let a: Vec<&[u8]> = now.split_inclusive(|b| *b == b'\n').collect();
    let b: Vec<&[u8]> = rendered.split_inclusive(|b| *b == b'\n').collect();
    let same = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    (same + 1).min(a.len().max(1))
}

/// Lines of keys in quickscale.yml, for annotations.
struct YmlLines {
    root: Option<crate::yaml::Node>,
}

impl YmlLines {
    fn new(text: &str) -> Self {
        Self {
            root: crate::yaml::parse(text).ok().flatten(),
        }
    }

    /// The line of the key at `path` (e.g. `["modules", "crm"]`).
    fn key(&self, path: &[&str]) -> Option<usize> {
        let mut node = self.root.as_ref()?;
        let mut line = None;
        for k in path {
            let (key, value) = node.entry(k)?;
            line = Some(key.start.line);
            node = value;
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_difference_is_the_first_line_that_differs() {
        assert_eq!(first_difference(b"a\nb\nc\n", b"a\nX\nc\n"), 2);
        // An appended line.
        assert_eq!(first_difference(b"a\nb\nextra\n", b"a\nb\n"), 3);
        // A missing last line: the last line there is.
        assert_eq!(first_difference(b"a\n", b"a\nb\n"), 1);
        // A missing final newline counts as a difference on that line.
        assert_eq!(first_difference(b"a\nb", b"a\nb\n"), 2);
        assert_eq!(first_difference(b"", b"a\n"), 1);
        assert_eq!(first_difference(b"x\n", b"a\n"), 1);
    }

    #[test]
    fn yml_lines_find_nested_keys() {
        let text =
            "version: \"1\"\nproject:\n  slug: shop\nmodules:\n  crm:\n    greeting: hi\n  blog:\n";
        let y = YmlLines::new(text);
        assert_eq!(y.key(&["project"]), Some(2));
        assert_eq!(y.key(&["modules"]), Some(4));
        assert_eq!(y.key(&["modules", "crm", "greeting"]), Some(6));
        assert_eq!(y.key(&["modules", "blog"]), Some(7));
        assert_eq!(y.key(&["modules", "nope"]), None);
        assert_eq!(YmlLines::new("{{{").key(&["modules"]), None);
    }

    #[test]
    fn levels_and_report_serialize_with_stable_names() {
        assert_eq!(serde_json::to_value(Level::Info).expect("json"), "info");
        let f = Finding::new("managed-drift", Level::Error, "m").file("a.py", Some(3));
        let v = serde_json::to_value(&f).expect("json");
        assert_eq!(v["paths"], serde_json::json!(["a.py"]));
        assert_eq!(v["line"], 3);
        assert!(v.get("subject").is_none());
    }

    /// The generated project's CI runs check in a job of its own, installs
    /// the version that generated it, and the workflow stays valid YAML.
    #[test]
    fn the_generated_ci_workflow_runs_check() {
        use crate::yaml::NodeKind;
        for theme in crate::render::available_themes() {
            let identity = crate::config::Identity {
                slug: "shop".into(),
                package: "shop".into(),
                theme,
                name: None,
            };
            let files = crate::render::render_project(&identity).expect("render");
            let file = files
                .get(".github/workflows/ci.yml")
                .unwrap_or_else(|| panic!("{theme:?}: no workflow"));
            let text = std::str::from_utf8(&file.contents).expect("utf8");
            assert!(!text.contains("{{") && !text.contains("{%"), "{text}");
            let root = crate::yaml::parse(text)
                .unwrap_or_else(|e| panic!("{theme:?}: invalid YAML: {e:?}"))
                .expect("a document");
            let jobs = root.get("jobs").expect("jobs");
            assert!(jobs.get("test").is_some(), "{theme:?}: the test job stays");
            let job = jobs.get("quickscale").expect("quickscale job");
            let Some(NodeKind::Seq(steps, _)) = job.get("steps").map(|s| &s.kind) else {
                panic!("{theme:?}: steps");
            };
            let scalar = |n: Option<&crate::yaml::Node>| {
                n.and_then(|n| n.as_scalar())
                    .map(|s| s.text.clone())
                    .unwrap_or_default()
            };
            let checkout = &steps[0];
            assert_eq!(scalar(checkout.get("uses")), "actions/checkout@v5");
            assert_eq!(
                scalar(checkout.get("with").and_then(|w| w.get("fetch-depth"))),
                "0"
            );
            let runs: Vec<String> = steps.iter().map(|s| scalar(s.get("run"))).collect();
            let version = env!("CARGO_PKG_VERSION");
            // A prebuilt wheel of exactly this version: seconds, no compile.
            assert!(
                runs.iter()
                    .any(|r| r == &format!("pipx install \"git-quickscale=={version}\"")),
                "{runs:?}"
            );
            assert!(!text.contains("cargo install"), "{text}");
            let check = runs
                .iter()
                .find(|r| r.contains("git quickscale check"))
                .expect("a check step");
            assert!(
                check.contains("--format github --base \"origin/$GITHUB_BASE_REF\""),
                "{check}"
            );
        }
    }

    #[test]
    fn errors_say_how_to_fetch_more_history() {
        for e in [
            CheckError::BaseNotFound {
                base: "origin/main".into(),
                shallow: true,
            },
            CheckError::BaseNotFound {
                base: "origin/main".into(),
                shallow: false,
            },
            CheckError::TooShallow {
                base: "origin/main".into(),
                commit: "abc".into(),
            },
        ] {
            assert!(e.to_string().contains("origin/main"), "{e}");
            assert!(e.hint().expect("hint").contains("fetch-depth: 0"), "{e}");
        }
        let too = CheckError::TooShallow {
            base: "b".into(),
            commit: "c".into(),
        };
        assert!(too.hint().expect("hint").contains("git fetch --unshallow"));
    }
}
