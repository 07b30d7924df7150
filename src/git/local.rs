//! Sources on this machine, read without `git upload-pack`.
//!
//! gix fetches from a local path or a `file://` URL by spawning
//! `git upload-pack`, which spawns `git pack-objects`: two processes, and a
//! pack written, sent, received and indexed, per module. That was about two
//! thirds of the CPU time of an `apply` embedding five local modules
//! (benches/README.md). When the source is a plain local repository, its
//! refs are read directly and the objects of the wanted history are copied
//! into the project's object database instead: each object once, only when
//! the project lacks it, and always after everything it references, so an
//! interrupted copy never leaves an object whose history is incomplete.
//!
//! A handle that buffers its objects (buffered.rs) keeps the copies in
//! memory with its own objects, all written later as one pack. Otherwise a
//! few objects (an update's new commits; see [`MAX_LOOSE_OBJECTS`]) are
//! written as loose files; more (a module's whole history) as one pack and
//! its index, as a fetch would store them but without the two processes.
//!
//! Anything unusual (not an absolute path or `file://` URL of a repository,
//! a shallow source, a missing or corrupt object, another hash, a glob or
//! symbolic ref, a missing ref where the fetch would fail) gives `None`, and
//! the caller fetches as before: results and error messages stay the fetch's.

use std::collections::HashSet;
use std::path::PathBuf;

use gix::ObjectId;
use gix::objs::Kind;

use super::Git;
use super::pack;
use super::remote::RemoteRef;

/// The local repository `url` names, when it is one that can be copied from.
fn open(url: &str) -> Option<gix::Repository> {
    let path = match url.strip_prefix("file://") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(url),
    };
    if !path.is_absolute() {
        return None;
    }
    let mut repo = gix::open(&path).ok()?;
    if repo.is_shallow().unwrap_or(true) {
        return None;
    }
    repo.object_cache_size_if_unset(4 * 1024 * 1024);
    Some(repo)
}

/// What `name` (a full ref name or `HEAD`) points at directly (an annotated
/// tag's own object, as a fetch stores it); `None` when it does not exist
/// or is not a plain ref.
fn direct_target(src: &gix::Repository, name: &str) -> Option<Option<ObjectId>> {
    if name == "HEAD" {
        return Some(src.head_id().ok().map(|id| id.detach()));
    }
    match src.try_find_reference(name).ok()? {
        None => Some(None),
        Some(r) => r.target().try_id().map(|id| Some(id.to_owned())),
    }
}

/// The most objects copied one by one. Each loose file costs a create, a
/// write and a rename (and often a directory); a pack costs a handful of
/// such operations whatever it holds. A module's first embed (~60 objects)
/// as loose files was most of `apply`'s system time, so anything beyond a
/// small update is written as one pack. (git's `fetch.unpackLimit`, 100,
/// keeps fewer packs; `git gc --auto` merges them once there are 50.)
const MAX_LOOSE_OBJECTS: usize = 16;

/// The most bytes (uncompressed) of a history copied in memory; a larger
/// one is left to the fetch, which streams its pack.
const MAX_COPY_BYTES: usize = 2 * pack::MAX_PACK_BYTES;

/// Copies every object reachable from `tips` that `dst` lacks, children
/// before the objects that reference them. An object `dst` has is taken
/// to come with its whole history (as git's own fetch assumes).
fn copy_history(
    git: &Git,
    src: &gix::Repository,
    tips: &[ObjectId],
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let order = to_copy(&git.repo, src, tips)?;
    let mut objects = Vec::with_capacity(order.len());
    let mut bytes = 0;
    for id in order {
        let object = verified(src, id)?;
        bytes += object.1.data.len();
        if bytes > MAX_COPY_BYTES {
            return Err("a large history: the fetch streams it".into());
        }
        objects.push(object);
    }
    let entries: Vec<pack::Entry<'_>> = objects
        .iter()
        .map(|(id, object)| (*id, object.kind, object.data.as_slice()))
        .collect();
    store(git, &entries)
}

/// Writes copied objects: into the handle's memory when it buffers and
/// they fit, else loose (a few) or as one pack.
fn store(
    git: &Git,
    entries: &[pack::Entry<'_>],
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    use gix::objs::Write as _;
    let bytes = entries.iter().map(|(_, _, data)| data.len()).sum();
    // Over the memory budget, what is buffered goes to disk first.
    let buffered = git.buffers()
        && (git.count_copied(bytes) || {
            git.write_buffered_objects()?;
            git.count_copied(bytes)
        });
    if buffered || entries.len() <= MAX_LOOSE_OBJECTS {
        for (id, kind, data) in entries {
            git.repo.objects.write_buf_with_known_id(*kind, data, *id)?;
        }
        return Ok(());
    }
    pack::write(
        git.repo.objects.store_ref().path(),
        git.repo.object_hash(),
        entries,
    )?;
    Ok(())
}

/// The objects reachable from `tips` that `dst` lacks, each after the
/// objects it references.
fn to_copy(
    dst: &gix::Repository,
    src: &gix::Repository,
    tips: &[ObjectId],
) -> Result<Vec<ObjectId>, Box<dyn std::error::Error + Send + Sync>> {
    enum Step {
        Visit(ObjectId),
        Write(ObjectId),
    }
    let hash = src.object_hash();
    if hash != dst.object_hash() {
        return Err("the repositories use different hashes".into());
    }
    let mut todo: Vec<Step> = tips.iter().map(|id| Step::Visit(*id)).collect();
    let mut seen = HashSet::new();
    // First the objects to write, in the order to write them.
    let mut order = Vec::new();
    while let Some(step) = todo.pop() {
        let id = match step {
            Step::Visit(id) => {
                if !seen.insert(id) || dst.objects.exists_without_refresh(&id) {
                    continue;
                }
                let object = src.find_object(id)?;
                let children: Vec<ObjectId> = match object.kind {
                    Kind::Blob => Vec::new(),
                    Kind::Tree => {
                        let mut out = Vec::new();
                        for entry in gix::objs::TreeRefIter::from_bytes(&object.data, hash) {
                            let entry = entry?;
                            // A submodule's commit lives in another repository.
                            if !entry.mode.is_commit() {
                                out.push(entry.oid.to_owned());
                            }
                        }
                        out
                    }
                    Kind::Commit => {
                        let mut iter = gix::objs::CommitRefIter::from_bytes(&object.data, hash);
                        let tree = iter.tree_id()?;
                        let mut out: Vec<ObjectId> =
                            gix::objs::CommitRefIter::from_bytes(&object.data, hash)
                                .parent_ids()
                                .collect();
                        out.push(tree);
                        out
                    }
                    Kind::Tag => {
                        vec![gix::objs::TagRefIter::from_bytes(&object.data, hash).target_id()?]
                    }
                };
                if !children.is_empty() {
                    todo.push(Step::Write(id));
                    todo.extend(children.into_iter().map(Step::Visit));
                    continue;
                }
                id
            }
            Step::Write(id) => id,
        };
        order.push(id);
    }
    Ok(order)
}

/// Object `id` of `src`, checked against its id.
fn verified(
    src: &gix::Repository,
    id: ObjectId,
) -> Result<(ObjectId, gix::ObjectDetached), Box<dyn std::error::Error + Send + Sync>> {
    let object = src.find_object(id)?.detach();
    let actual = gix::objs::compute_hash(src.object_hash(), object.kind, &object.data)?;
    if actual != id {
        return Err(format!("object {id} in the source is corrupt").into());
    }
    Ok((id, object))
}

/// Every branch and tag of `src`, and HEAD, with the commit each names
/// (annotated tags peeled): what its advertisement would say.
fn advertised(src: &gix::Repository) -> Option<Vec<RemoteRef>> {
    let mut out = Vec::new();
    let platform = src.references().ok()?;
    for prefix in ["refs/heads/", "refs/tags/"] {
        for r in platform.prefixed(prefix).ok()? {
            let mut r = r.ok()?;
            let name = r.name().as_bstr().to_string();
            let commit = r.peel_to_id().ok()?.detach();
            out.push(RemoteRef { name, commit });
        }
    }
    if let Ok(head) = src.head_id() {
        out.push(RemoteRef {
            name: "HEAD".into(),
            commit: head.detach(),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out.dedup_by(|a, b| a.name == b.name);
    Some(out)
}

/// The objects `names` (full ref names or `HEAD`, no globs) point at in
/// `src`; `None` for a name that is not a plain ref name.
fn targets(src: &gix::Repository, names: &[String]) -> Option<Vec<Option<ObjectId>>> {
    names
        .iter()
        .map(|name| {
            if name.contains(['*', ':']) || name.starts_with('+') {
                None
            } else {
                direct_target(src, name)
            }
        })
        .collect()
}

impl Git {
    /// [`Git::list_remote`] for a local source.
    pub(super) fn list_local(&self, url: &str) -> Option<Vec<RemoteRef>> {
        advertised(&open(url)?)
    }

    /// The fetch of `specs` (ref names) for a local source: what the source
    /// advertises, and whether any of them existed (their history is then
    /// in the project's object database).
    pub(super) fn copy_local_specs(
        &self,
        url: &str,
        specs: &[String],
    ) -> Option<(Vec<RemoteRef>, bool)> {
        let src = open(url)?;
        let refs = advertised(&src)?;
        let tips: Vec<ObjectId> = targets(&src, specs)?.into_iter().flatten().collect();
        copy_history(self, &src, &tips).ok()?;
        Some((refs, !tips.is_empty()))
    }

    /// [`Git::fetch_refs`] for a local source: `Some(())` when every ref
    /// existed and its history was copied.
    pub(super) fn copy_local_refs(&self, url: &str, refs: &[String]) -> Option<()> {
        let src = open(url)?;
        let tips: Vec<ObjectId> = targets(&src, refs)?.into_iter().collect::<Option<_>>()?;
        copy_history(self, &src, &tips).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::git::scratch_repo::ScratchRepo as Repo;

    fn module_source() -> Repo {
        let src = Repo::new();
        src.commit("module.yml", "name: crm\n");
        src.commit("pkg/models.py", "x = 1\n");
        src.git(&["tag", "-a", "-m", "v1", "v1.0.0"]);
        src.commit("pkg/sub/views.py", "y = 2\n");
        src.git(&["tag", "v1.1.0"]);
        src
    }

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    /// `id`'s whole history is in `dst`: git walks every object of it.
    fn complete(dst: &Repo, id: &str) {
        dst.git(&["update-ref", "refs/test/check", id]);
        dst.git(&["rev-list", "--objects", "refs/test/check"]);
        dst.git(&["fsck", "--full", "--strict", "--no-dangling"]);
    }

    /// The whole history of an annotated tag arrives (the tag object too,
    /// as a fetch brings it), the advertisement names its commit, and git
    /// finds the copied history complete.
    #[test]
    fn copies_the_history_of_a_tag_completely() {
        let src = module_source();
        let dst = Repo::new();
        dst.commit("README.md", "project\n");
        let git = Git::discover_with_env(dst.dir.path()).expect("repo");
        let (refs, fetched) = git
            .copy_local_specs(
                &src.url(),
                &names(&["refs/tags/v1.0.0", "refs/heads/v1.0.0"]),
            )
            .expect("copied");
        assert!(fetched);
        let tag = refs
            .iter()
            .find(|r| r.name == "refs/tags/v1.0.0")
            .expect("advertised");
        assert_eq!(tag.commit, src.id("v1.0.0^{commit}"));
        assert_eq!(
            dst.git(&["cat-file", "-t", &src.id("v1.0.0").to_string()]),
            "tag"
        );
        complete(&dst, &src.id("v1.0.0").to_string());
        assert_eq!(dst.git(&["rev-list", "--count", "refs/test/check"]), "2");
        // A later version: only what is new is copied, the result is whole.
        git.copy_local_specs(&src.url(), &names(&["refs/tags/v1.1.0"]))
            .expect("copied");
        complete(&dst, &src.id("v1.1.0").to_string());
    }

    /// A missing ref fetches nothing (the caller names what exists); a
    /// relative path, a glob, a missing ref for `fetch_refs` and a shallow
    /// source are left to gix's fetch.
    #[test]
    fn unusual_sources_are_left_to_the_fetch() {
        let src = module_source();
        let dst = Repo::new();
        let git = Git::discover_with_env(dst.dir.path()).expect("repo");
        let (refs, fetched) = git
            .copy_local_specs(&src.url(), &names(&["refs/tags/v9"]))
            .expect("listed");
        assert!(!fetched);
        assert!(refs.iter().any(|r| r.name == "refs/tags/v1.1.0"));
        assert!(
            git.copy_local_specs("relative/path", &names(&["HEAD"]))
                .is_none()
        );
        assert!(
            git.copy_local_specs(&src.url(), &names(&["refs/tags/*"]))
                .is_none()
        );
        assert!(
            git.copy_local_refs(&src.url(), &names(&["refs/tags/v1.0.0", "refs/tags/v9"]))
                .is_none()
        );
        let shallow = Repo::new();
        shallow.git(&[
            "fetch",
            "-q",
            "--depth=1",
            &format!("file://{}", src.url()),
            "main",
        ]);
        shallow.git(&["update-ref", "refs/heads/main", "FETCH_HEAD"]);
        assert!(git.list_local(&shallow.url()).is_none());
        assert!(
            git.copy_local_specs(&shallow.url(), &names(&["HEAD"]))
                .is_none()
        );
    }

    /// A whole history of many objects arrives as one pack with its index
    /// (no loose file, no keep file), and git finds it complete.
    #[test]
    fn a_large_history_is_copied_as_one_pack() {
        let src = Repo::new();
        for i in 0..MAX_LOOSE_OBJECTS {
            let path = src.dir.path().join(format!("f{i}.py"));
            std::fs::write(path, format!("x = {i}\n")).expect("write");
        }
        src.git(&["add", "-A"]);
        src.git(&["commit", "-qm", "many files"]);
        let dst = Repo::new();
        let git = Git::discover_with_env(dst.dir.path()).expect("repo");
        git.copy_local_refs(&src.url(), &names(&["refs/heads/main"]))
            .expect("copied");
        let commit = src.id("main").to_string();
        // Found through the same handle (its store picks the new pack up).
        let id = ObjectId::from_hex(commit.as_bytes()).expect("id");
        assert!(git.repo.has_object(id));
        complete(&dst, &commit);
        let objects = dst.dir.path().join(".git/objects");
        let mut packs: Vec<String> = std::fs::read_dir(objects.join("pack"))
            .expect("pack dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        packs.sort();
        assert_eq!(packs.len(), 2, "{packs:?}");
        assert!(
            packs[0].ends_with(".idx") && packs[1].ends_with(".pack"),
            "{packs:?}"
        );
        assert_eq!(
            dst.git(&["count-objects", "-v"])
                .lines()
                .find(|l| l.starts_with("in-pack:"))
                .map(str::to_owned),
            Some(format!("in-pack: {}", MAX_LOOSE_OBJECTS + 2))
        );
    }

    /// The listing is what `git ls-remote` advertises (tags peeled).
    #[test]
    fn lists_what_ls_remote_lists() {
        let src = module_source();
        let dst = Repo::new();
        let git = Git::discover_with_env(dst.dir.path()).expect("repo");
        let listed: Vec<(String, String)> = git
            .list_local(&src.url())
            .expect("listed")
            .into_iter()
            .map(|r| (r.name, r.commit.to_string()))
            .collect();
        let mut expected: Vec<(String, String)> = Vec::new();
        for line in dst.git(&["ls-remote", &src.url()]).lines() {
            let (id, name) = line.split_once('\t').expect("tab");
            match name.strip_suffix("^{}") {
                Some(tag) => {
                    expected.retain(|(n, _)| n != tag);
                    expected.push((tag.to_owned(), id.to_owned()));
                }
                None => expected.push((name.to_owned(), id.to_owned())),
            }
        }
        expected.sort();
        assert_eq!(listed, expected);
    }

    /// Several refs over one call, from a `file://` URL.
    #[test]
    fn copies_several_refs() {
        let src = module_source();
        let dst = Repo::new();
        let git = Git::discover_with_env(dst.dir.path()).expect("repo");
        git.copy_local_refs(
            &format!("file://{}", src.url()),
            &names(&["refs/tags/v1.0.0", "refs/heads/main"]),
        )
        .expect("copied");
        complete(&dst, &src.id("main").to_string());
        complete(&dst, &src.id("v1.0.0").to_string());
    }
}
