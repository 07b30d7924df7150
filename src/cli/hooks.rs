//! `git quickscale hooks` (provided by a later release).

use super::{CmdResult, Context, not_available};

/// Install or remove the git hooks that protect user-owned files
///
/// Not available yet in this version: the command exits with status 1.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  git quickscale hooks")]
pub struct HooksArgs {}

pub fn cmd_hooks(_ctx: &Context, _args: &HooksArgs) -> CmdResult {
    Err(not_available("hooks"))
}
