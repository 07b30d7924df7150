//! New objects kept in memory and written once, as one pack.
//!
//! An `apply` writes a few hundred objects: the histories it copies from
//! local sources, and its own commits, trees, blobs and the state note. As
//! loose files that was a file (and often a directory) per object, and
//! creating files was most of its time (see pack.rs). A handle that
//! [`Git::buffer_objects`] keeps them in gix's object memory (every read
//! through the handle sees them) until [`Git::write_buffered_objects`]
//! writes them as one pack.
//!
//! Objects must be on disk before anything outside the handle can name
//! them, so they are written:
//! - before any ref moves ([`Git::update_refs`]);
//! - before a transaction writes its journal (`txn::run_with`), whose
//!   refs recovery may move, and the index, which names blobs;
//! - before an id is abbreviated ([`Git::short_id`]: git's abbreviation
//!   looks at the object database) or a `git` process runs.
//!
//! A kill before then loses only objects nothing names yet.

use std::cell::{Cell, RefCell};

use gix::objs::Write as _;

use super::pack::{self, Entry};
use super::{Git, GitContext, GitError, ObjectId};

/// Up to this many objects are written as loose files: a pack and its
/// index are two files whatever they hold.
const MAX_LOOSE: usize = 2;

/// Uncompressed bytes per pack (the pack is built in memory; compressed
/// data of incompressible objects can be slightly larger).
const CHUNK_BYTES: usize = pack::MAX_PACK_BYTES / 2;

/// Bytes of copied histories kept in memory before they are written.
pub(super) const MAX_BUFFERED_BYTES: usize = 32 * 1024 * 1024;

/// What a buffering handle keeps beside gix's object memory.
#[derive(Default)]
pub(super) struct Buffered {
    /// Bytes of copied histories among the objects in memory.
    copied: Cell<usize>,
    /// The ids in memory, sorted, when there were `.0` of them. Objects
    /// are only ever added until the memory is written out (which clears
    /// this), so the same count means the same objects. Listing them
    /// means taking the memory out and copying every object back in;
    /// done per abbreviation, that made `update --all` quadratic in the
    /// number of modules (benches/README.md, "update --all by modules").
    ids: RefCell<Option<(usize, Vec<ObjectId>)>>,
}

impl Git {
    /// From now on, objects written through this handle stay in memory
    /// until [`Git::write_buffered_objects`] (see the module doc).
    pub fn buffer_objects(&mut self) {
        self.repo.objects.enable_object_memory();
        self.buffered.get_or_insert_with(Buffered::default);
    }

    /// Whether new objects are kept in memory (local.rs copies into it).
    pub(super) fn buffers(&self) -> bool {
        self.buffered.is_some()
    }

    /// Counts `bytes` of a copied history as buffered; `false` (nothing
    /// counted) when they would pass [`MAX_BUFFERED_BYTES`].
    pub(super) fn count_copied(&self, bytes: usize) -> bool {
        let Some(state) = &self.buffered else {
            return false;
        };
        let total = state.copied.get().saturating_add(bytes);
        let fits = total <= MAX_BUFFERED_BYTES;
        if fits {
            state.copied.set(total);
        }
        fits
    }

    /// Writes the objects kept in memory that the object database lacks:
    /// as one pack (more than [`MAX_LOOSE`]), else as loose files. On
    /// failure they stay in memory.
    pub fn write_buffered_objects(&self) -> Result<(), GitError> {
        let Some(state) = &self.buffered else {
            return Ok(());
        };
        state.ids.replace(None);
        let Some(storage) = self.repo.objects.reset_object_memory() else {
            return Ok(());
        };
        if storage.is_empty() {
            return Ok(());
        }
        state.copied.set(0);
        // With the memory emptied, this asks the object database only.
        let fresh: Vec<Entry<'_>> = storage
            .iter()
            .filter(|(id, _)| !self.repo.objects.exists_without_refresh(id))
            .map(|(id, (kind, data))| (*id, *kind, data.as_slice()))
            .collect();
        let result = self.write_entries(&fresh);
        if result.is_err() {
            for (id, (kind, data)) in storage.iter() {
                // Into memory again (it is still on): nothing is lost.
                let _ = self.repo.objects.write_buf_with_known_id(*kind, data, *id);
            }
        }
        result.ctx(|| format!("write {} new object(s)", fresh.len()))
    }

    /// [`Git::short_id`] of an object kept in memory: the shortest prefix,
    /// at least as long as git's default (`core.abbrev`, else from the
    /// number of packed objects, as git counts them), that no other object
    /// (on disk or in memory) starts with.
    pub(super) fn short_id_buffered(&self, id: ObjectId) -> Result<String, GitError> {
        let what = || format!("abbreviate {id}");
        let Some(state) = &self.buffered else {
            return Err(GitError::new(what(), "no objects are kept in memory"));
        };
        let count = self.repo.objects.num_objects_in_memory();
        let mut ids = state.ids.borrow_mut();
        let sorted = match &mut *ids {
            Some((seen, sorted)) if *seen == count => sorted,
            stale => &mut stale.insert((count, self.ids_in_memory())).1,
        };
        let unique = |len: usize| -> Result<Option<String>, GitError> {
            let prefix = gix::hash::Prefix::new(&id, len).ctx(what)?;
            let on_disk = self.repo.objects.lookup_prefix(prefix, None).ctx(what)?;
            let first = sorted.partition_point(|other| other.as_ref() < prefix.as_oid());
            let taken = matches!(on_disk, Some(Ok(other)) if other != id)
                || matches!(on_disk, Some(Err(())))
                || sorted[first..]
                    .iter()
                    .take_while(|other| prefix.cmp_oid(other).is_eq())
                    .any(|other| *other != id);
            Ok((!taken).then(|| prefix.to_string()))
        };
        for len in self.abbrev_len()?..id.kind().len_in_hex() {
            if let Some(short) = unique(len)? {
                return Ok(short);
            }
        }
        Ok(id.to_string())
    }

    /// The ids of the objects in memory, sorted. gix lists them only by
    /// handing the memory over, so every object is put back.
    fn ids_in_memory(&self) -> Vec<ObjectId> {
        let memory = self.repo.objects.reset_object_memory().unwrap_or_default();
        let mut ids: Vec<ObjectId> = memory.keys().copied().collect();
        ids.sort_unstable();
        for (other, (kind, data)) in memory.iter() {
            // Back into memory (still on).
            let _ = self
                .repo
                .objects
                .write_buf_with_known_id(*kind, data, *other);
        }
        ids
    }

    /// git's default abbreviation length: `core.abbrev`, else (`auto`)
    /// half the bits of the number of packed objects, at least 7.
    fn abbrev_len(&self) -> Result<usize, GitError> {
        let full = self.repo.object_hash().len_in_hex();
        match self.config_string("core.abbrev").as_deref() {
            Some("no") => return Ok(full),
            Some(n) if n != "auto" => {
                if let Ok(n) = n.parse::<usize>() {
                    return Ok(n.clamp(4, full));
                }
            }
            _ => {}
        }
        let count = self
            .repo
            .objects
            .packed_object_count()
            .ctx(|| "count the packed objects".into())?;
        let bits = 64 - count.leading_zeros() as usize;
        Ok(bits.div_ceil(2).max(7))
    }

    fn write_entries(
        &self,
        entries: &[Entry<'_>],
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        if entries.len() <= MAX_LOOSE {
            return self.write_loose(entries);
        }
        let objects_dir = self.repo.objects.store_ref().path();
        let hash = self.repo.object_hash();
        let mut chunk: Vec<Entry<'_>> = Vec::new();
        let mut bytes = 0;
        for entry in entries {
            if entry.2.len() > CHUNK_BYTES {
                self.write_loose(std::slice::from_ref(entry))?;
                continue;
            }
            if bytes + entry.2.len() > CHUNK_BYTES {
                pack::write(objects_dir, hash, &chunk)?;
                chunk.clear();
                bytes = 0;
            }
            bytes += entry.2.len();
            chunk.push(*entry);
        }
        pack::write(objects_dir, hash, &chunk)?;
        Ok(())
    }

    /// Loose files, through the object database (not the memory).
    fn write_loose(
        &self,
        entries: &[Entry<'_>],
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let store = &*self.repo.objects;
        for (id, kind, data) in entries {
            store.write_buf_with_known_id(*kind, data, *id)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::git::scratch_repo::ScratchRepo as Repo;
    use crate::git::{Git, RefUpdate};

    fn pack_files(repo: &Repo) -> Vec<String> {
        let mut files: Vec<String> = std::fs::read_dir(repo.dir.path().join(".git/objects/pack"))
            .expect("pack dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        files
    }

    /// Objects written through a buffering handle are readable through it
    /// but not on disk; a ref move writes them first, as one pack that
    /// `git fsck` finds complete, with no loose object beside it.
    #[test]
    fn buffered_objects_reach_disk_as_one_pack_before_a_ref_names_them() {
        let repo = Repo::new();
        let mut git = Git::discover_with_env(repo.dir.path()).expect("repo");
        git.buffer_objects();
        let sig = gix::actor::Signature {
            name: "T".into(),
            email: "t@example.com".into(),
            time: gix::date::Time::new(1_700_000_000, 0),
        };
        let mut edits = Vec::new();
        for i in 0..5 {
            let blob = git
                .write_blob(format!("x = {i}\n").as_bytes())
                .expect("blob");
            edits.push(crate::git::tree::TreeEdit {
                path: format!("pkg/f{i}.py"),
                target: Some((crate::git::EntryKind::Blob, blob)),
            });
        }
        let tree = git.edit_tree(git.empty_tree(), &edits).expect("tree");
        let commit = git
            .write_commit("one\n", tree, &[], &sig, &sig)
            .expect("commit");
        assert_eq!(git.tree_of(commit).expect("read back"), tree);
        assert!(pack_files(&repo).is_empty());
        assert!(
            std::process::Command::new("git")
                .current_dir(repo.dir.path())
                .args(["cat-file", "-e", &commit.to_string()])
                .status()
                .expect("git")
                .code()
                != Some(0),
            "not on disk before a ref names it"
        );
        git.update_refs(
            &[RefUpdate {
                name: "refs/heads/main".into(),
                expected: None,
                new: Some(commit),
            }],
            "test",
        )
        .expect("ref");
        let files = pack_files(&repo);
        assert_eq!(files.len(), 2, "{files:?}");
        repo.git(&["fsck", "--full", "--strict", "--no-dangling"]);
        let counts = repo.git(&["count-objects", "-v"]);
        assert!(counts.contains("count: 0\n"), "{counts}");
        // Five blobs, two trees, the commit.
        assert!(counts.contains("in-pack: 8\n"), "{counts}");
        assert_eq!(
            repo.git(&["ls-tree", "-r", "--name-only", "main"])
                .lines()
                .count(),
            5
        );
        // Written once: nothing stays buffered, a second write adds nothing.
        git.write_buffered_objects().expect("nothing left");
        assert_eq!(pack_files(&repo), files);
    }

    /// An object kept in memory is abbreviated as git abbreviates it once
    /// on disk (`core.abbrev` honoured), without being written for it, and
    /// stays readable.
    #[test]
    fn a_buffered_object_is_abbreviated_as_git_abbreviates_it() {
        let repo = Repo::new();
        repo.git(&["config", "core.abbrev", "12"]);
        let mut git = Git::discover_with_env(repo.dir.path()).expect("repo");
        git.buffer_objects();
        let blob = git.write_blob(b"abbreviated\n").expect("blob");
        let short = git.short_id(blob).expect("short");
        assert!(pack_files(&repo).is_empty());
        assert_eq!(
            git.read_blob(blob).expect("still readable"),
            b"abbreviated\n"
        );
        git.write_buffered_objects().expect("write");
        assert_eq!(
            short,
            repo.git(&["rev-parse", "--short", &blob.to_string()])
        );
        assert_eq!(short.len(), 12);
        repo.git(&["config", "core.abbrev", "auto"]);
        let mut git = Git::discover_with_env(repo.dir.path()).expect("repo");
        git.buffer_objects();
        let blob = git.write_blob(b"auto\n").expect("blob");
        let short = git.short_id(blob).expect("short");
        git.write_buffered_objects().expect("write");
        assert_eq!(
            short,
            repo.git(&["rev-parse", "--short", &blob.to_string()])
        );
    }

    /// Two objects in memory that share a prefix: once the second is
    /// there, the first's abbreviation grows past it (the list of ids kept
    /// for abbreviating is made again when the memory gains objects), and
    /// both match git's once on disk.
    #[test]
    fn an_abbreviation_grows_when_memory_gains_an_object_with_its_prefix() {
        let repo = Repo::new();
        repo.git(&["config", "core.abbrev", "4"]);
        let hash = |text: &str| {
            gix::objs::compute_hash(
                gix::hash::Kind::Sha1,
                gix::objs::Kind::Blob,
                text.as_bytes(),
            )
            .expect("hash")
        };
        let mut seen = std::collections::HashMap::new();
        let (first, second) = (0..100_000)
            .map(|i| format!("x = {i}\n"))
            .find_map(|text| {
                let prefix = hash(&text).to_hex_with_len(4).to_string();
                seen.insert(prefix, text.clone())
                    .map(|earlier| (earlier, text))
            })
            .expect("two contents whose ids share 4 hex digits");
        let mut git = Git::discover_with_env(repo.dir.path()).expect("repo");
        git.buffer_objects();
        let a = git.write_blob(first.as_bytes()).expect("blob");
        assert_eq!(git.short_id(a).expect("short").len(), 4);
        let b = git.write_blob(second.as_bytes()).expect("blob");
        let short_a = git.short_id(a).expect("short");
        let short_b = git.short_id(b).expect("short");
        assert!(
            short_a.len() > 4 && short_b.len() > 4,
            "{short_a} {short_b}"
        );
        git.write_buffered_objects().expect("write");
        assert_eq!(short_a, repo.git(&["rev-parse", "--short", &a.to_string()]));
        assert_eq!(short_b, repo.git(&["rev-parse", "--short", &b.to_string()]));
    }
}
