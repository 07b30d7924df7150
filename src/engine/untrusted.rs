//! Module trees are untrusted input: checked before anything is written.

use gix::ObjectId;
use gix::objs::tree::EntryKind;

use crate::git::{Git, GitContext, GitError};

/// Limits on a module tree; `git config quickscale.maxModuleBytes` and
/// `quickscale.maxModuleFiles` override the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: u64,
    pub max_files: usize,
    pub max_path_bytes: usize,
    pub max_component_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 100 * 1024 * 1024,
            max_files: 20_000,
            max_path_bytes: 1024,
            max_component_bytes: 255,
        }
    }
}

impl Limits {
    pub fn from_config(git: &Git) -> Self {
        let cfg = git.repo.config_snapshot();
        let mut limits = Limits::default();
        if let Some(b) = cfg.integer("quickscale.maxModuleBytes").filter(|b| *b > 0) {
            limits.max_bytes = b.unsigned_abs();
        }
        if let Some(f) = cfg.integer("quickscale.maxModuleFiles").filter(|f| *f > 0) {
            limits.max_files = usize::try_from(f).unwrap_or(usize::MAX);
        }
        limits
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UntrustedError {
    #[error("module {module}: its tree contains a `.git` entry at `{path}`")]
    GitEntry { module: String, path: String },
    #[error("module {module}: the symlink `{path}` points outside the module (to `{target}`)")]
    SymlinkEscapes {
        module: String,
        path: String,
        target: String,
    },
    #[error("module {module}: a path under `{parent}` is not valid UTF-8")]
    NotUtf8 { module: String, parent: String },
    #[error("module {module}: the path `{path}` is too long ({len} bytes; the limit is {limit})")]
    TooLong {
        module: String,
        path: String,
        len: usize,
        limit: usize,
    },
    #[error("module {module}: it contains a submodule (gitlink) at `{path}`")]
    Gitlink { module: String, path: String },
    #[error("module {module}: it is larger than the limit ({what})")]
    TooLarge { module: String, what: String },
    #[error(transparent)]
    Git(#[from] GitError),
}

impl UntrustedError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            UntrustedError::TooLarge { .. } => {
                "raise `git config quickscale.maxModuleBytes` or `quickscale.maxModuleFiles` if the module really is that big".into()
            }
            UntrustedError::Git(_) => "check the module's repository".into(),
            _ => "this module's tree is unsafe to embed; fix it upstream or pin another ref".into(),
        })
    }
}

/// Checks every entry of a module's upstream tree.
pub fn check_tree(
    git: &Git,
    module: &str,
    tree: ObjectId,
    limits: Limits,
) -> Result<(), UntrustedError> {
    let mut stack = vec![(tree, String::new())];
    let mut files = 0usize;
    let mut bytes = 0u64;
    while let Some((id, dir)) = stack.pop() {
        let obj = git.repo.find_object(id).ctx(|| format!("read tree {id}"))?;
        let tree = obj.into_tree();
        let decoded = tree.decode().ctx(|| format!("decode tree {id}"))?;
        for e in &decoded.entries {
            let Ok(name) = std::str::from_utf8(e.filename) else {
                return Err(UntrustedError::NotUtf8 {
                    module: module.to_owned(),
                    parent: if dir.is_empty() {
                        ".".into()
                    } else {
                        dir.clone()
                    },
                });
            };
            let path = if dir.is_empty() {
                name.to_owned()
            } else {
                format!("{dir}/{name}")
            };
            if name.eq_ignore_ascii_case(".git") {
                return Err(UntrustedError::GitEntry {
                    module: module.to_owned(),
                    path,
                });
            }
            let too_long = |len: usize, limit: usize| UntrustedError::TooLong {
                module: module.to_owned(),
                path: path.chars().take(80).collect::<String>()
                    + if path.len() > 80 { "…" } else { "" },
                len,
                limit,
            };
            if name.len() > limits.max_component_bytes {
                return Err(too_long(name.len(), limits.max_component_bytes));
            }
            if path.len() > limits.max_path_bytes {
                return Err(too_long(path.len(), limits.max_path_bytes));
            }
            let oid = e.oid.to_owned();
            match e.mode.kind() {
                EntryKind::Tree => stack.push((oid, path)),
                EntryKind::Commit => {
                    return Err(UntrustedError::Gitlink {
                        module: module.to_owned(),
                        path,
                    });
                }
                EntryKind::Link => {
                    let target = String::from_utf8_lossy(&git.read_blob(oid)?).into_owned();
                    if escapes(&dir, &target) {
                        return Err(UntrustedError::SymlinkEscapes {
                            module: module.to_owned(),
                            path,
                            target,
                        });
                    }
                    files += 1;
                }
                EntryKind::Blob | EntryKind::BlobExecutable => {
                    let header = git
                        .repo
                        .find_header(oid)
                        .ctx(|| format!("read object {oid}"))?;
                    bytes += header.size();
                    files += 1;
                }
            }
            if files > limits.max_files {
                return Err(UntrustedError::TooLarge {
                    module: module.to_owned(),
                    what: format!("more than {} files", limits.max_files),
                });
            }
            if bytes > limits.max_bytes {
                return Err(UntrustedError::TooLarge {
                    module: module.to_owned(),
                    what: format!("more than {} bytes", limits.max_bytes),
                });
            }
        }
    }
    Ok(())
}

/// Whether a symlink in `dir` (relative to the module root) pointing at
/// `target` leaves the module.
fn escapes(dir: &str, target: &str) -> bool {
    if target.starts_with('/') || target.contains('\0') || target.contains('\\') {
        return true;
    }
    let mut depth: i64 = dir.split('/').filter(|s| !s.is_empty()).count() as i64;
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => depth += 1,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlink_escape_rules() {
        assert!(!escapes("", "README.md"));
        assert!(!escapes("a/b", "../c"));
        assert!(!escapes("a", "../x"));
        assert!(escapes("a", "../../x"));
        assert!(escapes("", "../x"));
        assert!(escapes("", "/etc/passwd"));
        assert!(escapes("a", "b/../../../x"));
    }
}
