//! `git quickscale push`: send a module's local commits to its repository.

use super::{CmdResult, Context};
use crate::engine::push::{self, PushPlan};
use crate::error::{CliError, exit};
use crate::ui::Tone;

/// Push local changes of an embedded module back to its upstream
///
/// Splits the module's history (`git quickscale split`), shows what would
/// leave the machine — the split commits the upstream commit does not have,
/// one line each, and a diffstat against it — and pushes them with `git
/// push` (your git config and credentials) to a new branch named after the
/// project and the module, on the module's source URL. Only the module's
/// files leave: a commit that also changed project files sends its module
/// part (with its message and author as they are). Never force-pushes: when
/// the branch has moved upstream, it refuses and says how to update first.
/// Your pre-push hooks run (the git-quickscale block in them stands aside).
/// Before anything leaves, the outgoing commits' messages and the lines they
/// add are scanned for secrets (gitleaks-format rules, docs/user-guide.md);
/// a finding refuses the push unless allowed with --allow-secret.
/// What was pushed is recorded in refs/quickscale/pushed/<name>/<branch>.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  git quickscale push crm --dry-run
  git quickscale push crm --yes
  git quickscale push crm --remote git@github.com:me/quickscale.git --branch fix-crm-export")]
pub struct PushArgs {
    /// The embedded module whose changes to push
    pub name: String,

    /// Push there instead of the module's source URL (a URL, a path or a remote's name)
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,

    /// The branch to push to (default: quickscale/<project>/<module>)
    #[arg(long, short = 'b', value_name = "BRANCH")]
    pub branch: Option<String>,

    /// Show what would be pushed, and the git push command; push nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Do not ask for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Push although the secret scan found this finding (its fingerprint, as printed; can be repeated)
    #[arg(long, value_name = "FINGERPRINT")]
    pub allow_secret: Vec<String>,
}

pub fn cmd_push(ctx: &Context, args: &PushArgs) -> CmdResult {
    let ws = super::open_for_write(ctx)?;
    let plan = push::plan_push(
        &ws,
        &args.name,
        args.remote.as_deref(),
        args.branch.as_deref(),
    )
    .map_err(super::split::push_error)?;
    if plan.commits.is_empty() {
        let why = match plan.pushed_before {
            Some(p) if p == plan.split.tip => format!(
                "it was already pushed to {} ({})",
                plan.branch,
                p.to_hex_with_len(12)
            ),
            _ => format!(
                "{} has no changes since upstream commit {}",
                plan.prefix,
                plan.base.to_hex_with_len(12)
            ),
        };
        ctx.ui.status(&format!("Nothing to push: {why}"));
        return Ok(exit::OK);
    }
    show_plan(ctx, &plan);
    check_secrets(ctx, &plan, &args.allow_secret)?;
    if args.dry_run {
        ctx.ui.status(&format!(
            "Dry run: nothing was pushed. It would run:\n  {}",
            plan.command()
        ));
        return Ok(exit::OK);
    }
    if !args.yes
        && !ctx.ui.confirm(
            &format!(
                "Push {} commit(s) to {} ({})?",
                plan.commits.len(),
                plan.url,
                plan.branch
            ),
            false,
            "--yes",
        )?
    {
        ctx.ui.status("Nothing was pushed.");
        return Ok(exit::OK);
    }
    let pushed =
        push::push(&ws, &plan, ctx.ui.is_interactive()).map_err(super::split::push_error)?;
    ctx.ui.status_styled(
        Tone::Ok,
        &format!(
            "Pushed {} commit(s) of {} to {} on {}; recorded in {}",
            plan.commits.len(),
            plan.module,
            plan.branch,
            plan.url,
            pushed.record
        ),
    );
    if let Some(url) = &plan.review_url {
        ctx.ui.hint(&format!("open a pull/merge request: {url}"));
    }
    Ok(exit::OK)
}

/// Refuses the push when the secret scan found something not allowed with
/// `--allow-secret`; names the commit, file, line and rule of each finding.
fn check_secrets(ctx: &Context, plan: &PushPlan, allowed: &[String]) -> Result<(), CliError> {
    use crate::escape::quote;
    for a in allowed {
        if !plan.secrets.iter().any(|f| &f.fingerprint == a) {
            ctx.ui.warn(&format!(
                "--allow-secret {}: no finding has this fingerprint",
                quote(a)
            ));
        }
    }
    let blocked: Vec<_> = plan
        .secrets
        .iter()
        .filter(|f| !allowed.contains(&f.fingerprint))
        .collect();
    for f in plan
        .secrets
        .iter()
        .filter(|f| allowed.contains(&f.fingerprint))
    {
        ctx.ui.warn(&format!(
            "pushing a possible secret as allowed: {}",
            quote(&f.fingerprint)
        ));
    }
    if blocked.is_empty() {
        return Ok(());
    }
    let mut message = format!(
        "{} possible secret(s) in what would leave; nothing was pushed (rules: {}):",
        blocked.len(),
        plan.secret_rules
    );
    for f in &blocked {
        let short = &f.commit[..f.commit.len().min(12)];
        let place = if f.file == crate::secrets::MESSAGE_FILE {
            format!("the message of commit {short}, line {}", f.line)
        } else {
            format!(
                "{}:{} in commit {short}",
                quote(&format!("{}/{}", plan.prefix, f.file)),
                f.line
            )
        };
        message.push_str(&format!(
            "\n  {place}: {} [{}] {}\n    fingerprint: {}",
            f.description,
            f.rule,
            f.redacted,
            quote(&f.fingerprint)
        ));
    }
    Err(CliError::new(message).hint(
        "remove the secret from those commits (`git rebase -i`, then `git quickscale push` again) and revoke it if it is real; if it is not a secret, pass --allow-secret <fingerprint> for each",
    ))
}

/// What leaves the machine: the commits, then the diffstat (stdout).
fn show_plan(ctx: &Context, plan: &PushPlan) {
    ctx.ui.out_styled(
        Tone::Bold,
        &format!(
            "Push {} to {} (branch {}):",
            plan.prefix, plan.url, plan.branch
        ),
    );
    ctx.ui.out(&format!(
        "{} commit(s) on top of upstream commit {}{}:",
        plan.commits.len(),
        plan.base.to_hex_with_len(12),
        match plan.pushed_before {
            Some(p) => format!(" and the last push {}", p.to_hex_with_len(12)),
            None => String::new(),
        }
    ));
    for c in &plan.commits {
        ctx.ui.out(&format!(
            "  {} {}",
            c.id.to_hex_with_len(12),
            crate::escape::quote(&c.summary)
        ));
    }
    ctx.ui.out(&format!(
        "Changes against upstream commit {}:",
        plan.base.to_hex_with_len(12)
    ));
    let width = plan.files.iter().map(|f| f.path.len()).max().unwrap_or(0);
    let (mut added, mut removed) = (0, 0);
    for f in &plan.files {
        added += f.added;
        removed += f.removed;
        let bar = if f.binary {
            "Bin".to_owned()
        } else {
            format!(
                "{} {}{}",
                f.added + f.removed,
                "+".repeat(f.added.min(40)),
                "-".repeat(f.removed.min(40))
            )
        };
        ctx.ui.out(&format!(
            " {:width$} | {bar}",
            crate::escape::quote(&f.path)
        ));
    }
    ctx.ui.out(&format!(
        " {} file(s) changed, {added} insertion(s)(+), {removed} deletion(s)(-)",
        plan.files.len()
    ));
    if !plan.mixed.is_empty() {
        ctx.ui.warn(&format!(
            "{} of these commit(s) also changed files outside {} in the project; only their {} part leaves, with their message as it is:",
            plan.mixed.len(),
            plan.prefix,
            plan.prefix
        ));
        for m in &plan.mixed {
            ctx.ui.status(&format!(
                "  {} {}",
                m.id.to_hex_with_len(12),
                crate::escape::quote(&m.summary)
            ));
        }
    }
}
