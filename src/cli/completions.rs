//! `git quickscale completions`: shell completion scripts from the clap definition.

use clap_complete::Shell;

use super::{CmdResult, Context};
use crate::error::exit;

/// Print a shell completion script
///
/// The script completes the `git-quickscale` command; source it from your
/// shell's startup file.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  git quickscale completions bash > ~/.local/share/bash-completion/completions/git-quickscale"
)]
pub struct CompletionsArgs {
    /// The shell to generate for
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn cmd_completions(ctx: &Context, args: &CompletionsArgs) -> CmdResult {
    let mut cmd = super::command();
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "git-quickscale", &mut buf);
    ctx.ui.out(String::from_utf8_lossy(&buf).trim_end());
    Ok(exit::OK)
}
