//! `git quickscale remove`.

use super::{CmdResult, Context, not_available};

/// Remove an embedded module, its wiring and its quickscale.yml entry
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  git quickscale remove")]
pub struct RemoveArgs {}

pub fn cmd_remove(_ctx: &Context, _args: &RemoveArgs) -> CmdResult {
    Err(not_available("remove"))
}
