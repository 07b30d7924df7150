//! `remove`: quickscale.yml without the module (parsed again as the
//! desired state) and the plan that removes only it; the CLI shows it, asks,
//! then runs it with `execute::execute`.

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
