//! `git quickscale status`.

use super::{CmdResult, Context, not_available};

/// Show modules, their sources and versions, and differences from quickscale.yml
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  git quickscale status")]
pub struct StatusArgs {}

pub fn cmd_status(_ctx: &Context, _args: &StatusArgs) -> CmdResult {
    Err(not_available("status"))
}
