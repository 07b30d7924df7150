//! `git quickscale undo`.

use super::{CmdResult, Context, not_available};

/// Revert the last writing operation of git quickscale
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  git quickscale undo")]
pub struct UndoArgs {}

pub fn cmd_undo(_ctx: &Context, _args: &UndoArgs) -> CmdResult {
    Err(not_available("undo"))
}
