//! `git quickscale extract`: a Django app of the project becomes a module.

use super::{CmdResult, Context};
use crate::engine::extract::{self, Destination, ExtractError, ExtractPlan};
use crate::error::{CliError, exit};
use crate::ui::Tone;

/// Turn a Django app of the project into a module
///
/// Splits the history of the app's directory into a module repository (the
/// app keeps its package name under the module's root, so imports, the app
/// label, migrations and tables stay the same), writes a minimal module.yml
/// — a best effort to review: the INSTALLED_APPS entry, the URL includes of
/// `<app>.urls`, and the settings the app reads that are named after it —
/// and publishes it to `--to URL` (branch main) or to the branch
/// splits/<name>-module. Then, in one transaction, the project embeds the
/// module at modules/<name>/, drops the app directory and the
/// INSTALLED_APPS and URL lines that the managed wiring now provides, and
/// adds the module to quickscale.yml.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  git quickscale extract blog --as blog --dry-run
  git quickscale extract blog --as blog --yes
  git quickscale extract blog --as blog --to git@github.com:me/blog-module.git --yes")]
pub struct ExtractArgs {
    /// The app's directory (a Python package at the project's root)
    pub path: String,

    /// The module's name (its directory becomes modules/<name>)
    #[arg(long = "as", value_name = "NAME")]
    pub name: String,

    /// Push the module's history to this repository (branch main) instead of a local branch
    #[arg(long, value_name = "URL")]
    pub to: Option<String>,

    /// Show what would be done; change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Do not ask for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,
}

pub fn cmd_extract(ctx: &Context, args: &ExtractArgs) -> CmdResult {
    let ws = super::open_for_write(ctx)?;
    let path = relative_to_root(ctx, &ws.root, &args.path);
    let plan =
        extract::plan_extract(&ws, &path, &args.name, args.to.as_deref()).map_err(extract_error)?;
    show_plan(ctx, &plan);
    if args.dry_run {
        ctx.ui.status("Dry run: nothing was changed.");
        return Ok(exit::OK);
    }
    if !args.yes
        && !ctx.ui.confirm(
            &format!("Extract {} into module {}?", plan.app, plan.name),
            false,
            "--yes",
        )?
    {
        ctx.ui.status("Nothing was changed.");
        return Ok(exit::OK);
    }
    let done = extract::extract(&ws, &plan, ctx.ui.is_interactive()).map_err(extract_error)?;
    for (id, summary) in &done.commits {
        ctx.ui
            .status(&format!("Committed {} {summary}", id.to_hex_with_len(12)));
    }
    ctx.ui.status_styled(
        Tone::Ok,
        &format!(
            "Extracted {} into module {}; HEAD is {}",
            plan.app,
            plan.name,
            done.head.to_hex_with_len(12)
        ),
    );
    if !done.leftovers.is_empty() {
        ctx.ui.warn(&format!(
            "{}/ still holds files git does not track ({}); they were kept, but Python would import `{}` from there instead of the module: move them away",
            plan.app,
            done.leftovers.join(", "),
            plan.app
        ));
    }
    ctx.ui.hint(&format!(
        "the app is now installed from {}: run `pip install -r requirements-modules.txt`, then review {}/module.yml",
        plan.prefix, plan.prefix
    ));
    Ok(exit::OK)
}

/// `path` as given on the command line, relative to the project's root.
fn relative_to_root(ctx: &Context, root: &std::path::Path, path: &str) -> String {
    let abs = ctx.cwd.join(path);
    let canonical = |p: &std::path::Path| p.canonicalize().unwrap_or_else(|_| p.to_owned());
    match canonical(&abs).strip_prefix(canonical(root)) {
        Ok(rel) => rel.to_string_lossy().replace('\\', "/"),
        Err(_) => path.to_owned(),
    }
}

fn show_plan(ctx: &Context, plan: &ExtractPlan) {
    let to = match &plan.destination {
        Destination::Branch(b) => format!("branch {b} of this repository"),
        Destination::Remote { url, branch, .. } => format!("{url} (branch {branch})"),
    };
    ctx.ui.out_styled(
        Tone::Bold,
        &format!("Extract {}/ into module {}:", plan.app, plan.name),
    );
    ctx.ui.out(&format!(
        "  module history: {} commit(s), published to {to}",
        plan.module_history
    ));
    ctx.ui
        .out("  module.yml (written from the project's code, a best effort to review):");
    for line in plan.manifest.lines().filter(|l| !l.starts_with('#')) {
        ctx.ui.out(&format!("    {line}"));
    }
    ctx.ui.out("  the project:");
    ctx.ui.out_styled(
        Tone::Added,
        &format!("    + {}/ (the module, as a squashed subtree)", plan.prefix),
    );
    ctx.ui.out_styled(
        Tone::Removed,
        &format!("    - {}/ (moved into the module)", plan.app),
    );
    for r in &plan.removed {
        ctx.ui.out_styled(
            Tone::Removed,
            &format!("    - {}:{}: {}", r.file, r.line, r.text.trim()),
        );
    }
    ctx.ui.out_styled(
        Tone::Changed,
        &format!(
            "    ~ quickscale.yml: modules.{} (source {} at {}), and the managed wiring",
            plan.name, plan.source_url, plan.source_ref
        ),
    );
    if !plan.unowned.is_empty() {
        ctx.ui.warn(&format!(
            "the app also reads {}, which stay in the project's settings (not module options)",
            plan.unowned.join(", ")
        ));
    }
}

pub fn extract_error(e: ExtractError) -> CliError {
    let hint = e.hint();
    CliError::from_error(&e, hint)
}
