//! `git quickscale recover`: finish an interrupted operation.

use super::{CmdResult, Context};
use crate::engine::recover::{self, RecoverOutcome};
use crate::error::exit;
use crate::ui::Tone;

/// Finish an operation that was interrupted (killed, power loss)
///
/// Completes the operation when it had already moved the branch, and rolls
/// it back otherwise — touching only files and refs that still hold what the
/// operation left there. When something changed since (a commit, an edit),
/// it stops and lists it; `--forget` then drops the record and keeps
/// everything as it is. Every writing command does this first; reading
/// commands only report it.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  git quickscale recover
  git quickscale recover --forget   # keep everything as it is now")]
pub struct RecoverArgs {
    /// Drop the record of the interrupted operation and keep everything as it is now
    #[arg(long)]
    pub forget: bool,
}

pub fn cmd_recover(ctx: &Context, args: &RecoverArgs) -> CmdResult {
    let dir = super::project_dir(ctx)?;
    let recovery = recover::recover(&dir.root, args.forget).map_err(super::apply::engine_error)?;
    match recovery.outcome {
        RecoverOutcome::NoRepository => ctx
            .ui
            .status("Nothing to recover: there is no repository yet."),
        RecoverOutcome::Forgot(Some(op)) => ctx.ui.status_styled(
            Tone::Ok,
            &format!(
                "Dropped the record of the interrupted `git quickscale {op}`; nothing else was changed."
            ),
        ),
        RecoverOutcome::Recovered(Some(r)) => super::report_recovery(ctx, Some(r)),
        RecoverOutcome::Forgot(None) | RecoverOutcome::Recovered(None) => {
            ctx.ui.status("Nothing to recover.")
        }
    }
    // A paused update is not interrupted: it waits for the user.
    if let Some(op) = recovery.paused {
        ctx.ui.warn(&format!(
            "a `git quickscale {op}` is paused with conflicts (recovery leaves it alone): resolve them and run `git quickscale {op} --continue`, or `git quickscale {op} --abort`"
        ));
    }
    Ok(exit::OK)
}
