//! `git quickscale hooks`: install, remove, inspect and run the git hooks.

use std::path::Path;

use crate::git::ObjectId;
use clap::Subcommand;

use super::{CmdResult, Context};
use crate::error::{CliError, exit};
use crate::git::Git;
use crate::hooks::install::{self, Action, HookState, Manager, Source};
use crate::hooks::run::{self, Invocation};
use crate::hooks::{HOOK_FILE_ENV, HOOK_RAN_ENV, Hook, HooksError, MODE_KEY, Mode};
use crate::policy::Severity;
use crate::ui::Tone;

/// Install or remove the git hooks that keep module changes and your code apart
///
/// The hooks refuse commits that mix module-owned files (modules/<name>/)
/// with your own files, hand edits of the files git-quickscale regenerates,
/// deleting a module's directory by hand, and subtree merges that change
/// more than their module. Each refusal names the paths and the fix.
/// Bypass once with `git commit --no-verify`; `git config
/// quickscale.hooks.mode warn` makes them warn only. See docs/hooks.md.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  git quickscale hooks install
  git quickscale hooks status
  git quickscale hooks uninstall
  git config quickscale.hooks.mode warn   # report problems, never block")]
pub struct HooksArgs {
    #[command(subcommand)]
    pub command: HooksCommand,
}

#[derive(Debug, Subcommand)]
pub enum HooksCommand {
    Install(InstallArgs),
    Uninstall(UninstallArgs),
    Status(StatusArgs),
    Run(RunArgs),
}

/// Add the git-quickscale block to the pre-commit, pre-merge-commit and pre-push hooks
///
/// The block goes between `## START QUICKSCALE` and `## END QUICKSCALE`
/// lines, right after the shebang of an existing hook, whose own content
/// keeps running. Honours core.hooksPath (husky); running it again updates
/// the block and changes nothing else.
#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// Write even when core.hooksPath, or a hook that is a symlink, points outside this repository (hooks shared with other repositories)
    #[arg(long)]
    pub allow_outside_repo: bool,
}

/// Remove the git-quickscale block from the hooks, leaving the rest of each file byte for byte
///
/// Also from the copies hook managers moved aside (`<hook>.legacy` of the
/// pre-commit framework, `<hook>.old` of lefthook), from the git
/// directory's own hooks when core.hooksPath points elsewhere, and from
/// husky's hook files; names every file it changed. A symlink to nothing is
/// left alone.
#[derive(Debug, clap::Args)]
pub struct UninstallArgs {}

/// Show where the hooks are, whether each has the block, and other hook managers found
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// Run one hook's check now (the installed blocks call this)
///
/// Exit status 1 means refused. Usable from other hook managers, e.g. a
/// lefthook.yml command or a pre-commit framework hook.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The hook
    #[arg(value_parser = ["pre-commit", "pre-merge-commit", "pre-push"])]
    pub hook: String,

    /// The arguments git passed to the hook
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

pub fn cmd_hooks(ctx: &Context, args: &HooksArgs) -> CmdResult {
    match &args.command {
        HooksCommand::Install(a) => cmd_install(ctx, a),
        HooksCommand::Uninstall(_) => cmd_uninstall(ctx),
        HooksCommand::Status(a) => cmd_status(ctx, a),
        HooksCommand::Run(a) => cmd_run(ctx, a),
    }
}

fn hooks_error(e: HooksError) -> CliError {
    let hint = e.hint();
    CliError::from_error(&e, hint)
}

fn open(ctx: &Context) -> Result<Git, CliError> {
    Git::discover_with_env(&ctx.cwd).ok_or_else(|| hooks_error(HooksError::NoRepository))
}

fn cmd_install(ctx: &Context, args: &InstallArgs) -> CmdResult {
    crate::project::require(&ctx.cwd)?;
    let git = open(ctx)?;
    let outcome = install::install(&git, args.allow_outside_repo).map_err(hooks_error)?;
    report_install(ctx, &git, &outcome);
    Ok(exit::OK)
}

/// Installs the hooks after the first `apply` of a new project; a failure
/// is a warning (the project itself was made).
pub fn install_after_apply(ctx: &Context, root: &Path) {
    let result = Git::discover_with_env(root)
        .ok_or(HooksError::NoRepository)
        .and_then(|git| install::install(&git, false).map(|o| (git, o)));
    match result {
        Ok((git, outcome)) => report_install(ctx, &git, &outcome),
        Err(e) => {
            ctx.ui
                .warn(&format!("the git hooks were not installed: {e}"));
            if let Some(hint) = e.hint() {
                ctx.ui.hint(&hint);
            }
            ctx.ui
                .hint("install them later with `git quickscale hooks install`");
        }
    }
}

fn report_install(ctx: &Context, git: &Git, outcome: &install::Outcome) {
    let dir = shown(git, &outcome.location.dir);
    ctx.ui.status_styled(
        Tone::Ok,
        &format!("Installed the git-quickscale hooks in {dir}:"),
    );
    for (hook, path, action) in &outcome.hooks {
        let what = match action {
            Action::Created => "created".to_owned(),
            Action::Added => "added to your existing hook (its own content keeps running)".into(),
            Action::Updated => "updated".into(),
            Action::Unchanged => "already installed".into(),
            Action::Dangling => format!(
                "left alone: {} is a dangling symlink (to {}); nothing written",
                shown(git, path),
                std::fs::read_link(path)
                    .map(|t| t.display().to_string())
                    .unwrap_or_default()
            ),
            _ => String::new(),
        };
        if *action == Action::Dangling {
            ctx.ui.warn(&format!("{}: {what}", hook.name()));
        } else if !path.starts_with(&outcome.location.dir) {
            // A symlinked hook: the block went where it points.
            ctx.ui.status(&format!(
                "  {:<17} {what} (in {}, which the hook file links to)",
                hook.name(),
                shown(git, path)
            ));
        } else {
            ctx.ui.status(&format!("  {:<17} {what}", hook.name()));
        }
    }
    for manager in &outcome.managers {
        ctx.ui.warn(&manager_note(*manager));
    }
    if let Source::Husky(_) | Source::HooksPath(_) = outcome.location.source
        && !outcome.location.outside
    {
        ctx.ui.hint(&format!(
            "{dir} comes from core.hooksPath; if it is committed, commit the change so your team gets the hooks too"
        ));
    }
    let path = std::env::var_os("PATH");
    if path
        .as_deref()
        .and_then(|p| install::find_on_path("git-quickscale", p))
        .is_none()
    {
        ctx.ui.warn(
            "git-quickscale is not on PATH: the hooks call it by name and skip their checks (with a warning) until it is",
        );
    }
    ctx.ui.hint(
        "bypass once with `git commit --no-verify`; remove with `git quickscale hooks uninstall`",
    );
}

fn manager_note(manager: Manager) -> String {
    match manager {
        Manager::Lefthook => "a hook is managed by lefthook: `lefthook install` rewrites it and drops the git-quickscale block; add `git quickscale hooks run <hook>` to lefthook.yml to keep it (docs/hooks.md)".into(),
        Manager::PreCommit => "a hook is managed by the pre-commit framework: `pre-commit install` rewrites it and drops the git-quickscale block; add the git-quickscale hook to .pre-commit-config.yaml to keep it (docs/hooks.md)".into(),
        Manager::Husky => "the hooks are husky's: the block is in husky's hook files; commit them so your team gets it".into(),
    }
}

fn cmd_uninstall(ctx: &Context) -> CmdResult {
    let git = open(ctx)?;
    let outcome = install::uninstall(&git).map_err(hooks_error)?;
    let dir = shown(&git, &outcome.location.dir);
    ctx.ui.status(&format!("git-quickscale hooks in {dir}:"));
    for (hook, path, action) in &outcome.hooks {
        let what = match action {
            Action::Removed => format!(
                "removed the block from {}; the rest of the file is as it was",
                shown(&git, path)
            ),
            Action::Deleted => format!("deleted (it only held the block): {}", shown(&git, path)),
            Action::Absent => "not installed".to_owned(),
            _ => String::new(),
        };
        ctx.ui.status(&format!("  {:<17} {what}", hook.name()));
    }
    Ok(exit::OK)
}

fn cmd_status(ctx: &Context, args: &StatusArgs) -> CmdResult {
    let git = open(ctx)?;
    let status = install::status(&git, std::env::var_os("PATH").as_deref()).map_err(hooks_error)?;
    if args.json {
        let text = crate::escape::json(&status)
            .map_err(|e| CliError::new(format!("cannot render JSON: {e}")))?;
        ctx.ui.out(&text);
        return Ok(exit::OK);
    }
    let dir = shown(&git, &status.location.dir);
    let from = match &status.location.source {
        Source::GitDir => "the repository's git directory, shared by its worktrees".to_owned(),
        Source::HooksPath(v) => format!("core.hooksPath = {v}"),
        Source::Husky(v) => format!("husky: core.hooksPath = {v}"),
    };
    ctx.ui.out(&format!("Hooks directory: {dir} ({from})"));
    if status.location.outside {
        ctx.ui
            .out("  outside this repository: other repositories may share it");
    }
    ctx.ui.out(&format!(
        "Mode: {} ({})",
        status.mode.name(),
        match status.mode {
            Mode::Block => "refusals stop the commit",
            Mode::Warn => "refusals are printed, the commit goes ahead",
            Mode::Off => "no checks",
        }
    ));
    for h in &status.hooks {
        let mut line = match h.state {
            HookState::Installed => "installed".to_owned(),
            HookState::Outdated => {
                "installed, from another version (run `git quickscale hooks install`)".to_owned()
            }
            HookState::Edited => {
                "installed, edited by hand (`git quickscale hooks install` restores it)".to_owned()
            }
            HookState::Dangling => format!(
                "a dangling symlink to {}: left alone (git runs nothing)",
                h.link_target
                    .as_deref()
                    .map(|t| t.display().to_string())
                    .unwrap_or_default()
            ),
            HookState::NotInstalled => {
                "not installed (the hook exists without the block)".to_owned()
            }
            HookState::Missing => "not installed".to_owned(),
        };
        if h.other_content {
            line.push_str("; the hook has content of its own");
        }
        if !matches!(h.state, HookState::Missing | HookState::Dangling) && !h.executable {
            line.push_str("; NOT EXECUTABLE: git does not run it (chmod +x)");
        }
        if let Some(m) = h.manager {
            line.push_str(&format!("; written by {}", m.name()));
        }
        if let Some(target) = h
            .link_target
            .as_ref()
            .filter(|_| h.state != HookState::Dangling)
        {
            line.push_str(&format!("; a symlink to {}", shown(&git, target)));
        }
        if let Some(aside) = &h.aside {
            line.push_str(&format!("; the block is in {}", shown(&git, aside)));
        }
        let tone = if h.state == HookState::Installed && h.executable {
            Tone::Ok
        } else {
            Tone::Warn
        };
        ctx.ui
            .out_styled(tone, &format!("  {:<17} {line}", h.hook.name()));
    }
    for m in &status.managers {
        ctx.ui
            .out(&format!("Hook manager in this project: {}", m.name()));
    }
    match &status.binary {
        Some(p) => ctx
            .ui
            .out(&format!("git-quickscale on PATH: {}", p.display())),
        None => ctx.ui.out_styled(
            Tone::Warn,
            "git-quickscale on PATH: not found (the hooks skip their checks with a warning)",
        ),
    }
    Ok(exit::OK)
}

fn cmd_run(ctx: &Context, args: &RunArgs) -> CmdResult {
    let Some(hook) = Hook::parse(&args.hook) else {
        return Err(CliError::new(format!("unknown hook `{}`", args.hook)));
    };
    // Read before the check: the variable names this run's hook file only.
    let hook_file = std::env::var_os(HOOK_FILE_ENV);
    let code = check(ctx, hook, args)?;
    match hook_file {
        Some(file) if code == exit::OK && install::has_lines_after_block(Path::new(&file)) => {
            run_rest_of_hook(Path::new(&file), &args.args)
        }
        _ => Ok(code),
    }
}

/// Runs the hook file again for the lines after its `exec` block (see
/// [`Hook::exec_block`]), which the shell never reached: same file, same
/// arguments, with [`HOOK_RAN_ENV`] set so the block steps aside. Replaces
/// this process, as the shell would have gone on in its place.
#[cfg(unix)]
fn run_rest_of_hook(file: &Path, args: &[String]) -> CmdResult {
    use std::io::Write;
    use std::os::unix::process::CommandExt;
    let _ = std::io::stdout().flush();
    let err = std::process::Command::new(file)
        .args(args)
        .env(HOOK_RAN_ENV, "1")
        .env_remove(HOOK_FILE_ENV)
        .exec();
    Err(CliError::new(format!(
        "cannot run the rest of the hook {}: {err}",
        file.display()
    ))
    .hint("run `git quickscale hooks install` to rewrite the block so the lines after it run in the same shell"))
}

#[cfg(not(unix))]
fn run_rest_of_hook(file: &Path, _args: &[String]) -> CmdResult {
    Err(CliError::new(format!(
        "cannot run the rest of the hook {}",
        file.display()
    )))
}

/// The hook's check itself: prints what it found, exit 1 when refused.
fn check(ctx: &Context, hook: Hook, args: &RunArgs) -> CmdResult {
    let invocation = Invocation {
        merge_heads: merge_heads_from_env(),
        index_overrides: ctx.index_overrides.clone(),
        args: args.args.clone(),
        module_push: std::env::var_os(crate::engine::push::MODULE_PUSH_ENV)
            .is_some_and(|v| v == "1"),
    };
    let outcome = run::run(hook, &ctx.cwd, &invocation).map_err(|e| {
        hooks_error(e).hint(format!(
            "this is not a policy refusal; to commit anyway: git {} --no-verify",
            verb(hook)
        ))
    })?;
    for w in &outcome.warnings {
        ctx.ui.warn(w);
    }
    if let Some(report) = &outcome.done
        && !report.pushed.is_empty()
    {
        ctx.ui.status(&format!(
            "git-quickscale: pushed the state to {} ({})",
            report.remote,
            report.pushed.join(", ")
        ));
    }
    for c in outcome.done.iter().flat_map(|r| &r.conflicts) {
        ctx.ui.warn(&format!(
            "commit {c} has a different state note on the remote; kept the local one"
        ));
    }
    let refused = outcome.refused();
    for v in &outcome.violations {
        let mut text = format!("[{}] {}", v.rule, v.message);
        for p in &v.paths {
            text.push_str(&format!("\n  {}", crate::escape::quote(p)));
        }
        if v.severity == Severity::Error && refused {
            ctx.ui.error(&CliError::new(text).hint(v.fix.clone()));
        } else {
            ctx.ui.warn(&text);
            ctx.ui.hint(&v.fix);
        }
    }
    let errors = outcome
        .violations
        .iter()
        .filter(|v| v.severity == Severity::Error)
        .count();
    if refused {
        ctx.ui.status(&format!(
            "git-quickscale refused this {} ({errors} problem{}). To go ahead anyway: git {} --no-verify (CI's `git quickscale check` still reports it); to only warn in this repository: git config {MODE_KEY} warn",
            noun(hook),
            if errors == 1 { "" } else { "s" },
            verb(hook)
        ));
        return Ok(exit::ERROR);
    }
    if errors > 0 {
        ctx.ui.status(&format!(
            "{MODE_KEY} is warn: the {} goes ahead",
            noun(hook)
        ));
    }
    Ok(exit::OK)
}

fn verb(hook: Hook) -> &'static str {
    match hook {
        Hook::PreCommit => "commit",
        Hook::PreMergeCommit => "merge",
        Hook::PrePush => "push",
    }
}

fn noun(hook: Hook) -> &'static str {
    match hook {
        Hook::PreCommit => "commit",
        Hook::PreMergeCommit => "merge",
        Hook::PrePush => "push",
    }
}

/// `git merge` names each head it merges in a `GITHEAD_<id>` variable.
fn merge_heads_from_env() -> Vec<ObjectId> {
    let mut heads: Vec<ObjectId> = std::env::vars_os()
        .filter_map(|(k, _)| {
            let k = k.into_string().ok()?;
            ObjectId::from_hex(k.strip_prefix("GITHEAD_")?.as_bytes()).ok()
        })
        .collect();
    heads.sort();
    heads
}

/// A path relative to the worktree when it is inside it, else canonical
/// (never through `worktrees/<name>/../..`). A symlink itself is shown, not
/// its target.
fn shown(git: &Git, path: &Path) -> String {
    let root = git.workdir();
    let real_root = root.canonicalize().unwrap_or(root);
    let real = match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => dir
            .canonicalize()
            .map(|d| d.join(name))
            .unwrap_or_else(|_| path.to_owned()),
        _ => path.to_owned(),
    };
    crate::escape::quote(
        &real
            .strip_prefix(&real_root)
            .unwrap_or(&real)
            .display()
            .to_string(),
    )
    .into_owned()
}
