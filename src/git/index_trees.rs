//! The tree ids the index would write (what `git write-tree` computes and
//! the cache-tree extension stores), worked out by hashing the index's own
//! entries wherever that extension is missing or invalid.
//!
//! Comparing the index with HEAD then needs no tree object of HEAD under a
//! directory whose computed id equals HEAD's: an index written by `apply`
//! (or by `git add`, which invalidates the directories it touches) costs a
//! SHA-1 of its entries instead of inflating every tree of HEAD. An id is
//! only a short-cut: a directory holding anything a tree cannot record
//! (a conflict stage, an intent-to-add entry, a sparse directory entry) gets
//! none, so the walk reads it as before, and a wrong id could only differ
//! from HEAD's (a slower walk), never hide a change.

use std::collections::HashMap;
use std::ops::Range;

use gix::ObjectId;
use gix::bstr::{BStr, ByteSlice};
use gix::index::entry::Flags;
use gix::index::extension::Tree as CacheTree;

/// Computed tree ids by directory (`""` for the root, else `dir/`), for the
/// directories the cache-tree does not already give.
#[derive(Debug, Default)]
pub(crate) struct IndexTrees {
    ids: HashMap<Vec<u8>, ObjectId>,
}

impl IndexTrees {
    /// Computes the ids of the directory `dir` (the index entries `range`,
    /// all under `dir`) and of its subdirectories; `cache` is the
    /// cache-tree node of `dir`, whose valid nodes are taken as they are.
    pub(crate) fn compute(
        index: &gix::index::State,
        dir: &str,
        range: Range<usize>,
        cache: Option<&CacheTree>,
    ) -> Self {
        let mut out = Self::default();
        dir_id(index, dir.as_bytes(), range, cache, &mut out.ids);
        out
    }

    /// The computed id of `dir` (`""` or ending in `/`), if it has one.
    pub(crate) fn id_of(&self, dir: &str) -> Option<ObjectId> {
        self.ids.get(dir.as_bytes()).copied()
    }
}

/// Whether a cache-tree node is valid for `len` index entries.
pub(crate) fn cache_valid(cache: &CacheTree, len: usize) -> bool {
    cache.num_entries.is_some_and(|n| n as usize == len)
}

/// The tree id of `dir` as the index has it, recording every computed one
/// in `out`; `None` when some entry under it has no place in a tree.
fn dir_id(
    index: &gix::index::State,
    dir: &[u8],
    range: Range<usize>,
    cache: Option<&CacheTree>,
    out: &mut HashMap<Vec<u8>, ObjectId>,
) -> Option<ObjectId> {
    if let Some(c) = cache
        && cache_valid(c, range.len())
    {
        return Some(c.id);
    }
    let entries = index.entries();
    let mut buf = Vec::with_capacity(range.len() * 48);
    let mut complete = true;
    let mut i = range.start;
    while i < range.end {
        let path: &BStr = entries[i].path(index);
        let rest = &path[dir.len()..];
        if let Some(slash) = rest.find_byte(b'/') {
            let name = &rest[..slash];
            let prefix = &path[..dir.len() + slash + 1];
            let end =
                i + entries[i..range.end].partition_point(|e| e.path(index).starts_with(prefix));
            let child = cache.and_then(|c| c.children.iter().find(|t| t.name.as_slice() == name));
            // Every subdirectory is computed, even after a failure here.
            match dir_id(index, prefix, i..end, child, out) {
                Some(id) => push_entry(&mut buf, b"40000", name, id),
                None => complete = false,
            }
            i = end;
            continue;
        }
        let e = &entries[i];
        let single = i + 1 == range.end || entries[i + 1].path(index) != path;
        let plain = e.stage_raw() == 0
            && single
            && !e.flags.contains(Flags::INTENT_TO_ADD)
            && !e.mode.is_sparse();
        match e.mode.to_tree_entry_mode() {
            Some(mode) if plain => {
                let mut backing = [0u8; 6];
                push_entry(&mut buf, mode.as_bytes(&mut backing), rest, e.id);
            }
            _ => complete = false,
        }
        i += 1;
    }
    if !complete {
        return None;
    }
    let id = tree_id(index.object_hash(), &buf)?;
    out.insert(dir.to_vec(), id);
    Some(id)
}

/// The id of a tree object with this body. SHA-1 here is the CPU's
/// (`sha1` uses the SHA extensions where there are some), not gix's
/// collision-detecting one, which was a quarter of a commit hook's
/// instructions: the id is only compared with HEAD's and never names an
/// object that is stored, and the index it is computed from is the user's
/// own (who could skip the hook with `--no-verify` anyway).
fn tree_id(kind: gix::hash::Kind, body: &[u8]) -> Option<ObjectId> {
    if kind != gix::hash::Kind::Sha1 {
        return gix::objs::compute_hash(kind, gix::objs::Kind::Tree, body).ok();
    }
    use sha1::Digest;
    let mut hasher = sha1::Sha1::new();
    hasher.update(format!("tree {}\0", body.len()).as_bytes());
    hasher.update(body);
    let digest: [u8; 20] = hasher.finalize().into();
    Some(ObjectId::Sha1(digest))
}

/// One entry of a tree object: `<mode> <name>\0<id>`.
fn push_entry(buf: &mut Vec<u8>, mode: &[u8], name: &[u8], id: ObjectId) {
    buf.extend_from_slice(mode);
    buf.push(b' ');
    buf.extend_from_slice(name);
    buf.push(0);
    buf.extend_from_slice(id.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::scratch_repo::ScratchRepo as Repo;

    /// `git write-tree` of the index, and of each directory.
    fn written(r: &Repo, dir: &str) -> ObjectId {
        let root = r.git(&["write-tree"]);
        let spec = if dir.is_empty() {
            root.trim().to_owned()
        } else {
            format!("{}:{}", root.trim(), dir.trim_end_matches('/'))
        };
        r.id(&spec)
    }

    fn compute(r: &Repo) -> IndexTrees {
        let git = r.open();
        let index = git.read_index_fast().expect("index");
        let len = index.entries().len();
        // No cache-tree: every directory is hashed.
        IndexTrees::compute(&index, "", 0..len, None)
    }

    #[test]
    fn computed_ids_are_the_trees_git_writes() {
        let r = Repo::new();
        r.write("a.txt", "a");
        r.write("a-b/x", "x");
        r.write("a/b/c.py", "c");
        r.write("a/b.py", "b");
        r.write("modules/crm/deep/er/f.html", "f");
        r.write("run.sh", "#!/bin/sh\n");
        r.git(&["add", "-A"]);
        r.git(&["update-index", "--chmod=+x", "run.sh"]);
        let trees = compute(&r);
        for dir in ["", "a/", "a/b/", "a-b/", "modules/", "modules/crm/deep/er/"] {
            assert_eq!(trees.id_of(dir), Some(written(&r, dir)), "{dir}");
        }
    }

    #[test]
    fn a_directory_with_an_intent_to_add_or_a_conflict_gets_no_id() {
        let r = Repo::new();
        r.write("keep/k.txt", "k");
        r.write("ita/i.txt", "i");
        r.git(&["add", "keep"]);
        r.git(&["add", "-N", "ita/i.txt"]);
        let trees = compute(&r);
        assert_eq!(trees.id_of("ita/"), None);
        assert_eq!(trees.id_of(""), None, "the root holds ita/");
        assert!(trees.id_of("keep/").is_some());
    }

    #[test]
    fn the_fast_tree_id_is_gixs() {
        for body in [&b""[..], b"100644 a\0aaaaaaaaaaaaaaaaaaaa", &[7u8; 300][..]] {
            assert_eq!(
                tree_id(gix::hash::Kind::Sha1, body),
                gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::objs::Kind::Tree, body).ok()
            );
        }
    }
}
