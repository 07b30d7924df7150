//! `remove`: quickscale.yml without the module (parsed again as the
//! desired state) and the plan that removes only it; the CLI shows it, asks,
//! then runs it with `execute::execute`.

use std::collections::BTreeSet;

use super::plan::{self, Plan};
use super::{EngineError, Workspace};
use crate::config::{self, edit};

/// The plan removing `name`, and the quickscale.yml text it commits (the
/// workspace's desired state from then on).
pub fn plan_removal(ws: &mut Workspace, name: &str) -> Result<(Plan, String), EngineError> {
    let text = edit::remove_module(&ws.config.text, name).map_err(EngineError::ConfigEdit)?;
    ws.config.config = config::parse(&text, &ws.config.display, &ws.catalog)
        .map_err(|d| EngineError::ConfigInvalid(d.to_string()))?;
    ws.config.text = text.clone();
    Ok((plan::removal(ws, name), text))
}

/// A line of the user-owned settings/upstream_settings.py (written by
/// adopt) that still installs an app or middleware of a removed module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptLeftover {
    pub path: String,
    /// 1-based.
    pub line: usize,
    pub entry: String,
}

/// The lines of the kept upstream wiring that name the apps and middleware
/// only `name` gives: the managed wiring installs everything that file
/// lists, so after the removal Django would import a package that is gone.
/// Read before the removal (the module's manifest is read from HEAD); the
/// file is the user's, so it is only named, never edited.
pub fn kept_leftovers(ws: &Workspace, name: &str) -> Vec<KeptLeftover> {
    let Some(package) = ws.applied.as_ref().map(|a| a.project.package.clone()) else {
        return Vec::new();
    };
    let path = super::kept::kept_path(&package);
    let full = ws.root.join(&path);
    // Only a regular file is read (never a FIFO or a link's target).
    if !std::fs::symlink_metadata(&full).is_ok_and(|m| m.is_file()) {
        return Vec::new();
    }
    let Ok(text) = std::fs::read_to_string(&full) else {
        return Vec::new();
    };
    let entries = |m: &str| -> Vec<String> {
        ws.embedded_manifest(m)
            .ok()
            .flatten()
            .map(|m| {
                let mut all = m.django_apps;
                all.extend(m.wiring.middleware.unwrap_or_default());
                all
            })
            .unwrap_or_default()
    };
    let others: BTreeSet<String> = ws
        .embedded()
        .iter()
        .filter(|m| *m != name)
        .flat_map(|m| entries(m))
        .collect();
    let gone: Vec<String> = entries(name)
        .into_iter()
        .filter(|e| !others.contains(e))
        .collect();
    super::kept::lines_naming(&text, &gone)
        .into_iter()
        .map(|(line, entry)| KeptLeftover {
            path: path.clone(),
            line,
            entry,
        })
        .collect()
}
