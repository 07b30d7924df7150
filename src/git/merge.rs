//! The three-way merge of a module prefix, as `git merge -Xsubtree=<prefix>`
//! does it for `git subtree pull --squash`: the base and their trees are
//! spliced into HEAD's tree at the prefix (git's `shift_tree`), then merged
//! with HEAD's tree, so conflicts, markers and index stages are git's.

use std::collections::BTreeSet;

use gix::ObjectId;
use gix::bstr::{BString, ByteSlice};
use gix::objs::tree::EntryKind;

use super::tree::{Leaf, TreeEdit};
use super::{Git, GitContext, GitError};

/// The result of merging one prefix, in memory (objects only).
#[derive(Debug, Clone)]
pub struct PrefixMerge {
    /// HEAD's tree with the merged prefix (conflicted files hold markers).
    pub tree: ObjectId,
    /// The merged prefix alone.
    pub prefix_tree: Option<ObjectId>,
    /// Conflicts git would leave unresolved.
    pub conflicts: Vec<MergeConflict>,
    /// gix's own record, to put stages 1/2/3 into an index.
    pub raw: Vec<gix::merge::tree::Conflict>,
}

/// One unresolved conflict, for reports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MergeConflict {
    pub path: String,
    /// What happened on each side, in words.
    pub what: String,
}

impl Git {
    /// Merges `prefix` of `head_tree` from `base` (the upstream tree embedded
    /// last) to `theirs` (the new upstream tree); `their_label` names their
    /// side in conflict markers (git uses the squash commit's id).
    pub fn merge_prefix(
        &self,
        head_tree: ObjectId,
        prefix: &str,
        base: ObjectId,
        theirs: ObjectId,
        their_label: &str,
    ) -> Result<PrefixMerge, GitError> {
        let splice = |tree: ObjectId| {
            self.edit_tree(
                head_tree,
                &[TreeEdit {
                    path: prefix.to_owned(),
                    target: Some((EntryKind::Tree, tree)),
                }],
            )
        };
        let base_full = splice(base)?;
        let theirs_full = splice(theirs)?;
        let label = BString::from(their_label);
        let labels = gix::merge::blob::builtin_driver::text::Labels {
            ancestor: Some("merged common ancestors".into()),
            current: Some("HEAD".into()),
            other: Some(label.as_bstr()),
        };
        let options = self
            .repo
            .tree_merge_options()
            .ctx(|| "read the merge options".into())?;
        let mut outcome = self
            .repo
            .merge_trees(base_full, head_tree, theirs_full, labels, options)
            .ctx(|| format!("merge `{prefix}`"))?;
        let how = gix::merge::tree::TreatAsUnresolved::git();
        let tree = outcome
            .tree
            .write()
            .ctx(|| format!("write the merged tree of `{prefix}`"))?
            .detach();
        let mut conflicts = Vec::new();
        let mut seen = BTreeSet::new();
        for c in outcome.conflicts.iter().filter(|c| c.is_unresolved(how)) {
            let path = c.ours.location().to_str_lossy().into_owned();
            if seen.insert(path.clone()) {
                conflicts.push(MergeConflict {
                    what: describe(c),
                    path,
                });
            }
        }
        let prefix_tree = self.subtree_at(tree, prefix)?;
        Ok(PrefixMerge {
            tree,
            prefix_tree,
            conflicts,
            raw: std::mem::take(&mut outcome.conflicts),
        })
    }

    /// The conflict stages (1, 2, 3) git's merge puts into the index for
    /// `conflicts` of a merge whose result is `tree`: (path, stage, entry).
    pub fn conflict_stages(
        &self,
        tree: ObjectId,
        conflicts: &[gix::merge::tree::Conflict],
    ) -> Result<Vec<(String, u8, Leaf)>, GitError> {
        let mut state = self
            .repo
            .index_from_tree(&tree)
            .ctx(|| format!("read tree {tree} into an index"))?;
        gix::merge::tree::apply_index_entries(
            conflicts,
            gix::merge::tree::TreatAsUnresolved::git(),
            &mut state,
            gix::merge::tree::apply_index_entries::RemovalMode::Prune,
        );
        let mut out = Vec::new();
        for e in state.entries() {
            let stage = e.stage_raw();
            if stage == 0 {
                continue;
            }
            let Some(mode) = e.mode.to_tree_entry_mode() else {
                continue;
            };
            out.push((
                e.path(&state).to_str_lossy().into_owned(),
                stage as u8,
                Leaf {
                    id: e.id,
                    kind: mode.kind(),
                },
            ));
        }
        Ok(out)
    }

    /// [`Git::index_bytes_with`], then the conflict `stages` replace the
    /// stage-0 entries of their paths (as git's merge leaves them).
    pub fn index_bytes_with_stages(
        &self,
        updates: &[(String, Option<Leaf>)],
        written: &BTreeSet<&str>,
        stages: &[(String, u8, Leaf)],
    ) -> Result<Vec<u8>, GitError> {
        use gix::index::entry::{Flags, Mode, Stage};
        let bytes = self.index_bytes_with(updates, written)?;
        let (mut state, _) = gix::index::State::from_bytes(
            &bytes,
            std::time::UNIX_EPOCH.into(),
            self.repo.object_hash(),
            Default::default(),
        )
        .ctx(|| "read back the index".into())?;
        let paths: BTreeSet<&[u8]> = stages.iter().map(|(p, _, _)| p.as_bytes()).collect();
        state.remove_entries(|_, path, _| paths.contains(path.as_bytes()));
        for (path, stage, leaf) in stages {
            let stage = match stage {
                1 => Stage::Base,
                2 => Stage::Ours,
                _ => Stage::Theirs,
            };
            state.dangerously_push_entry(
                Default::default(),
                leaf.id,
                Flags::from_stage(stage),
                Mode::from(gix::objs::tree::EntryMode::from(leaf.kind)),
                path.as_bytes().as_bstr(),
            );
        }
        state.sort_entries();
        let mut file = gix::index::File::from_state(state, self.repo.index_path());
        file.remove_tree();
        let mut out = Vec::new();
        file.write_to(&mut out, Default::default())
            .ctx(|| "serialize the index".into())?;
        Ok(out)
    }

    /// Paths of the index that hold conflict stages (1, 2 or 3).
    pub fn unmerged_paths(&self) -> Result<Vec<String>, GitError> {
        let path = self.repo.index_path();
        if !path.exists() {
            return Ok(Vec::new());
        }
        let index = self
            .repo
            .open_index()
            .ctx(|| format!("read the index `{}`", path.display()))?;
        let mut out: Vec<String> = index
            .entries()
            .iter()
            .filter(|e| e.stage_raw() != 0)
            .map(|e| e.path(&index).to_str_lossy().into_owned())
            .collect();
        out.dedup();
        Ok(out)
    }

    /// The stage-0 index entries under `prefix/` (what `git add` recorded),
    /// as leaves with paths relative to `prefix`.
    pub fn staged_under(&self, prefix: &str) -> Result<Vec<(String, Leaf)>, GitError> {
        let path = self.repo.index_path();
        let index = self
            .repo
            .open_index()
            .ctx(|| format!("read the index `{}`", path.display()))?;
        let dir = format!("{prefix}/");
        let mut out = Vec::new();
        for e in index.entries() {
            let p = e.path(&index).to_str_lossy();
            let Some(rel) = p.strip_prefix(&dir) else {
                continue;
            };
            if e.stage_raw() != 0 {
                continue;
            }
            let Some(mode) = e.mode.to_tree_entry_mode() else {
                continue;
            };
            out.push((
                rel.to_owned(),
                Leaf {
                    id: e.id,
                    kind: mode.kind(),
                },
            ));
        }
        Ok(out)
    }

    /// Writes a tree from leaves (paths relative to the tree).
    pub fn tree_from_leaves(&self, leaves: &[(String, Leaf)]) -> Result<ObjectId, GitError> {
        let edits: Vec<TreeEdit> = leaves
            .iter()
            .map(|(p, l)| TreeEdit {
                path: p.clone(),
                target: Some((l.kind, l.id)),
            })
            .collect();
        self.edit_tree(self.empty_tree(), &edits)
    }
}

/// A conflict in words, as `git merge` would name it.
fn describe(c: &gix::merge::tree::Conflict) -> String {
    use gix::merge::tree::{Resolution, ResolutionFailure};
    match &c.resolution {
        Ok(Resolution::OursModifiedTheirsModifiedThenBlobContentMerge { .. }) => {
            "both changed the same lines (content conflict)".into()
        }
        Ok(Resolution::OursModifiedTheirsRenamedAndChangedThenRename { .. }) => {
            "changed locally, renamed and changed upstream (content conflict)".into()
        }
        Ok(_) => "conflict".into(),
        Err(f) => match f {
            ResolutionFailure::OursModifiedTheirsDeleted => {
                "changed on one side, deleted on the other (modify/delete)".into()
            }
            ResolutionFailure::OursDeletedTheirsRenamed => {
                "deleted on one side, renamed on the other (rename/delete)".into()
            }
            ResolutionFailure::OursRenamedTheirsRenamedDifferently { .. } => {
                "renamed differently on each side (rename/rename)".into()
            }
            ResolutionFailure::OursRenamedTheirsRenamedToSameLocation => {
                "two files renamed to the same name (rename/rename)".into()
            }
            ResolutionFailure::OursAddedTheirsAddedTypeMismatch { .. } => {
                "added on both sides as different kinds (add/add)".into()
            }
            other => format!("tree conflict ({other:?})"),
        },
    }
}

#[cfg(test)]
mod tests {
    //! The three-way merge of a prefix, on trees written as objects (no
    //! worktree, no commits): what is kept, what is taken, what conflicts.
    use super::*;
    use crate::git::scratch_repo::ScratchRepo;

    const PREFIX: &str = "modules/crm";

    /// A tree of the given files (path → text).
    fn tree(git: &Git, files: &[(&str, &str)]) -> ObjectId {
        let edits: Vec<TreeEdit> = files
            .iter()
            .map(|(path, text)| TreeEdit {
                path: (*path).to_owned(),
                target: Some((
                    EntryKind::Blob,
                    git.write_blob(text.as_bytes()).expect("blob"),
                )),
            })
            .collect();
        git.edit_tree(git.empty_tree(), &edits).expect("tree")
    }

    /// The text at `path` of `tree`, if any.
    fn text_at(git: &Git, tree: ObjectId, path: &str) -> Option<String> {
        let (_, id) = git.entry_at(tree, path).expect("entry")?;
        Some(String::from_utf8(git.read_blob(id).expect("blob")).expect("utf-8"))
    }

    /// HEAD's tree: the project's own files plus the module's files under PREFIX.
    fn head_with(git: &Git, module: &[(&str, &str)]) -> ObjectId {
        let mut files: Vec<(String, &str)> = vec![
            ("README.md".into(), "project\n"),
            // Same name as a module file, outside the prefix: never merged.
            ("views.py".into(), "the project's own\n"),
        ];
        files.extend(module.iter().map(|(p, t)| (format!("{PREFIX}/{p}"), *t)));
        let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), *t)).collect();
        tree(git, &refs)
    }

    #[test]
    fn local_patches_are_kept_and_upstream_changes_are_taken() {
        let repo = ScratchRepo::new();
        let git = repo.open();
        let base = tree(
            &git,
            &[
                ("views.py", "1\n2\n3\n4\n5\n"),
                ("urls.py", "a\n"),
                ("old.py", "o\n"),
            ],
        );
        let head = head_with(
            &git,
            &[
                ("views.py", "local\n2\n3\n4\n5\n"),
                ("urls.py", "a\n"),
                ("old.py", "o\n"),
            ],
        );
        let theirs = tree(
            &git,
            &[
                ("views.py", "1\n2\n3\n4\nupstream\n"),
                ("urls.py", "b\n"),
                ("new.py", "n\n"),
            ],
        );
        let merged = git
            .merge_prefix(head, PREFIX, base, theirs, "squash")
            .expect("merge");
        assert!(merged.conflicts.is_empty(), "{:?}", merged.conflicts);
        let at = |p: &str| text_at(&git, merged.tree, p);
        assert_eq!(
            at("modules/crm/views.py").as_deref(),
            Some("local\n2\n3\n4\nupstream\n")
        );
        assert_eq!(at("modules/crm/urls.py").as_deref(), Some("b\n"));
        assert_eq!(at("modules/crm/new.py").as_deref(), Some("n\n"));
        assert_eq!(
            at("modules/crm/old.py"),
            None,
            "deleted upstream, untouched here"
        );
        assert_eq!(at("views.py").as_deref(), Some("the project's own\n"));
        assert_eq!(at("README.md").as_deref(), Some("project\n"));
        assert_eq!(
            merged.prefix_tree,
            git.subtree_at(merged.tree, PREFIX).expect("subtree")
        );
    }

    #[test]
    fn the_same_lines_changed_on_both_sides_conflict_with_git_s_markers() {
        let repo = ScratchRepo::new();
        let git = repo.open();
        let base = tree(&git, &[("views.py", "1\n2\n3\n")]);
        let head = head_with(&git, &[("views.py", "1\nmine\n3\n")]);
        let theirs = tree(&git, &[("views.py", "1\ntheirs\n3\n")]);
        let merged = git
            .merge_prefix(head, PREFIX, base, theirs, "abc1234")
            .expect("merge");
        assert_eq!(
            merged.conflicts,
            vec![MergeConflict {
                path: "modules/crm/views.py".into(),
                what: "both changed the same lines (content conflict)".into(),
            }]
        );
        let text = text_at(&git, merged.tree, "modules/crm/views.py").expect("file");
        assert!(
            text.contains("<<<<<<< HEAD\nmine\n=======\ntheirs\n>>>>>>> abc1234\n"),
            "{text}"
        );
        // The index gets git's three stages for the conflicted path only.
        let stages = git
            .conflict_stages(merged.tree, &merged.raw)
            .expect("stages");
        let got: Vec<(&str, u8)> = stages.iter().map(|(p, s, _)| (p.as_str(), *s)).collect();
        assert_eq!(
            got,
            vec![
                ("modules/crm/views.py", 1),
                ("modules/crm/views.py", 2),
                ("modules/crm/views.py", 3)
            ]
        );
        let texts: Vec<String> = stages
            .iter()
            .map(|(_, _, leaf)| {
                String::from_utf8(git.read_blob(leaf.id).expect("blob")).expect("utf-8")
            })
            .collect();
        assert_eq!(texts, ["1\n2\n3\n", "1\nmine\n3\n", "1\ntheirs\n3\n"]);
    }

    #[test]
    fn a_file_changed_locally_and_deleted_upstream_is_a_modify_delete_conflict() {
        let repo = ScratchRepo::new();
        let git = repo.open();
        let base = tree(&git, &[("views.py", "1\n"), ("urls.py", "u\n")]);
        let head = head_with(&git, &[("views.py", "1\npatched\n"), ("urls.py", "u\n")]);
        let theirs = tree(&git, &[("urls.py", "u\n")]);
        let merged = git
            .merge_prefix(head, PREFIX, base, theirs, "squash")
            .expect("merge");
        assert_eq!(
            merged.conflicts,
            vec![MergeConflict {
                path: "modules/crm/views.py".into(),
                what: "changed on one side, deleted on the other (modify/delete)".into(),
            }]
        );
        // The local version stays in the tree for the user to decide.
        assert_eq!(
            text_at(&git, merged.tree, "modules/crm/views.py").as_deref(),
            Some("1\npatched\n")
        );
    }

    #[test]
    fn an_unchanged_upstream_leaves_head_as_it_is() {
        let repo = ScratchRepo::new();
        let git = repo.open();
        let base = tree(&git, &[("views.py", "1\n")]);
        let head = head_with(&git, &[("views.py", "1\nlocal\n"), ("mine.py", "m\n")]);
        let merged = git
            .merge_prefix(head, PREFIX, base, base, "squash")
            .expect("merge");
        assert!(merged.conflicts.is_empty(), "{:?}", merged.conflicts);
        assert_eq!(merged.tree, head);
    }
}
