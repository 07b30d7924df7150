//! Settling an interrupted operation: every ref, path and the index must
//! hold the old or the planned value, then all of them move to one side.
//! Nothing is touched unless everything can be. The decisions are plain
//! functions of what is there now (unit-tested below); reading and moving
//! are apart.

use std::path::Path;

use super::{
    Direction, INDEX_BACKUP, INDEX_NEW, Journal, PathChange, TxnError, dir_of, io,
    remove_created_repo, test_pause,
};
use crate::git::tree::Leaf;
use crate::git::worktree::OnDisk;
use crate::git::{Git, ObjectId, RefUpdate};
use crate::state::refs::TMP_PREFIX;

/// What settling moves, and what it found changed by someone else.
#[derive(Debug, Default, PartialEq)]
struct Settlement<'a> {
    refs: Vec<RefUpdate>,
    /// Worktree paths to put back (rollback only).
    paths: Vec<&'a PathChange>,
    /// The index goes back to its backup (or away when there was none).
    index: bool,
    /// Values that are neither the old nor the planned one: settling refuses.
    differences: Vec<String>,
}

/// Moves every ref, path and the index of `journal` to one side.
pub(super) fn settle(git: &Git, journal: &Journal, direction: Direction) -> Result<(), TxnError> {
    let mut s = Settlement::default();
    let refs: Vec<(&str, Option<ObjectId>)> = journal
        .refs
        .iter()
        .filter(|r| !r.name.starts_with(TMP_PREFIX))
        .map(|r| Ok((r.name.as_str(), git.ref_target(&r.name)?)))
        .collect::<Result<_, TxnError>>()?;
    decide_refs(journal, direction, &refs, &mut s);
    if direction == Direction::Back {
        let on_disk: Vec<OnDisk> = journal
            .paths
            .iter()
            .map(|p| git.on_disk(&p.path))
            .collect::<Result<_, _>>()?;
        decide_paths(journal, &on_disk, &mut s);
        match decide_index(&index_facts(git, journal)) {
            Ok(restore) => s.index = restore,
            Err(difference) => s.differences.push(difference.into()),
        }
        if journal.created_repo {
            s.differences
                .extend(created_repo_differences(git, journal)?);
        }
    }
    if !s.differences.is_empty() {
        return Err(TxnError::Diverged {
            operation: journal.operation.clone(),
            forward: direction == Direction::Forward,
            differences: s.differences,
        });
    }
    carry_out(git, journal, direction, s)
}

fn short(id: Option<ObjectId>) -> String {
    match id {
        Some(id) => id.to_hex_with_len(12).to_string(),
        None => "(none)".into(),
    }
}

/// Each ref (`now`: its value, scratch refs left out) is at the far side
/// already, at the near side (to move), or elsewhere (a difference).
fn decide_refs(
    journal: &Journal,
    direction: Direction,
    now: &[(&str, Option<ObjectId>)],
    s: &mut Settlement,
) {
    for r in &journal.refs {
        let Some(&(_, now)) = now.iter().find(|(name, _)| *name == r.name) else {
            continue;
        };
        let (from, to) = match direction {
            Direction::Back => (r.new, r.old),
            Direction::Forward => (r.old, r.new),
        };
        if now == to {
            continue;
        }
        if now == from {
            s.refs.push(RefUpdate {
                name: r.name.clone(),
                expected: now,
                new: to,
            });
        } else {
            s.differences.push(format!(
                "ref {} is at {} (the operation moved it from {} to {})",
                r.name,
                short(now),
                short(r.old),
                short(r.new)
            ));
        }
    }
}

/// Rolling back, each worktree path (`on_disk`, in the journal's order)
/// holds its old content (nothing to do), the planned one (to put back),
/// or something else (a difference).
fn decide_paths<'a>(journal: &'a Journal, on_disk: &[OnDisk], s: &mut Settlement<'a>) {
    for (p, on_disk) in journal.paths.iter().zip(on_disk) {
        let holds = |e: Option<super::Entry>| match (e, on_disk) {
            (None, OnDisk::Absent) => true,
            (Some(e), OnDisk::Leaf(l)) => Leaf::from(e) == *l,
            _ => false,
        };
        if holds(p.old) {
            continue;
        }
        if holds(p.new) {
            s.paths.push(p);
        } else {
            s.differences
                .push(format!("{} was changed after the interruption", p.path));
        }
    }
}

/// The index compared with the operation's copies. Entries count, not
/// stat data: `git status` rewrites the index with fresh stat data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct IndexFacts {
    /// The index is as before the operation (both absent counts).
    as_before: bool,
    /// It exists and is as the operation staged it.
    as_staged: bool,
    /// The index existed before, and its backup is missing.
    backup_missing: bool,
}

fn index_facts(git: &Git, journal: &Journal) -> IndexFacts {
    let dir = dir_of(git.git_dir());
    let index_path = git.index_path();
    let index = std::fs::read(&index_path).ok();
    let backup = std::fs::read(dir.join(INDEX_BACKUP)).ok();
    let staged = std::fs::read(dir.join(INDEX_NEW)).ok();
    let before = if journal.index_existed {
        backup.clone()
    } else {
        None
    };
    let same = |a: &Option<Vec<u8>>, b: &Option<Vec<u8>>, b_path: &Path| match (a, b) {
        (Some(a), Some(b)) => a == b || git.same_index_entries(&index_path, b_path),
        (None, None) => true,
        _ => false,
    };
    IndexFacts {
        as_before: same(&index, &before, &dir.join(INDEX_BACKUP)),
        as_staged: index.is_some() && same(&index, &staged, &dir.join(INDEX_NEW)),
        backup_missing: journal.index_existed && backup.is_none(),
    }
}

/// Whether the index goes back (`Ok(true)`), stays (`Ok(false)`), or
/// holds what neither side knows (the difference to report).
fn decide_index(facts: &IndexFacts) -> Result<bool, &'static str> {
    if facts.as_before {
        Ok(false)
    } else if facts.as_staged {
        Ok(true)
    } else if facts.backup_missing {
        Err("the backup of the index is missing")
    } else {
        Err(
            "the index has other entries than before or after the operation (`git add`, `git rm` or `git reset` after the interruption?)",
        )
    }
}

/// A repository the operation created is removed on rollback only while
/// nobody else used it: HEAD on the branch it made, no other ref.
fn created_repo_differences(git: &Git, journal: &Journal) -> Result<Vec<String>, TxnError> {
    let mut out = Vec::new();
    let head = git.head()?;
    if head.branch.as_deref() != Some(journal.branch.as_str()) && journal.branch != "HEAD" {
        out.push(format!(
            "HEAD now names {}",
            head.branch.as_deref().unwrap_or("a detached commit")
        ));
    }
    let planned: Vec<&str> = journal.refs.iter().map(|r| r.name.as_str()).collect();
    for (name, _) in git.refs_with_prefix("refs/")? {
        if !planned.contains(&name.as_str()) && !name.starts_with(TMP_PREFIX) {
            out.push(format!("ref {name} was created after the interruption"));
        }
    }
    Ok(out)
}

/// Everything holds a value the operation knows: move it.
fn carry_out(
    git: &Git,
    journal: &Journal,
    direction: Direction,
    s: Settlement,
) -> Result<(), TxnError> {
    for (i, p) in s.paths.into_iter().enumerate() {
        match p.old {
            Some(e) => git.write_leaves(std::iter::once((p.path.as_str(), Leaf::from(e))))?,
            None => git.remove_path(&p.path)?,
        }
        if i == 0 {
            test_pause(git.git_dir(), "recovering");
        }
    }
    if s.index {
        let dir = dir_of(git.git_dir());
        match std::fs::read(dir.join(INDEX_BACKUP)) {
            Ok(bytes) if journal.index_existed => git.write_index_bytes(&bytes)?,
            _ => {
                let index = git.index_path();
                match std::fs::remove_file(&index) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io("remove", &index)(e)),
                }
            }
        }
    }
    git.update_refs(&s.refs, "git quickscale: recover")?;
    if journal.created_repo && direction == Direction::Back {
        remove_created_repo(git)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::EntryKind;
    use crate::refs::NOTES_REF;
    use crate::txn::{Entry, EntryKindName, PauseEffect, RefChange};

    fn id(n: u8) -> ObjectId {
        ObjectId::from_hex(format!("{n:02x}").repeat(20).as_bytes()).expect("hex")
    }

    fn entry(n: u8) -> Entry {
        Entry {
            id: id(n),
            kind: EntryKindName::Blob,
        }
    }

    fn journal() -> Journal {
        Journal {
            version: super::super::JOURNAL_VERSION,
            operation: "apply".into(),
            pid: 1,
            created_repo: false,
            branch: "refs/heads/main".into(),
            paths: vec![
                PathChange {
                    path: "settings.py".into(),
                    old: Some(entry(1)),
                    new: Some(entry(2)),
                },
                PathChange {
                    path: "new.py".into(),
                    old: None,
                    new: Some(entry(3)),
                },
            ],
            refs: vec![
                RefChange {
                    name: "refs/heads/main".into(),
                    old: Some(id(10)),
                    new: Some(id(11)),
                },
                RefChange {
                    name: NOTES_REF.into(),
                    old: None,
                    new: Some(id(12)),
                },
            ],
            index_existed: true,
            pause: PauseEffect::None,
        }
    }

    fn leaf(n: u8) -> OnDisk {
        OnDisk::Leaf(Leaf {
            id: id(n),
            kind: EntryKind::Blob,
        })
    }

    #[test]
    fn refs_move_from_the_near_side_stay_at_the_far_side_and_elsewhere_is_a_difference() {
        let j = journal();
        let mut s = Settlement::default();
        let now = [("refs/heads/main", Some(id(11))), (NOTES_REF, None)];
        decide_refs(&j, Direction::Back, &now, &mut s);
        assert_eq!(
            s.refs,
            vec![RefUpdate {
                name: "refs/heads/main".into(),
                expected: Some(id(11)),
                new: Some(id(10)),
            }]
        );
        assert!(s.differences.is_empty());
        // Forward, the same values: the notes ref is created, main stays.
        let mut s = Settlement::default();
        decide_refs(&j, Direction::Forward, &now, &mut s);
        assert_eq!(s.refs.len(), 1);
        assert_eq!(s.refs[0].name, NOTES_REF);
        assert_eq!(s.refs[0].expected, None);
        // A ref someone else moved is named, with both of the operation's values.
        let mut s = Settlement::default();
        decide_refs(
            &j,
            Direction::Back,
            &[("refs/heads/main", Some(id(0x99)))],
            &mut s,
        );
        assert!(s.refs.is_empty());
        assert_eq!(s.differences.len(), 1);
        assert!(s.differences[0].contains("refs/heads/main is at 999999999999"));
        assert!(s.differences[0].contains("from 0a0a0a0a0a0a to 0b0b0b0b0b0b"));
    }

    #[test]
    fn paths_holding_the_planned_content_go_back_and_other_content_is_a_difference() {
        let j = journal();
        let mut s = Settlement::default();
        decide_paths(&j, &[leaf(2), OnDisk::Absent], &mut s);
        assert_eq!(s.paths, vec![&j.paths[0]]);
        assert!(s.differences.is_empty());
        let mut s = Settlement::default();
        decide_paths(&j, &[leaf(1), leaf(3)], &mut s);
        assert_eq!(s.paths, vec![&j.paths[1]]);
        let mut s = Settlement::default();
        decide_paths(&j, &[leaf(7), OnDisk::Other], &mut s);
        assert!(s.paths.is_empty());
        assert_eq!(
            s.differences,
            vec![
                "settings.py was changed after the interruption",
                "new.py was changed after the interruption"
            ]
        );
    }

    #[test]
    fn the_index_goes_back_only_from_what_the_operation_staged() {
        let facts = |as_before, as_staged, backup_missing| IndexFacts {
            as_before,
            as_staged,
            backup_missing,
        };
        assert_eq!(decide_index(&facts(true, false, false)), Ok(false));
        // As before wins: nothing to restore even if it also equals the staged one.
        assert_eq!(decide_index(&facts(true, true, false)), Ok(false));
        assert_eq!(decide_index(&facts(false, true, false)), Ok(true));
        assert!(
            decide_index(&facts(false, false, true))
                .expect_err("missing")
                .contains("backup")
        );
        assert!(
            decide_index(&facts(false, false, false))
                .expect_err("other")
                .contains("git add")
        );
    }
}
