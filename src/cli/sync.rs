//! `git quickscale sync`: share the applied state through a remote.

use super::{CmdResult, Context};
use crate::engine::sync::{self, NotesResult, SyncError};
use crate::error::{CliError, exit};
use crate::ui::Tone;

/// Fetch, merge and push the applied state (notes and module refs) with a remote
///
/// Notes and refs/quickscale/* are not fetched or pushed by plain git. This
/// fetches the remote's refs/notes/quickscale and refs/quickscale/modules/*
/// into tracking refs, merges the notes commit by commit (the same commit
/// annotated differently on both sides keeps the local note and is
/// reported), and pushes the result with a lease. With the hooks installed,
/// `git push` does this too.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  git quickscale sync            # the branch's upstream remote, else origin
  git quickscale sync upstream")]
pub struct SyncArgs {
    /// The remote (default: the current branch's remote, else origin)
    pub remote: Option<String>,

    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

pub fn cmd_sync(ctx: &Context, args: &SyncArgs) -> CmdResult {
    let report = sync::sync_from(&ctx.cwd, args.remote.as_deref()).map_err(sync_error)?;
    if args.json {
        let text = crate::escape::json(&report)
            .map_err(|e| CliError::new(format!("cannot render JSON: {e}")))?;
        ctx.ui.out(&text);
        return Ok(exit::OK);
    }
    let notes = match &report.notes {
        NotesResult::None => "no state notes on either side".to_owned(),
        NotesResult::UpToDate => "notes: the remote's are already here".to_owned(),
        NotesResult::FastForward => "notes: took the remote's".to_owned(),
        NotesResult::Merged { added } => format!("notes: merged {added} note(s) from the remote"),
    };
    ctx.ui
        .status(&format!("Synced the state with {}: {notes}", report.remote));
    for c in &report.conflicts {
        ctx.ui.warn(&format!(
            "commit {c} has a different state note on {}; kept the local one (see both: git notes --ref quickscale show {c}; git notes --ref {} show {c})",
            report.remote, report.tracking_ref
        ));
    }
    for m in &report.modules_fetched {
        ctx.ui.status(&format!(
            "  {}: taken from {}",
            sync::Report::module_ref(m),
            report.remote
        ));
    }
    for m in &report.modules_diverged {
        ctx.ui.warn(&format!(
            "{} points elsewhere on {}; both were left as they are",
            sync::Report::module_ref(m),
            report.remote
        ));
    }
    if report.pushed.is_empty() {
        ctx.ui.status("  nothing to push");
    } else {
        ctx.ui
            .status_styled(Tone::Ok, &format!("  pushed {}", report.pushed.join(", ")));
    }
    Ok(exit::OK)
}

pub fn sync_error(e: SyncError) -> CliError {
    let hint = e.hint();
    CliError::from_error(&e, hint)
}
