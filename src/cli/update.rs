//! `git quickscale update`: move embedded modules to newer upstream
//! versions with a three-way merge that keeps local changes.

use super::{CmdResult, Context};
use crate::engine::execute::{self, ConflictMode, TextChange};
use crate::engine::update::{self, Policy, Preview};
use crate::engine::update_run::{self, Ran};
use crate::engine::{self, Event, pause};
use crate::error::{CliError, exit};
use crate::report::{self, DiffLine};
use crate::ui::Tone;

/// Update embedded modules to newer upstream versions, keeping local changes
///
/// Moves each module (all of them without NAME) to the newest version
/// compatible with the one embedded — semver tags `v1.2.3`/`1.2.3`, or the
/// tags the catalog declares for the module (upstream's
/// `splits/crm-module/0.88.1`), by caret rules (same major; for 0.x the
/// same minor) — or to the tip of the branch it follows. The merge is three-way (base: the upstream version embedded,
/// ours: the module's files now, local changes included; theirs: the new
/// version) and its commits are those of `git subtree pull --squash`. The
/// wiring is regenerated from the new manifests, and quickscale.yml records
/// the new ref, all in one transaction: if any module fails, none is updated.
///
/// A conflict refuses the whole update before anything is written, unless
/// `--conflicts=merge`: then the conflicted files get git's markers and
/// index stages, and the update waits for `--continue` or `--abort`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Examples:
  git quickscale update --check                 # exit 2 when updates are available
  git quickscale update --dry-run crm           # the full preview; nothing is written
  git quickscale update --all --yes
  git quickscale update crm --to v2.0.0
  git quickscale update crm --conflicts=merge   # then resolve, and: update --continue
  git quickscale update --dry-run --format markdown > pr-body.md")]
pub struct UpdateArgs {
    /// Modules to update [default: every embedded module]
    #[arg(value_name = "NAME", conflicts_with_all = ["continue_", "abort"])]
    pub names: Vec<String>,

    /// Update every embedded module (the default without NAME)
    #[arg(long, conflicts_with_all = ["names", "continue_", "abort"])]
    pub all: bool,

    /// Allow breaking versions (another major; for 0.x another minor)
    #[arg(long, conflicts_with = "to")]
    pub major: bool,

    /// Move to this branch, tag or commit (one module only)
    #[arg(long, value_name = "REF")]
    pub to: Option<String>,

    /// Fetch and list the available versions; change no file, commit or ref (exit 2 when updates are available)
    #[arg(long, conflicts_with_all = ["dry_run", "continue_", "abort"])]
    pub check: bool,

    /// Show the full preview and stop before the first write
    #[arg(long)]
    pub dry_run: bool,

    /// Add the full unified diff of the module files to the preview
    #[arg(long)]
    pub diff: bool,

    /// Print the preview (and with --check the versions) as JSON
    #[arg(long, conflicts_with = "format")]
    pub json: bool,

    /// How to print the preview: text, json (= --json) or markdown (a pull
    /// request body, for the update workflow; with --dry-run)
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<PreviewFormat>,

    /// With --dry-run: exit 2 when updates are pending, 0 when there are none
    #[arg(long)]
    pub detailed_exitcode: bool,

    /// What a merge conflict does: refuse the whole update, or leave the
    /// conflicts in the files (git's markers and index stages) to resolve
    #[arg(long, value_enum, default_value = "refuse", value_name = "MODE")]
    pub conflicts: Conflicts,

    /// On a terminal, walk the conflicts file by file (implies --conflicts=merge)
    #[arg(long)]
    pub interactive: bool,

    /// Finish a paused update once its conflicts are resolved
    #[arg(long = "continue", conflicts_with_all = ["abort", "dry_run", "to", "major"])]
    pub continue_: bool,

    /// Give up a paused update: HEAD, index, files and refs as before it
    #[arg(long, conflicts_with_all = ["dry_run", "to", "major"])]
    pub abort: bool,

    /// Do not ask for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Treat a requirement the project does not meet as an error
    #[arg(long)]
    pub strict: bool,
}

/// How the preview is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PreviewFormat {
    Text,
    Json,
    /// GitHub-flavoured Markdown: a pull request body (stdout only)
    Markdown,
}

/// What a merge conflict does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Conflicts {
    /// Refuse the whole update; nothing is written
    Refuse,
    /// Leave conflict markers and index stages; finish with --continue or --abort
    Merge,
}

pub fn cmd_update(ctx: &Context, args: &UpdateArgs) -> CmdResult {
    let args = &normalized(args)?;
    if args.continue_ {
        return cmd_continue(ctx, args);
    }
    if args.abort {
        return cmd_abort(ctx);
    }
    // --check and --dry-run only read (like `apply --dry-run`): no
    // recovery, and the lock only for their fetches (the engine's reading
    // session, ended with the preview).
    let read_only = args.check || args.dry_run;
    let mut ws = if read_only {
        super::open_for_read(ctx)?
    } else {
        super::open_for_write(ctx)?
    };
    let names: Vec<String> = if args.names.is_empty() {
        ws.embedded()
    } else {
        args.names.clone()
    };
    if names.is_empty() {
        ctx.ui
            .status("Nothing to update: no module is embedded in this project.");
        return Ok(exit::OK);
    }
    if args.to.is_some() && names.len() != 1 {
        return Err(CliError::new("--to moves one module; name it")
            .hint("git quickscale update crm --to v2.0.0"));
    }
    let request = request_of(args, names);
    let mut progress = super::EventView::new(&ctx.ui);
    let preview = update_run::preview(&mut ws, &request, &mut |e: Event| progress.show(e));
    drop(progress);
    let mut preview = preview.map_err(super::apply::engine_error)?;
    if args.check {
        return show_check(ctx, &ws, &preview.selection, args.json);
    }
    let Some(resolved) = preview.resolved.take() else {
        if args.json {
            ctx.ui.out(&json(&serde_json::json!({
                "schema": 1,
                "modules": [],
                "unchanged": preview.selection.unchanged,
                "wiring": [],
            }))?);
        }
        ctx.ui
            .status_styled(Tone::Ok, "Nothing to update: every module is up to date.");
        return Ok(exit::OK);
    };
    render_preview(ctx, args, &preview, &resolved)?;
    if args.dry_run {
        ctx.ui.status("Dry run: nothing was written.");
        return Ok(if args.detailed_exitcode {
            exit::PENDING
        } else {
            exit::OK
        });
    }
    if ctx.ui.is_interactive()
        && !args.yes
        && !ctx.ui.confirm("Update these modules?", true, "--yes")?
    {
        ctx.ui.status("Nothing was written.");
        return Ok(exit::OK);
    }
    let steps = preview.selection.steps.clone();
    drop(preview);
    commit_update(ctx, args, ws, resolved, &steps)
}

/// The arguments with `--format json` as `--json`; markdown only previews.
fn normalized(args: &UpdateArgs) -> Result<UpdateArgs, CliError> {
    let mut args = args.clone();
    if args.format == Some(PreviewFormat::Json) {
        args.json = true;
    }
    if args.format == Some(PreviewFormat::Markdown) && !args.dry_run {
        return Err(
            CliError::new("--format markdown renders a preview; add --dry-run")
                .hint("git quickscale update --dry-run --format markdown > body.md"),
        );
    }
    Ok(args)
}

/// What the engine is asked for.
fn request_of(args: &UpdateArgs, names: Vec<String>) -> update_run::Request {
    let conflicts = if args.dry_run {
        ConflictMode::Report
    } else if args.interactive || args.conflicts == Conflicts::Merge {
        ConflictMode::Merge
    } else {
        ConflictMode::Refuse
    };
    update_run::Request {
        names,
        policy: Policy {
            major: args.major,
            to: args.to.clone(),
        },
        check: args.check,
        read_only: args.check || args.dry_run,
        conflicts,
        strict: args.strict,
        diff: args.diff,
    }
}

/// The preview as Markdown (a pull request body), JSON or text.
fn render_preview(
    ctx: &Context,
    args: &UpdateArgs,
    preview: &update_run::Preview,
    resolved: &execute::Resolved,
) -> Result<(), CliError> {
    let previews: Vec<&Preview> = resolved.updates().iter().map(|u| &u.preview).collect();
    if args.format == Some(PreviewFormat::Markdown) {
        ctx.ui.out(
            crate::markdown::update_preview(
                &previews,
                &preview.wiring,
                &preview.selection.unchanged,
            )
            .trim_end(),
        );
    } else if args.json {
        ctx.ui.out(&json(&serde_json::json!({
            "schema": 1,
            "modules": previews,
            "unchanged": preview.selection.unchanged,
            "wiring": preview.wiring,
            "diff": preview.diffs,
        }))?);
    } else {
        show_previews(ctx, &previews, &preview.wiring, &preview.diffs);
    }
    Ok(())
}

/// Pauses the update on conflicts (and walks them on a terminal with
/// --interactive), else commits it and says what it did.
fn commit_update(
    ctx: &Context,
    args: &UpdateArgs,
    mut ws: engine::Workspace,
    resolved: execute::Resolved,
    steps: &[engine::plan::UpdateModule],
) -> CmdResult {
    let mut progress = super::EventView::new(&ctx.ui);
    let ran = update_run::run(&mut ws, resolved, &mut |e: Event| progress.show(e));
    drop(progress);
    let (outcome, python_before) = match ran.map_err(super::apply::engine_error)? {
        Ran::Paused(outcome) => {
            show_paused(ctx, &outcome);
            if args.interactive && ctx.ui.is_interactive() {
                // The walk ends with `--continue`, which takes the lock again.
                drop(ws);
                return walk_conflicts(ctx, &outcome.conflicts);
            }
            return Err(CliError::new(
                "the update is paused with conflicts; nothing is committed yet",
            )
            .hint("resolve them (edit the files, or `git mergetool`), then `git quickscale update --continue`; or `git quickscale update --abort`"));
        }
        Ran::Updated {
            outcome,
            python_before,
        } => (outcome, python_before),
    };
    super::apply::show_commits(ctx, &outcome);
    summary(ctx, steps, &previews_of(&outcome, steps));
    ctx.ui.status_styled(
        Tone::Ok,
        &format!(
            "Updated {} module(s); HEAD is {}",
            steps.len(),
            outcome.head.to_hex_with_len(12)
        ),
    );
    super::apply::python_notes(ctx, &ws.root, &outcome, python_before.as_ref(), false);
    Ok(exit::OK)
}

fn show_paused(ctx: &Context, outcome: &pause::PauseOutcome) {
    ctx.ui.warn(&format!(
        "the update is paused: {} file(s) have conflicts",
        outcome
            .conflicts
            .iter()
            .map(|(_, p)| p.len())
            .sum::<usize>()
    ));
    for (module, paths) in &outcome.conflicts {
        for p in paths {
            ctx.ui.status(&format!("  CONFLICT ({module}): {p}"));
        }
    }
}

/// The versions each updated module ended at, from the new state.
fn previews_of(
    outcome: &execute::Outcome,
    steps: &[engine::plan::UpdateModule],
) -> Vec<(String, String)> {
    steps
        .iter()
        .map(|s| {
            let version = outcome
                .state
                .modules
                .get(&s.name)
                .and_then(|m| m.version.clone())
                .unwrap_or_default();
            (s.name.clone(), version)
        })
        .collect()
}

fn summary(ctx: &Context, steps: &[engine::plan::UpdateModule], versions: &[(String, String)]) {
    let w = steps.iter().map(|s| s.name.len()).max().unwrap_or(6).max(6);
    let f = steps
        .iter()
        .map(|s| s.from_ref.len())
        .max()
        .unwrap_or(4)
        .max(4);
    ctx.ui
        .status(&format!("{:<w$}  {:<f$}  TO", "MODULE", "FROM"));
    for s in steps {
        let version = versions
            .iter()
            .find(|(n, _)| *n == s.name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
            .map(|v| format!(" (version {v})"))
            .unwrap_or_default();
        ctx.ui.status(&format!(
            "{:<w$}  {:<f$}  {}{version}",
            s.name, s.from_ref, s.to_ref
        ));
    }
}

fn json(value: &serde_json::Value) -> Result<String, CliError> {
    crate::escape::json(value).map_err(|e| CliError::new(format!("cannot render JSON: {e}")))
}

fn show_check(
    ctx: &Context,
    ws: &engine::Workspace,
    selection: &update::Selection,
    as_json: bool,
) -> CmdResult {
    let applied = ws.applied.as_ref();
    let mut rows = Vec::new();
    for (name, a) in &selection.available {
        let current = applied.and_then(|s| s.modules.get(name));
        rows.push(serde_json::json!({
            "module": name,
            "ref": current.map(|m| m.git_ref.clone()),
            "version": current.and_then(|m| m.version.clone()),
            "compatible": a.compatible,
            "breaking": a.breaking,
            "branch_tip": a.branch_tip,
            "tip_version": a.tip_version,
        }));
        if as_json {
            continue;
        }
        let at = current.map(|m| m.git_ref.as_str()).unwrap_or("?");
        let mut parts = Vec::new();
        if let Some(c) = &a.compatible {
            parts.push(format!("{c} (compatible)"));
        }
        if let Some(b) = &a.breaking {
            parts.push(format!("{b} (breaking: --major)"));
        }
        if let Some(t) = &a.branch_tip {
            let version = a
                .tip_version
                .as_deref()
                .map(|v| format!(", version {v}"))
                .unwrap_or_default();
            parts.push(format!(
                "new commits (tip {}{version})",
                &t[..t.len().min(12)]
            ));
        }
        if parts.is_empty() {
            ctx.ui.out(&format!("{name} {at}: up to date"));
        } else {
            ctx.ui
                .out_styled(Tone::Changed, &format!("{name} {at}: {}", parts.join(", ")));
        }
    }
    if as_json {
        ctx.ui.out(&json(&serde_json::json!({
            "schema": 1,
            "modules": rows,
            // quickscale.yml's `updates:` (the update workflow reads it here).
            "updates": ws.config.config.updates,
        }))?);
    }
    let pending = !selection.steps.is_empty()
        || selection
            .available
            .values()
            .any(|a| a.compatible.is_some() || a.branch_tip.is_some());
    Ok(if pending { exit::PENDING } else { exit::OK })
}

fn show_previews(
    ctx: &Context,
    previews: &[&Preview],
    wiring: &[TextChange],
    diffs: &[TextChange],
) {
    ctx.ui.out("git quickscale will:");
    for p in previews {
        show_move(ctx, p);
        show_upstream_commits(ctx, p);
        show_files(ctx, p);
        show_local_side(ctx, p);
        show_options(ctx, p);
        show_after(ctx, p);
    }
    if !wiring.is_empty() {
        ctx.ui.out("  wiring changes:");
        print_diffs(ctx, wiring);
    }
    if !diffs.is_empty() {
        ctx.ui.out("  module files:");
        print_diffs(ctx, diffs);
    }
}

/// `~ crm v1 → v2 (version …; commit → commit)`.
fn show_move(ctx: &Context, p: &Preview) {
    let version = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".into());
    ctx.ui.out_styled(
        Tone::Changed,
        &format!(
            "  ~ {} {} → {} (version {} → {}; {} → {})",
            p.module,
            p.from.git_ref,
            p.to.git_ref,
            version(&p.from.version),
            version(&p.to.version),
            &p.from.commit[..p.from.commit.len().min(12)],
            &p.to.commit[..p.to.commit.len().min(12)],
        ),
    );
}

/// The upstream commits the update brings, and those it takes back.
fn show_upstream_commits(ctx: &Context, p: &Preview) {
    if !p.commits.is_empty() {
        ctx.ui.out("      upstream commits:");
        for c in &p.commits {
            ctx.ui.out(&format!("        {} {}", c.commit, c.subject));
        }
    }
    if !p.reverted.is_empty() {
        ctx.ui
            .out("      upstream commits taken back (an older version):");
        for c in &p.reverted {
            ctx.ui.out(&format!("        {} {}", c.commit, c.subject));
        }
    }
}

/// The files upstream changed, with their line counts.
fn show_files(ctx: &Context, p: &Preview) {
    let (ins, del): (usize, usize) = p
        .files
        .iter()
        .fold((0, 0), |(i, d), f| (i + f.insertions, d + f.deletions));
    ctx.ui.out(&format!(
        "      files: {} changed upstream (+{ins} −{del})",
        p.files.len()
    ));
    for f in &p.files {
        let mark = match f.status {
            "added" => "A",
            "deleted" => "D",
            _ => "M",
        };
        ctx.ui.out(&format!(
            "        {mark} {} (+{} −{})",
            f.path, f.insertions, f.deletions
        ));
    }
}

/// The local changes kept, and the conflicts.
fn show_local_side(ctx: &Context, p: &Preview) {
    if p.local_changes.is_empty() {
        ctx.ui.out("      local changes: none");
    } else {
        ctx.ui.out("      local changes kept:");
        for l in &p.local_changes {
            ctx.ui.out(&format!("        {l}"));
        }
    }
    if p.conflicts.is_empty() {
        ctx.ui.out("      conflicts: none");
    } else {
        ctx.ui.out_styled(Tone::Warn, "      conflicts:");
        for c in &p.conflicts {
            ctx.ui
                .out_styled(Tone::Warn, &format!("        ! {}: {}", c.path, c.what));
        }
    }
}

/// Options the new version adds, removes or changes.
fn show_options(ctx: &Context, p: &Preview) {
    if p.options.is_empty() {
        return;
    }
    ctx.ui.out("      options:");
    for o in &p.options {
        let show = |v: &Option<crate::value::Value>| {
            v.as_ref()
                .map(|v| v.to_yaml())
                .unwrap_or_else(|| "(none)".into())
        };
        let line = match o.change {
            "added" => format!("+ {} = {} ({})", o.option, show(&o.new), o.note),
            "removed" => format!("- {} ({})", o.option, o.note),
            _ => format!(
                "~ {}: {} → {} ({})",
                o.option,
                show(&o.old),
                show(&o.new),
                o.note
            ),
        };
        ctx.ui.out(&format!("        {line}"));
    }
}

/// What to do after the update: migrations, upgrade notes, requirements.
fn show_after(ctx: &Context, p: &Preview) {
    if !p.migrations.is_empty() {
        ctx.ui.out("      new database migrations:");
        for m in &p.migrations {
            ctx.ui.out(&format!("        {m}"));
        }
        ctx.ui
            .out("        after the update: python manage.py migrate");
    }
    if !p.notes.is_empty() {
        ctx.ui.out("      upgrade notes:");
        for n in &p.notes {
            for (i, line) in n.lines().enumerate() {
                let lead = if i == 0 { "- " } else { "  " };
                ctx.ui.out(&format!("        {lead}{line}"));
            }
        }
    }
    for i in &p.incompatible {
        ctx.ui.out_styled(Tone::Warn, &format!("      ! {i}"));
    }
}

fn print_diffs(ctx: &Context, changes: &[TextChange]) {
    for c in changes {
        for line in report::unified_diff(&c.old, &c.new, &c.path) {
            match line {
                DiffLine::Header(t) => ctx.ui.out_styled(Tone::Bold, &format!("    {t}")),
                DiffLine::Context(t) => ctx.ui.out(&format!("    {t}")),
                DiffLine::Added(t) => ctx.ui.out_styled(Tone::Added, &format!("    {t}")),
                DiffLine::Removed(t) => ctx.ui.out_styled(Tone::Removed, &format!("    {t}")),
            }
        }
    }
}

fn cmd_continue(ctx: &Context, args: &UpdateArgs) -> CmdResult {
    let mut ws = super::open_for_write_paused(ctx)?;
    let mut progress = super::EventView::new(&ctx.ui);
    let resumed = update_run::resume(&mut ws, args.strict, &mut |e: Event| progress.show(e));
    drop(progress);
    let (outcome, steps) = resumed.map_err(super::apply::engine_error)?;
    super::apply::show_commits(ctx, &outcome);
    summary(ctx, &steps, &previews_of(&outcome, &steps));
    ctx.ui.status_styled(
        Tone::Ok,
        &format!(
            "Updated {} module(s); HEAD is {}",
            steps.len(),
            outcome.head.to_hex_with_len(12)
        ),
    );
    Ok(exit::OK)
}

fn cmd_abort(ctx: &Context) -> CmdResult {
    let ws = super::open_for_write_paused(ctx)?;
    let restored = pause::abort(&ws).map_err(super::apply::engine_error)?;
    ctx.ui.status_styled(
        Tone::Ok,
        &format!(
            "Aborted the update: {restored} file(s), the index and git's merge state are as before it"
        ),
    );
    Ok(exit::OK)
}

/// Walks the conflicts file by file on a terminal.
/// One git command of the conflict walk; a failure stops the walk (the
/// update stays paused, nothing more is changed).
fn walk_step(root: &std::path::Path, args: &[&str]) -> Result<(), CliError> {
    let shown = format!("git {}", args.join(" "));
    let status = std::process::Command::new("git")
        .current_dir(root)
        .args(args)
        .status()
        .map_err(|e| CliError::new(format!("cannot run `{shown}`: {e}")))?;
    if status.success() {
        return Ok(());
    }
    Err(CliError::new(format!(
        "`{shown}` failed ({status}); the walk stopped and the update stays paused"
    ))
    .hint("resolve the remaining files by hand (`git status` lists them), then `git quickscale update --continue`; or `git quickscale update --abort`"))
}

fn walk_conflicts(ctx: &Context, conflicts: &[(String, Vec<String>)]) -> CmdResult {
    let root = super::project_dir(ctx)?.root;
    let choices = [
        "take upstream's version",
        "keep the local version",
        "open the merge tool (git mergetool)",
        "show the diff",
        "leave it for later",
    ];
    for (module, paths) in conflicts {
        for path in paths {
            loop {
                let pick = ctx.ui.select(
                    &format!("{module}: {path}"),
                    &choices.map(str::to_owned),
                    0,
                    "--conflicts=merge",
                )?;
                let git = |args: &[&str]| walk_step(&root, args);
                match pick {
                    0 | 1 => {
                        let side = if pick == 0 { "--theirs" } else { "--ours" };
                        git(&["checkout", side, "--", path])?;
                        git(&["add", "--", path])?;
                        break;
                    }
                    2 => {
                        git(&["mergetool", "--", path])?;
                        break;
                    }
                    3 => {
                        git(&["diff", "--", path])?;
                    }
                    _ => break,
                }
            }
        }
    }
    if ctx.ui.confirm(
        "Finish the update now (update --continue)?",
        true,
        "--continue",
    )? {
        let args = UpdateArgs {
            names: Vec::new(),
            all: false,
            major: false,
            to: None,
            check: false,
            dry_run: false,
            diff: false,
            json: false,
            format: None,
            detailed_exitcode: false,
            conflicts: Conflicts::Refuse,
            interactive: false,
            continue_: true,
            abort: false,
            yes: true,
            strict: false,
        };
        return cmd_continue(ctx, &args);
    }
    ctx.ui
        .status("The update stays paused: `git quickscale update --continue` when ready.");
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_git_command_stops_the_conflict_walk() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = walk_step(dir.path(), &["checkout", "--theirs", "--", "no-such-file"])
            .expect_err("git fails outside a repository");
        assert!(err.to_string().contains("stays paused"), "{err}");
        assert!(walk_step(dir.path(), &["--version"]).is_ok());
    }
}
