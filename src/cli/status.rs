//! `git quickscale status`: modules, provenance and drift.

use super::{CmdResult, Context};
use crate::engine::status::{self, StatusReport};
use crate::engine::status_cache;
use crate::error::{CliError, exit};
use crate::ui::Tone;

/// Show modules, their sources and versions, and differences from quickscale.yml
///
/// For each embedded module: its source, requested ref, embedded upstream
/// commit, manifest version, local changes inside its prefix, and whether
/// quickscale.yml wants something else. Also managed files edited by hand,
/// and whether the applied state came from a git note or was derived from
/// the tree (a fresh clone has no notes). Never contacts a remote: whether
/// the remote holds state notes comes from what the last `git quickscale
/// sync` fetched; `--remote` asks the remote.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  git quickscale status
  git quickscale status --json
  git quickscale status --remote   # ask the remote whether it holds state notes
  git quickscale status --class templates/base.html --class modules/crm/models.py
  git quickscale status --repair-state   # record a derived state in a note")]
pub struct StatusArgs {
    /// Print JSON (schema documented in docs/user-guide.md)
    #[arg(long)]
    pub json: bool,

    /// Rewrite the state note on HEAD from the tree (after a fresh clone or a squash merge)
    #[arg(long, conflicts_with = "class")]
    pub repair_state: bool,

    /// Show the ownership class of a path (can be repeated)
    #[arg(long, value_name = "PATH")]
    pub class: Vec<String>,

    /// Ask the default remote whether it holds state notes this clone lacks (opens a connection)
    #[arg(long, conflicts_with_all = ["class", "repair_state"])]
    pub remote: bool,
}

/// What status says about the remote's state notes.
enum RemoteView {
    /// Known from local refs (no connection).
    Known(crate::engine::sync::KnownRemoteState),
    /// Asked with `--remote`: the remote when it has notes this clone lacks.
    Asked(Result<Option<String>, String>),
}

pub fn cmd_status(ctx: &Context, args: &StatusArgs) -> CmdResult {
    let plain = !args.repair_state && args.class.is_empty() && !args.remote;
    let mut cache = None;
    let ws = if args.repair_state {
        super::open_for_write(ctx)?
    } else if plain && status_cache::enabled() {
        match cached(ctx) {
            Cached::Hit(report) => {
                show(ctx, args, &(*report)?, None)?;
                return Ok(exit::OK);
            }
            Cached::Miss { key, dir, git } => {
                cache = key.map(|key| (key, dir.clone()));
                super::open_for_read_with(ctx, dir, *git)?
            }
            Cached::Off => super::open_for_read(ctx)?,
        }
    } else {
        super::open_for_read(ctx)?
    };
    if !args.class.is_empty() {
        let classes = status::classes(&ws, &args.class);
        if args.json {
            let rows: Vec<serde_json::Value> = classes
                .iter()
                .map(|(p, c)| serde_json::json!({"path": p, "class": c}))
                .collect();
            ctx.ui.out(&json(&rows)?);
        } else {
            for (path, class) in classes {
                ctx.ui.out(&format!("{path}: {}", class.label()));
            }
        }
        return Ok(exit::OK);
    }
    if args.repair_state {
        return match status::repair_state(&ws).map_err(super::apply::engine_error)? {
            Some(head) => {
                ctx.ui.status_styled(
                    Tone::Ok,
                    &format!("Recorded the applied state on {}", &head.to_string()[..12]),
                );
                Ok(exit::OK)
            }
            None => Err(CliError::new(
                "there is no state to record: the project has not been applied yet",
            )
            .hint("run `git quickscale apply`")),
        };
    }
    let committed = status::committed_report(&ws).map_err(super::apply::engine_error)?;
    if let (Some((key, dir)), Some(git)) = (cache, &ws.git)
        && status_cache::keepable(&ws, &committed)
        // Nothing changed while the report was made: it is the key's.
        && status_cache::key(git, &dir.root, &dir.config_path(), &ctx.index_overrides)
            == Some(key.clone())
    {
        status_cache::store(git, &key, &committed);
    }
    let report = match &ws.git {
        Some(git) => status::complete(git, &ws.root, committed),
        None => Ok(committed),
    }
    .map_err(super::apply::engine_error)?;
    // A fresh clone has no notes: say what is known of the remote's,
    // from local refs; only `--remote` opens a connection.
    let remote = match &ws.git {
        Some(_) if args.json => None,
        Some(git) if args.remote => {
            Some(RemoteView::Asked(crate::engine::sync::probe_remote_state(
                git.workdir(),
                std::time::Duration::from_secs(20),
            )))
        }
        Some(git) if report.state.origin == "derived" => Some(RemoteView::Known(
            crate::engine::sync::known_remote_state(git),
        )),
        _ => None,
    };
    show(ctx, args, &report, remote.as_ref())?;
    Ok(exit::OK)
}

/// What the status cache offers this run.
enum Cached {
    /// The kept report's committed half matched; completed from the worktree.
    Hit(Box<Result<StatusReport, CliError>>),
    /// Not kept (or another one): the key to keep this run's under, taken
    /// before anything was read (none when an input could not be read), and
    /// the project and repository it is for, which the full run reuses.
    Miss {
        key: Option<status_cache::Key>,
        dir: crate::project::ProjectDir,
        git: Box<crate::git::Git>,
    },
    /// No project, no repository, or an interrupted operation: the full
    /// path says what there is to say.
    Off,
}

fn cached(ctx: &Context) -> Cached {
    let Ok(dir) = super::project_dir(ctx) else {
        return Cached::Off;
    };
    let Ok(Some(git)) = crate::git::Git::open_at_root(&dir.root) else {
        return Cached::Off;
    };
    if !crate::engine::recover::pending(&git).is_empty() {
        return Cached::Off;
    }
    let key = status_cache::key(&git, &dir.root, &dir.config_path(), &ctx.index_overrides);
    match key.as_ref().and_then(|key| status_cache::lookup(&git, key)) {
        Some(committed) => Cached::Hit(Box::new(
            status::complete(&git, &dir.root, committed).map_err(super::apply::engine_error),
        )),
        None => Cached::Miss {
            key,
            dir,
            git: Box::new(git),
        },
    }
}

fn show(
    ctx: &Context,
    args: &StatusArgs,
    report: &StatusReport,
    remote: Option<&RemoteView>,
) -> Result<(), CliError> {
    if args.json {
        ctx.ui.out(&json(report)?);
    } else {
        render(ctx, report, remote);
    }
    Ok(())
}

/// The next step for a derived state: sync when the remote has notes,
/// else record the derived state.
fn render_derived_hint(ctx: &Context, remote: Option<&RemoteView>) {
    use crate::engine::sync::KnownRemoteState as K;
    let ui = &ctx.ui;
    let repair = "run `git quickscale status --repair-state` to record it";
    match remote {
        Some(RemoteView::Known(K::Unmerged { remote })) => ui.out_styled(
            Tone::Warn,
            &format!("  the remote `{remote}` had state notes at the last fetch that this clone has not merged: run `git quickscale sync` (rather than `git quickscale status --repair-state`)"),
        ),
        Some(RemoteView::Known(K::NeverFetched { remote })) => ui.out(&format!(
            "  the state notes of `{remote}` were never fetched: run `git quickscale sync` if it holds them (`git quickscale status --remote` asks it), else {repair}"
        )),
        Some(RemoteView::Asked(Ok(Some(remote)))) => ui.out_styled(
            Tone::Warn,
            &format!("  the remote `{remote}` has state notes this clone has not fetched: run `git quickscale sync` (rather than `git quickscale status --repair-state`)"),
        ),
        Some(RemoteView::Asked(Err(e))) => {
            ui.out(&format!("  {repair}"));
            ui.warn(&format!("could not ask the remote: {e}"));
        }
        _ => ui.out(&format!("  {repair}")),
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, CliError> {
    crate::escape::json(value).map_err(|e| CliError::new(format!("cannot render JSON: {e}")))
}

fn render(ctx: &Context, r: &StatusReport, remote: Option<&RemoteView>) {
    let ui = &ctx.ui;
    render_project(ui, r);
    render_state(ctx, r, remote);
    if !r.modules.is_empty() {
        render_modules(ui, r);
    }
    let edited: Vec<_> = r.managed.iter().filter(|m| m.status != "ok").collect();
    if !edited.is_empty() {
        ui.out("");
        for m in edited {
            ui.out_styled(
                Tone::Warn,
                &format!("managed file {}: {}", m.path, m.status),
            );
        }
    }
    ui.out("");
    if r.in_sync {
        ui.out_styled(Tone::Ok, "In sync with quickscale.yml.");
    } else if r.pending.has_changes() || !r.pending.refused.is_empty() {
        super::apply::show_plan(ctx, &r.pending);
        ui.out("Run `git quickscale apply` to make these changes.");
    } else {
        ui.out("Not in sync: see above.");
    }
}

/// The project's identity, HEAD, and the Python version it targets.
fn render_project(ui: &crate::ui::Ui, r: &StatusReport) {
    ui.out(&format!(
        "Project {} (package {}, theme {}), HEAD {}",
        r.project.slug,
        r.project.package,
        r.project.theme,
        r.project
            .head
            .as_deref()
            .map(|h| &h[..12])
            .unwrap_or("(no commits)")
    ));
    let py = &r.python.python;
    if py.reasons.is_empty() {
        ui.out(&format!(
            "Python: {} (the project's own minimum)",
            py.version
        ));
    } else {
        ui.out(&format!(
            "Python: {} ({})",
            py.version,
            py.reasons.join("; ")
        ));
    }
    for stale in &r.python.stale {
        ui.out_styled(
            Tone::Warn,
            &format!(
                "  {}:{} names Python {}: change it to {}",
                stale.path, stale.line, stale.found, py.version
            ),
        );
    }
}

/// Where the applied state comes from (a note, derived, none yet).
fn render_state(ctx: &Context, r: &StatusReport, remote: Option<&RemoteView>) {
    let ui = &ctx.ui;
    match r.state.origin.as_str() {
        "note" => {
            ui.out(&format!(
                "State: recorded in the note on {}",
                r.state
                    .note_commit
                    .as_deref()
                    .map(|c| &c[..12])
                    .unwrap_or("?")
            ));
            match remote {
                Some(RemoteView::Asked(Ok(Some(remote)))) => ui.out_styled(
                    Tone::Warn,
                    &format!("  the remote `{remote}` has state notes this clone has not fetched: run `git quickscale sync`"),
                ),
                Some(RemoteView::Asked(Ok(None))) => {
                    ui.out("  the remote has no state notes this clone lacks")
                }
                Some(RemoteView::Asked(Err(e))) => {
                    ui.warn(&format!("could not ask the remote: {e}"))
                }
                _ => {}
            }
        }
        "derived" => {
            ui.out_styled(
                Tone::Warn,
                "State: derived from the tree (no note found); unverified:",
            );
            for u in &r.state.unverified {
                ui.out(&format!("  - {u}"));
            }
            render_derived_hint(ctx, remote);
        }
        _ => ui.out("State: none yet (run `git quickscale apply` to generate the project)"),
    }
}

/// The modules' table, each with what is newer upstream, its local
/// changes and what it pushed.
fn render_modules(ui: &crate::ui::Ui, r: &StatusReport) {
    let w = r
        .modules
        .iter()
        .map(|m| m.name.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let rw = r
        .modules
        .iter()
        .map(|m| m.git_ref.len())
        .max()
        .unwrap_or(3)
        .max(3);
    ui.out("");
    ui.out(&format!(
        "{:<w$}  {:<rw$}  {:<12}  {:<9}  {:<15}  SOURCE",
        "MODULE", "REF", "COMMIT", "VERSION", "STATE"
    ));
    for m in &r.modules {
        let local = m.committed_changes.len() + m.uncommitted_changes.len();
        let state = match (m.desired.as_str(), local) {
            ("in_sync", 0) => "in sync".to_owned(),
            ("in_sync", n) => format!("{n} local edit(s)"),
            ("to_remove", _) => "to remove".to_owned(),
            (_, _) => "changes pending".to_owned(),
        };
        ui.out(&format!(
            "{:<w$}  {:<rw$}  {:<12}  {:<9}  {:<15}  {}",
            m.name,
            m.git_ref,
            &m.commit[..m.commit.len().min(12)],
            m.version.as_deref().unwrap_or("-"),
            state,
            m.source
        ));
        if let Some(a) = &m.available {
            let parts = a.available.phrases(&m.git_ref);
            if !parts.is_empty() {
                ui.out_styled(
                    Tone::Changed,
                    &format!(
                        "    newer upstream (last checked by `update`): {}",
                        parts.join(", ")
                    ),
                );
            }
        }
        for p in &m.committed_changes {
            ui.out(&format!("    committed: {p}"));
        }
        for p in &m.uncommitted_changes {
            ui.out(&format!("    uncommitted: {p}"));
        }
        for p in &m.pushed {
            ui.out(&format!(
                "    pushed: {} ({})",
                p.branch,
                &p.commit[..p.commit.len().min(12)]
            ));
        }
        if let Some(n) = m.unpushed_commits.filter(|n| *n > 0) {
            ui.out(&format!(
                "    not pushed: {n} module commit(s) (`git quickscale push {}` sends them)",
                m.name
            ));
        }
    }
}
