//! A conflicted update, paused like `git merge`: the merged files (with
//! conflict markers) in the worktree, stages 1/2/3 in the index, git's
//! MERGE_HEAD/MERGE_MSG, and a record in the journal directory that
//! recovery never rolls back. `--continue` commits the user's resolution
//! (the worktree of each prefix); `--abort` puts back exactly what was.

use std::collections::BTreeMap;

use crate::git::EntryKind;
use crate::git::ObjectId;
use serde::{Deserialize, Serialize};

use super::execute::{ExecOptions, Resolved, prefix_of};
use super::plan::UpdateModule;
use super::session::WriteSession;
use super::{EngineError, Workspace};
use crate::git::tree::{Leaf, TreeEdit};
use crate::git::{Git, GitError};
use crate::txn::{self, Extra, PathChange, PauseEffect, Paused};

/// The engine's part of a paused update's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The operation's name (`update`, or `apply` when it moved a ref).
    pub op: String,
    /// The updates, with their target commits.
    pub steps: Vec<UpdateModule>,
    /// Each module's squash commit (hex): MERGE_HEAD, and the label of
    /// their side in the conflict markers.
    pub squashes: BTreeMap<String, String>,
}

/// What a pause left for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PauseOutcome {
    /// Conflicted paths, by module.
    pub conflicts: Vec<(String, Vec<String>)>,
    pub files_written: usize,
}

fn git_of(ws: &Workspace) -> Result<(&Git, &WriteSession), EngineError> {
    match (&ws.git, &ws.lock) {
        (Some(g), Some(l)) => Ok((g, l)),
        _ => Err(GitError::new("write", "the repository is not locked").into()),
    }
}

/// Writes the merged prefixes (conflicts included) and pauses.
pub fn pause(ws: &Workspace, resolved: &Resolved) -> Result<PauseOutcome, EngineError> {
    let (git, session) = git_of(ws)?;
    let head = git
        .head()?
        .commit
        .ok_or_else(|| GitError::new("pause an update", "there is no commit"))?;
    let updates = resolved.updates();
    let changes = merged_prefixes(git, head, updates)?;
    let (stages, conflicts) = conflict_stages(git, updates)?;
    let conflicted: Vec<String> = conflicts
        .iter()
        .flat_map(|(_, p)| p.iter().cloned())
        .collect();
    let branch = session.branch_ref();
    let mut tx = session.transaction(git, "update");
    for path in txn::worktree_paths(&changes, "") {
        tx.write_path(path);
    }
    tx.set_index(changes.iter().map(|c| (c.path.clone(), c.new)));
    let paused = Paused {
        version: txn::PAUSED_VERSION,
        operation: "update".into(),
        head: Some(head),
        branch: branch.clone(),
        paths: tx.paths().to_vec(),
        merge_heads: updates.iter().map(|u| u.squash.to_string()).collect(),
        merge_msg: merge_message(git, updates, &branch, &conflicted),
        conflicted,
        index_existed: git.index_path().exists(),
        record: serde_json::to_value(record_of(resolved))
            .map_err(|e| GitError::new("record the paused update", e))?,
    };
    // Scratch refs of older versions go with the pause.
    for (name, _) in git.refs_with_prefix(crate::state::refs::TMP_PREFIX)? {
        tx.move_ref(&name, None)?;
    }
    let files_written = tx.paths().len();
    tx.with_extra(Extra {
        pause: PauseEffect::Pause,
        paused: Some(paused),
        stages,
        restore_index: None,
    });
    tx.run()?;
    Ok(PauseOutcome {
        conflicts,
        files_written,
    })
}

/// HEAD's tree with each updated prefix as merged (conflict markers
/// included), as changes from HEAD; refused over uncommitted work.
fn merged_prefixes(
    git: &Git,
    head: ObjectId,
    updates: &[super::update::Merged],
) -> Result<Vec<crate::git::tree::TreeChange>, EngineError> {
    let head_tree = git.tree_of(head)?;
    let edits: Vec<TreeEdit> = updates
        .iter()
        .map(|u| TreeEdit {
            path: prefix_of(&u.step.name),
            target: u.merge.prefix_tree.map(|t| (EntryKind::Tree, t)),
        })
        .collect();
    let paused_tree = git.edit_tree(head_tree, &edits)?;
    let changes = git.diff_trees(head_tree, paused_tree)?;
    let blocked = git.check_clean(&changes, &[])?;
    if !blocked.is_empty() {
        return Err(EngineError::Dirty(
            blocked.iter().map(ToString::to_string).collect(),
        ));
    }
    Ok(changes)
}

/// The index stages 1–3 of every conflict, and the conflicted paths by module.
#[allow(clippy::type_complexity)]
fn conflict_stages(
    git: &Git,
    updates: &[super::update::Merged],
) -> Result<(Vec<(String, u8, Leaf)>, Vec<(String, Vec<String>)>), EngineError> {
    let mut stages = Vec::new();
    let mut conflicts = Vec::new();
    for u in updates.iter().filter(|u| !u.merge.conflicts.is_empty()) {
        stages.extend(git.conflict_stages(u.merge.tree, &u.merge.raw)?);
        conflicts.push((
            u.step.name.clone(),
            u.merge.conflicts.iter().map(|c| c.path.clone()).collect(),
        ));
    }
    Ok((stages, conflicts))
}

/// MERGE_MSG as git would write it: `git subtree pull`'s message for one
/// module, a list for several, then the conflicted paths.
fn merge_message(
    git: &Git,
    updates: &[super::update::Merged],
    branch: &str,
    conflicted: &[String],
) -> String {
    let mut merge_msg = match updates {
        [one] => git
            .subtree_merge_commit_message(one.squash, branch)
            .trim_end()
            .to_owned(),
        _ => format!(
            "Update modules {} (git quickscale update)",
            updates
                .iter()
                .map(|u| u.step.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    merge_msg.push_str("\n\n# Conflicts:\n");
    for p in conflicted {
        merge_msg.push_str(&format!("#\t{p}\n"));
    }
    merge_msg
}

/// The engine's record of a paused update: each step with its target
/// commit, and the squash commits.
fn record_of(resolved: &Resolved) -> Record {
    let updates = resolved.updates();
    Record {
        op: resolved.op().to_owned(),
        steps: updates
            .iter()
            .map(|u| UpdateModule {
                commit: Some(u.upstream.to_string()),
                ..u.step.clone()
            })
            .collect(),
        squashes: updates
            .iter()
            .map(|u| (u.step.name.clone(), u.squash.to_string()))
            .collect(),
    }
}

/// Why a paused update cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum PauseError {
    #[error("no update is paused in this repository")]
    NotPaused,
    #[error("these files still have conflict markers:\n{}", .0.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    Markers(Vec<String>),
    #[error(
        "HEAD moved since the update paused (from {} to {})",
        .paused_at.to_hex_with_len(12),
        .now.map(|n| n.to_hex_with_len(12).to_string()).unwrap_or_else(|| "nothing".into())
    )]
    HeadMoved {
        paused_at: ObjectId,
        now: Option<ObjectId>,
    },
    #[error(
        "the paused update's merge was committed with `git commit`; --abort would drop that commit"
    )]
    Committed,
    #[error("git's merge state (MERGE_HEAD) of the paused update is gone (`git merge --abort`?)")]
    MergeStateGone,
    #[error("the record of the paused update is unreadable: {0}")]
    Record(String),
    #[error(
        "--abort would lose your changes to these files, which the update had merged without conflicts:\n{}",
        .0.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n")
    )]
    Edited(Vec<String>),
}

impl PauseError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            PauseError::NotPaused => "nothing to continue or abort".into(),
            PauseError::Markers(_) => {
                "edit them (or `git mergetool`) until no `<<<<<<<` or `>>>>>>>` lines remain, then run `git quickscale update --continue` again".into()
            }
            PauseError::HeadMoved { .. } => {
                "move back (`git reset --keep <commit>`) to go on with the update, or drop its record with `git quickscale recover --forget`".into()
            }
            PauseError::Committed => {
                "`git quickscale update --continue` finishes it (wiring and state); to drop the merge, `git reset --keep HEAD^` first, then `git quickscale update --abort`".into()
            }
            PauseError::MergeStateGone => {
                "`git quickscale update --abort` puts back what the update changed".into()
            }
            PauseError::Record(_) => {
                "`git quickscale update --abort` puts back what the update changed; `git quickscale recover --forget` drops the record".into()
            }
            PauseError::Edited(paths) => format!(
                "keep them: finish with `git quickscale update --continue`; or save them elsewhere, drop them with `git checkout -- {}`, then run `git quickscale update --abort` again",
                paths.join(" ")
            ),
        })
    }
}

/// The paused update and its engine record, checked against HEAD; `true`
/// when the user committed the merge with `git commit` (HEAD's parents are
/// the paused HEAD and the squash commits), which `--continue` accepts.
pub fn load(git: &Git) -> Result<(Paused, Record, bool), EngineError> {
    let paused = txn::paused(git)?.ok_or(EngineError::Pause(PauseError::NotPaused))?;
    let record: Record = serde_json::from_value(paused.record.clone())
        .map_err(|e| EngineError::Pause(PauseError::Record(e.to_string())))?;
    let now = git.head()?.commit;
    let Some(paused_at) = paused.head else {
        return Ok((paused, record, false));
    };
    if now == Some(paused_at) {
        return Ok((paused, record, false));
    }
    let mut expected = vec![paused_at];
    expected.extend(
        paused
            .merge_heads
            .iter()
            .filter_map(|h| ObjectId::from_hex(h.as_bytes()).ok()),
    );
    match now {
        Some(n) if git.parents(n)? == expected => Ok((paused, record, true)),
        _ => Err(EngineError::Pause(PauseError::HeadMoved { paused_at, now })),
    }
}

/// The resolution of a paused update the user committed with `git commit`:
/// each prefix as HEAD has it.
pub fn committed_resolution(
    git: &Git,
    record: &Record,
) -> Result<BTreeMap<String, (ObjectId, ObjectId)>, EngineError> {
    let head = git
        .head()?
        .commit
        .ok_or_else(|| GitError::new("read HEAD", "there is no commit"))?;
    let tree = git.tree_of(head)?;
    let mut out = BTreeMap::new();
    for step in &record.steps {
        let prefix = prefix_of(&step.name);
        let prefix_tree = git
            .subtree_at(tree, &prefix)?
            .unwrap_or_else(|| git.empty_tree());
        let squash = record
            .squashes
            .get(&step.name)
            .and_then(|s| ObjectId::from_hex(s.as_bytes()).ok())
            .ok_or_else(|| {
                EngineError::Pause(PauseError::Record(format!(
                    "no squash commit for module {}",
                    step.name
                )))
            })?;
        out.insert(step.name.clone(), (squash, prefix_tree));
    }
    Ok(out)
}

/// Reads the user's resolution: each updated prefix as the worktree has it
/// (tracked and new files, ignored ones left out). Refuses while a
/// conflicted file still has markers.
pub fn resolution(
    git: &Git,
    paused: &Paused,
    record: &Record,
) -> Result<BTreeMap<String, (ObjectId, ObjectId)>, EngineError> {
    if !git.git_dir().join("MERGE_HEAD").exists() {
        return Err(EngineError::Pause(PauseError::MergeStateGone));
    }
    let mut markers = Vec::new();
    for path in &paused.conflicted {
        if let crate::git::worktree::OnDisk::Leaf(_) = git.on_disk(path)?
            && has_markers(
                &fs_err::read(git.workdir().join(path))
                    .map_err(|e| GitError::new(format!("read `{path}`"), e))?,
            )
        {
            markers.push(path.clone());
        }
    }
    if !markers.is_empty() {
        return Err(EngineError::Pause(PauseError::Markers(markers)));
    }
    let mut out = BTreeMap::new();
    for step in &record.steps {
        let prefix = prefix_of(&step.name);
        let dir = format!("{prefix}/");
        let paths = git.paths_under(&prefix)?;
        let mut leaves = Vec::new();
        for p in paths {
            if let crate::git::worktree::OnDisk::Leaf(l) = git.on_disk(&p)? {
                let blob = git.write_blob(&read_leaf(git, &p, l)?)?;
                leaves.push((
                    p[dir.len()..].to_owned(),
                    Leaf {
                        id: blob,
                        kind: l.kind,
                    },
                ));
            }
        }
        let tree = git.tree_from_leaves(&leaves)?;
        let squash = record
            .squashes
            .get(&step.name)
            .and_then(|s| ObjectId::from_hex(s.as_bytes()).ok())
            .ok_or_else(|| {
                EngineError::Pause(PauseError::Record(format!(
                    "no squash commit for module {}",
                    step.name
                )))
            })?;
        out.insert(step.name.clone(), (squash, tree));
    }
    Ok(out)
}

/// The bytes a leaf's blob holds (a symlink's target for links).
fn read_leaf(git: &Git, rel: &str, leaf: Leaf) -> Result<Vec<u8>, GitError> {
    let path = git.workdir().join(rel);
    if leaf.kind == EntryKind::Link {
        let target = std::fs::read_link(&path)
            .map_err(|e| GitError::new(format!("read link `{rel}`"), e))?;
        return Ok(target.into_os_string().into_encoded_bytes());
    }
    fs_err::read(&path).map_err(|e| GitError::new(format!("read `{rel}`"), e))
}

/// Whether a file still has a conflict marker line (`=======` alone is
/// not one: reStructuredText underlines look the same).
pub fn has_markers(bytes: &[u8]) -> bool {
    bytes
        .split(|&b| b == b'\n')
        .any(|l| l.starts_with(b"<<<<<<< ") || l.starts_with(b">>>>>>> "))
}

/// The options for resolving a paused update again with the user's
/// resolution (`premerged`: committed already by `git commit`).
pub fn continue_options(
    resolutions: BTreeMap<String, (ObjectId, ObjectId)>,
    premerged: bool,
) -> ExecOptions {
    ExecOptions {
        resolutions,
        premerged,
        ..Default::default()
    }
}

/// Puts back exactly what the paused update changed: the files it wrote,
/// the index, git's merge state. Like `git merge --abort`, it refuses when
/// a file the update merged cleanly was edited since (the edit would be
/// lost); edits of conflicted files are the resolution it gives up.
pub fn abort(ws: &Workspace) -> Result<usize, EngineError> {
    let (git, session) = git_of(ws)?;
    let (paused, _, committed) = load(git)?;
    if committed {
        // Putting HEAD back would drop the user's commit.
        return Err(EngineError::Pause(PauseError::Committed));
    }
    let mut edited = Vec::new();
    for p in paused
        .paths
        .iter()
        .filter(|p| !paused.conflicted.contains(&p.path))
    {
        if git.journal_entry(&p.path)? != p.new {
            edited.push(p.path.clone());
        }
    }
    if !edited.is_empty() {
        return Err(EngineError::Pause(PauseError::Edited(edited)));
    }
    let mut paths = Vec::new();
    for p in &paused.paths {
        // A rollback of the abort writes the user's content back: keep it.
        let now = match git.on_disk(&p.path)? {
            crate::git::worktree::OnDisk::Leaf(l) => {
                git.write_blob(&read_leaf(git, &p.path, l)?)?;
                Some(l.into())
            }
            _ => None,
        };
        if now != p.old {
            paths.push(PathChange {
                path: p.path.clone(),
                old: now,
                new: p.old,
            });
        }
    }
    let restore = txn::paused_index_before(git)?;
    let mut tx = session.transaction(git, "update --abort");
    tx.point_of_no_return(&paused.branch);
    for path in paths {
        tx.write_path(path);
    }
    let count = tx.paths().len();
    let restore_index = match restore {
        Some(bytes) => Some(bytes),
        None if !paused.index_existed => None,
        None => {
            return Err(EngineError::Pause(PauseError::Record(
                "the copy of the index from before the update is missing".into(),
            )));
        }
    };
    tx.with_extra(Extra {
        pause: PauseEffect::Resume,
        paused: None,
        stages: Vec::new(),
        restore_index,
    });
    tx.run()?;
    Ok(count)
}

/// The config text of an update: quickscale.yml with each module's
/// `sources.<name>.ref` set to where it moves (unless it already says so).
pub fn config_with_refs(
    ws: &Workspace,
    text: &str,
    steps: &[UpdateModule],
) -> Result<String, crate::config::edit::EditError> {
    let mut out = text.to_owned();
    for s in steps {
        let effective =
            crate::source::resolve(&s.name, &ws.config.config, &ws.catalog).map(|src| src.git_ref);
        if effective.as_deref() != Some(s.to_ref.as_str()) {
            out = crate::config::edit::set_source(&out, &s.name, None, Some(&s.to_ref))?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_whole_lines() {
        assert!(has_markers(
            b"a\n<<<<<<< HEAD\nb\n=======\nc\n>>>>>>> 123\n"
        ));
        assert!(!has_markers(b"x = '<<<<<<<'\n"));
        assert!(!has_markers(b"Title\n=======\n"));
        assert!(!has_markers(b"plain\n"));
    }
}
