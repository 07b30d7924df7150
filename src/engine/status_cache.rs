//! The last `status` report's committed half, kept in
//! `.git/quickscale/status-cache.json` and used again while nothing it was
//! computed from has changed.
//!
//! Most of a status run is the plan: parsing the modules' manifests, the
//! catalog and quickscale.yml, rendering the wiring, reading the note. All of
//! that follows from committed inputs, which a key covers byte for byte:
//! this binary (its path, size, mtime and inode), the project's root, HEAD,
//! every ref (the notes, the module, push and split refs, the branches),
//! `.git/shallow`, the repository's config files, the object store's
//! alternates, quickscale.yml, the catalog files named by `--index`,
//! `QUICKSCALE_INDEX` and `git config quickscale.index`, the upstream cache,
//! and every `QUICKSCALE_*` and `GIT_*` variable (but those about
//! transport, identity and tracing). The worktree and the index
//! are read afresh on every run ([`super::status::complete`]). Only a state
//! read from a note, with every module's recorded upstream commit and tree
//! in the object store, is kept (a derived state also reports what the
//! remote may hold), and nothing is read or kept while an operation is
//! interrupted or paused. The key is taken before the report is made and
//! again after: a report made while something changed is not kept.
//! `QUICKSCALE_STATUS_CACHE=0` turns it off.

use std::path::{Path, PathBuf};

use super::status::StatusReport;
use crate::git::Git;

/// Where the cache lives, in the worktree's git directory.
const FILE: &str = "quickscale/status-cache.json";
/// Bumped when the report's shape or the key's parts change.
const FORMAT: &str = "status-cache 1";
/// git variables that say nothing about the repository's content. `git
/// quickscale` runs the tool with `GIT_EXEC_PATH` set where a direct run
/// has none: keyed on it, the two would never share the cache.
const UNRELATED_GIT_VARS: &[&str] = &[
    "GIT_EXEC_PATH",
    "GIT_PREFIX",
    "GIT_SSL_",
    "GIT_HTTP_",
    "GIT_SSH",
    "GIT_ASKPASS",
    "GIT_TERMINAL_PROMPT",
    "GIT_TRACE",
    "GIT_PAGER",
    "GIT_EDITOR",
    "GIT_AUTHOR_",
    "GIT_COMMITTER_",
];
/// `0` turns the cache off (for comparisons, and in doubt).
pub const ENV: &str = "QUICKSCALE_STATUS_CACHE";

/// A digest of everything the committed half of a report follows from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key(String);

#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    key: String,
    report: StatusReport,
}

/// Whether the cache may be used at all.
pub fn enabled() -> bool {
    std::env::var_os(ENV).is_none_or(|v| v != "0")
}

/// The key for the project at `root` (its quickscale.yml at `config`) in
/// `git`; `None` when some input could not be read (then nothing is
/// cached).
pub fn key(git: &Git, root: &Path, config: &Path, index_overrides: &[PathBuf]) -> Option<Key> {
    use sha1::Digest;
    let mut h = sha1::Sha1::new();
    let mut part = |name: &str, bytes: &[u8]| {
        h.update(name.as_bytes());
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    part("format", FORMAT.as_bytes());
    part("version", env!("CARGO_PKG_VERSION").as_bytes());
    part("binary", binary_identity()?.as_bytes());
    part("root", root.as_os_str().as_encoded_bytes());
    let head = git.head().ok()?;
    part("head-branch", head.branch.unwrap_or_default().as_bytes());
    part(
        "head",
        head.commit
            .map(|c| c.to_string())
            .unwrap_or_default()
            .as_bytes(),
    );
    part("refs", &git.refs_fingerprint().ok()?);
    part(
        "shallow",
        &read_optional(&git.common_dir().join("shallow"))?,
    );
    part(
        "repo-config",
        &read_optional(&git.common_dir().join("config"))?,
    );
    part(
        "alternates",
        &read_optional(&git.common_dir().join("objects/info/alternates"))?,
    );
    part(
        "worktree-config",
        &read_optional(&git.git_dir().join("config.worktree"))?,
    );
    part("config-path", config.as_os_str().as_encoded_bytes());
    part("config", &read_optional(config)?);
    for path in crate::project::catalog_paths_in(git, index_overrides) {
        part("index-path", path.as_os_str().as_encoded_bytes());
        part("index", &read_optional(&path)?);
    }
    part(
        "upstream-cache",
        &read_optional(&super::upstream_cache::path(git))?,
    );
    let mut env: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.to_string_lossy().into_owned())))
        .filter(|(k, _)| {
            k.starts_with("QUICKSCALE_")
                || k.starts_with("GIT_") && !UNRELATED_GIT_VARS.iter().any(|u| k.starts_with(u))
        })
        .collect();
    env.sort();
    for (k, v) in env {
        part(&k, v.as_bytes());
    }
    let digest: [u8; 20] = h.finalize().into();
    Some(Key(digest.iter().map(|b| format!("{b:02x}")).collect()))
}

/// The kept report for `key`, when it is the one kept.
pub fn lookup(git: &Git, key: &Key) -> Option<StatusReport> {
    let bytes = std::fs::read(git.git_dir().join(FILE)).ok()?;
    let stored: Stored = serde_json::from_slice(&bytes).ok()?;
    (stored.key == key.0).then_some(stored.report)
}

/// Keeps `report` (a [`super::status::committed_report`]) for `key`. Best
/// effort and not synced to disk: a cache lost or torn is only recomputed.
pub fn store(git: &Git, key: &Key, report: &StatusReport) {
    let stored = Stored {
        key: key.0.clone(),
        report: report.clone(),
    };
    let path = git.git_dir().join(FILE);
    if let (Ok(bytes), Some(dir)) = (serde_json::to_vec(&stored), path.parent())
        && std::fs::create_dir_all(dir).is_ok()
    {
        let _ = crate::fsutil::replace_unsynced(&path, &bytes);
    }
}

/// Whether a report of `ws` may be kept: its state came from a note, and
/// every module's recorded upstream commit and tree are in the object
/// store (a missing one changes what status says when it arrives, which
/// may be without any ref moving).
pub fn keepable(ws: &super::Workspace, report: &StatusReport) -> bool {
    let (Some(git), Some(applied)) = (&ws.git, &ws.applied) else {
        return report.state.origin == "note";
    };
    let present = |hex: &str| {
        crate::git::ObjectId::from_hex(hex.as_bytes()).is_ok_and(|id| git.has_object(id))
    };
    report.state.origin == "note"
        && applied
            .modules
            .values()
            .all(|m| present(&m.tree) && present(&m.commit))
}

/// This binary's size, mtime and inode: another build is another key even
/// with the same version number.
fn binary_identity() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let meta = std::fs::metadata(&exe).ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0u64;
    Some(format!(
        "{} {} {} {inode}",
        exe.display(),
        meta.len(),
        mtime.as_nanos()
    ))
}

/// The file's bytes with a marker of presence; `None` when it exists but
/// cannot be read.
fn read_optional(path: &Path) -> Option<Vec<u8>> {
    Some(match crate::fsutil::read_if_exists(path).ok()? {
        Some(mut bytes) => {
            bytes.insert(0, b'+');
            bytes
        }
        None => b"-".to_vec(),
    })
}
