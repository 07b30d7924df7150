//! `git quickscale apply`.

use super::{CmdResult, Context, not_available};

/// Generate the project and embed, update or remove modules to match quickscale.yml
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  git quickscale apply")]
pub struct ApplyArgs {}

pub fn cmd_apply(_ctx: &Context, _args: &ApplyArgs) -> CmdResult {
    Err(not_available("apply"))
}
