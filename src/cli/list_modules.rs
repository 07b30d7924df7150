//! `git quickscale list-modules`: the catalog after index overrides.

use super::{CmdResult, Context};
use crate::catalog::{self, ListingRow};
use crate::config::ConfigFile;
use crate::error::{CliError, exit};
use crate::project;

/// List the modules in the catalog
///
/// Shows each module's readiness, description, source and ref, after index
/// overrides (--index, QUICKSCALE_INDEX, git config quickscale.index).
/// Inside a project, the modules quickscale.yml wants are marked.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  git quickscale list-modules\n  git quickscale list-modules --json --index ./my-index.toml"
)]
pub struct ListModulesArgs {
    /// Print JSON (an array of objects; see docs/user-guide.md)
    #[arg(long)]
    pub json: bool,
}

pub fn cmd_list_modules(ctx: &Context, args: &ListModulesArgs) -> CmdResult {
    let catalog = ctx.catalog()?;
    let config = match project::find(&ctx.cwd) {
        Some(dir) => Some(ConfigFile::load(
            &dir.config_path(),
            crate::config::CONFIG_FILE,
            &catalog,
        )?),
        None => None,
    };
    let rows = catalog::listing(&catalog, config.as_ref().map(|c| &c.config));
    if args.json {
        let text = serde_json::to_string_pretty(&rows)
            .map_err(|e| CliError::new(format!("cannot render JSON: {e}")))?;
        ctx.ui.out(&text);
    } else {
        render_table(ctx, &rows);
    }
    Ok(exit::OK)
}

fn render_table(ctx: &Context, rows: &[ListingRow]) {
    let in_project = rows.iter().any(|r| r.wanted.is_some());
    let name_w = rows.iter().map(|r| r.name.len()).max().unwrap_or(4).max(4);
    let ref_w = rows
        .iter()
        .map(|r| r.git_ref.len())
        .max()
        .unwrap_or(3)
        .max(3);
    let wanted_col = |w: &str| {
        if in_project {
            format!("{w:<7}")
        } else {
            String::new()
        }
    };
    ctx.ui.out(&format!(
        "{:<name_w$}  {:<9}  {}{:<ref_w$}  DESCRIPTION",
        "NAME",
        "STATUS",
        wanted_col("WANTED"),
        "REF"
    ));
    for r in rows {
        let status = if r.ready { "ready" } else { "not ready" };
        let wanted = match r.wanted {
            Some(true) => "yes",
            _ => "",
        };
        ctx.ui.out(&format!(
            "{:<name_w$}  {status:<9}  {}{:<ref_w$}  {}",
            r.name,
            wanted_col(wanted),
            r.git_ref,
            r.description
        ));
    }
    if let Some(source) = rows.first().map(|r| r.source.as_str())
        && rows.iter().all(|r| r.source == source)
    {
        ctx.ui.out(&format!("\nsource of every module: {source}"));
    } else {
        ctx.ui.out("");
        for r in rows {
            ctx.ui.out(&format!("{}: {}", r.name, r.source));
        }
    }
}
