//! `git quickscale adopt`: take over a project made by upstream QuickScale.

use super::{CmdResult, Context};
use crate::engine::Event;
use crate::engine::adopt::{self, AdoptError, Prepared};
use crate::error::{CliError, exit};
use crate::ui::Tone;

/// Take over a project made by upstream QuickScale (`quickscale apply`)
///
/// Reads quickscale.yml, upstream's `.quickscale/state.yml` and
/// `.quickscale/config.yml` (every format upstream wrote, committed or not)
/// and the git-subtree trailers of each `modules/<name>`; shows what it
/// found, what it cannot verify and what it will do; then, in one commit,
/// records the state in a note and refs, regenerates the managed wiring and
/// retires upstream's files (kept as found in `refs/quickscale/adopted`).
/// User-owned files are never touched; no module or upstream code runs.
/// Then it installs the git hooks, as the apply that creates a project does
/// (`--no-hooks` skips that).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  git quickscale adopt --dry-run      # show the plan, write nothing
  git quickscale adopt --yes")]
pub struct AdoptArgs {
    /// Print the plan and stop before the first write
    #[arg(long)]
    pub dry_run: bool,

    /// Print the plan as JSON (on stdout; messages stay on stderr)
    #[arg(long)]
    pub json: bool,

    /// Do not ask for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Do not install the git hooks (the guard that keeps module changes and user code apart)
    #[arg(long)]
    pub no_hooks: bool,
}

pub fn cmd_adopt(ctx: &Context, args: &AdoptArgs) -> CmdResult {
    // A first pass reads only, without the lock: what adopt refuses
    // leaves the repository byte for byte as it was.
    let (root, git, _, catalog) = super::open_unparsed(ctx, false)?;
    let mut prepared = if args.dry_run {
        let mut progress = super::EventView::new(&ctx.ui);
        adopt::prepare(root, git, None, catalog, &mut |e: Event| progress.show(e))
    } else {
        adopt::prepare(root, git, None, catalog, &mut |_| {})
    }
    .map_err(adopt_error)?;
    if !args.dry_run && matches!(prepared, Prepared::Ready(_)) {
        // Then again under the lock, as every writing command reads.
        drop(prepared);
        let (root, git, lock, catalog) = super::open_unparsed(ctx, true)?;
        let mut progress = super::EventView::new(&ctx.ui);
        prepared = adopt::prepare(root, git, lock, catalog, &mut |e: Event| progress.show(e))
            .map_err(adopt_error)?;
    }
    let adoption = match prepared {
        Prepared::NothingToAdopt { leftovers } => {
            if args.json {
                ctx.ui.out(&json(&serde_json::json!({
                    "schema": 1,
                    "nothing_to_adopt": true,
                    "leftovers": leftovers,
                }))?);
            }
            for l in &leftovers {
                ctx.ui.warn(&format!(
                    "{l} is a file of upstream QuickScale's, found after the adoption; git quickscale ignores it (delete it if upstream's CLI is no longer used)"
                ));
            }
            if !args.json {
                ctx.ui.out_styled(
                    Tone::Ok,
                    "Nothing to adopt: the project's state is already recorded by git quickscale.",
                );
            }
            return Ok(exit::OK);
        }
        Prepared::Ready(a) => *a,
    };
    if args.json {
        let mut value = serde_json::to_value(&adoption.survey)
            .map_err(|e| CliError::new(format!("cannot render JSON: {e}")))?;
        if let Some(map) = value.as_object_mut() {
            map.insert("schema".into(), serde_json::json!(1));
        }
        ctx.ui.out(&json(&value)?);
    } else {
        for line in adopt::lines(&adoption.survey) {
            ctx.ui.out(&line);
        }
    }
    if args.dry_run {
        ctx.ui.status("Dry run: nothing was written.");
        return Ok(exit::OK);
    }
    if ctx.ui.is_interactive()
        && !args.yes
        && !ctx.ui.confirm("Adopt this project?", true, "--yes")?
    {
        ctx.ui.status("Nothing was written.");
        return Ok(exit::OK);
    }
    let root = adoption.ws.root.clone();
    let mut progress = super::EventView::new(&ctx.ui);
    let outcome = adopt::run(adoption, &mut |e: Event| progress.show(e)).map_err(adopt_error)?;
    drop(progress);
    super::apply::show_commits(ctx, &outcome);
    ctx.ui.status_styled(
        Tone::Ok,
        &format!(
            "Adopted: {} module(s) recorded; HEAD is {}. `git quickscale status` shows the project.",
            outcome.state.modules.len(),
            outcome.head.to_hex_with_len(12)
        ),
    );
    if !args.no_hooks {
        super::hooks::install_after_apply(ctx, &root);
    }
    Ok(exit::OK)
}

fn adopt_error(e: AdoptError) -> CliError {
    let hint = e.hint();
    CliError::from_error(&e, hint)
}

fn json(value: &serde_json::Value) -> Result<String, CliError> {
    crate::escape::json(value).map_err(|e| CliError::new(format!("cannot render JSON: {e}")))
}
