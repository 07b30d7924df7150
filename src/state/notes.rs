//! Reading and writing the state notes under `refs/notes/quickscale`.
//!
//! Writes build the notes commit as an object only, so the caller moves the
//! notes ref in the same ref transaction as the branch.

use super::AppliedState;
use super::refs::NOTES_REF;
use crate::git::{Git, GitError, NotesTree, ObjectId, Signature};

/// How far back the first-parent walk looks for a note.
const MAX_WALK: usize = 10_000;

fn notes_tree(git: &Git, notes_commit: Option<ObjectId>) -> Result<NotesTree, GitError> {
    git.notes_tree(notes_commit)
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
    match git.note_of(tree, commit)? {
        Some(blob) => Ok(Some(
            String::from_utf8_lossy(&git.read_blob(blob)?).into_owned(),
        )),
        None => Ok(None),
    }
}

/// Notes bigger than this are not ours (ours are a few KiB).
const MAX_NOTE_BYTES: u64 = 1 << 20;

/// A note that is there but cannot be used as this tool's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteProblem {
    pub commit: ObjectId,
    pub why: String,
}

/// The nearest note on `head`'s first-parent history, or why the nearest
/// one cannot be used. A broken notes ref or tree counts as a problem too.
pub fn nearest(git: &Git, head: ObjectId) -> Result<Option<(ObjectId, AppliedState)>, NoteProblem> {
    let problem = |commit: ObjectId, why: String| NoteProblem { commit, why };
    let notes_commit = match git.ref_target(NOTES_REF) {
        Ok(Some(c)) => c,
        Ok(None) => return Ok(None),
        Err(e) => return Err(problem(head, format!("the notes ref is unreadable: {e}"))),
    };
    let mut tree = notes_tree(git, Some(notes_commit))
        .map_err(|e| problem(head, format!("the notes tree is unreadable: {e}")))?;
    let mut current = Some(head);
    let mut steps = 0;
    while let Some(commit) = current {
        let blob = git.note_of(&mut tree, commit).map_err(|e| {
            problem(
                commit,
                format!("the notes tree is unreadable: {}", e.source),
            )
        })?;
        if let Some(blob) = blob {
            let size = git
                .object_size(blob)
                .map_err(|e| problem(commit, format!("its blob is unreadable: {}", e.source)))?;
            if size > MAX_NOTE_BYTES {
                return Err(problem(commit, format!("it is {size} bytes")));
            }
            let bytes = git
                .read_blob(blob)
                .map_err(|e| problem(commit, format!("its blob is unreadable: {e}")))?;
            let text = std::str::from_utf8(&bytes)
                .map_err(|_| problem(commit, "it is not UTF-8".into()))?;
            return AppliedState::from_note(text)
                .map(|state| Some((commit, state)))
                .map_err(|e| problem(commit, e.to_string()));
        }
        steps += 1;
        if steps >= MAX_WALK {
            break;
        }
        current = match git.parents(commit) {
            Ok(p) => p.first().copied(),
            // A shallow clone's boundary.
            Err(_) => None,
        };
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
        git.set_note(&mut tree, *commit, blob)?;
    }
    let root = git.write_notes_tree(tree)?;
    let parents: Vec<ObjectId> = parent.into_iter().collect();
    git.write_commit(message, root, &parents, signature, signature)
}
