//! Reading and writing the state notes under `refs/notes/quickscale`.
//!
//! Writes build the notes commit as an object only, so the caller moves the
//! notes ref in the same ref transaction as the branch.

use gix::ObjectId;
use gix::note::plumbing::State as NotesTree;

use super::refs::NOTES_REF;
use super::{AppliedState, StateError};
use crate::git::{Git, GitContext, GitError, Signature};

/// How far back the first-parent walk looks for a note.
const MAX_WALK: usize = 10_000;

fn notes_tree(git: &Git, notes_commit: Option<ObjectId>) -> Result<NotesTree, GitError> {
    let root = match notes_commit {
        Some(c) => git.tree_of(c)?,
        None => git.empty_tree(),
    };
    NotesTree::new(root, &git.repo.objects).ctx(|| format!("read the notes tree {root}"))
}

/// The note text on `commit`, if any.
pub fn read(git: &Git, commit: ObjectId) -> Result<Option<String>, GitError> {
    let Some(notes_commit) = git.ref_target(NOTES_REF)? else {
        return Ok(None);
    };
    let mut tree = notes_tree(git, Some(notes_commit))?;
    read_in(git, &mut tree, commit)
}

fn read_in(git: &Git, tree: &mut NotesTree, commit: ObjectId) -> Result<Option<String>, GitError> {
    match tree
        .get(&commit, &git.repo.objects)
        .ctx(|| format!("look up the note of {commit}"))?
    {
        Some(blob) => Ok(Some(
            String::from_utf8_lossy(&git.read_blob(blob)?).into_owned(),
        )),
        None => Ok(None),
    }
}

/// The nearest note on `head`'s first-parent history.
pub fn nearest(git: &Git, head: ObjectId) -> Result<Option<(ObjectId, AppliedState)>, StateError> {
    let Some(notes_commit) = git.ref_target(NOTES_REF)? else {
        return Ok(None);
    };
    let mut tree = notes_tree(git, Some(notes_commit))?;
    let mut current = Some(head);
    let mut steps = 0;
    while let Some(commit) = current {
        if let Some(text) = read_in(git, &mut tree, commit)? {
            return Ok(Some((commit, AppliedState::from_note(&text)?)));
        }
        steps += 1;
        if steps >= MAX_WALK {
            break;
        }
        current = git.parents(commit)?.first().copied();
    }
    Ok(None)
}

/// Writes a notes commit adding `notes` (commit → text) on top of
/// `parent`; the caller moves NOTES_REF to it.
pub fn write_commit(
    git: &Git,
    parent: Option<ObjectId>,
    notes: &[(ObjectId, String)],
    signature: &Signature,
    message: &str,
) -> Result<ObjectId, GitError> {
    let mut tree = notes_tree(git, parent)?;
    for (commit, text) in notes {
        let blob = git.write_blob(text.as_bytes())?;
        tree.edit(*commit, Some(blob), &git.repo.objects)
            .ctx(|| format!("add the note of {commit}"))?;
    }
    let root = tree
        .write(&git.repo.objects)
        .ctx(|| "write the notes tree".into())?;
    let parents: Vec<ObjectId> = parent.into_iter().collect();
    git.write_commit(message, root, &parents, signature, signature)
}
