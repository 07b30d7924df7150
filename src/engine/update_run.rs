//! The `update` command from the engine's side, one entry point per step
//! the user sees: [`preview`] (select the versions, write the new refs into
//! quickscale.yml, resolve the merge), [`run`] (pause on conflicts, else
//! commit) and [`resume`] (`--continue`). The CLI parses, asks, renders.

use super::execute::{self, ConflictMode, ExecOptions, Outcome, Resolved, TextChange};
use super::pause::{self, PauseOutcome};
use super::plan::UpdateModule;
use super::session::{self, Mode, WriteSession};
use super::update::{self, Policy, Selection};
use super::{EngineError, Event, Workspace};

/// What `update` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub names: Vec<String>,
    pub policy: Policy,
    /// `--check`: stop after selecting the versions.
    pub check: bool,
    /// `--check` or `--dry-run`: nothing is written (the fetches' scratch
    /// refs go again with the preview).
    pub read_only: bool,
    pub conflicts: ConflictMode,
    pub strict: bool,
    /// `--diff`: every changed file of the updated prefixes.
    pub diff: bool,
}

/// The update as it would be made, before anything is written.
pub struct Preview {
    pub selection: Selection,
    /// `None` for `--check`, or when every module is up to date.
    pub resolved: Option<Resolved>,
    /// The managed wiring files the update changes.
    pub wiring: Vec<TextChange>,
    /// With [`Request::diff`]: the module files the merge changes.
    pub diffs: Vec<TextChange>,
    /// A reading update's temporary object store (what it fetches and the
    /// previews merge), removed with the preview: the project's objects
    /// stay as they were.
    _objects: Option<crate::git::overlay::ObjectOverlay>,
    /// A reading update's session (its fetches): ends with the preview.
    _fetching: Option<WriteSession>,
}

/// Selects each module's target, sets `sources.<name>.ref` in
/// quickscale.yml's text (the workspace's desired state from then on) and
/// resolves the update as one operation.
pub fn preview(
    ws: &mut Workspace,
    request: &Request,
    events: &mut dyn FnMut(Event),
) -> Result<Preview, EngineError> {
    let fetching = match (&ws.git, request.read_only) {
        (Some(git), true) => Some(session::open_for_write(git, Mode::Fetch)?.session),
        _ => None,
    };
    let objects = match (&mut ws.git, request.read_only) {
        (Some(git), true) => Some(git.overlay_objects()?),
        _ => None,
    };
    if !request.read_only {
        execute::buffer_objects(ws);
    }
    let selection = update::select(ws, &request.names, &request.policy, events)?;
    let mut preview = Preview {
        selection,
        resolved: None,
        wiring: Vec::new(),
        diffs: Vec::new(),
        _objects: objects,
        _fetching: fetching,
    };
    if request.check {
        return Ok(preview);
    }
    for u in &preview.selection.unchanged {
        events(Event::UpToDate {
            module: u.module.clone(),
            git_ref: u.git_ref.clone(),
            why: u.why.clone(),
        });
    }
    if preview.selection.steps.is_empty() {
        return Ok(preview);
    }
    let text = with_refs(ws, &preview.selection.steps, false)?;
    let plan = super::plan::updating(preview.selection.steps.clone());
    let opts = ExecOptions {
        strict: request.strict,
        conflicts: request.conflicts,
        ..Default::default()
    };
    let resolved = execute::resolve(ws, &plan, "update", &text, opts, events)?;
    preview.wiring = execute::wiring_changes(ws, &resolved)?;
    if request.diff {
        preview.diffs = execute::module_changes(ws, &resolved)?;
    }
    preview.resolved = Some(resolved);
    Ok(preview)
}

/// quickscale.yml's text with each step's ref, parsed again as the
/// workspace's desired state.
fn with_refs(
    ws: &mut Workspace,
    steps: &[UpdateModule],
    resuming: bool,
) -> Result<String, EngineError> {
    let text = pause::config_with_refs(ws, &ws.config.text, steps)
        .map_err(|error| EngineError::ConfigRefs { error, resuming })?;
    ws.config.config = crate::config::parse(&text, &ws.config.display, &ws.catalog)
        .map_err(|d| EngineError::ConfigInvalid(d.to_string()))?;
    ws.config.text = text.clone();
    Ok(text)
}

/// What running an update did.
pub enum Ran {
    /// It paused with conflicts in the files.
    Paused(PauseOutcome),
    /// It committed; with the Python the project needed before.
    Updated {
        outcome: Box<Outcome>,
        python_before: Option<crate::compat::ProjectPython>,
    },
}

/// Makes a previewed update: pauses it when the merge left conflicts
/// (`--conflicts=merge`), else commits it in one transaction.
pub fn run(
    ws: &mut Workspace,
    resolved: Resolved,
    events: &mut dyn FnMut(Event),
) -> Result<Ran, EngineError> {
    if resolved.has_conflicts() {
        return Ok(Ran::Paused(pause::pause(ws, &resolved)?));
    }
    let python_before = super::python::of_head(ws).ok();
    let outcome = execute::execute_resolved(ws, resolved, events)?;
    Ok(Ran::Updated {
        outcome: Box::new(outcome),
        python_before,
    })
}

/// `update --continue`: commits the user's resolution of the paused
/// update (or, when the user committed the merge, the wiring and state),
/// with quickscale.yml as it is now plus the new refs. Returns the steps.
pub fn resume(
    ws: &mut Workspace,
    strict: bool,
    events: &mut dyn FnMut(Event),
) -> Result<(Outcome, Vec<UpdateModule>), EngineError> {
    let git = ws
        .git
        .as_ref()
        .ok_or_else(|| crate::git::GitError::new("open the repository", "the project has none"))?;
    let (paused, record, committed) = pause::load(git)?;
    let resolutions = if committed {
        events(Event::MergeCommitted);
        pause::committed_resolution(git, &record)?
    } else {
        pause::resolution(git, &paused, &record)?
    };
    let text = with_refs(ws, &record.steps, true)?;
    let plan = super::plan::updating(record.steps.clone());
    let mut opts = pause::continue_options(resolutions, committed);
    opts.strict = strict;
    let resolved = execute::resolve(ws, &plan, &record.op, &text, opts, events)?;
    let outcome = execute::execute_resolved(ws, resolved, events)?;
    Ok((outcome, record.steps))
}
