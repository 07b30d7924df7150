//! `git quickscale undo`.

use super::{CmdResult, Context};
use crate::engine::undo;
use crate::error::{CliError, exit};
use crate::ui::Tone;

/// Revert the last writing operation of git quickscale
///
/// Moves the branch, index and worktree back to where they were before the
/// last `apply` or `remove`, when nothing was committed on top of it since.
/// Uncommitted changes in the paths it would restore make it refuse.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  git quickscale undo")]
pub struct UndoArgs {}

pub fn cmd_undo(ctx: &Context, _args: &UndoArgs) -> CmdResult {
    let ws = super::open_workspace(ctx)?;
    let head = undo::undo(&ws).map_err(|e| {
        let hint = e.hint();
        CliError::from_error(&e, hint)
    })?;
    ctx.ui.status_styled(
        Tone::Ok,
        &format!("Undone; HEAD is back at {}", &head.to_string()[..12]),
    );
    Ok(exit::OK)
}
