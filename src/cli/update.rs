//! `git quickscale update` (provided by a later release).

use super::{CmdResult, Context, not_available};

/// Update embedded modules to newer upstream versions
///
/// Not available yet in this version: the command exits with status 1.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  git quickscale update")]
pub struct UpdateArgs {}

pub fn cmd_update(_ctx: &Context, _args: &UpdateArgs) -> CmdResult {
    Err(not_available("update"))
}
