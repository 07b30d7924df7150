//! A temporary object store over the repository's, for commands that only
//! read but must fetch (`update --check`, `update --dry-run`): every object
//! written while it is in place — a fetched pack, objects copied from a
//! local source, the trees a preview merges — goes to a temporary directory
//! removed when the overlay is dropped, and reads see both stores (the
//! repository's is the temporary one's alternate). The project's object
//! database is left exactly as it was.

use std::path::PathBuf;

use super::{Git, GitContext, GitError};

/// The temporary object directory; removed on drop. The [`Git`] handle it
/// was made for must not read objects after that.
#[derive(Debug)]
pub struct ObjectOverlay {
    dir: tempfile::TempDir,
}

impl ObjectOverlay {
    /// Where the overlay's objects are (for tests and messages).
    pub fn objects_dir(&self) -> PathBuf {
        self.dir.path().join("objects")
    }
}

impl Git {
    /// From now on, objects this handle writes go to a temporary store
    /// that the returned overlay removes when dropped; reads see the
    /// repository's objects too. Keep the overlay until the handle is done.
    pub fn overlay_objects(&mut self) -> Result<ObjectOverlay, GitError> {
        let real = std::path::absolute(self.repo.objects.store_ref().path())
            .ctx(|| "find the object directory".into())?;
        let dir = tempfile::Builder::new()
            .prefix("git-quickscale-objects-")
            .tempdir()
            .ctx(|| "create a temporary object directory".into())?;
        let objects = dir.path().join("objects");
        for sub in ["info", "pack"] {
            let path = objects.join(sub);
            fs_err::create_dir_all(&path).ctx(|| format!("create {}", path.display()))?;
        }
        let alternates = objects.join("info/alternates");
        fs_err::write(&alternates, format!("{}\n", real.display()))
            .ctx(|| format!("write {}", alternates.display()))?;
        let store = gix::odb::Store::at_opts(
            objects.clone(),
            self.repo.object_hash(),
            &mut std::iter::empty(),
            gix::odb::store::init::Options::default(),
        )
        .ctx(|| format!("open the object store {}", objects.display()))?;
        let handle: gix::odb::Handle = gix::parallel::OwnShared::new(store).to_cache();
        // Written through to the temporary directory (a proxy keeping them
        // in memory would hide them from abbreviation).
        self.repo.objects = gix::OdbHandle::from(handle).with_write_passthrough();
        self.repo
            .object_cache_size_if_unset(super::OBJECT_CACHE_BYTES);
        Ok(ObjectOverlay { dir })
    }
}

#[cfg(test)]
mod tests {
    use crate::git::Git;
    use crate::git::scratch_repo::ScratchRepo as Repo;

    /// Every file under the repository's object directory.
    fn objects(repo: &Repo) -> Vec<String> {
        let out = repo.git(&["count-objects", "-v"]);
        let mut files: Vec<String> = walk(&repo.dir.path().join(".git/objects"));
        files.sort();
        files.push(out);
        files
    }

    fn walk(dir: &std::path::Path) -> Vec<String> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p.display().to_string());
            }
        }
        out
    }

    #[test]
    fn objects_written_through_the_overlay_are_readable_and_gone_with_it() {
        let repo = Repo::new();
        repo.commit("README.md", "project\n");
        repo.git(&["gc", "-q"]);
        let before = objects(&repo);
        let mut git = Git::discover_with_env(repo.dir.path()).expect("repo");
        let head = git.head().expect("head").commit.expect("commit");
        let overlay = git.overlay_objects().expect("overlay");
        // Abbreviating a new object, nothing read before.
        let fresh = git.write_blob(b"fresh\n").expect("write");
        assert_eq!(git.short_id(fresh).expect("short fresh").len(), 7);
        // The repository's objects are still read …
        assert!(git.tree_of(head).is_ok());
        // … and new ones land in the overlay only.
        let blob = git.write_blob(b"never in the project\n").expect("write");
        assert!(
            walk(&overlay.objects_dir())
                .iter()
                .any(|p| p.ends_with(&blob.to_string()[2..])),
            "written to the temporary directory"
        );
        assert_eq!(
            git.read_blob(blob).expect("read"),
            b"never in the project\n"
        );
        assert_eq!(objects(&repo), before);
        let dir = overlay.objects_dir();
        assert!(dir.exists());
        drop(overlay);
        assert!(!dir.exists());
        assert_eq!(objects(&repo), before);
    }

    /// A fetch over a transport (a symbolic ref is fetched, not copied)
    /// writes its pack into the overlay, where the commit is read; the
    /// repository never has it.
    #[test]
    fn a_fetched_pack_lands_in_the_overlay() {
        let src = Repo::new();
        src.commit("module.yml", "name: crm\n");
        src.commit("pkg/models.py", "x = 1\n");
        src.git(&["symbolic-ref", "refs/heads/v1", "refs/heads/main"]);
        let repo = Repo::new();
        repo.commit("README.md", "project\n");
        let before = objects(&repo);
        let mut git = Git::discover_with_env(repo.dir.path()).expect("repo");
        let overlay = git.overlay_objects().expect("overlay");
        let resolved = git
            .fetch_commit(&src.url(), &crate::git::fetch::Want::plain("v1"))
            .expect("fetch");
        assert_eq!(resolved.commit, src.id("main"));
        assert!(git.tree_of(resolved.commit).is_ok());
        assert!(
            walk(&overlay.objects_dir().join("pack"))
                .iter()
                .any(|p| p.ends_with(".pack")),
            "the pack is in the overlay"
        );
        assert_eq!(objects(&repo), before);
        drop(overlay);
        drop(git);
        assert!(!repo.open().has_object(resolved.commit));
    }
}
