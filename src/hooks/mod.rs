//! The git hooks (docs/hooks.md): thin shell blocks between
//! `## START QUICKSCALE` / `## END QUICKSCALE` markers that call
//! `git-quickscale hooks run <hook>`, and what each hook checks.
//!
//! The block bodies are the files in `hooks/` at the repository root,
//! compiled in. Installing never touches anything outside the markers, so a
//! hook's own content keeps running and uninstalling restores it exactly.

pub mod install;
pub mod run;

use std::path::PathBuf;

use crate::git::GitError;
use crate::state::StateError;

pub const START_MARKER: &str = "## START QUICKSCALE";
pub const END_MARKER: &str = "## END QUICKSCALE";

/// Set by an [`Hook::exec_block`] to the hook file (`$0`) when it `exec`s
/// the check, so the check can run what follows the block.
pub const HOOK_FILE_ENV: &str = "QUICKSCALE_HOOK_FILE";

/// Set when the check runs the hook file again for the lines after an
/// [`Hook::exec_block`]: the block then unsets it and does nothing.
pub const HOOK_RAN_ENV: &str = "QUICKSCALE_HOOK_RAN";

/// The git config key choosing what a refusal does: `block` (default),
/// `warn` (report, never block) or `off`.
pub const MODE_KEY: &str = "quickscale.hooks.mode";

/// The hooks the tool installs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Hook {
    PreCommit,
    PreMergeCommit,
    PrePush,
}

impl Hook {
    pub const ALL: [Hook; 3] = [Hook::PreCommit, Hook::PreMergeCommit, Hook::PrePush];

    /// The git hook name (and file name).
    pub fn name(self) -> &'static str {
        match self {
            Hook::PreCommit => "pre-commit",
            Hook::PreMergeCommit => "pre-merge-commit",
            Hook::PrePush => "pre-push",
        }
    }

    /// The block installed into the hook file, markers included.
    pub fn block(self) -> &'static str {
        match self {
            Hook::PreCommit => include_str!("../../hooks/pre-commit"),
            Hook::PreMergeCommit => include_str!("../../hooks/pre-merge-commit"),
            Hook::PrePush => include_str!("../../hooks/pre-push"),
        }
    }

    /// The block for a hook file that holds nothing else (`#!/bin/sh` and
    /// the block, as `install` creates it): the shell `exec`s the check
    /// instead of forking it, one process and one wait fewer on every
    /// commit (benches/README.md). Lines added after it later still run:
    /// the check sees them ([`HOOK_FILE_ENV`]) and runs the file again with
    /// [`HOOK_RAN_ENV`] set, which the block skips. None for pre-push,
    /// whose stdin (git's ref list) belongs to the rest of the hook.
    pub fn exec_block(self) -> Option<&'static str> {
        match self {
            Hook::PreCommit => Some(include_str!("../../hooks/exec/pre-commit")),
            Hook::PreMergeCommit => Some(include_str!("../../hooks/exec/pre-merge-commit")),
            Hook::PrePush => None,
        }
    }

    pub fn parse(name: &str) -> Option<Hook> {
        Hook::ALL.into_iter().find(|h| h.name() == name)
    }
}

impl std::fmt::Display for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a refusal does (`git config quickscale.hooks.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Refuse the commit (exit 1).
    Block,
    /// Print the problems, let the commit through.
    Warn,
    /// Do not check.
    Off,
}

impl Mode {
    pub fn parse(value: &str) -> Option<Mode> {
        match value.trim().to_ascii_lowercase().as_str() {
            "block" => Some(Mode::Block),
            "warn" => Some(Mode::Warn),
            "off" => Some(Mode::Off),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Mode::Block => "block",
            Mode::Warn => "warn",
            Mode::Off => "off",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HooksError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error("not inside a git repository")]
    NoRepository,
    #[error("the hooks directory `{}` is outside this repository", .dir.display())]
    Outside { dir: PathBuf, from: String },
    #[error("{} is not a shell script ({interpreter}); a shell block cannot be added to it", .path.display())]
    NotShell { path: PathBuf, interpreter: String },
    #[error("{}: {message}", .path.display())]
    Io {
        path: PathBuf,
        message: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{} has a `{START_MARKER}` line without a matching `{END_MARKER}`", .path.display())]
    BrokenBlock { path: PathBuf },
    #[error("`{value}` is not a valid {MODE_KEY}")]
    BadMode { value: String },
}

impl HooksError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            HooksError::Git(_) => "run `git status` to see the repository's state".into(),
            HooksError::State(e) => return e.hint(),
            HooksError::NoRepository => {
                "run it inside the project's repository (the first `git quickscale apply` creates it)"
                    .into()
            }
            HooksError::Outside { from, .. } => format!(
                "{from} points there, so other repositories may share those hooks; pass --allow-outside-repo to write there anyway, or unset it (git config --unset core.hooksPath)"
            ),
            HooksError::NotShell { .. } => "add a line that runs `git-quickscale hooks run <hook> \"$@\"` to it yourself (exit status 1 means refused); nothing was written".into(),
            HooksError::Io { .. } => "check the file's permissions".into(),
            HooksError::BrokenBlock { .. } => format!(
                "fix or delete the `{START_MARKER}` line by hand, then run the command again; nothing was written"
            ),
            HooksError::BadMode { .. } => {
                format!("use one of block, warn, off: git config {MODE_KEY} warn")
            }
        })
    }

    fn io(path: &std::path::Path, message: &str, source: std::io::Error) -> Self {
        HooksError::Io {
            path: path.to_owned(),
            message: message.to_owned(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_marked_and_call_their_hook() {
        for hook in Hook::ALL {
            let block = hook.block();
            assert!(block.starts_with(&format!("{START_MARKER}\n")), "{hook}");
            assert!(block.ends_with(&format!("{END_MARKER}\n")), "{hook}");
            assert!(
                block.contains(&format!("git-quickscale hooks run {} \"$@\"", hook.name())),
                "{hook}"
            );
            assert_eq!(Hook::parse(hook.name()), Some(hook));
            if let Some(exec) = hook.exec_block() {
                assert!(exec.starts_with(&format!("{START_MARKER}\n")), "{hook}");
                assert!(exec.ends_with(&format!("{END_MARKER}\n")), "{hook}");
                assert!(
                    exec.contains(&format!(
                        "{HOOK_FILE_ENV}=\"$0\" exec git-quickscale hooks run {} \"$@\" </dev/null\n",
                        hook.name()
                    )),
                    "{hook}"
                );
                assert!(exec.contains(&format!("unset {HOOK_RAN_ENV}\n")), "{hook}");
                // The same warning when the binary is missing.
                let warning = |b: &str| b.lines().find(|l| l.contains("echo")).map(str::to_owned);
                assert_eq!(warning(exec), warning(block), "{hook}");
                assert!(!exec.lines().any(|l| l.contains("echo") && l.contains('`')));
            }
            // No command substitution can sneak into the warning text.
            assert!(!block.lines().any(|l| l.contains("echo") && l.contains('`')));
        }
    }
}
