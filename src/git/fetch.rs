//! Fetching a module's upstream at a branch, tag or commit with gix.
//!
//! One connection: its ref advertisement names the existing branches and
//! tags when the wanted one is missing; otherwise only the wanted ref is
//! fetched, into scratch refs the caller removes again.

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
    /// Fetches `git_ref` from `url` over one connection and returns the
    /// commit it names. Scratch refs are created under `tmp_ref`; the caller
    /// deletes them (or rolls them back).
    pub fn fetch_commit(
        &self,
        url: &str,
        git_ref: &str,
        tmp_ref: &str,
    ) -> Result<ObjectId, FetchError> {
        let unreachable = |e: Box<dyn std::error::Error + Send + Sync>| FetchError::Unreachable {
            url: url.to_owned(),
            source: e,
        };
        // Tags win over branches of the same name, as in `git rev-parse`.
        let candidates: Vec<(String, String)> = if git_ref == "HEAD" {
            vec![("HEAD".into(), format!("{tmp_ref}/HEAD"))]
        } else if is_full_hex(git_ref) {
            vec![
                ("refs/heads/*".into(), format!("{tmp_ref}/heads/*")),
                ("refs/tags/*".into(), format!("{tmp_ref}/tags/*")),
            ]
        } else if git_ref.starts_with("refs/") {
            vec![(git_ref.to_owned(), format!("{tmp_ref}/full"))]
        } else {
            vec![
                (
                    format!("refs/tags/{git_ref}"),
                    format!("{tmp_ref}/tags/{git_ref}"),
                ),
                (
                    format!("refs/heads/{git_ref}"),
                    format!("{tmp_ref}/heads/{git_ref}"),
                ),
            ]
        };
        // A repository on this machine is copied from directly (local.rs).
        if !is_full_hex(git_ref)
            && let Some(id) = self.copy_local_commit(url, &candidates)
        {
            return Ok(id);
        }
        let specs: Vec<String> = candidates
            .iter()
            .map(|(src, dst)| format!("+{src}:{dst}"))
            .collect();
        let remote = self
            .repo
            .remote_at(url)
            .map_err(|e| unreachable(e.into()))?
            .with_fetch_tags(gix::remote::fetch::Tags::None)
            .with_refspecs(specs.iter().map(String::as_str), Direction::Fetch)
            .map_err(|e| unreachable(e.into()))?;
        super::ensure_tls_provider();
        let conn = remote
            .connect(Direction::Fetch)
            .map_err(|e| unreachable(e.into()))?;
        let options = gix::remote::ref_map::Options {
            // The full list names the existing refs when the one asked for is missing.
            prefix_from_spec_as_filter_on_remote: false,
            ..Default::default()
        };
        let prepare = conn
            .prepare_fetch(gix::progress::Discard, options)
            .map_err(|e| unreachable(e.into()))?;
        if prepare.ref_map().mappings.is_empty() {
            let mut available: Vec<String> = prepare
                .ref_map()
                .remote_refs
                .iter()
                .filter_map(|r| {
                    let (name, _, _) = r.unpack();
                    let name = name.to_str_lossy();
                    name.strip_prefix("refs/heads/")
                        .or_else(|| name.strip_prefix("refs/tags/"))
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
        prepare
            .receive(gix::progress::Discard, &AtomicBool::new(false))
            .map_err(|e| unreachable(e.into()))?;
        let object = if is_full_hex(git_ref) {
            let id = ObjectId::from_hex(git_ref.as_bytes()).ctx(|| format!("parse `{git_ref}`"))?;
            match self.repo.try_find_object(id).ctx(|| format!("read {id}"))? {
                Some(o) => o,
                None => {
                    return Err(FetchError::RefNotFound {
                        url: url.to_owned(),
                        git_ref: git_ref.to_owned(),
                        available: vec![
                            "(no branch or tag of the upstream contains that commit)".into(),
                        ],
                    });
                }
            }
        } else {
            let mut found = None;
            for (_, dst) in &candidates {
                if let Some(id) = self.ref_target(dst)? {
                    found = Some(id);
                    break;
                }
            }
            let id = found.ok_or_else(|| {
                GitError::new(
                    format!("read `{tmp_ref}` after fetching"),
                    "the fetched ref is missing",
                )
            })?;
            self.repo.find_object(id).ctx(|| format!("read {id}"))?
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
