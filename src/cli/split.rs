//! `git quickscale split`: a module's history alone, as `git subtree split`.

use super::{CmdResult, Context};
use crate::engine::push::{self, BranchMove, PushError};
use crate::error::{CliError, exit};
use crate::git::Git;

/// Split a module's history into module-only commits (as `git subtree split`)
///
/// Rewrites the history of `modules/<name>/` into commits whose tree is the
/// module alone, on top of the upstream commit it was embedded from, and
/// prints the last one. The commits are the ones `git subtree split
/// --prefix=modules/<name>` makes: same ids, deterministic. Commits that do
/// not touch the module disappear; commits that touch it and other files
/// keep only the module part (their message and author are kept as they
/// are). A cache in refs/quickscale/split/<name> makes the next split only
/// process the new commits. Works in any git repository with a `modules/`
/// folder, not only in a project.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  git quickscale split crm
  git quickscale split crm --branch splits/crm-module
  git log --oneline $(git quickscale split crm)")]
pub struct SplitArgs {
    /// The module: its directory is modules/<name>
    pub name: String,

    /// Create or fast-forward this branch to the split (never moved backwards)
    #[arg(long, short = 'b', value_name = "BRANCH")]
    pub branch: Option<String>,
}

pub fn cmd_split(ctx: &Context, args: &SplitArgs) -> CmdResult {
    let git = Git::discover_with_env(&ctx.cwd).ok_or_else(|| {
        CliError::new("not inside a git repository")
            .hint("run it inside the repository that has modules/<name>")
    })?;
    super::warn_interrupted(ctx, &git);
    let session = super::start_session(ctx, &git, crate::engine::session::Mode::LockOnly)?;
    let outcome = push::split_module(&git, &session, &args.name, args.branch.as_deref())
        .map_err(push_error)?;
    let s = &outcome.split;
    ctx.ui.status(&format!(
        "Split {}: {} commit(s) read, {} written{}",
        outcome.prefix,
        s.walked,
        s.created,
        if s.cached {
            " (the rest from the cache)"
        } else {
            ""
        }
    ));
    if let Some((branch, how)) = &outcome.branch {
        let verb = match how {
            BranchMove::Created => "Created",
            BranchMove::Updated => "Updated",
            BranchMove::Unchanged => "Kept",
        };
        ctx.ui.status(&format!("{verb} branch '{branch}'"));
    }
    ctx.ui.out(&s.tip.to_string());
    Ok(exit::OK)
}

pub fn push_error(e: PushError) -> CliError {
    let hint = e.hint();
    CliError::from_error(&e, hint)
}
