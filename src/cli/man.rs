//! `git quickscale man`: man pages, generated from the clap definition.

use std::path::PathBuf;

use super::{CmdResult, Context};
use crate::error::{CliError, exit};

/// Print the git-quickscale(1) man page, or install all pages
///
/// With the pages installed, `git help quickscale` and `git quickscale --help`
/// (which git turns into `git help quickscale`) show them.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  git quickscale man --install    # into <dir of the binary>/../share/man/man1
  git quickscale man --dir ~/.local/share/man/man1")]
pub struct ManArgs {
    /// Write git-quickscale.1 and one page per command into this directory
    #[arg(long, value_name = "DIR", conflicts_with = "install")]
    pub dir: Option<PathBuf>,

    /// Write the pages into `share/man/man1` beside the binary's `bin` directory,
    /// where `man` looks for them
    #[arg(long)]
    pub install: bool,
}

fn man_command() -> clap::Command {
    super::command()
        .name("git-quickscale")
        .bin_name("git-quickscale")
}

/// Renders the main man page.
pub fn render() -> Result<Vec<u8>, std::io::Error> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(man_command()).render(&mut buf)?;
    Ok(buf)
}

pub fn cmd_man(ctx: &Context, args: &ManArgs) -> CmdResult {
    let dir = match (&args.dir, args.install) {
        (Some(d), _) => ctx.cwd.join(d),
        (None, true) => {
            let exe = std::env::current_exe().map_err(|e| CliError::from_error(&e, None))?;
            let bin_dir = exe.parent().and_then(|p| p.parent()).ok_or_else(|| {
                CliError::new(format!(
                    "cannot find the directory above `{}`",
                    exe.display()
                ))
            })?;
            bin_dir.join("share/man/man1")
        }
        (None, false) => {
            ctx.ui.out(String::from_utf8_lossy(&render()?).trim_end());
            return Ok(exit::OK);
        }
    };
    fs_err::create_dir_all(&dir).map_err(|e| CliError::from_error(&e, None))?;
    clap_mangen::generate_to(man_command(), &dir).map_err(|e| {
        CliError::from_error(&e, None).hint(format!("check that `{}` is writable", dir.display()))
    })?;
    ctx.ui
        .status(&format!("wrote the man pages into {}", dir.display()));
    Ok(exit::OK)
}
