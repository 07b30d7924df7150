//! `hooks run <hook>`: what each hook checks. Read-only: it opens the
//! repository as git's own commands do inside a hook and never writes to it
//! (no crash recovery, no state repair).

use std::path::{Path, PathBuf};

use crate::git::ObjectId;

use super::{Hook, HooksError, Mode, install};
use crate::config::{CONFIG_FILE, ConfigFile};
use crate::git::Git;
use crate::policy::{self, Severity, Violation};
use crate::state::{self, AppliedState};

/// What the caller knows about the hook invocation.
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    /// Heads `git merge` is merging (its `GITHEAD_<id>` environment), for
    /// pre-merge-commit, which runs before MERGE_HEAD is written.
    pub merge_heads: Vec<ObjectId>,
    /// Extra catalog files (only read when the state must be derived).
    pub index_overrides: Vec<PathBuf>,
    /// The arguments git passed to the hook (pre-push: remote, URL).
    pub args: Vec<String>,
    /// The push is `git quickscale push` sending a module upstream
    /// (`GIT_QUICKSCALE_MODULE_PUSH` set): pre-push does nothing.
    pub module_push: bool,
}

/// What a hook found.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub hook: Hook,
    pub mode: Mode,
    pub violations: Vec<Violation>,
    /// Why nothing was checked, when nothing was.
    pub skipped: Option<String>,
    /// What limited the check (e.g. an unreadable quickscale.yml).
    pub warnings: Vec<String>,
    /// What the hook did (pre-push: the state it pushed).
    pub done: Option<crate::engine::sync::Report>,
}

impl Outcome {
    /// Whether git must stop: an error-level violation in block mode.
    pub fn refused(&self) -> bool {
        self.mode == Mode::Block
            && self
                .violations
                .iter()
                .any(|v| v.severity == Severity::Error)
    }

    fn skipped(hook: Hook, mode: Mode, why: &str) -> Self {
        Self {
            hook,
            mode,
            violations: Vec::new(),
            skipped: Some(why.to_owned()),
            warnings: Vec::new(),
            done: None,
        }
    }
}

/// Runs `hook` for the repository containing `cwd`.
pub fn run(hook: Hook, cwd: &Path, invocation: &Invocation) -> Result<Outcome, HooksError> {
    let Some(git) = Git::discover_with_env(cwd) else {
        return Ok(Outcome::skipped(hook, Mode::Off, "not in a git repository"));
    };
    let mode = install::read_mode(&git)?;
    if mode == Mode::Off {
        return Ok(Outcome::skipped(hook, mode, "quickscale.hooks.mode is off"));
    }
    let Some(workdir) = git.workdir_if_any().map(Path::to_owned) else {
        return Ok(Outcome::skipped(hook, mode, "a bare repository"));
    };
    if hook == Hook::PrePush && invocation.module_push {
        return Ok(Outcome::skipped(
            hook,
            mode,
            "a module push by `git quickscale push` (not the project's)",
        ));
    }
    if hook == Hook::PrePush {
        return Ok(pre_push(&git, &workdir, mode, invocation));
    }
    let merge = match hook {
        Hook::PrePush => None,
        // Also a merge when run from another manager's pre-merge-commit
        // (the pre-commit framework), which passes GITHEAD_* on.
        Hook::PreCommit => git.pending_merge(&invocation.merge_heads)?,
        // Always a merge, even when git did not say what it merges.
        Hook::PreMergeCommit => Some(
            git.pending_merge(&invocation.merge_heads)?
                .unwrap_or_default(),
        ),
    };
    let index = git.read_index_fast()?;
    let config_path = workdir.join(CONFIG_FILE);
    let in_index = crate::git::query::index_contains(&index, CONFIG_FILE);
    if !in_index && !config_path.is_file() {
        return Ok(Outcome::skipped(hook, mode, "not a git-quickscale project"));
    }
    let head = git.head()?.commit;
    let mut set = git.staged_changes(head, &index)?;
    set.merge = merge;
    let mut warnings = Vec::new();
    // Only the user's own files: no rule can fire, whatever the state.
    let violations = if policy::may_concern_project(&set) {
        let (applied, package) =
            applied_state(&git, head, &config_path, invocation, &mut warnings)?;
        let modules: Vec<String> = applied
            .as_ref()
            .map(|a| a.modules.keys().cloned().collect())
            .unwrap_or_default();
        policy::evaluate(
            &set,
            &policy::Project {
                package: &package,
                modules: &modules,
            },
        )
    } else {
        Vec::new()
    };
    Ok(Outcome {
        hook,
        mode,
        violations,
        skipped: None,
        warnings,
        done: None,
    })
}

/// The applied state at HEAD and the project package. The note is read
/// first; the catalog and quickscale.yml are only loaded when the state
/// must be derived (a clone without notes) or the note no longer describes
/// HEAD's tree (a tool commit cherry-picked, amended or rebased without
/// its note): then the engine's rule decides, as for `status` and `check`.
fn applied_state(
    git: &Git,
    head: Option<ObjectId>,
    config_path: &Path,
    invocation: &Invocation,
    warnings: &mut Vec<String>,
) -> Result<(Option<AppliedState>, String), HooksError> {
    let note = match head {
        Some(head) => state::notes::nearest(git, head).ok().flatten(),
        None => None,
    };
    if let (Some(head), Some((at, state))) = (head, &note)
        && state::note_agrees_with_tree(git, *at, head, state).unwrap_or(true)
    {
        return Ok((Some(state.clone()), state.project.package.clone()));
    }
    let root = git.workdir_if_any().unwrap_or(config_path);
    let catalog = match crate::project::load_catalog(root, &invocation.index_overrides) {
        Ok(c) => Some(c),
        Err(e) => {
            warnings.push(format!(
                "the module catalog could not be read ({e}); module paths were not checked"
            ));
            None
        }
    };
    let config = catalog.as_ref().and_then(|catalog| {
        match ConfigFile::load(config_path, CONFIG_FILE, catalog) {
            Ok(c) => Some(c),
            Err(e) => {
                warnings.push(format!(
                    "{CONFIG_FILE} could not be read ({}); without a state note, module paths were not checked",
                    e.to_string().lines().next().unwrap_or_default()
                ));
                None
            }
        }
    });
    if let Some((at, note)) = note {
        let package = note.project.package.clone();
        let (Some(head), Some(catalog), Some(config)) = (head, &catalog, &config) else {
            return Ok((Some(note), package));
        };
        return Ok(
            match crate::engine::stale::settle_note(git, head, config, catalog, at, note.clone()) {
                Ok((Some(settled), origin)) => {
                    if let Some(why) = origin.derived().and_then(|d| d.ignored_note.clone()) {
                        warnings.push(why);
                    }
                    let package = settled.project.package.clone();
                    (Some(settled), package)
                }
                Ok((None, _)) => (Some(note), package),
                Err(e) => {
                    warnings.push(format!(
                        "the state note disagrees with HEAD's tree and the tree could not be read ({e}); the note was used"
                    ));
                    (Some(note), package)
                }
            },
        );
    }
    let config = config.map(|c| c.config);
    let applied = match &catalog {
        Some(catalog) => state::load(git, head, config.as_ref(), catalog)?.0,
        None => None,
    };
    let package = applied
        .as_ref()
        .map(|a| a.project.package.clone())
        .or_else(|| config.as_ref().map(|c| c.project.package.clone()))
        .unwrap_or_default();
    Ok((applied, package))
}

/// pre-push: push the applied state along with the branch (`sync` with the
/// remote being pushed to). A failure is a warning: the branch push goes on.
fn pre_push(git: &Git, workdir: &Path, mode: Mode, invocation: &Invocation) -> Outcome {
    let hook = Hook::PrePush;
    if !workdir.join(CONFIG_FILE).is_file() {
        return Outcome::skipped(hook, mode, "not a git-quickscale project");
    }
    let remote = invocation.args.first().map(String::as_str);
    let mut outcome = Outcome::skipped(hook, mode, "");
    outcome.skipped = None;
    match crate::engine::sync::sync(git, remote) {
        Ok(report) => outcome.done = Some(report),
        Err(e) => outcome.warnings.push(format!(
            "the git-quickscale state was not pushed: {e}; the branch push goes on (run `git quickscale sync` later)"
        )),
    }
    outcome
}
