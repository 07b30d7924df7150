//! `git quickscale remove`: one commit that removes a module.

use super::{CmdResult, Context};
use crate::engine::{self, Event};
use crate::error::{CliError, exit};
use crate::ui::Tone;

/// Remove an embedded module, its wiring and its quickscale.yml entry
///
/// Makes one commit that deletes `modules/<name>/`, regenerates the managed
/// wiring and removes the module from quickscale.yml (the rest of the file
/// is kept byte-for-byte). The module's database tables are not touched.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  git quickscale remove crm --yes")]
pub struct RemoveArgs {
    /// The module to remove
    pub name: String,

    /// Do not ask for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,
}

pub fn cmd_remove(ctx: &Context, args: &RemoveArgs) -> CmdResult {
    let mut ws = super::open_for_write(ctx)?;
    let embedded = ws
        .applied
        .as_ref()
        .is_some_and(|a| a.modules.contains_key(&args.name));
    if !embedded {
        let names: Vec<String> = ws
            .applied
            .as_ref()
            .map(|a| a.modules.keys().cloned().collect())
            .unwrap_or_default();
        return Err(CliError::new(format!(
            "module {} is not embedded in this project",
            args.name
        ))
        .hint(if names.is_empty() {
            "no module is embedded".to_owned()
        } else {
            format!("embedded modules: {}", names.join(", "))
        }));
    }
    let leftovers = engine::remove::kept_leftovers(&ws, &args.name);
    let (plan, text) =
        engine::remove::plan_removal(&mut ws, &args.name).map_err(super::apply::engine_error)?;
    super::apply::show_plan(ctx, &plan);
    let asks = ctx.ui.is_interactive() && !args.yes;
    if asks {
        // Said before the question too: it may change the answer.
        super::print_database_notes(ctx, &plan);
    }
    if asks
        && !ctx
            .ui
            .confirm(&format!("Remove {}?", args.name), false, "--yes")?
    {
        ctx.ui.status("Nothing was written.");
        return Ok(exit::OK);
    }
    let python_before = engine::python::of_head(&ws).ok();
    let mut progress = super::EventView::new(&ctx.ui);
    let opts = engine::execute::ExecOptions::default();
    let outcome =
        engine::execute::execute(&mut ws, &plan, "remove", &text, opts, &mut |e: Event| {
            progress.show(e)
        })
        .map_err(super::apply::engine_error)?;
    super::apply::show_commits(ctx, &outcome);
    ctx.ui.status_styled(
        Tone::Ok,
        &format!(
            "Removed {}; HEAD is {}",
            args.name,
            outcome.head.to_hex_with_len(12)
        ),
    );
    super::apply::python_notes(ctx, &ws.root, &outcome, python_before.as_ref(), false);
    database_advice_after(ctx, &plan);
    kept_leftovers_after(ctx, &args.name, &leftovers);
    Ok(exit::OK)
}

/// The lines of the user's settings/upstream_settings.py that still
/// install the removed module's apps (Django fails to start until they go).
fn kept_leftovers_after(ctx: &Context, name: &str, leftovers: &[engine::remove::KeptLeftover]) {
    for l in leftovers {
        ctx.ui.warn(&format!(
            "{}:{}: `{}` (module {name}, removed) is still installed from this file: Django still loads it, and fails to start without its package",
            l.path, l.line, l.entry
        ));
    }
    if let Some(first) = leftovers.first() {
        ctx.ui.hint(&format!(
            "delete those lines from {} (yours: adopt kept upstream's wiring there), or delete the file if nothing in it is still needed",
            first.path
        ));
    }
}

/// What to do about the tables a removal left, said last, when the
/// module's code (and so its migrations) is already gone.
fn database_advice_after(ctx: &Context, plan: &engine::Plan) {
    for name in &plan.remove {
        ctx.ui.warn(&format!(
            "module {name}'s database tables remain in your database; git quickscale never touches data"
        ));
        let labels = plan.tables.get(name).cloned().unwrap_or_default();
        let labels = if labels.is_empty() {
            vec!["<app_label>".to_owned()]
        } else {
            labels
        };
        let migrate: Vec<String> = labels
            .iter()
            .map(|l| format!("python manage.py migrate {l} zero"))
            .collect();
        ctx.ui.hint(&format!(
            "to drop them, the migrations must be unapplied while the module is there: `git quickscale undo`, then `{}`, then `git quickscale remove {name}` again",
            migrate.join(" && ")
        ));
    }
}
