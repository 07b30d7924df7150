//! Fetching a module's upstream at a branch, tag or commit with gix.
//!
//! A first connection lists the upstream's refs, so a missing branch or tag
//! is reported with the ones that exist; a second fetches exactly the ref
//! needed into a temporary ref, which the caller removes again.

use std::sync::atomic::AtomicBool;

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::remote::Direction;

use super::{Git, GitContext, GitError};

/// Why a fetch did not produce a commit.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot reach `{url}`")]
    Unreachable {
        url: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("`{url}` has no branch or tag `{git_ref}`{}", list(available))]
    RefNotFound {
        url: String,
        git_ref: String,
        available: Vec<String>,
    },
    #[error("`{git_ref}` in `{url}` is not a commit")]
    NotACommit { url: String, git_ref: String },
    #[error(transparent)]
    Git(#[from] GitError),
}

fn list(available: &[String]) -> String {
    if available.is_empty() {
        "; it has no branches or tags".into()
    } else {
        format!("; it has: {}", available.join(", "))
    }
}

fn is_full_hex(r: &str) -> bool {
    r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Git {
    /// Lists the branch and tag names (short) and HEAD advertised by `url`.
    fn remote_refs(&self, url: &str) -> Result<Vec<(String, ObjectId)>, FetchError> {
        let unreachable = |e: Box<dyn std::error::Error + Send + Sync>| FetchError::Unreachable {
            url: url.to_owned(),
            source: e,
        };
        let remote = self
            .repo
            .remote_at(url)
            .map_err(|e| unreachable(e.into()))?
            .with_fetch_tags(gix::remote::fetch::Tags::None)
            .with_refspecs(
                ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"],
                Direction::Fetch,
            )
            .map_err(|e| unreachable(e.into()))?;
        let conn = remote
            .connect(Direction::Fetch)
            .map_err(|e| unreachable(e.into()))?;
        let opts = gix::remote::ref_map::Options {
            prefix_from_spec_as_filter_on_remote: false,
            ..Default::default()
        };
        let (map, _) = conn
            .ref_map(gix::progress::Discard, opts)
            .map_err(|e| unreachable(e.into()))?;
        Ok(map
            .remote_refs
            .iter()
            .filter_map(|r| {
                let (name, target, peeled) = r.unpack();
                let id = peeled.or(target)?.to_owned();
                Some((name.to_str_lossy().into_owned(), id))
            })
            .collect())
    }

    /// Fetches `git_ref` from `url` and returns the commit it names.
    /// `tmp_ref` is a scratch ref the caller deletes (or rolls back).
    pub fn fetch_commit(
        &self,
        url: &str,
        git_ref: &str,
        tmp_ref: &str,
    ) -> Result<ObjectId, FetchError> {
        let refs = self.remote_refs(url)?;
        let wanted = if git_ref == "HEAD" {
            refs.iter()
                .find(|(n, _)| n == "HEAD")
                .map(|(n, _)| n.clone())
        } else if is_full_hex(git_ref) {
            // Fetch what contains it: the remote's HEAD and branches are tried below.
            None
        } else {
            [
                format!("refs/tags/{git_ref}"),
                format!("refs/heads/{git_ref}"),
                git_ref.to_owned(),
            ]
            .into_iter()
            .find(|full| refs.iter().any(|(n, _)| n == full))
        };
        let spec = match (&wanted, is_full_hex(git_ref)) {
            (Some(full), _) => format!("+{full}:{tmp_ref}"),
            (None, true) => format!("+refs/heads/*:{tmp_ref}/*"),
            (None, false) => {
                let mut available: Vec<String> = refs
                    .iter()
                    .filter_map(|(n, _)| {
                        n.strip_prefix("refs/heads/")
                            .or_else(|| n.strip_prefix("refs/tags/"))
                            .map(|s| s.trim_end_matches("^{}").to_owned())
                    })
                    .collect();
                available.sort();
                available.dedup();
                return Err(FetchError::RefNotFound {
                    url: url.to_owned(),
                    git_ref: git_ref.to_owned(),
                    available,
                });
            }
        };
        let unreachable = |e: Box<dyn std::error::Error + Send + Sync>| FetchError::Unreachable {
            url: url.to_owned(),
            source: e,
        };
        let remote = self
            .repo
            .remote_at(url)
            .map_err(|e| unreachable(e.into()))?
            .with_fetch_tags(gix::remote::fetch::Tags::None)
            .with_refspecs([spec.as_str()], Direction::Fetch)
            .map_err(|e| unreachable(e.into()))?;
        let conn = remote
            .connect(Direction::Fetch)
            .map_err(|e| unreachable(e.into()))?;
        conn.prepare_fetch(gix::progress::Discard, Default::default())
            .map_err(|e| unreachable(e.into()))?
            .receive(gix::progress::Discard, &AtomicBool::new(false))
            .map_err(|e| unreachable(e.into()))?;
        let object = if wanted.is_some() {
            let id = self.ref_target(tmp_ref)?.ok_or_else(|| {
                GitError::new(
                    format!("read `{tmp_ref}` after fetching"),
                    "the ref is missing",
                )
            })?;
            self.repo.find_object(id).ctx(|| format!("read {id}"))?
        } else {
            let id = ObjectId::from_hex(git_ref.as_bytes()).ctx(|| format!("parse `{git_ref}`"))?;
            match self.repo.try_find_object(id).ctx(|| format!("read {id}"))? {
                Some(o) => o,
                None => {
                    return Err(FetchError::RefNotFound {
                        url: url.to_owned(),
                        git_ref: git_ref.to_owned(),
                        available: vec!["(no branch of the upstream contains that commit)".into()],
                    });
                }
            }
        };
        let commit = object
            .peel_to_commit()
            .map_err(|_| FetchError::NotACommit {
                url: url.to_owned(),
                git_ref: git_ref.to_owned(),
            })?;
        Ok(commit.id)
    }
}
