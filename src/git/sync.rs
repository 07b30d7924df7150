//! What `git quickscale sync` needs from git: fetching a remote's state refs
//! into tracking refs (gix), reading and merging notes trees, and pushing
//! with a lease (the `git` binary: gix cannot push).

use std::collections::BTreeMap;
use std::process::Command;

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::remote::Direction;

use super::remote::Advertise;
use super::{Git, GitContext, GitError, Signature};

/// One fetch refspec and what it brought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The refs the remote advertised for the refspecs, by remote name.
    pub remote_refs: BTreeMap<String, ObjectId>,
}

/// A push refspec with the value the remote must still have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeasedPush {
    pub local: String,
    pub remote: String,
    /// `None`: the remote ref must not exist.
    pub expect: Option<ObjectId>,
}

impl Git {
    /// The URL of a configured remote, or `remote` itself when it is not a
    /// remote name (git passes a URL to pre-push when pushing to one).
    pub fn remote_url(&self, remote: &str) -> Result<String, GitError> {
        match self.repo.try_find_remote(remote) {
            Some(Ok(r)) => r
                .url(Direction::Push)
                .or_else(|| r.url(Direction::Fetch))
                .map(|u| u.to_bstring().to_string())
                .ok_or_else(|| {
                    GitError::new(format!("read the URL of remote `{remote}`"), "it has none")
                }),
            Some(Err(e)) => Err(GitError::new(format!("read remote `{remote}`"), e)),
            None if remote.contains(':') || remote.contains('/') => Ok(remote.to_owned()),
            None => Err(GitError::new(
                format!("find remote `{remote}`"),
                "no such remote (see `git remote -v`)",
            )),
        }
    }

    /// The remote of the current branch's upstream, else `origin`, else the
    /// only remote.
    pub fn default_remote(&self) -> Option<String> {
        let config = self.repo.config_snapshot();
        if let Ok(head) = self.head()
            && let Some(branch) = head.branch
            && let Some(short) = branch.strip_prefix("refs/heads/")
            && let Some(remote) = config.string(format!("branch.{short}.remote").as_str())
        {
            return Some(remote.to_str_lossy().into_owned());
        }
        let names: Vec<String> = self
            .repo
            .remote_names()
            .iter()
            .map(|n| n.to_str_lossy().into_owned())
            .collect();
        if names.iter().any(|n| n == "origin") {
            return Some("origin".into());
        }
        match names.as_slice() {
            [only] => Some(only.clone()),
            _ => None,
        }
    }

    /// Fetches `specs` (`+src:dst`, globs allowed) from `url`; refs the
    /// remote does not have are simply not fetched. `dry`: only read the
    /// remote's advertisement.
    pub fn fetch_refspecs(
        &self,
        url: &str,
        specs: &[String],
        dry: bool,
    ) -> Result<Fetched, GitError> {
        let specs: Vec<&str> = specs.iter().map(String::as_str).collect();
        let mut remote_refs = BTreeMap::new();
        self.connect::<GitError>(url, &specs, Advertise::Matching, |listing| {
            remote_refs = listing
                .matched
                .iter()
                .filter_map(|(name, id)| Some((name.clone(), (*id)?)))
                .collect();
            Ok(!dry && !remote_refs.is_empty())
        })?;
        Ok(Fetched { remote_refs })
    }

    /// Whether `ancestor` is `descendant` or one of its ancestors.
    pub fn is_ancestor(&self, ancestor: ObjectId, descendant: ObjectId) -> Result<bool, GitError> {
        if ancestor == descendant {
            return Ok(true);
        }
        let base = self.repo.merge_base(ancestor, descendant).map_err(|e| {
            GitError::new(
                format!("find the merge base of {ancestor} and {descendant}"),
                e.to_string(),
            )
        })?;
        Ok(base.is_some_and(|b| b.detach() == ancestor))
    }

    /// The notes of a notes commit: annotated object → note blob (fan-out
    /// directories `ab/cdef…` are read too).
    pub fn notes_in(
        &self,
        notes_commit: ObjectId,
    ) -> Result<BTreeMap<ObjectId, ObjectId>, GitError> {
        let tree = self.tree_of(notes_commit)?;
        let mut out = BTreeMap::new();
        for (path, leaf) in self.list_leaves(tree)? {
            let hex: String = path.chars().filter(|c| *c != '/').collect();
            if let Ok(id) = ObjectId::from_hex(hex.as_bytes()) {
                out.insert(id, leaf.id);
            }
        }
        Ok(out)
    }

    /// A notes merge commit: `base`'s notes plus `added` (annotated object →
    /// note blob), with `parents`. Nothing but objects is written.
    pub fn write_notes_merge(
        &self,
        base: ObjectId,
        added: &[(ObjectId, ObjectId)],
        parents: &[ObjectId],
        signature: &Signature,
        message: &str,
    ) -> Result<ObjectId, GitError> {
        let root = self.tree_of(base)?;
        let mut tree = gix::note::plumbing::State::new(root, &self.repo.objects)
            .ctx(|| format!("read the notes tree {root}"))?;
        for (commit, blob) in added {
            tree.edit(*commit, Some(*blob), &self.repo.objects)
                .ctx(|| format!("add the note of {commit}"))?;
        }
        let root = tree
            .write(&self.repo.objects)
            .ctx(|| "write the notes tree".into())?;
        self.write_commit(message, root, parents, signature, signature)
    }

    /// `git push --atomic --no-verify` of `pushes`, each with its lease.
    /// `--no-verify`: a push from inside the pre-push hook must not run it
    /// again. Returns git's error output when the push is refused.
    pub fn push_leased(
        &self,
        remote: &str,
        pushes: &[LeasedPush],
    ) -> Result<Result<(), String>, GitError> {
        if pushes.is_empty() {
            return Ok(Ok(()));
        }
        // git reads the objects from disk.
        self.write_buffered_objects()?;
        let mut cmd = Command::new("git");
        cmd.arg("-C").arg(self.workdir()).args([
            "push",
            "--atomic",
            "--no-verify",
            "--quiet",
            "--porcelain",
        ]);
        for p in pushes {
            let expect = p.expect.map(|id| id.to_string()).unwrap_or_default();
            cmd.arg(format!("--force-with-lease={}:{expect}", p.remote));
        }
        cmd.arg("--").arg(remote);
        for p in pushes {
            cmd.arg(format!("{}:{}", p.local, p.remote));
        }
        let out = cmd
            // Inside a hook git may have set these for its own repository view.
            .env_remove("GIT_INDEX_FILE")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .output()
            .ctx(|| format!("run `git push` to `{remote}`"))?;
        if out.status.success() {
            Ok(Ok(()))
        } else {
            let mut text = String::from_utf8_lossy(&out.stderr).trim().to_owned();
            let porcelain = String::from_utf8_lossy(&out.stdout);
            for line in porcelain.lines().filter(|l| l.starts_with('!')) {
                text.push('\n');
                text.push_str(line);
            }
            Ok(Err(text))
        }
    }
}
