//! `git quickscale man`: the man page, generated from the clap definition.

use std::path::PathBuf;

use super::{CmdResult, Context};
use crate::error::{CliError, exit};

/// Print the git-quickscale(1) man page, or write it into a directory
///
/// With the page installed as `git-quickscale.1` in a man directory,
/// `git help quickscale` shows it.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  git quickscale man --dir ~/.local/share/man/man1")]
pub struct ManArgs {
    /// Write `git-quickscale.1` into this directory instead of printing it
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Renders the man page text.
pub fn render() -> Result<Vec<u8>, std::io::Error> {
    let cmd = super::command().name("git-quickscale").bin_name("git-quickscale");
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut buf)?;
    Ok(buf)
}

pub fn cmd_man(ctx: &Context, args: &ManArgs) -> CmdResult {
    let page = render()?;
    match &args.dir {
        None => ctx.ui.out(String::from_utf8_lossy(&page).trim_end()),
        Some(dir) => {
            fs_err::create_dir_all(dir).map_err(|e| CliError::from_error(&e, None))?;
            let path = dir.join("git-quickscale.1");
            fs_err::write(&path, page).map_err(|e| CliError::from_error(&e, None))?;
            ctx.ui.status(&format!("wrote {}", path.display()));
        }
    }
    Ok(exit::OK)
}
