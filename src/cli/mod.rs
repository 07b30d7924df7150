//! The command line: one file per command, each thin (parse, call the
//! domain, render). This module holds the definition and the one dispatch.

mod adopt;
mod apply;
mod check;
mod completions;
mod extract;
mod hooks;
mod list_modules;
mod man;
mod plan;
mod push;
mod recover;
mod remove;
mod split;
mod status;
mod sync;
mod undo;
mod update;

use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand};

use crate::catalog::Catalog;
use crate::engine::recover::{Pending, Recovered};
use crate::engine::session::{Mode, WriteSession};
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
    Adopt(adopt::AdoptArgs),
    Status(status::StatusArgs),
    Check(check::CheckArgs),
    Update(update::UpdateArgs),
    Remove(remove::RemoveArgs),
    Push(push::PushArgs),
    Split(split::SplitArgs),
    Extract(extract::ExtractArgs),
    Sync(sync::SyncArgs),
    ListModules(list_modules::ListModulesArgs),
    Hooks(hooks::HooksArgs),
    Undo(undo::UndoArgs),
    Recover(recover::RecoverArgs),
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

/// The catalog, the project directory and its repository, which is opened
/// once (the catalog's `quickscale.index` settings come from its
/// configuration). Errors come in the order they always did: the catalog's,
/// then the project's, then the repository's.
fn open_project(
    ctx: &Context,
) -> Result<(Catalog, project::ProjectDir, Option<crate::git::Git>), CliError> {
    let dir = project_dir(ctx);
    let git = dir
        .as_ref()
        .ok()
        .map(|d| crate::git::Git::open_at_root(&d.root));
    open_project_with(ctx, dir, git)
}

/// [`open_project`] with the directory found and the repository opened
/// already (by `status`, for its cache key).
fn open_project_with(
    ctx: &Context,
    dir: Result<project::ProjectDir, CliError>,
    git: Option<Result<Option<crate::git::Git>, crate::git::GitError>>,
) -> Result<(Catalog, project::ProjectDir, Option<crate::git::Git>), CliError> {
    let catalog = match &git {
        Some(Ok(Some(git))) => project::load_catalog_in(git, &ctx.index_overrides)?,
        _ => ctx.catalog()?,
    };
    let dir = dir?;
    let git = match git {
        Some(git) => git.map_err(|e| CliError::from_error(&e, e.hint()))?,
        None => None,
    };
    Ok((catalog, dir, git))
}

/// What a command reports back: its exit code (errors go through `CliError`).
pub type CmdResult = Result<u8, CliError>;

/// Parses the arguments, runs the command, prints any error.
pub fn main() -> u8 {
    let ui = Ui::new();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let (index, command) = match fast_path(&args) {
        Some(Fast::Version) => {
            ui.out(&version_line());
            return exit::OK;
        }
        Some(Fast::Command(command)) => (Vec::new(), *command),
        None => match Cli::try_parse_from(&args) {
            Ok(cli) => (cli.index, cli.command),
            Err(e) => {
                let code = if e.use_stderr() {
                    exit::ERROR
                } else {
                    exit::OK
                };
                let _ = e.print();
                return code;
            }
        },
    };
    let result = project::current_dir()
        .map_err(CliError::from)
        .and_then(|cwd| {
            let ctx = Context {
                ui,
                cwd,
                index_overrides: index,
            };
            let code = run(&ctx, command);
            if let Err(e) = &code {
                ctx.ui.error(e);
            }
            code
        });
    match result {
        Ok(code) => code,
        Err(e) => e.code,
    }
}

/// What [`fast_path`] recognised.
#[derive(Debug)]
enum Fast {
    Version,
    Command(Box<Command>),
}

/// The invocations that run most often, parsed by hand so they skip
/// building clap's whole command tree (every subcommand, every argument and
/// its help text): `--version`, `hooks run <hook>` as the installed
/// hooks call it on every commit and push, and a bare `status` (or
/// `status --json`), which people and prompts run most. Anything else (an option, a
/// hyphenated hook argument, a non-UTF-8 argument) goes to clap, which
/// parses these the same way (tests below compare the two).
fn fast_path(args: &[std::ffi::OsString]) -> Option<Fast> {
    let args: Vec<&str> = args
        .iter()
        .skip(1)
        .map(|a| a.to_str())
        .collect::<Option<_>>()?;
    match args.as_slice() {
        ["--version" | "-V"] => Some(Fast::Version),
        [
            "hooks",
            "run",
            hook @ ("pre-commit" | "pre-merge-commit" | "pre-push"),
            rest @ ..,
        ] if rest.iter().all(|a| !a.starts_with('-')) => {
            Some(Fast::Command(Box::new(Command::Hooks(hooks::HooksArgs {
                command: hooks::HooksCommand::Run(hooks::RunArgs {
                    hook: (*hook).to_owned(),
                    args: rest.iter().map(|a| (*a).to_owned()).collect(),
                }),
            }))))
        }
        ["status"] | ["status", "--json"] => Some(Fast::Command(Box::new(Command::Status(
            status::StatusArgs {
                json: args.len() == 2,
                repair_state: false,
                class: Vec::new(),
                remote: false,
            },
        )))),
        _ => None,
    }
}

/// What `--version` prints (clap's format: the command name and version).
fn version_line() -> String {
    format!("git-quickscale {}", env!("CARGO_PKG_VERSION"))
}

fn run(ctx: &Context, command: Command) -> CmdResult {
    match command {
        Command::Plan(args) => plan::cmd_plan(ctx, &args),
        Command::Apply(args) => apply::cmd_apply(ctx, &args),
        Command::Adopt(args) => adopt::cmd_adopt(ctx, &args),
        Command::Status(args) => status::cmd_status(ctx, &args),
        Command::Check(args) => check::cmd_check(ctx, &args),
        Command::Update(args) => update::cmd_update(ctx, &args),
        Command::Remove(args) => remove::cmd_remove(ctx, &args),
        Command::Push(args) => push::cmd_push(ctx, &args),
        Command::Split(args) => split::cmd_split(ctx, &args),
        Command::Extract(args) => extract::cmd_extract(ctx, &args),
        Command::Sync(args) => sync::cmd_sync(ctx, &args),
        Command::ListModules(args) => list_modules::cmd_list_modules(ctx, &args),
        Command::Hooks(args) => hooks::cmd_hooks(ctx, &args),
        Command::Undo(args) => undo::cmd_undo(ctx, &args),
        Command::Recover(args) => recover::cmd_recover(ctx, &args),
        Command::Completions(args) => completions::cmd_completions(ctx, &args),
        Command::Man(args) => man::cmd_man(ctx, &args),
    }
}

/// The clap definition, for completions, the man page and the CLI reference.
pub fn command() -> clap::Command {
    Cli::command()
}

/// The project root: GIT_DIR/GIT_WORK_TREE when git set them (as in hooks
/// and `GIT_DIR=… git quickscale`), else the nearest quickscale.yml.
fn project_dir(ctx: &Context) -> Result<project::ProjectDir, CliError> {
    if std::env::var_os("GIT_DIR").is_some()
        && let Some(workdir) = crate::git::Git::discover_workdir(&ctx.cwd)
    {
        return Ok(project::require(&workdir)?);
    }
    Ok(project::require(&ctx.cwd)?)
}

fn load_config(
    ctx: &Context,
    dir: &project::ProjectDir,
    catalog: &Catalog,
) -> Result<crate::config::ConfigFile, CliError> {
    let path = dir.config_path();
    let display = path
        .strip_prefix(&ctx.cwd)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.display().to_string());
    crate::config::ConfigFile::load(&path, &display, catalog).map_err(|e| {
        let upstream = crate::upstream::files::RETIRED
            .iter()
            .any(|f| dir.root.join(f).exists());
        let err = CliError::from(e);
        if upstream {
            // Upstream's older quickscale.yml (`project.name`) is not this tool's.
            err.hint("this project was made by upstream QuickScale: `git quickscale adopt --dry-run` shows how git quickscale takes it over (and converts quickscale.yml)")
        } else {
            err
        }
    })
}

/// Opens the project for a command that only reads: nothing is written,
/// not even to finish an interrupted operation (that is said instead).
pub fn open_for_read(ctx: &Context) -> Result<crate::engine::Workspace, CliError> {
    read_workspace(ctx, open_project(ctx)?)
}

/// [`open_for_read`] of a project whose repository is open already.
pub fn open_for_read_with(
    ctx: &Context,
    dir: project::ProjectDir,
    git: crate::git::Git,
) -> Result<crate::engine::Workspace, CliError> {
    read_workspace(ctx, open_project_with(ctx, Ok(dir), Some(Ok(Some(git))))?)
}

fn read_workspace(
    ctx: &Context,
    (catalog, dir, git): (Catalog, project::ProjectDir, Option<crate::git::Git>),
) -> Result<crate::engine::Workspace, CliError> {
    if let Some(git) = &git {
        warn_interrupted(ctx, git);
    }
    let config = load_config(ctx, &dir, &catalog)?;
    let ws = crate::engine::Workspace::open(dir.root, config, catalog, git, None)
        .map_err(apply::engine_error)?;
    warn_state(ctx, &ws);
    Ok(ws)
}

/// Opens the project for a writing command: takes the lock, refuses in the
/// middle of git's own work, finishes an interrupted operation, and only
/// then reads quickscale.yml and the state.
pub fn open_for_write(ctx: &Context) -> Result<crate::engine::Workspace, CliError> {
    open_writing(ctx, false)
}

/// [`open_for_write`] for `update --continue/--abort`: a paused update is
/// what they work on (its merge state is ours, not git's own work).
pub fn open_for_write_paused(ctx: &Context) -> Result<crate::engine::Workspace, CliError> {
    open_writing(ctx, true)
}

fn open_writing(ctx: &Context, resume: bool) -> Result<crate::engine::Workspace, CliError> {
    let (catalog, dir, git) = open_project(ctx)?;
    let git = git.map(crate::git::Git::for_writing);
    let mut lock = None;
    if let Some(git) = &git {
        let mode = if resume { Mode::Resume } else { Mode::Write };
        lock = Some(start_session(ctx, git, mode)?);
    }
    let config = load_config(ctx, &dir, &catalog)?;
    let ws = crate::engine::Workspace::open(dir.root, config, catalog, git, lock)
        .map_err(apply::engine_error)?;
    warn_state(ctx, &ws);
    Ok(ws)
}

/// Opens the project without reading quickscale.yml as this tool's (`adopt`
/// reads upstream's formats itself): the root, the repository, the lock
/// when `write` (taken, and any interrupted operation finished, as for
/// every writing command) and the catalog.
pub fn open_unparsed(
    ctx: &Context,
    write: bool,
) -> Result<(PathBuf, crate::git::Git, Option<WriteSession>, Catalog), CliError> {
    let catalog = ctx.catalog()?;
    let dir = project_dir(ctx)?;
    let git = crate::git::Git::open_at_root(&dir.root)
        .map_err(|e| CliError::from_error(&e, e.hint()))?
        .ok_or_else(|| {
            CliError::new(format!("`{}` is not a git repository", dir.root.display()))
                .hint("upstream QuickScale commits every project it makes; run the command in its repository")
        })?;
    let mut lock = None;
    if write {
        lock = Some(start_session(ctx, &git, Mode::Write)?);
    } else {
        warn_interrupted(ctx, &git);
    }
    Ok((dir.root, git, lock, catalog))
}

/// Opens the write session (engine::session) and says what it found.
pub fn start_session(
    ctx: &Context,
    git: &crate::git::Git,
    mode: Mode,
) -> Result<WriteSession, CliError> {
    let opened = crate::engine::session::open_for_write(git, mode).map_err(apply::engine_error)?;
    Ok(render_opened(ctx, opened))
}

/// Says what opening a write session found; the session goes on.
pub fn render_opened(ctx: &Context, opened: crate::engine::session::Opened) -> WriteSession {
    report_recovery(ctx, opened.recovered);
    for w in &opened.warnings {
        ctx.ui.warn(w);
    }
    opened.session
}

/// Reads never repair: they say that an interrupted operation waits.
pub fn warn_interrupted(ctx: &Context, git: &crate::git::Git) {
    render_pending(ctx, &crate::engine::recover::pending(git));
}

/// Says what waits for the user.
pub fn render_pending(ctx: &Context, pending: &[Pending]) {
    for pending in pending {
        match pending {
            Pending::Paused {
                operation,
                conflicted,
            } => ctx.ui.warn(&format!(
                "a `git quickscale {operation}` is paused with conflicts in {conflicted} file(s): resolve them and run `git quickscale {operation} --continue` (or `--abort`)"
            )),
            Pending::Interrupted { operation } => ctx.ui.warn(&format!(
                "an interrupted `git quickscale {operation}` was found; what is shown may be half-done: run `git quickscale recover` to finish it"
            )),
        }
    }
}

/// Says what recovery did.
pub fn report_recovery(ctx: &Context, recovered: Option<Recovered>) {
    match recovered {
        Some(Recovered::RolledBack { operation }) => ctx.ui.warn(&format!(
            "an interrupted `git quickscale {operation}` was found; it has been rolled back: the repository is as it was before it started"
        )),
        Some(Recovered::Completed { operation }) => ctx.ui.warn(&format!(
            "an interrupted `git quickscale {operation}` was found; it had already moved the branch, so it has been completed"
        )),
        None => {}
    }
}

/// One line when a note was ignored, or when upstream QuickScale's state
/// files say the project is not adopted yet.
fn warn_state(ctx: &Context, ws: &crate::engine::Workspace) {
    if !ws.from_note()
        && crate::upstream::files::RETIRED
            .iter()
            .any(|f| ws.root.join(f).exists())
    {
        ctx.ui.warn(
            "this project was made by upstream QuickScale (.quickscale/ holds its state files): `git quickscale adopt --dry-run` shows how git quickscale takes it over",
        );
    }
    if let Some(why) = ws.origin.derived().and_then(|d| d.ignored_note.as_ref()) {
        ctx.ui.warn(&format!(
            "{why}; the state is derived from the tree (`git quickscale status --repair-state` rewrites the note)"
        ));
    }
}

/// Shows engine progress: a spinner while fetching, a line per commit.
pub struct EventView<'u> {
    ui: &'u crate::ui::Ui,
    spinner: Option<indicatif::ProgressBar>,
    /// Warnings already shown (e.g. with the plan), not repeated.
    shown: std::collections::BTreeSet<String>,
}

/// A spinner on stderr saying `message`; it ticks (a thread) only when
/// stderr is a terminal that shows it.
fn spinner(message: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    bar.set_message(crate::escape::safe_text(message).into_owned());
    if !bar.is_hidden() {
        bar.enable_steady_tick(std::time::Duration::from_millis(100));
    }
    bar
}

impl<'u> EventView<'u> {
    pub fn new(ui: &'u crate::ui::Ui) -> Self {
        Self {
            ui,
            spinner: None,
            shown: Default::default(),
        }
    }

    /// Marks warnings as already shown.
    pub fn shown(mut self, warnings: impl IntoIterator<Item = String>) -> Self {
        self.shown.extend(warnings);
        self
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
                self.spinner = Some(spinner(&format!(
                    "fetching {module} from {url} at {git_ref}"
                )));
            }
            Event::Fetched { module, commit } => {
                if let Some(bar) = self.spinner.take() {
                    bar.finish_and_clear();
                }
                if commit.is_empty() {
                    self.ui.status(&format!("Fetched {module}"));
                } else {
                    self.ui.status(&format!(
                        "Fetched {module} at {}",
                        &commit[..commit.len().min(12)]
                    ));
                }
            }
            Event::Listing { url, modules } => {
                if let Some(bar) = self.spinner.take() {
                    bar.finish_and_clear();
                }
                self.spinner = Some(spinner(&format!(
                    "listing the versions of {url} ({modules} module{})",
                    if modules == 1 { "" } else { "s" }
                )));
            }
            Event::Merging { module } => {
                if let Some(bar) = self.spinner.take() {
                    bar.finish_and_clear();
                }
                self.ui.status(&format!("Merging {module}"));
            }
            Event::UpToDate {
                module,
                git_ref,
                why,
            } => {
                if let Some(bar) = self.spinner.take() {
                    bar.finish_and_clear();
                }
                self.ui
                    .status(&format!("{module} {git_ref}: up to date ({why})"));
            }
            Event::MergeCommitted => self.ui.status(
                "The merge was committed with `git commit`; adding the wiring and the state",
            ),
            Event::Warning(text) => {
                if !self.shown.insert(text.clone()) {
                    return;
                }
                if let Some(bar) = &self.spinner {
                    bar.suspend(|| self.ui.warn(&text));
                } else {
                    self.ui.warn(&text);
                }
            }
            // A line of the plan, on stderr like the progress around it
            // (stdout may be JSON).
            Event::Resolved { module, how } => {
                let line = format!("  ~ {module}: {how}");
                if let Some(bar) = &self.spinner {
                    bar.suspend(|| self.ui.status(&line));
                } else {
                    self.ui.status(&line);
                }
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

/// Removing a module keeps its tables: said with the plan, before any question.
pub fn print_database_notes(ctx: &Context, plan: &crate::engine::Plan) {
    for name in &plan.remove {
        ctx.ui.warn(&format!(
            "module {name}'s database tables remain in your database; git quickscale never touches data"
        ));
        let labels = plan.tables.get(name).cloned().unwrap_or_default();
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

    fn os(args: &[&str]) -> Vec<std::ffi::OsString> {
        std::iter::once("git-quickscale")
            .chain(args.iter().copied())
            .map(Into::into)
            .collect()
    }

    #[test]
    fn fast_version_is_what_clap_prints() {
        assert!(matches!(
            fast_path(&os(&["--version"])),
            Some(Fast::Version)
        ));
        assert!(matches!(fast_path(&os(&["-V"])), Some(Fast::Version)));
        let clap = Cli::command().render_version().to_string();
        assert_eq!(format!("{}\n", version_line()), clap);
    }

    /// The hand-parsed invocations give the same command as clap.
    #[test]
    fn fast_hook_run_is_what_clap_parses() {
        for args in [
            &["status"][..],
            &["status", "--json"],
            &["hooks", "run", "pre-commit"],
            &["hooks", "run", "pre-merge-commit"],
            &[
                "hooks",
                "run",
                "pre-push",
                "origin",
                "git@example.com:shop.git",
            ],
        ] {
            let Some(Fast::Command(fast)) = fast_path(&os(args)) else {
                panic!("{args:?} not on the fast path");
            };
            let clap = Cli::try_parse_from(os(args)).expect("clap parses");
            assert!(clap.index.is_empty());
            assert_eq!(
                format!("{fast:?}"),
                format!("{:?}", clap.command),
                "{args:?}"
            );
        }
    }

    /// Everything else is clap's: options, help, unknown hooks, other commands.
    #[test]
    fn fast_path_leaves_the_rest_to_clap() {
        for args in [
            &[][..],
            &["--help"],
            &["--version", "status"],
            &["status", "--class", "x"],
            &["status", "--json", "--remote"],
            &["status", "--help"],
            &["--index", "x.toml", "status"],
            &["--index", "x.toml", "hooks", "run", "pre-commit"],
            &["hooks", "run", "pre-commit", "--help"],
            &["hooks", "run", "pre-rebase"],
            &["hooks", "run"],
            &["hooks", "status"],
        ] {
            assert!(fast_path(&os(args)).is_none(), "{args:?}");
        }
    }
}
