//! Tree reading, editing and diffing.

use std::collections::BTreeMap;

use gix::ObjectId;
use gix::objs::tree::EntryKind;

use super::{Git, GitContext, GitError};

/// A leaf entry (file, symlink or gitlink) in a tree, by full path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leaf {
    pub id: ObjectId,
    pub kind: EntryKind,
}

/// One changed path between two trees (leaves only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeChange {
    pub path: String,
    pub old: Option<Leaf>,
    pub new: Option<Leaf>,
}

/// An edit for [`Git::edit_tree`]: set `path` to a leaf or a tree, or remove it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEdit {
    pub path: String,
    pub target: Option<(EntryKind, ObjectId)>,
}

/// The entries of one tree, by name.
pub type Entries = BTreeMap<String, (EntryKind, ObjectId)>;

impl Git {
    /// The direct entries of a tree (names must be UTF-8).
    pub fn tree_entries(&self, id: ObjectId) -> Result<Entries, GitError> {
        let mut out = Entries::new();
        self.for_each_entry(id, |name, kind, oid| {
            out.insert(name.to_owned(), (kind, oid));
        })?;
        Ok(out)
    }

    /// Calls `f` with each direct entry of a tree, in the tree's order,
    /// without collecting them (names must be UTF-8).
    fn for_each_entry(
        &self,
        id: ObjectId,
        mut f: impl FnMut(&str, EntryKind, ObjectId),
    ) -> Result<(), GitError> {
        let obj = self
            .repo
            .find_object(id)
            .ctx(|| format!("read tree {id}"))?;
        let tree = obj.into_tree();
        for e in tree.iter() {
            let e = e.ctx(|| format!("decode tree {id}"))?;
            let name = std::str::from_utf8(e.filename()).map_err(|_| {
                GitError::new(format!("read tree {id}"), "a path is not valid UTF-8")
            })?;
            f(name, e.mode().kind(), e.oid().to_owned());
        }
        Ok(())
    }

    /// Every changed leaf between two trees; identical subtrees are skipped.
    pub fn diff_trees(&self, old: ObjectId, new: ObjectId) -> Result<Vec<TreeChange>, GitError> {
        let mut out = Vec::new();
        self.diff_into(Some(old), Some(new), "", &mut out)?;
        Ok(out)
    }

    fn diff_into(
        &self,
        old: Option<ObjectId>,
        new: Option<ObjectId>,
        prefix: &str,
        out: &mut Vec<TreeChange>,
    ) -> Result<(), GitError> {
        if old == new {
            return Ok(());
        }
        let a = match old {
            Some(id) => self.tree_entries(id)?,
            None => Entries::new(),
        };
        let b = match new {
            Some(id) => self.tree_entries(id)?,
            None => Entries::new(),
        };
        let names: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        for name in names {
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            let ea = a.get(name).copied();
            let eb = b.get(name).copied();
            if ea == eb {
                continue;
            }
            let tree_a = ea.filter(|(k, _)| *k == EntryKind::Tree).map(|(_, id)| id);
            let tree_b = eb.filter(|(k, _)| *k == EntryKind::Tree).map(|(_, id)| id);
            if tree_a.is_some() || tree_b.is_some() {
                self.diff_into(tree_a, tree_b, &path, out)?;
            }
            let leaf_a = ea
                .filter(|(k, _)| *k != EntryKind::Tree)
                .map(|(kind, id)| Leaf { id, kind });
            let leaf_b = eb
                .filter(|(k, _)| *k != EntryKind::Tree)
                .map(|(kind, id)| Leaf { id, kind });
            if leaf_a.is_some() || leaf_b.is_some() {
                out.push(TreeChange {
                    path,
                    old: leaf_a,
                    new: leaf_b,
                });
            }
        }
        Ok(())
    }

    /// Every leaf under `tree`, with paths relative to it.
    pub fn list_leaves(&self, tree: ObjectId) -> Result<Vec<(String, Leaf)>, GitError> {
        let mut out = Vec::new();
        self.leaves_into(tree, "", &mut out)?;
        Ok(out)
    }

    /// [`Git::list_leaves`] under `prefix`, depth first, names in string
    /// order (as [`Git::diff_trees`] from nothing lists them).
    fn leaves_into(
        &self,
        tree: ObjectId,
        prefix: &str,
        out: &mut Vec<(String, Leaf)>,
    ) -> Result<(), GitError> {
        for (name, (kind, id)) in self.tree_entries(tree)? {
            let path = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            if kind == EntryKind::Tree {
                self.leaves_into(id, &path, out)?;
            } else {
                out.push((path, Leaf { id, kind }));
            }
        }
        Ok(())
    }

    /// The entry at `path` in `tree`, if any.
    pub fn entry_at(
        &self,
        tree: ObjectId,
        path: &str,
    ) -> Result<Option<(EntryKind, ObjectId)>, GitError> {
        let mut current = tree;
        let mut parts = path.split('/').filter(|p| !p.is_empty()).peekable();
        while let Some(part) = parts.next() {
            // A scan, not a map: a lookup reads one name (the last of
            // duplicates wins, as in `tree_entries`).
            let found = self.find_in_tree(current, part.as_bytes())?;
            let Some((kind, id)) = found else {
                return Ok(None);
            };
            if parts.peek().is_none() {
                return Ok(Some((kind, id)));
            }
            if kind != EntryKind::Tree {
                return Ok(None);
            }
            current = id;
        }
        Ok(Some((EntryKind::Tree, tree)))
    }

    /// The entry named `name` directly in tree `id`, comparing bytes (no
    /// UTF-8 check of every name passed: path lookups run a hundred times
    /// per `status`); the last of duplicates wins, as in `tree_entries`.
    fn find_in_tree(
        &self,
        id: ObjectId,
        name: &[u8],
    ) -> Result<Option<(EntryKind, ObjectId)>, GitError> {
        let obj = self
            .repo
            .find_object(id)
            .ctx(|| format!("read tree {id}"))?;
        let tree = obj.into_tree();
        let mut found = None;
        for e in tree.iter() {
            let e = e.ctx(|| format!("decode tree {id}"))?;
            if e.filename() == name {
                found = Some((e.mode().kind(), e.oid().to_owned()));
            }
        }
        Ok(found)
    }

    /// The subtree at `path`, when it is a tree.
    pub fn subtree_at(&self, tree: ObjectId, path: &str) -> Result<Option<ObjectId>, GitError> {
        Ok(match self.entry_at(tree, path)? {
            Some((EntryKind::Tree, id)) => Some(id),
            _ => None,
        })
    }

    /// Applies edits to `base` and writes the resulting tree.
    pub fn edit_tree(&self, base: ObjectId, edits: &[TreeEdit]) -> Result<ObjectId, GitError> {
        let mut editor = self
            .repo
            .edit_tree(base)
            .ctx(|| format!("edit tree {base}"))?;
        for e in edits {
            match e.target {
                Some((kind, id)) => {
                    editor
                        .upsert(e.path.as_str(), kind, id)
                        .ctx(|| format!("set `{}` in a tree", e.path))?;
                }
                None => {
                    editor
                        .remove(e.path.as_str())
                        .ctx(|| format!("remove `{}` from a tree", e.path))?;
                }
            }
        }
        Ok(editor.write().ctx(|| "write a tree".into())?.detach())
    }
}
