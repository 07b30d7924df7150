//! `git quickscale undo`.

use super::{CmdResult, Context};
use crate::engine::undo;
use crate::error::{CliError, exit};
use crate::ui::Tone;

/// Revert the last writing operation of git quickscale
///
/// Moves the branch, index and worktree back to where they were before the
/// operation that made HEAD (`apply`, `remove`), when nothing was committed
/// on top of it since; run it again to step further back. quickscale.yml
/// gets your text back as it was before that operation (an uncommitted
/// change where it differs). Uncommitted changes in the paths it would
/// restore make it refuse.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  git quickscale undo")]
pub struct UndoArgs {}

pub fn cmd_undo(ctx: &Context, _args: &UndoArgs) -> CmdResult {
    let ws = super::open_for_write(ctx)?;
    let undone = undo::undo(&ws).map_err(|e| {
        let hint = e.hint();
        CliError::from_error(&e, hint)
    })?;
    ctx.ui.status_styled(
        Tone::Ok,
        &format!(
            "Undid `git quickscale {}` (\"{}\"); HEAD is back at {}",
            undone.operation,
            undone.summary,
            undone.head.to_hex_with_len(12)
        ),
    );
    Ok(exit::OK)
}
