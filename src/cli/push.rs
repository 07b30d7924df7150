//! `git quickscale push` (provided by a later release).

use super::{CmdResult, Context, not_available};

/// Push local changes of an embedded module back to its upstream
///
/// Not available yet in this version: the command exits with status 1.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  git quickscale push")]
pub struct PushArgs {}

pub fn cmd_push(_ctx: &Context, _args: &PushArgs) -> CmdResult {
    Err(not_available("push"))
}
