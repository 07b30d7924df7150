//! The command line: one file per command, each thin (parse, call the
//! domain, render). This module holds the definition and the one dispatch.

mod apply;
mod check;
mod completions;
mod hooks;
mod list_modules;
mod man;
mod plan;
mod push;
mod remove;
mod status;
mod sync;
mod undo;
mod update;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::catalog::Catalog;
use crate::error::{CliError, exit};
use crate::project;
use crate::ui::Ui;

const AFTER_HELP: &str = "\
Examples:
  git quickscale plan shop --theme showcase_html --module crm --yes
  cd shop && git quickscale apply
  git quickscale list-modules

Exit codes: 0 success or nothing to do, 1 error, 2 changes pending or drift found.";

/// Generate Django SaaS projects and keep their modules up to date as git subtrees
#[derive(Debug, Parser)]
#[command(
    name = "git-quickscale",
    bin_name = "git quickscale",
    version,
    after_help = AFTER_HELP,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Extra module index file layered over the bundled catalog (can be repeated)
    #[arg(long = "index", global = true, value_name = "FILE")]
    pub index: Vec<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Plan(plan::PlanArgs),
    Apply(apply::ApplyArgs),
    Status(status::StatusArgs),
    Check(check::CheckArgs),
    Update(update::UpdateArgs),
    Remove(remove::RemoveArgs),
    Push(push::PushArgs),
    Sync(sync::SyncArgs),
    ListModules(list_modules::ListModulesArgs),
    Hooks(hooks::HooksArgs),
    Undo(undo::UndoArgs),
    Completions(completions::CompletionsArgs),
    Man(man::ManArgs),
}

/// What every command gets: the terminal, the working directory, the
/// catalog overrides.
pub struct Context {
    pub ui: Ui,
    pub cwd: PathBuf,
    pub index_overrides: Vec<PathBuf>,
}

impl Context {
    /// Loads the catalog as seen from the working directory.
    pub fn catalog(&self) -> Result<Catalog, CliError> {
        Ok(project::load_catalog(&self.cwd, &self.index_overrides)?)
    }
}

/// What a command reports back: its exit code (errors go through `CliError`).
pub type CmdResult = Result<u8, CliError>;

/// Parses the arguments, runs the command, prints any error.
pub fn main() -> ExitCode {
    let ui = Ui::new();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::ERROR
            } else {
                exit::OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = project::current_dir()
        .map_err(CliError::from)
        .and_then(|cwd| {
            let ctx = Context {
                ui,
                cwd,
                index_overrides: cli.index.clone(),
            };
            let code = run(&ctx, cli.command);
            if let Err(e) = &code {
                ctx.ui.error(e);
            }
            code
        });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => ExitCode::from(e.code),
    }
}

fn run(ctx: &Context, command: Command) -> CmdResult {
    match command {
        Command::Plan(args) => plan::cmd_plan(ctx, &args),
        Command::Apply(args) => apply::cmd_apply(ctx, &args),
        Command::Status(args) => status::cmd_status(ctx, &args),
        Command::Check(args) => check::cmd_check(ctx, &args),
        Command::Update(args) => update::cmd_update(ctx, &args),
        Command::Remove(args) => remove::cmd_remove(ctx, &args),
        Command::Push(args) => push::cmd_push(ctx, &args),
        Command::Sync(args) => sync::cmd_sync(ctx, &args),
        Command::ListModules(args) => list_modules::cmd_list_modules(ctx, &args),
        Command::Hooks(args) => hooks::cmd_hooks(ctx, &args),
        Command::Undo(args) => undo::cmd_undo(ctx, &args),
        Command::Completions(args) => completions::cmd_completions(ctx, &args),
        Command::Man(args) => man::cmd_man(ctx, &args),
    }
}

/// The clap definition, for completions, the man page and the CLI reference.
pub fn command() -> clap::Command {
    Cli::command()
}

/// Finds the project, finishes any interrupted operation, and loads the
/// desired and applied state.
pub fn open_workspace(ctx: &Context) -> Result<crate::engine::Workspace, CliError> {
    let catalog = ctx.catalog()?;
    let dir = project::require(&ctx.cwd)?;
    let path = dir.config_path();
    let display = path
        .strip_prefix(&ctx.cwd)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.display().to_string());
    let config = crate::config::ConfigFile::load(&path, &display, &catalog)?;
    if let Some(git) =
        crate::git::Git::open_at_root(&dir.root).map_err(|e| CliError::from_error(&e, None))?
        && let Some(r) = crate::txn::recover(&git).map_err(|e| {
            let hint = e.hint();
            CliError::from_error(&e, hint)
        })?
    {
        ctx.ui.warn(&format!(
            "an interrupted `git quickscale {}` (pid {}) was found; it has been rolled back to {}",
            r.operation,
            r.pid,
            r.head.as_deref().unwrap_or("the state before it started")
        ));
    }
    crate::engine::Workspace::open(dir.root, config, catalog).map_err(apply::engine_error)
}

/// Shows engine progress: a spinner while fetching, a line per commit.
pub struct EventView<'u> {
    ui: &'u crate::ui::Ui,
    spinner: Option<indicatif::ProgressBar>,
}

impl<'u> EventView<'u> {
    pub fn new(ui: &'u crate::ui::Ui) -> Self {
        Self { ui, spinner: None }
    }

    pub fn show(&mut self, event: crate::engine::Event) {
        use crate::engine::Event;
        match event {
            Event::Generating { files } => self
                .ui
                .status(&format!("Generating the project ({files} files)")),
            Event::Fetching {
                module,
                url,
                git_ref,
            } => {
                let bar = indicatif::ProgressBar::new_spinner();
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                bar.set_message(format!("fetching {module} from {url} at {git_ref}"));
                bar.enable_steady_tick(std::time::Duration::from_millis(100));
                self.spinner = Some(bar);
            }
            Event::Fetched { module, commit } => {
                if let Some(bar) = self.spinner.take() {
                    bar.finish_and_clear();
                }
                self.ui.status(&format!(
                    "Fetched {module} at {}",
                    &commit[..commit.len().min(12)]
                ));
            }
            Event::Committed { id, summary } => {
                self.ui
                    .status(&format!("Committed {} {summary}", &id[..id.len().min(12)]));
            }
            Event::WritingFiles { count } => self.ui.status(&format!("Writing {count} file(s)")),
            Event::Done => {
                if let Some(bar) = self.spinner.take() {
                    bar.finish_and_clear();
                }
            }
        }
    }
}

impl Drop for EventView<'_> {
    fn drop(&mut self) {
        if let Some(bar) = self.spinner.take() {
            bar.finish_and_clear();
        }
    }
}

/// Removing a module keeps its tables: say so, with the command to drop them first.
pub fn print_database_notes(
    ctx: &Context,
    ws: &crate::engine::Workspace,
    plan: &crate::engine::Plan,
) {
    for name in &plan.remove {
        let labels: Vec<String> = ws
            .embedded_manifest(name)
            .ok()
            .flatten()
            .map(|m| m.django_apps)
            .unwrap_or_default()
            .into_iter()
            .filter(|a| !a.starts_with("django.") && a.contains(name))
            .map(|a| a.rsplit('.').next().unwrap_or(&a).to_owned())
            .collect();
        ctx.ui.warn(&format!(
            "module {name}'s database tables remain in your database; git quickscale never touches data"
        ));
        if labels.is_empty() {
            ctx.ui.hint(
                "to drop them, unapply the module's migrations before removing it: python manage.py migrate <app_label> zero",
            );
        }
        for label in labels {
            ctx.ui.hint(&format!(
                "to drop them, unapply its migrations before removing it: python manage.py migrate {label} zero"
            ));
        }
    }
}

/// The error for commands that a later release provides.
pub fn not_available(command: &str) -> CliError {
    CliError::new(format!(
        "`git quickscale {command}` is not available yet in this version"
    ))
    .hint("see docs/user-guide.md for what this version can do")
}

/// The CLI reference (docs/cli-reference.md), generated from the clap
/// definition so help text and docs cannot drift apart.
pub fn markdown_reference() -> String {
    fn walk(cmd: &mut clap::Command, path: &str, out: &mut String) {
        let title = if path.is_empty() {
            "git quickscale".to_owned()
        } else {
            format!("git quickscale {path}")
        };
        let depth = if path.is_empty() { "#" } else { "##" };
        out.push_str(&format!("{depth} `{title}`\n\n```text\n"));
        let help = cmd.render_long_help().to_string();
        for line in help.lines() {
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out.push_str("```\n\n");
        let names: Vec<String> = cmd
            .get_subcommands()
            .filter(|s| s.get_name() != "help")
            .map(|s| s.get_name().to_owned())
            .collect();
        for name in names {
            if let Some(sub) = cmd.find_subcommand_mut(&name) {
                let sub_path = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path} {name}")
                };
                let mut sub = sub.clone().bin_name(format!("git quickscale {sub_path}"));
                walk(&mut sub, &sub_path, out);
            }
        }
    }
    let mut out = String::from(
        "<!-- Generated from the clap definition by `cargo test --test docs`; do not edit.\n     Regenerate with: UPDATE_DOCS=1 cargo test --test docs -->\n\n",
    );
    let mut cmd = command().term_width(100);
    cmd.build();
    walk(&mut cmd, "", &mut out);
    out.trim_end().to_owned() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_app() {
        Cli::command().debug_assert();
    }
}
