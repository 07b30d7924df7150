//! Writes a new quickscale.yml.

use std::collections::BTreeMap;

use crate::config::{Identity, SourceOverride};
use crate::value::Value;
use crate::yaml::yaml_string;

/// What `plan <slug>` decided, ready to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct NewConfig {
    pub project: Identity,
    /// Modules in the order the user gave them, with explicit options.
    pub modules: Vec<(String, BTreeMap<String, Value>)>,
    pub sources: BTreeMap<String, SourceOverride>,
}

/// Renders a new quickscale.yml (upstream key order, plus `sources` last).
pub fn render(cfg: &NewConfig) -> String {
    let mut out = String::new();
    out.push_str(
        "# Desired state of this project: edit it (or use `git quickscale plan --add/--remove/\n",
    );
    out.push_str("# --reconfigure`), then run `git quickscale apply`.\n");
    out.push_str("version: \"1\"\n");
    out.push_str("project:\n");
    out.push_str(&format!("  slug: {}\n", yaml_string(&cfg.project.slug)));
    if let Some(name) = &cfg.project.name {
        out.push_str(&format!("  name: {}\n", yaml_string(name)));
    }
    out.push_str(&format!(
        "  package: {}\n",
        yaml_string(&cfg.project.package)
    ));
    out.push_str(&format!("  theme: {}\n", cfg.project.theme.name()));
    if cfg.modules.is_empty() {
        out.push_str("modules: {}\n");
    } else {
        out.push_str("modules:\n");
        for (name, options) in &cfg.modules {
            if options.is_empty() {
                out.push_str(&format!("  {name}: {{}}\n"));
            } else {
                out.push_str(&format!("  {name}:\n"));
                for (k, v) in options {
                    out.push_str(&format!("    {}: {}\n", yaml_string(k), v.to_yaml()));
                }
            }
        }
    }
    let sources: Vec<_> = cfg
        .sources
        .iter()
        .filter(|(_, s)| s.url.is_some() || s.git_ref.is_some())
        .collect();
    if !sources.is_empty() {
        out.push_str("sources:\n");
        for (name, s) in sources {
            out.push_str(&format!("  {name}:\n"));
            if let Some(url) = &s.url {
                out.push_str(&format!("    url: {}\n", yaml_string(url)));
            }
            if let Some(r) = &s.git_ref {
                out.push_str(&format!("    ref: {}\n", yaml_string(r)));
            }
        }
    }
    out
}
