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

/// How many note-less merges deep [`nearest_merged`] reads parents' states.
const MAX_MERGE_DEPTH: usize = 8;

/// The state of `head` as notes record it, merges included: the nearest
/// note on the first-parent history, unless a note-less merge commit (a
/// teammate's `git pull`) comes first; its state is then the three-way
/// merge of its parents' states (against their merge base's), so a clean
/// merge of two clones' work is in sync. When the parents changed the same
/// module, file or identity differently the merged state is unknown: a
/// [`NoteProblem`] says which, and the caller derives the state from the
/// tree instead.
pub fn nearest_merged(
    git: &Git,
    head: ObjectId,
) -> Result<Option<(ObjectId, AppliedState)>, NoteProblem> {
    nearest_within(git, head, MAX_MERGE_DEPTH)
}

fn nearest_within(
    git: &Git,
    head: ObjectId,
    depth: usize,
) -> Result<Option<(ObjectId, AppliedState)>, NoteProblem> {
    let Some(merge) = first_noteless_merge(git, head)? else {
        return nearest(git, head);
    };
    let parents = git.parents(merge).unwrap_or_default();
    if depth == 0 || parents.len() < 2 {
        return nearest(git, head);
    }
    let mut merged = nearest_within(git, parents[0], depth - 1)?;
    for other in &parents[1..] {
        let theirs = nearest_within(git, *other, depth - 1)?;
        merged = match (merged, theirs) {
            (Some(ours), Some(theirs)) if ours.1 == theirs.1 => Some(ours),
            (Some(ours), Some(theirs)) => {
                let base = match git.merge_base(parents[0], *other) {
                    Some(b) => nearest_within(git, b, depth - 1)?.map(|(_, s)| s),
                    None => None,
                };
                let state =
                    merge_states(base.as_ref(), &ours.1, &theirs.1).map_err(|why| NoteProblem {
                        commit: merge,
                        why: format!(
                            "it is a merge without a note, and its parents' states conflict: {why}"
                        ),
                    })?;
                Some((merge, state))
            }
            (None, theirs) => theirs,
            (ours, None) => ours,
        };
    }
    Ok(merged)
}

/// The first commit on `head`'s first-parent history that is a merge
/// without a note, when it comes before any note.
fn first_noteless_merge(git: &Git, head: ObjectId) -> Result<Option<ObjectId>, NoteProblem> {
    let Ok(Some(notes_commit)) = git.ref_target(NOTES_REF) else {
        return Ok(None);
    };
    let Ok(mut tree) = notes_tree(git, Some(notes_commit)) else {
        return Ok(None);
    };
    let mut current = Some(head);
    let mut steps = 0;
    while let Some(commit) = current {
        if git.note_of(&mut tree, commit).ok().flatten().is_some() {
            return Ok(None);
        }
        let parents = git.parents(commit).unwrap_or_default();
        if parents.len() > 1 {
            return Ok(Some(commit));
        }
        steps += 1;
        if steps >= MAX_WALK {
            break;
        }
        current = parents.first().copied();
    }
    Ok(None)
}

/// Three-way merge of two states: each module, managed file and the
/// identity is taken from the side that changed it; both changed it
/// differently is a conflict (named in the error).
fn merge_states(
    base: Option<&AppliedState>,
    ours: &AppliedState,
    theirs: &AppliedState,
) -> Result<AppliedState, String> {
    fn pick<T: PartialEq + Clone>(
        base: Option<Option<&T>>,
        ours: Option<&T>,
        theirs: Option<&T>,
        what: &str,
    ) -> Result<Option<T>, String> {
        if ours == theirs {
            return Ok(ours.cloned());
        }
        match base {
            Some(b) if b == ours => Ok(theirs.cloned()),
            Some(b) if b == theirs => Ok(ours.cloned()),
            // Without a base, a side that lacks it did not know it.
            None if ours.is_none() => Ok(theirs.cloned()),
            None if theirs.is_none() => Ok(ours.cloned()),
            _ => Err(format!("{what} differs on both sides")),
        }
    }
    let project = pick(
        base.map(|b| Some(&b.project)),
        Some(&ours.project),
        Some(&theirs.project),
        "the project identity",
    )?
    .unwrap_or_else(|| ours.project.clone());
    let mut merged = AppliedState {
        project,
        operation: None,
        ..ours.clone()
    };
    let names: std::collections::BTreeSet<&String> =
        ours.modules.keys().chain(theirs.modules.keys()).collect();
    merged.modules.clear();
    for name in names {
        if let Some(m) = pick(
            base.map(|b| b.modules.get(name)),
            ours.modules.get(name),
            theirs.modules.get(name),
            &format!("module {name}"),
        )? {
            merged.modules.insert(name.clone(), m);
        }
    }
    let paths: std::collections::BTreeSet<&String> =
        ours.managed.keys().chain(theirs.managed.keys()).collect();
    merged.managed.clear();
    for path in paths {
        if let Some(blob) = pick(
            base.map(|b| b.managed.get(path)),
            ours.managed.get(path),
            theirs.managed.get(path),
            &format!("managed file {path}"),
        )? {
            merged.managed.insert(path.clone(), blob);
        }
    }
    Ok(merged)
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

#[cfg(test)]
mod merge_tests {
    use super::*;
    use crate::identity::{Identity, Theme};

    fn state(managed: &[(&str, &str)]) -> AppliedState {
        let mut s = AppliedState::new(Identity {
            slug: "shop".into(),
            package: "shop".into(),
            theme: Theme::ShowcaseHtml,
            name: None,
        });
        for (path, blob) in managed {
            s.managed.insert((*path).into(), (*blob).into());
        }
        s
    }

    #[test]
    fn each_side_brings_what_it_changed_and_both_changing_one_thing_conflicts() {
        let base = state(&[("settings.py", "1"), ("urls.py", "1")]);
        let ours = state(&[("settings.py", "2"), ("urls.py", "1")]);
        let theirs = state(&[("settings.py", "1"), ("urls.py", "3"), ("new.py", "4")]);
        let merged = merge_states(Some(&base), &ours, &theirs).expect("clean");
        assert_eq!(merged.managed["settings.py"], "2");
        assert_eq!(merged.managed["urls.py"], "3");
        assert_eq!(merged.managed["new.py"], "4");
        assert!(merged.operation.is_none());
        let clash = state(&[("settings.py", "5"), ("urls.py", "1")]);
        let err = merge_states(Some(&base), &ours, &clash).expect_err("conflict");
        assert!(err.contains("settings.py"), "{err}");
        // A removal on one side stays removed.
        let removed = state(&[("urls.py", "1")]);
        let merged = merge_states(Some(&base), &removed, &base).expect("clean");
        assert!(!merged.managed.contains_key("settings.py"));
    }
}
