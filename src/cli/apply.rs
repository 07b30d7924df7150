//! `git quickscale apply`: plan, show, then execute as one transaction.

use super::{CmdResult, Context};
use crate::engine::{self, EngineError, Event};
use crate::error::{CliError, exit};
use crate::report::{self, Mark};
use crate::ui::Tone;

/// Generate the project and embed or remove modules to match quickscale.yml
///
/// Computes the difference between quickscale.yml and the applied state
/// recorded in git, prints it (`+` embed, `~` change, `-` remove, `!` refused),
/// asks on a terminal, then makes the changes as commits. Any failure leaves
/// HEAD, index, worktree and refs exactly as they were. The apply that
/// creates a project also installs the git hooks (`--no-hooks` skips that).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  git quickscale apply
  git quickscale apply --dry-run --detailed-exitcode   # CI: exit 2 when changes are pending")]
pub struct ApplyArgs {
    /// Print the plan and stop before the first write
    #[arg(long)]
    pub dry_run: bool,

    /// With --dry-run: exit 2 when changes are pending, 0 when there are none
    #[arg(long)]
    pub detailed_exitcode: bool,

    /// Do not ask for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Treat a module whose declared Python or Django range the project cannot meet as an error
    #[arg(long)]
    pub strict: bool,

    /// Do not install the git hooks when this apply creates the project
    #[arg(long)]
    pub no_hooks: bool,
}

pub fn cmd_apply(ctx: &Context, args: &ApplyArgs) -> CmdResult {
    let mut ws = if args.dry_run {
        super::open_for_read(ctx)?
    } else {
        super::open_for_write(ctx)?
    };
    let plan = engine::plan::build(&ws).map_err(engine_error)?;
    show_plan(ctx, &plan);
    let mismatches = check_plan(ctx, &ws, &plan, args.strict)?;
    if !plan.has_changes() {
        ctx.ui.status_styled(
            Tone::Ok,
            "Nothing to do: the project matches quickscale.yml.",
        );
        return Ok(exit::OK);
    }
    if args.dry_run {
        return show_dry_run(ctx, &ws, &plan, args);
    }
    if ctx.ui.is_interactive()
        && !args.yes
        && !ctx.ui.confirm("Apply these changes?", true, "--yes")?
    {
        ctx.ui.status("Nothing was written.");
        return Ok(if args.detailed_exitcode {
            exit::PENDING
        } else {
            exit::OK
        });
    }
    // Asked before apply creates the project's own repository.
    let enclosing = match &ws.git {
        None => {
            crate::git::Git::enclosing(&ws.root).map_err(|e| CliError::from_error(&e, e.hint()))?
        }
        Some(_) => None,
    };
    let text = ws.config.text.clone();
    let python_before = match &ws.git {
        Some(_) => engine::python::of_head(&ws).ok(),
        None => None,
    };
    let mut progress = super::EventView::new(&ctx.ui).shown(mismatches);
    let opts = engine::execute::ExecOptions {
        strict: args.strict,
        ..Default::default()
    };
    let outcome =
        engine::execute::execute(&mut ws, &plan, "apply", &text, opts, &mut |e: Event| {
            progress.show(e)
        })
        .map_err(engine_error)?;
    show_applied(ctx, &ws, &plan, &outcome, enclosing, args);
    python_notes(
        ctx,
        &ws.root,
        &outcome,
        python_before.as_ref(),
        plan.generate.is_some() || outcome.created_repo,
    );
    Ok(exit::OK)
}

/// Refuses a plan with refused changes; says what removing modules leaves
/// and which modules the project's stack does not meet (an error with
/// `--strict`). Returns those mismatches (already shown).
fn check_plan(
    ctx: &Context,
    ws: &engine::Workspace,
    plan: &engine::Plan,
    strict: bool,
) -> Result<Vec<String>, CliError> {
    if !plan.refused.is_empty() {
        return Err(CliError::new(format!(
            "apply refuses {} change(s) of quickscale.yml; nothing was written",
            plan.refused.len()
        ))
        .hint("follow the steps printed under each refused change, or undo the edit in quickscale.yml"));
    }
    super::print_database_notes(ctx, plan);
    let mismatches = engine::plan::compat_preview(ws, plan);
    for m in &mismatches {
        ctx.ui.warn(&m.message);
    }
    let mismatches: Vec<String> = mismatches.into_iter().map(|m| m.message).collect();
    if strict && !mismatches.is_empty() {
        return Err(engine_error(EngineError::Incompatible(mismatches)));
    }
    Ok(mismatches)
}

/// `--dry-run`: the files a new project and each module would write.
fn show_dry_run(
    ctx: &Context,
    ws: &engine::Workspace,
    plan: &engine::Plan,
    args: &ApplyArgs,
) -> CmdResult {
    if let Some(identity) = &plan.generate {
        let files = engine::execute::generated_files(identity).map_err(engine_error)?;
        ctx.ui.out(&format!(
            "Files the new project would write ({}):",
            files.len()
        ));
        for path in files.keys() {
            ctx.ui.out(&format!("  {path}"));
        }
    }
    for a in &plan.add {
        ctx.ui.out(&format!(
            "  modules/{}/ (the module's files at {})",
            a.name, a.git_ref
        ));
        let how =
            crate::source::local_resolution(&ws.root, &ws.catalog, &a.name, &a.source, &a.git_ref);
        if let Some(how) = how {
            ctx.ui.out(&format!("  ~ {}: {how}", a.name));
        }
    }
    ctx.ui.status("Dry run: nothing was written.");
    Ok(if args.detailed_exitcode {
        exit::PENDING
    } else {
        exit::OK
    })
}

/// What the apply made; an enclosing repository's view of the new one;
/// the hooks of a new project.
fn show_applied(
    ctx: &Context,
    ws: &engine::Workspace,
    plan: &engine::Plan,
    outcome: &engine::execute::Outcome,
    enclosing: Option<crate::git::Enclosing>,
    args: &ApplyArgs,
) {
    show_commits(ctx, outcome);
    ctx.ui.status_styled(
        Tone::Ok,
        &format!(
            "Applied: {} commit(s), {} file(s) written; HEAD is {}",
            outcome.commits.len(),
            outcome.files_written,
            short(&outcome.head.to_string())
        ),
    );
    if let Some(outer) = enclosing.filter(|e| !e.ignored) {
        ctx.ui.warn(&format!(
            "the repository at `{}` sees `{}/` as an untracked directory; to ignore it there, add `/{}/` to its .gitignore (or to .git/info/exclude, for that clone only)",
            outer.workdir.display(),
            outer.path,
            outer.path,
        ));
    }
    if plan.generate.is_some() && !args.no_hooks {
        super::hooks::install_after_apply(ctx, &ws.root);
    }
}

/// What the project's Python means after an operation: for a new project
/// the next steps on the Python its modules need (and how to install it
/// when this machine lacks it, before pip fails); when modules moved it
/// to another release, say so; files naming an older Python, by line.
pub fn python_notes(
    ctx: &Context,
    root: &std::path::Path,
    outcome: &engine::execute::Outcome,
    before: Option<&crate::compat::ProjectPython>,
    new_project: bool,
) {
    let python = &outcome.python;
    let version = &python.version;
    let why = if python.reasons.is_empty() {
        String::new()
    } else {
        format!(" ({})", python.reasons.join("; "))
    };
    // Only a newer Python asks anything of the user (removing a module that
    // needed one leaves the project's venv working).
    let changed = before
        .is_some_and(|b| crate::compat::allows(&format!(">={version}"), &b.version) == Some(false));
    if changed {
        ctx.ui.warn(&format!(
            "the embedded modules now need Python {version}{why}; recreate the project's venv on it"
        ));
    }
    for stale in engine::python::stale_files(root, python) {
        ctx.ui.warn(&format!(
            "{}:{}: names Python {}, but the embedded modules need Python {version}: change it to {version}",
            stale.path, stale.line, stale.found
        ));
    }
    if !(new_project || changed) {
        return;
    }
    let command = match crate::compat::find_python(version) {
        Some(found) => found.command,
        None => {
            ctx.ui.warn(&format!(
                "this project needs Python {version}{why}, and none was found here (python3, python{version}): pip on an older Python fails after a long search"
            ));
            ctx.ui
                .hint(&format!("install it first: {}", python.install_hint()));
            format!("python{version}")
        }
    };
    ctx.ui.status(&format!("Next: {command} -m venv .venv && .venv/bin/pip install -r requirements-dev.txt && .venv/bin/python manage.py migrate && .venv/bin/python manage.py runserver"));
}

/// Lists the commits an operation made, once they are made.
pub fn show_commits(ctx: &Context, outcome: &engine::execute::Outcome) {
    for (id, summary) in &outcome.commits {
        ctx.ui
            .status(&format!("Committed {} {summary}", id.to_hex_with_len(12)));
    }
}

/// Prints a plan, coloured by kind.
pub fn show_plan(ctx: &Context, plan: &engine::Plan) {
    let lines = report::plan_lines(plan);
    if lines.is_empty() {
        return;
    }
    ctx.ui.out("git quickscale will:");
    for (mark, line) in lines {
        let tone = match mark {
            Mark::Add => Tone::Added,
            Mark::Change => Tone::Changed,
            Mark::Remove => Tone::Removed,
            Mark::Refuse => Tone::Warn,
            Mark::Note => Tone::Plain,
        };
        ctx.ui.out_styled(tone, &format!("  {line}"));
    }
    ctx.ui
        .out(&format!("Plan: {}.", report::plan_summary(plan)));
}

pub fn engine_error(e: EngineError) -> CliError {
    let hint = e.hint();
    CliError::from_error(&e, hint)
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}
