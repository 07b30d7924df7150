//! `split` and `push`: a module's history alone, and sending it upstream.
//!
//! The split is [`Git::split`] with the cache `refs/quickscale/split/<name>`.
//! `push` splits HEAD, lists what would leave the machine (the split commits
//! the upstream commit does not have, and a diffstat against it), pushes
//! with `git push` — the one place this tool runs git for the user, with
//! their credentials and config — and records what it pushed in
//! `refs/quickscale/pushed/<name>/<branch>` through the transaction API.

use gix::ObjectId;

use crate::git::split::{Split, SplitError};
use crate::git::{Git, GitError, RefUpdate};
use crate::state::refs;

/// What `split --branch` did to the branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BranchMove {
    Created,
    Updated,
    Unchanged,
}

/// The result of `git quickscale split`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitOutcome {
    pub prefix: String,
    pub split: Split,
    /// The branch set to the split, and how.
    pub branch: Option<(String, BranchMove)>,
}

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("`{name}` {problem}")]
    BadName { name: String, problem: String },
    #[error("there is no commit to split yet")]
    NoCommit,
    #[error(transparent)]
    Split(#[from] SplitError),
    #[error("`{0}` is not a valid branch name")]
    BadBranch(String),
    #[error("branch '{branch}' is not an ancestor of commit '{split}'")]
    BranchDiverged { branch: String, split: ObjectId },
    #[error(transparent)]
    Git(#[from] GitError),
}

impl PushError {
    pub fn hint(&self) -> Option<String> {
        match self {
            PushError::BadName { .. } => {
                Some("name the module as in `modules/<name>` (see `git quickscale status`)".into())
            }
            PushError::NoCommit => Some("commit something first".into()),
            PushError::Split(e) => e.hint(),
            PushError::BadBranch(_) => {
                Some("use a name `git check-ref-format --branch` accepts".into())
            }
            PushError::BranchDiverged { branch, .. } => Some(format!(
                "the branch has commits the split does not: pick another branch, or delete it (`git branch -D {branch}`) if it is yours to replace"
            )),
            PushError::Git(e) => e.hint(),
        }
    }
}

/// The directory a module lives in.
pub fn prefix_of(name: &str) -> String {
    super::execute::prefix_of(name)
}

/// Checks a module name before it becomes a path or a ref.
pub fn check_name(name: &str) -> Result<(), PushError> {
    match crate::identity::module_name_problem(name) {
        Some(problem) => Err(PushError::BadName {
            name: name.to_owned(),
            problem,
        }),
        None => Ok(()),
    }
}

/// `refs/heads/<branch>`, when git accepts it as a branch name.
pub fn branch_ref(branch: &str) -> Result<String, PushError> {
    let full = format!("refs/heads/{branch}");
    let valid = !branch.is_empty()
        && !branch.starts_with('-')
        && gix::refs::FullName::try_from(full.as_str()).is_ok();
    if valid {
        Ok(full)
    } else {
        Err(PushError::BadBranch(branch.to_owned()))
    }
}

/// Splits `modules/<name>` out of HEAD's history (with the cache), and sets
/// `branch` to the result when given: created, or moved forward only.
pub fn split_module(
    git: &Git,
    name: &str,
    branch: Option<&str>,
) -> Result<SplitOutcome, PushError> {
    check_name(name)?;
    let branch_ref = branch.map(branch_ref).transpose()?;
    let head = git.head()?.commit.ok_or(PushError::NoCommit)?;
    let prefix = prefix_of(name);
    let split = git.split(head, &prefix, Some(&refs::split_cache_ref(name)))?;
    let branch = match (branch, branch_ref) {
        (Some(short), Some(full)) => {
            let current = git.ref_target(&full)?;
            let how = match current {
                Some(c) if c == split.tip => BranchMove::Unchanged,
                Some(c) if git.is_ancestor(c, split.tip)? => BranchMove::Updated,
                Some(_) => {
                    return Err(PushError::BranchDiverged {
                        branch: short.to_owned(),
                        split: split.tip,
                    });
                }
                None => BranchMove::Created,
            };
            if how != BranchMove::Unchanged {
                git.update_refs(
                    &[RefUpdate {
                        name: full,
                        expected: current,
                        new: Some(split.tip),
                    }],
                    "git quickscale split",
                )?;
            }
            Some((short.to_owned(), how))
        }
        _ => None,
    };
    Ok(SplitOutcome {
        prefix,
        split,
        branch,
    })
}
