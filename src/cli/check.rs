//! `git quickscale check` (provided by a later release).

use super::{CmdResult, Context, not_available};

/// Check the project for drift from quickscale.yml and ownership violations (for CI)
///
/// Not available yet in this version: the command exits with status 1.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  git quickscale check")]
pub struct CheckArgs {}

pub fn cmd_check(_ctx: &Context, _args: &CheckArgs) -> CmdResult {
    Err(not_available("check"))
}
