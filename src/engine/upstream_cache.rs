//! What a module's upstream offered at the last look (`update`, `update
//! --check`), cached for `status` and `list-modules`, which never fetch.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::git::Git;

/// What a module's upstream offers beyond its current version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Available {
    /// The newest compatible version (a tag).
    pub compatible: Option<String>,
    /// The newest breaking version (a tag).
    pub breaking: Option<String>,
    /// The branch followed moved on (its new tip, hex).
    pub branch_tip: Option<String>,
    /// The manifest `version` at the branch's new tip (known once fetched).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tip_version: Option<String>,
}

impl Available {
    /// One phrase per kind of newer version, for status and list-modules
    /// (`git_ref` is the ref the module follows); empty when up to date.
    pub fn phrases(&self, git_ref: &str) -> Vec<String> {
        let mut parts = Vec::new();
        if let Some(c) = &self.compatible {
            parts.push(format!("{c} (compatible)"));
        }
        if let Some(b) = &self.breaking {
            parts.push(format!("{b} (breaking)"));
        }
        if self.branch_tip.is_some() {
            let version = self
                .tip_version
                .as_deref()
                .map(|v| format!(" (version {v})"))
                .unwrap_or_default();
            parts.push(format!("new commits on {git_ref}{version}"));
        }
        parts
    }
}

/// The cache of what each module's upstream offered at the last fetch.
const CACHE: &str = "quickscale/upstream.json";

/// One module's entry of the cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Cached {
    pub source: String,
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// Seconds since the epoch.
    pub checked_at: u64,
    #[serde(flatten)]
    pub available: Available,
}

pub(crate) fn cached(source: &str, git_ref: &str, available: &Available) -> Cached {
    Cached {
        source: source.to_owned(),
        git_ref: git_ref.to_owned(),
        checked_at: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default(),
        available: available.clone(),
    }
}

/// Where the cache is kept.
pub fn path(git: &Git) -> std::path::PathBuf {
    git.git_dir().join(CACHE)
}

/// What the last `update` (or `update --check`) saw upstream, by module.
pub fn load_cache(git: &Git) -> BTreeMap<String, Cached> {
    std::fs::read_to_string(path(git))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// Best effort: a cache that cannot be written is only a missed hint.
pub(crate) fn save_cache(git: &Git, cache: &BTreeMap<String, Cached>) {
    if let Ok(text) = serde_json::to_string_pretty(cache) {
        let _ = crate::fsutil::write_atomic(&git.git_dir().join(CACHE), text.as_bytes());
    }
}
