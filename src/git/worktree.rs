//! Moving the worktree and index between two trees, touching only the
//! paths that differ, so everything else the user has (staged or not) stays.
//!
//! gix has no "read-tree -u -m"; this is the spike's `sync_worktree`, made
//! path-limited.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::objs::tree::{EntryKind, EntryMode};

use super::tree::{Leaf, TreeChange};
use super::{Git, GitContext, GitError};

/// Why a path cannot be written safely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    pub path: String,
    pub reason: &'static str,
}

impl std::fmt::Display for Blocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.path, self.reason)
    }
}

impl Git {
    /// Checks that every changed path is exactly as the old tree has it, in
    /// the worktree and in the index, so writing it loses nothing. `adopted`
    /// paths are not checked: their current content is what gets committed,
    /// and the journal keeps a copy of them.
    pub fn check_clean(
        &self,
        changes: &[TreeChange],
        adopted: &[String],
    ) -> Result<Vec<Blocked>, GitError> {
        let workdir = self.workdir();
        let index = self.index_or_empty()?;
        let mut blocked = Vec::new();
        let mut checked_dirs = BTreeSet::new();
        let conflicts: BTreeSet<Vec<u8>> = index
            .entries()
            .iter()
            .filter(|e| e.stage_raw() != 0)
            .map(|e| e.path(&index).to_vec())
            .collect();
        for c in changes {
            if adopted.contains(&c.path) {
                continue;
            }
            let full = workdir.join(&c.path);
            if let Some(parent) = Path::new(&c.path).parent() {
                let mut dir = workdir.clone();
                for comp in parent.components() {
                    dir.push(comp);
                    if !checked_dirs.insert(dir.clone()) {
                        continue;
                    }
                    match std::fs::symlink_metadata(&dir) {
                        Ok(m) if m.is_dir() => {}
                        Ok(_) => blocked.push(Blocked {
                            path: dir
                                .strip_prefix(&workdir)
                                .unwrap_or(&dir)
                                .display()
                                .to_string(),
                            reason: "is a file or symlink where a directory is needed",
                        }),
                        Err(_) => {}
                    }
                }
            }
            let staged = index
                .entry_by_path(c.path.as_bytes().as_bstr())
                .map(|e| (e.id, e.mode, e.stage_raw()));
            let conflicted = conflicts.contains(c.path.as_bytes());
            if conflicted {
                blocked.push(Blocked {
                    path: c.path.clone(),
                    reason: "has an unresolved merge conflict",
                });
                continue;
            }
            match c.old {
                Some(old) => {
                    let index_ok = staged.is_some_and(|(id, mode, _)| {
                        id == old.id
                            && mode.to_tree_entry_mode().map(|m| m.kind()) == Some(old.kind)
                    });
                    if !index_ok {
                        blocked.push(Blocked {
                            path: c.path.clone(),
                            reason: "has staged changes",
                        });
                    } else if !self.worktree_matches(&full, old)? {
                        blocked.push(Blocked {
                            path: c.path.clone(),
                            reason: "has uncommitted changes",
                        });
                    }
                }
                None => {
                    if staged.is_some() {
                        blocked.push(Blocked {
                            path: c.path.clone(),
                            reason: "is staged but not committed",
                        });
                    } else if std::fs::symlink_metadata(&full).is_ok() {
                        blocked.push(Blocked {
                            path: c.path.clone(),
                            reason: "exists but is not committed",
                        });
                    }
                }
            }
        }
        blocked.sort_by(|a, b| a.path.cmp(&b.path));
        blocked.dedup();
        Ok(blocked)
    }

    fn worktree_matches(&self, path: &Path, leaf: Leaf) -> Result<bool, GitError> {
        let meta = match std::fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(_) => return Ok(false),
        };
        let (kind, data) = if meta.file_type().is_symlink() {
            let target =
                std::fs::read_link(path).ctx(|| format!("read link `{}`", path.display()))?;
            (
                EntryKind::Link,
                target.into_os_string().into_encoded_bytes(),
            )
        } else if meta.is_file() {
            use std::os::unix::fs::PermissionsExt;
            let exec = meta.permissions().mode() & 0o111 != 0;
            let data = fs_err::read(path).ctx(|| format!("read `{}`", path.display()))?;
            (
                if exec {
                    EntryKind::BlobExecutable
                } else {
                    EntryKind::Blob
                },
                data,
            )
        } else {
            return Ok(false);
        };
        let id = gix::objs::compute_hash(self.repo.object_hash(), gix::objs::Kind::Blob, &data)
            .ctx(|| format!("hash `{}`", path.display()))?;
        Ok(id == leaf.id && kind == leaf.kind)
    }

    fn index_or_empty(&self) -> Result<gix::index::File, GitError> {
        let path = self.repo.index_path();
        if path.exists() {
            self.repo
                .open_index()
                .ctx(|| format!("read the index `{}`", path.display()))
        } else {
            Ok(gix::index::File::from_state(
                gix::index::State::new(self.repo.object_hash()),
                path,
            ))
        }
    }

    /// Writes the new side of every change into the worktree and index.
    /// `on_file` is called after each batch, for crash-test hooks.
    pub fn apply_changes(
        &self,
        changes: &[TreeChange],
        on_written: &mut dyn FnMut(usize),
    ) -> Result<(), GitError> {
        let workdir = self.workdir();
        let mut index = self.index_or_empty()?;
        let written = self.checkout_leaves(
            &workdir,
            changes
                .iter()
                .filter_map(|c| c.new.map(|leaf| (c.path.as_str(), leaf))),
        )?;
        on_written(written.len());
        for c in changes.iter().filter(|c| c.new.is_none()) {
            remove_file_and_empty_parents(&workdir, &c.path)?;
        }
        let changed: BTreeSet<&[u8]> = changes.iter().map(|c| c.path.as_bytes()).collect();
        index.remove_entries(|_, path, _| changed.contains(path.as_bytes()));
        for (path, stat, id, mode) in written {
            index.dangerously_push_entry(
                stat,
                id,
                gix::index::entry::Flags::empty(),
                mode,
                path.as_bytes().as_bstr(),
            );
        }
        index.sort_entries();
        index.remove_tree();
        index
            .write(Default::default())
            .ctx(|| "write the index".into())?;
        Ok(())
    }

    /// Puts the old side of every change back into the worktree (rollback);
    /// paths in `keep` (files the user had before) are left alone.
    pub fn restore_changes(&self, changes: &[TreeChange], keep: &[String]) -> Result<(), GitError> {
        let workdir = self.workdir();
        self.checkout_leaves(
            &workdir,
            changes
                .iter()
                .filter(|c| !keep.contains(&c.path))
                .filter_map(|c| c.old.map(|leaf| (c.path.as_str(), leaf))),
        )?;
        for c in changes
            .iter()
            .filter(|c| c.old.is_none() && !keep.contains(&c.path))
        {
            remove_file_and_empty_parents(&workdir, &c.path)?;
        }
        Ok(())
    }

    /// Checks out the given leaves, overwriting what is there; returns the
    /// index data (path, stat, id, mode) of each written entry.
    fn checkout_leaves<'a>(
        &self,
        workdir: &Path,
        leaves: impl Iterator<Item = (&'a str, Leaf)>,
    ) -> Result<
        Vec<(
            String,
            gix::index::entry::Stat,
            ObjectId,
            gix::index::entry::Mode,
        )>,
        GitError,
    > {
        let mut subset = gix::index::State::new(self.repo.object_hash());
        for (path, leaf) in leaves {
            let mode = gix::index::entry::Mode::from(EntryMode::from(leaf.kind));
            subset.dangerously_push_entry(
                Default::default(),
                leaf.id,
                gix::index::entry::Flags::empty(),
                mode,
                path.as_bytes().as_bstr(),
            );
        }
        if subset.entries().is_empty() {
            return Ok(Vec::new());
        }
        subset.sort_entries();
        let mut opts = self
            .repo
            .checkout_options(gix::worktree::stack::state::attributes::Source::IdMapping)
            .ctx(|| "prepare a checkout".into())?;
        opts.destination_is_initially_empty = false;
        opts.overwrite_existing = true;
        let objects = self
            .repo
            .objects
            .clone()
            .into_arc()
            .ctx(|| "share the object database".into())?;
        let outcome = gix::worktree::state::checkout(
            &mut subset,
            workdir,
            objects,
            &gix::progress::Discard,
            &gix::progress::Discard,
            &AtomicBool::new(false),
            opts,
        )
        .ctx(|| format!("write files into `{}`", workdir.display()))?;
        if let Some(e) = outcome.errors.first() {
            return Err(GitError::new(
                format!("write `{}`", e.path),
                e.error.to_string(),
            ));
        }
        if let Some(c) = outcome.collisions.first() {
            return Err(GitError::new(
                format!("write `{}`", c.path),
                "it collides with another path",
            ));
        }
        Ok(subset
            .entries()
            .iter()
            .map(|e| (e.path(&subset).to_string(), e.stat, e.id, e.mode))
            .collect())
    }
}

fn remove_file_and_empty_parents(workdir: &Path, rel: &str) -> Result<(), GitError> {
    let path = workdir.join(rel);
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(GitError::new(format!("remove `{}`", path.display()), e)),
    }
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d == workdir || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
    Ok(())
}
