//! `git quickscale list-modules`: the catalog after index overrides.

use super::{CmdResult, Context};
use crate::config::ConfigFile;
use crate::engine::installed;
use crate::error::{CliError, exit};
use crate::project;
use crate::source::{self, ListingRow};

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
    let (config, installed) = match project::find(&ctx.cwd) {
        Some(dir) => {
            let config =
                ConfigFile::load(&dir.config_path(), crate::config::CONFIG_FILE, &catalog)?;
            let installed = installed::installed(&dir.root, &config.config, &catalog);
            super::render_pending(ctx, &installed.pending);
            (Some(config), Some(installed))
        }
        None => (None, None),
    };
    let rows = source::listing(
        &catalog,
        config.as_ref().map(|c| &c.config),
        installed.as_ref().map(|i| i.modules.as_slice()),
    );
    let updates = installed.map(|i| i.updates).unwrap_or_default();
    if args.json {
        let mut value = serde_json::to_value(&rows)
            .map_err(|e| CliError::new(format!("cannot render JSON: {e}")))?;
        if let Some(items) = value.as_array_mut() {
            for item in items {
                let name = item["name"].as_str().unwrap_or_default().to_owned();
                if let Some((_, a)) = updates.iter().find(|(n, _)| *n == name) {
                    item["available"] = serde_json::to_value(a).unwrap_or_default();
                }
            }
        }
        let text = crate::escape::json(&value)
            .map_err(|e| CliError::new(format!("cannot render JSON: {e}")))?;
        ctx.ui.out(&text);
    } else {
        render_table(ctx, &rows);
        for (name, a) in &updates {
            let parts = a.available.phrases(&a.git_ref);
            if !parts.is_empty() {
                ctx.ui.out(&format!(
                    "{name} {}: newer upstream (last checked by `update`): {}",
                    a.git_ref,
                    parts.join(", ")
                ));
            }
        }
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
    let project_cols = |w: &str, i: &str| {
        if in_project {
            format!("{w:<7}{i:<10}")
        } else {
            String::new()
        }
    };
    ctx.ui.out(&format!(
        "{:<name_w$}  {:<9}  {}{:<ref_w$}  DESCRIPTION",
        "NAME",
        "STATUS",
        project_cols("WANTED", "INSTALLED"),
        "REF"
    ));
    let yes = |b: Option<bool>| if b == Some(true) { "yes" } else { "" };
    for r in rows {
        let status = if r.ready { "ready" } else { "not ready" };
        ctx.ui.out(&format!(
            "{:<name_w$}  {status:<9}  {}{:<ref_w$}  {}",
            r.name,
            project_cols(yes(r.wanted), yes(r.installed)),
            r.git_ref,
            r.description
        ));
    }
    // One line per source (most modules share one), in order of first use.
    let mut sources: Vec<(&str, Vec<&str>)> = Vec::new();
    for r in rows {
        match sources.iter_mut().find(|(s, _)| *s == r.source) {
            Some((_, names)) => names.push(&r.name),
            None => sources.push((&r.source, vec![&r.name])),
        }
    }
    if let [(source, _)] = sources.as_slice() {
        ctx.ui.out(&format!("\nsource of every module: {source}"));
    } else {
        ctx.ui.out("\nsources:");
        for (source, names) in sources {
            ctx.ui.out(&format!("  {source}: {}", names.join(", ")));
        }
    }
}
