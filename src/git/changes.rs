//! Change sets, the plain data the policy judges, and collecting them: what the index stages against HEAD
//! (the hooks), and what a commit changes against its first parent (`check`).
//!
//! Read-only. The staged diff walks HEAD's tree and the index together and
//! skips every directory whose cache-tree entry still matches HEAD, as
//! `git diff --cached` does, so a commit in a large project costs about as
//! much as reading the index. Where the cache-tree is missing or invalid
//! (the index `apply` writes, a directory `git add` touched), the tree id
//! is computed from the index entries (`index_trees`) and compared instead.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;

use gix::ObjectId;
use gix::bstr::{BStr, ByteSlice};
use gix::index::extension::Tree as CacheTree;
use gix::objs::tree::EntryKind;
use serde::Serialize;

use super::index_trees::{IndexTrees, cache_valid};
use super::subtree::parse_trailers;
use super::tree::{Leaf, TreeChange};
use super::{Git, GitContext, GitError};
use crate::layout::MODULES_DIR;

/// How a path changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "from")]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
    /// Moved from the given path (same content).
    Renamed(String),
}

/// One changed path (the new path for a rename).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub path: String,
    #[serde(flatten)]
    pub kind: ChangeKind,
}

impl Change {
    pub fn new(path: impl Into<String>, kind: ChangeKind) -> Self {
        Self {
            path: path.into(),
            kind,
        }
    }

    /// The paths this change touches: both ends of a rename.
    pub fn touched(&self) -> impl Iterator<Item = &str> {
        let from = match &self.kind {
            ChangeKind::Renamed(from) => Some(from.as_str()),
            _ => None,
        };
        std::iter::once(self.path.as_str()).chain(from)
    }
}

/// A merge, and the prefixes its git-subtree trailers name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Merge {
    /// `git-subtree-dir:` values of the merged commits (or of the merge
    /// message); empty for an ordinary merge.
    pub subtree_prefixes: Vec<String>,
}

/// What one commit (or the staged index) changes, against its first parent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChangeSet {
    pub changes: Vec<Change>,
    /// Set when the change is a merge.
    pub merge: Option<Merge>,
    /// Names of the `modules/<name>` directories that still hold files
    /// after the change (to tell a deleted prefix from deleted files).
    pub module_dirs_after: BTreeSet<String>,
    /// A commit the tool made itself (it carries a state note with an
    /// operation): the rules about hand edits do not apply to it.
    pub by_tool: bool,
}

/// The index being compared with HEAD, and the tree ids computed from it.
struct Staged<'a> {
    index: &'a gix::index::State,
    computed: IndexTrees,
}

/// A changed leaf, before renames are paired.
struct Raw {
    path: String,
    old: Option<ObjectId>,
    new: Option<ObjectId>,
}

impl Git {
    /// Opens the repository containing `dir` the way git's own commands do
    /// inside a hook: honouring `GIT_DIR`, `GIT_WORK_TREE` and
    /// `GIT_INDEX_FILE` (git points that at a temporary index for
    /// `git commit -a` and `git commit <paths>`). `None` outside a repository
    /// (as [`Git::open_at_root`], any failure to open counts as none).
    pub fn discover_with_env(dir: &Path) -> Option<Git> {
        // As `open_at_root`: any failure to find a repository means "none".
        super::discover_repo(dir, false).map(|repo| Git::wrap(super::with_object_cache(repo)))
    }

    /// Reads the index (the one `GIT_INDEX_FILE` names, if set) without
    /// verifying its checksum, as git does when it reads it. An index that
    /// does not exist yet is empty.
    pub fn read_index_fast(&self) -> Result<gix::index::State, GitError> {
        let path = self.repo.index_path();
        if !path.exists() {
            return Ok(gix::index::State::new(self.repo.object_hash()));
        }
        let file = gix::index::File::at(
            &path,
            self.repo.object_hash(),
            true,
            gix::index::decode::Options::default(),
        )
        .ctx(|| format!("read the index `{}`", path.display()))?;
        Ok(file.into())
    }

    /// What committing the index now would change against HEAD (everything,
    /// on an unborn branch). `merge` and `by_tool` are left for the caller.
    pub fn staged_changes(
        &self,
        head: Option<ObjectId>,
        index: &gix::index::State,
    ) -> Result<ChangeSet, GitError> {
        let head_tree = match head {
            Some(commit) => Some(self.tree_of(commit)?),
            None => None,
        };
        let mut raw = Vec::new();
        let all = 0..index.entries().len();
        let staged = Staged {
            computed: IndexTrees::compute(index, "", all.clone(), index.tree()),
            index,
        };
        self.walk_staged(head_tree, index.tree(), "", all, &staged, &mut raw)?;
        Ok(ChangeSet {
            changes: pair_renames(raw),
            merge: None,
            module_dirs_after: index_module_dirs(index),
            by_tool: false,
        })
    }

    /// The paths under `dir` whose index entry differs from HEAD's tree
    /// `head_tree` (added, modified or deleted: what
    /// `git diff --cached --name-only --no-renames -- dir` lists).
    pub fn staged_paths_under(
        &self,
        head_tree: ObjectId,
        index: &gix::index::State,
        dir: &str,
    ) -> Result<Vec<String>, GitError> {
        let prefix = format!("{dir}/");
        let entries = index.entries();
        let start = entries.partition_point(|e| e.path(index) < prefix.as_bytes().as_bstr());
        let end = start
            + entries[start..].partition_point(|e| e.path(index).starts_with(prefix.as_bytes()));
        let mut cache = index.tree();
        for part in dir.split('/') {
            cache = cache.and_then(|c| {
                c.children
                    .iter()
                    .find(|t| t.name.as_slice() == part.as_bytes())
            });
        }
        let staged = Staged {
            computed: IndexTrees::compute(index, &prefix, start..end, cache),
            index,
        };
        let mut raw = Vec::new();
        let tree = self.subtree_at(head_tree, dir)?;
        self.walk_staged(tree, cache, &prefix, start..end, &staged, &mut raw)?;
        let paths: BTreeSet<String> = raw.into_iter().map(|r| r.path).collect();
        Ok(paths.into_iter().collect())
    }

    fn walk_staged(
        &self,
        tree: Option<ObjectId>,
        cache: Option<&CacheTree>,
        dir: &str,
        range: Range<usize>,
        staged: &Staged<'_>,
        out: &mut Vec<Raw>,
    ) -> Result<(), GitError> {
        // Unchanged: the cache-tree, or the id computed from the index,
        // names HEAD's tree.
        if let Some(tree) = tree
            && (cache.is_some_and(|c| c.id == tree && cache_valid(c, range.len()))
                || staged.computed.id_of(dir) == Some(tree))
        {
            return Ok(());
        }
        let index = staged.index;
        let mut tree_entries = match tree {
            Some(id) => self.tree_entries(id)?,
            None => Default::default(),
        };
        let entries = index.entries();
        let mut i = range.start;
        while i < range.end {
            let entry = &entries[i];
            let path = entry.path(index);
            let rest = &path[dir.len()..];
            match rest.find_byte(b'/') {
                Some(slash) => {
                    let name = rest[..slash].to_str_lossy().into_owned();
                    let prefix = &path[..dir.len() + slash + 1];
                    let end = i + entries[i..range.end]
                        .partition_point(|e| e.path(index).starts_with(prefix));
                    let sub_dir = format!("{dir}{name}/");
                    let old = tree_entries.remove(&name);
                    let old_tree = match old {
                        Some((EntryKind::Tree, id)) => Some(id),
                        Some((_, id)) => {
                            out.push(Raw {
                                path: format!("{dir}{name}"),
                                old: Some(id),
                                new: None,
                            });
                            None
                        }
                        None => None,
                    };
                    let child = cache.and_then(|c| {
                        c.children
                            .iter()
                            .find(|t| t.name.as_slice() == name.as_bytes())
                    });
                    self.walk_staged(old_tree, child, &sub_dir, i..end, staged, out)?;
                    i = end;
                }
                None => {
                    let name = rest.to_str_lossy().into_owned();
                    // All stages of one path.
                    let mut end = i + 1;
                    while end < range.end && entries[end].path(index) == path {
                        end += 1;
                    }
                    let old = tree_entries.remove(&name);
                    self.diff_staged_path(old, &entries[i..end], format!("{dir}{name}"), out)?;
                    i = end;
                }
            }
        }
        // What HEAD has here and the index does not: deleted.
        for (name, (kind, id)) in tree_entries {
            self.push_deleted(kind, id, format!("{dir}{name}"), out)?;
        }
        Ok(())
    }

    /// One path of the index (all its stages) against what HEAD has there.
    fn diff_staged_path(
        &self,
        old: Option<(EntryKind, ObjectId)>,
        stages: &[gix::index::Entry],
        full: String,
        out: &mut Vec<Raw>,
    ) -> Result<(), GitError> {
        // Whether it is committed at all (not only `git add -N`).
        let committed = stages
            .iter()
            .any(|e| !e.flags.contains(gix::index::entry::Flags::INTENT_TO_ADD));
        let new = stages
            .iter()
            .find(|e| e.stage_raw() == 0)
            .or_else(|| stages.first());
        match (old, new) {
            (Some((EntryKind::Tree, old_tree)), Some(e)) if e.mode.is_sparse() => {
                // A sparse index keeps a whole directory as one entry.
                if old_tree != e.id {
                    self.raw_tree_diff(Some(old_tree), Some(e.id), &full, out)?;
                }
            }
            (old, Some(e)) if committed => {
                if let Some((EntryKind::Tree, old_tree)) = old {
                    self.raw_tree_diff(Some(old_tree), None, &full, out)?;
                }
                let old_leaf = old.filter(|(k, _)| *k != EntryKind::Tree);
                let kind = e.mode.to_tree_entry_mode().map(|m| m.kind());
                let unchanged = e.stage_raw() == 0
                    && old_leaf.is_some_and(|(k, id)| id == e.id && Some(k) == kind);
                if !unchanged {
                    out.push(Raw {
                        path: full,
                        old: old_leaf.map(|(_, id)| id),
                        new: Some(e.id),
                    });
                }
            }
            (Some((kind, id)), _) => self.push_deleted(kind, id, full, out)?,
            (None, _) => {}
        }
        Ok(())
    }

    /// A path HEAD has and the index does not: every leaf under it is deleted.
    fn push_deleted(
        &self,
        kind: EntryKind,
        id: ObjectId,
        full: String,
        out: &mut Vec<Raw>,
    ) -> Result<(), GitError> {
        if kind == EntryKind::Tree {
            self.raw_tree_diff(Some(id), None, &full, out)?;
        } else {
            out.push(Raw {
                path: full,
                old: Some(id),
                new: None,
            });
        }
        Ok(())
    }

    /// The leaves that differ between two trees, as paths under `base`.
    fn raw_tree_diff(
        &self,
        old: Option<ObjectId>,
        new: Option<ObjectId>,
        base: &str,
        out: &mut Vec<Raw>,
    ) -> Result<(), GitError> {
        let empty = self.empty_tree();
        let changes = self.diff_trees(old.unwrap_or(empty), new.unwrap_or(empty))?;
        out.extend(changes.into_iter().map(|c| Raw {
            path: format!("{base}/{}", c.path),
            old: c.old.map(|l| l.id),
            new: c.new.map(|l| l.id),
        }));
        Ok(())
    }

    /// The merge being committed, if any: the heads in `MERGE_HEAD` (a merge
    /// that stopped for conflicts or `--no-commit`, committed with
    /// `git commit`), else `heads` (what `git merge` passes to the
    /// pre-merge-commit hook), with the prefixes their git-subtree trailers
    /// and `MERGE_MSG` name.
    pub fn pending_merge(&self, heads: &[ObjectId]) -> Result<Option<Merge>, GitError> {
        let git_dir = self.repo.git_dir();
        let merge_head = git_dir.join("MERGE_HEAD");
        let mut merged: Vec<ObjectId> = match std::fs::read_to_string(&merge_head) {
            Ok(text) => text
                .lines()
                .filter_map(|l| ObjectId::from_hex(l.trim().as_bytes()).ok())
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(GitError::new(format!("read `{}`", merge_head.display()), e)),
        };
        let from_file = !merged.is_empty();
        if !from_file {
            merged = heads.to_vec();
        }
        if merged.is_empty() {
            return Ok(None);
        }
        let mut prefixes = BTreeSet::new();
        for id in merged {
            prefixes.extend(self.subtree_dir_of(id)?);
        }
        if from_file && let Ok(msg) = std::fs::read_to_string(git_dir.join("MERGE_MSG")) {
            prefixes.extend(parse_trailers(&msg).map(|t| t.dir));
        }
        Ok(Some(Merge {
            subtree_prefixes: prefixes.into_iter().collect(),
        }))
    }

    /// The `git-subtree-dir:` a commit's message names.
    fn subtree_dir_of(&self, commit: ObjectId) -> Result<Option<String>, GitError> {
        let c = self
            .repo
            .find_commit(commit)
            .ctx(|| format!("find commit {commit}"))?;
        let message = c
            .message_raw()
            .ctx(|| format!("read the message of {commit}"))?;
        Ok(parse_trailers(&message.to_str_lossy()).map(|t| t.dir))
    }

    /// What `commit` changes against its first parent (everything, for a
    /// root commit); a merge says which subtree prefixes it names.
    pub fn commit_changes(&self, commit: ObjectId) -> Result<ChangeSet, GitError> {
        let parents = self.parents(commit)?;
        let tree = self.tree_of(commit)?;
        let base = match parents.first() {
            Some(p) => self.tree_of(*p)?,
            None => self.empty_tree(),
        };
        let raw = self
            .diff_trees(base, tree)?
            .into_iter()
            .map(|c: TreeChange| Raw {
                path: c.path,
                old: c.old.map(|l: Leaf| l.id),
                new: c.new.map(|l: Leaf| l.id),
            })
            .collect();
        let merge = if parents.len() > 1 {
            let mut prefixes: BTreeSet<String> = self.subtree_dir_of(commit)?.into_iter().collect();
            for p in &parents[1..] {
                prefixes.extend(self.subtree_dir_of(*p)?);
            }
            Some(Merge {
                subtree_prefixes: prefixes.into_iter().collect(),
            })
        } else {
            None
        };
        let module_dirs_after = match self.subtree_at(tree, MODULES_DIR)? {
            Some(dir) => self
                .tree_entries(dir)?
                .into_iter()
                .filter(|(_, (kind, _))| *kind == EntryKind::Tree)
                .map(|(name, _)| name)
                .collect(),
            None => BTreeSet::new(),
        };
        Ok(ChangeSet {
            changes: pair_renames(raw),
            merge,
            module_dirs_after,
            by_tool: false,
        })
    }
}

/// Pairs a deleted path with an added one of the same content: a rename
/// (exact renames only, which is what `git mv` of a directory makes).
fn pair_renames(raw: Vec<Raw>) -> Vec<Change> {
    let mut deleted: BTreeMap<ObjectId, Vec<String>> = BTreeMap::new();
    for r in &raw {
        if let (Some(old), None) = (r.old, r.new) {
            deleted.entry(old).or_default().push(r.path.clone());
        }
    }
    let mut moved: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::with_capacity(raw.len());
    for r in &raw {
        let kind = match (r.old, r.new) {
            (None, Some(new)) => match deleted.get_mut(&new).and_then(|paths| {
                if paths.is_empty() {
                    None
                } else {
                    Some(paths.remove(0))
                }
            }) {
                Some(from) => {
                    moved.insert(from.clone());
                    ChangeKind::Renamed(from)
                }
                None => ChangeKind::Added,
            },
            (Some(_), Some(_)) => ChangeKind::Modified,
            (Some(_), None) => ChangeKind::Deleted,
            (None, None) => continue,
        };
        out.push(Change::new(r.path.clone(), kind));
    }
    out.retain(|c| !(c.kind == ChangeKind::Deleted && moved.contains(&c.path)));
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// The `modules/<name>` directories that hold at least one index entry.
fn index_module_dirs(index: &gix::index::State) -> BTreeSet<String> {
    let prefix = format!("{MODULES_DIR}/");
    let mut out = BTreeSet::new();
    if let Some(entries) = index.prefixed_entries(BStr::new(prefix.as_bytes())) {
        // Sorted entries: each directory's are consecutive, so a name is
        // only decoded when it changes.
        let mut last: &[u8] = &[];
        for e in entries {
            let rest = &e.path(index)[prefix.len()..];
            if let Some(slash) = rest.find_byte(b'/')
                && rest[..slash] != *last
            {
                last = &rest[..slash];
                out.insert(last.to_str_lossy().into_owned());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::git::scratch_repo::ScratchRepo as Repo;

    fn kinds(set: &ChangeSet) -> Vec<(String, ChangeKind)> {
        set.changes
            .iter()
            .map(|c| (c.path.clone(), c.kind.clone()))
            .collect()
    }

    #[test]
    fn staged_changes_match_git_diff_cached() {
        let r = Repo::new();
        r.write("modules/a/x.py", "x");
        r.write("modules/b/y.py", "y");
        r.write("templates/base.html", "b");
        r.write("deep/one/two/three.txt", "3");
        r.git(&["add", "-A"]);
        r.git(&["commit", "-qm", "one"]);
        // The cache-tree is valid now; change a few paths.
        r.write("templates/base.html", "changed");
        r.write("templates/new.html", "n");
        r.git(&["mv", "modules/a", "modules/c"]);
        r.git(&["rm", "-q", "deep/one/two/three.txt"]);
        r.git(&["add", "-A"]);
        let git = r.open();
        let head = Some(r.id("HEAD"));
        let index = git.read_index_fast().expect("index");
        let set = git.staged_changes(head, &index).expect("changes");
        assert_eq!(
            kinds(&set),
            vec![
                ("deep/one/two/three.txt".to_owned(), ChangeKind::Deleted),
                (
                    "modules/c/x.py".to_owned(),
                    ChangeKind::Renamed("modules/a/x.py".into())
                ),
                ("templates/base.html".to_owned(), ChangeKind::Modified),
                ("templates/new.html".to_owned(), ChangeKind::Added),
            ]
        );
        let mut names: Vec<String> = r
            .git(&["diff", "--cached", "--name-only", "--no-renames"])
            .lines()
            .map(str::to_owned)
            .collect();
        names.sort();
        let mut ours: Vec<String> = set
            .changes
            .iter()
            .flat_map(|c| match &c.kind {
                ChangeKind::Renamed(from) => vec![c.path.clone(), from.clone()],
                _ => vec![c.path.clone()],
            })
            .collect();
        ours.sort();
        assert_eq!(ours, names);
        assert_eq!(
            set.module_dirs_after.iter().cloned().collect::<Vec<_>>(),
            ["b", "c"]
        );
        // Nothing staged: nothing changed (the cache-tree short-cut).
        r.git(&["commit", "-qm", "two"]);
        let git = r.open();
        let index = git.read_index_fast().expect("index");
        let set = git
            .staged_changes(Some(r.id("HEAD")), &index)
            .expect("changes");
        assert!(set.changes.is_empty(), "{set:?}");
    }

    /// An index without a valid cache-tree (as `apply` writes it): the ids
    /// computed from its entries stand in for it, and a change they must
    /// see (a mode, a content, a conflict, an intent-to-add) is still seen.
    #[test]
    fn staged_changes_without_a_cache_tree_use_computed_ids_and_see_every_change() {
        let r = Repo::new();
        r.write("modules/a/x.py", "x");
        r.write("modules/b/deep/y.py", "y");
        r.write("top.txt", "t");
        r.git(&["add", "-A"]);
        r.git(&["commit", "-qm", "one"]);
        // Every cache-tree node invalid, nothing staged.
        r.git(&["rm", "-r", "-q", "--cached", "."]);
        r.git(&["add", "-A"]);
        let git = r.open();
        let head = Some(r.id("HEAD"));
        let staged = |git: &Git| {
            let index = git.read_index_fast().expect("index");
            let len = index.entries().len();
            let computed = IndexTrees::compute(&index, "", 0..len, index.tree());
            let set = git.staged_changes(head, &index).expect("changes");
            (computed.id_of(""), kinds(&set))
        };
        let (root, changes) = staged(&git);
        assert_eq!(root, Some(r.id("HEAD^{tree}")), "the short-cut is taken");
        assert_eq!(changes, vec![]);
        // A mode only.
        r.git(&["update-index", "--chmod=+x", "modules/b/deep/y.py"]);
        let (root, changes) = staged(&git);
        assert_ne!(root, Some(r.id("HEAD^{tree}")));
        assert_eq!(
            changes,
            vec![("modules/b/deep/y.py".to_owned(), ChangeKind::Modified)]
        );
        r.git(&["update-index", "--chmod=-x", "modules/b/deep/y.py"]);
        // An intent-to-add next to an unchanged file.
        r.write("modules/a/new.py", "n");
        r.git(&["add", "-N", "modules/a/new.py"]);
        let (root, changes) = staged(&git);
        assert_eq!(root, None, "no tree records an intent-to-add");
        assert_eq!(changes, vec![]);
        // A content change deep down.
        r.write("modules/b/deep/y.py", "changed");
        r.git(&["add", "modules/b/deep/y.py"]);
        let (_, changes) = staged(&git);
        assert_eq!(
            changes,
            vec![("modules/b/deep/y.py".to_owned(), ChangeKind::Modified)]
        );
        assert_eq!(
            git.staged_paths_under(
                r.id("HEAD^{tree}"),
                &git.read_index_fast().expect("index"),
                "modules"
            )
            .expect("paths"),
            ["modules/b/deep/y.py"]
        );
    }

    #[test]
    fn a_file_replaced_by_a_directory_and_an_unborn_branch() {
        let r = Repo::new();
        r.write("a", "file");
        r.git(&["add", "-A"]);
        let git = r.open();
        let index = git.read_index_fast().expect("index");
        let set = git.staged_changes(None, &index).expect("changes");
        assert_eq!(kinds(&set), vec![("a".to_owned(), ChangeKind::Added)]);
        r.git(&["commit", "-qm", "one"]);
        r.git(&["rm", "-q", "a"]);
        r.write("a/inner", "dir");
        r.git(&["add", "-A"]);
        let git = r.open();
        let index = git.read_index_fast().expect("index");
        let set = git
            .staged_changes(Some(r.id("HEAD")), &index)
            .expect("changes");
        assert_eq!(
            kinds(&set),
            vec![
                ("a".to_owned(), ChangeKind::Deleted),
                ("a/inner".to_owned(), ChangeKind::Added)
            ]
        );
    }

    #[test]
    fn commit_changes_name_the_subtree_prefix_of_a_merge() {
        let r = Repo::new();
        r.write("templates/base.html", "b");
        r.git(&["add", "-A"]);
        r.git(&["commit", "-qm", "base"]);
        r.git(&["checkout", "-qb", "side"]);
        r.write("modules/a/x.py", "x");
        r.git(&["add", "-A"]);
        r.git(&[
            "commit",
            "-qm",
            "Squashed 'modules/a/' content\n\ngit-subtree-dir: modules/a\ngit-subtree-split: 0123456789abcdef0123456789abcdef01234567",
        ]);
        r.git(&["checkout", "-q", "main"]);
        r.git(&["merge", "-q", "--no-ff", "-m", "Merge", "side"]);
        let git = r.open();
        let merge = git.commit_changes(r.id("HEAD")).expect("merge");
        assert_eq!(
            merge.merge,
            Some(Merge {
                subtree_prefixes: vec!["modules/a".into()]
            })
        );
        assert_eq!(
            kinds(&merge),
            vec![("modules/a/x.py".to_owned(), ChangeKind::Added)]
        );
        assert_eq!(
            merge.module_dirs_after.iter().cloned().collect::<Vec<_>>(),
            ["a"]
        );
        let root = git.commit_changes(r.id("HEAD^1")).expect("root");
        assert_eq!(root.merge, None);
        assert_eq!(
            kinds(&root),
            vec![("templates/base.html".to_owned(), ChangeKind::Added)]
        );
    }

    fn id(n: u8) -> ObjectId {
        ObjectId::from_bytes_or_panic(&[n; 20])
    }

    #[test]
    fn exact_moves_become_renames() {
        let raw = vec![
            Raw {
                path: "modules/crm/a.py".into(),
                old: Some(id(1)),
                new: None,
            },
            Raw {
                path: "modules/sales/a.py".into(),
                old: None,
                new: Some(id(1)),
            },
            Raw {
                path: "new.txt".into(),
                old: None,
                new: Some(id(2)),
            },
            Raw {
                path: "gone.txt".into(),
                old: Some(id(3)),
                new: None,
            },
            Raw {
                path: "edited.txt".into(),
                old: Some(id(4)),
                new: Some(id(5)),
            },
        ];
        assert_eq!(
            pair_renames(raw),
            vec![
                Change::new("edited.txt", ChangeKind::Modified),
                Change::new("gone.txt", ChangeKind::Deleted),
                Change::new(
                    "modules/sales/a.py",
                    ChangeKind::Renamed("modules/crm/a.py".into())
                ),
                Change::new("new.txt", ChangeKind::Added),
            ]
        );
    }
}
