//! What an upstream offers (its branches and tags, listed without fetching),
//! and fetching several of its refs over one connection: `update` asks each
//! source URL once however many modules share it.
//!
//! [`Git::connect`] is the one place a connection to a remote is set up
//! (module fetches, listing, `update`'s batch fetch and `sync`): the
//! refspecs, no tags, the TLS provider, the advertisement, and whether to
//! receive the pack. Its one error type, [`ConnectError`], becomes each
//! caller's error (`FetchError::Unreachable` or a `GitError`).

use std::sync::atomic::AtomicBool;

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::remote::Direction;

use super::fetch::FetchError;
use super::{Git, GitError};

/// A branch or tag a remote advertises, with the commit it names (annotated
/// tags peeled).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RemoteRef {
    /// The full name, e.g. `refs/tags/v1.2.0`.
    pub name: String,
    #[serde(with = "hex")]
    pub commit: ObjectId,
}

impl RemoteRef {
    /// The tag name, for a tag.
    pub fn tag(&self) -> Option<&str> {
        self.name.strip_prefix("refs/tags/")
    }

    /// The branch name, for a branch.
    pub fn branch(&self) -> Option<&str> {
        self.name.strip_prefix("refs/heads/")
    }
}

mod hex {
    use gix::ObjectId;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(id: &ObjectId, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&id.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ObjectId, D::Error> {
        let text = String::deserialize(d)?;
        ObjectId::from_hex(text.as_bytes()).map_err(serde::de::Error::custom)
    }
}

impl Git {
    /// Every branch and tag of `url` (one connection, nothing fetched).
    pub fn list_remote(&self, url: &str) -> Result<Vec<RemoteRef>, FetchError> {
        // A repository on this machine is read directly (local.rs).
        if let Some(refs) = self.list_local(url) {
            return Ok(refs);
        }
        // The destinations are never written: only the advertisement is
        // read (gix needs a destination for a glob).
        let specs = [
            "+refs/heads/*:refs/quickscale/tmp/ls/heads/*",
            "+refs/tags/*:refs/quickscale/tmp/ls/tags/*",
            "+HEAD:refs/quickscale/tmp/ls/HEAD",
        ];
        let listing: Listing =
            self.connect::<FetchError>(url, &specs, Advertise::Matching, |_| Ok(false))?;
        Ok(listing.refs)
    }

    /// Fetches `refs` (full remote names) from `url` over one connection,
    /// writing no ref (see src/git/fetch.rs): the objects are then in the
    /// object database and each ref's commit is in the advertisement.
    pub fn fetch_refs(&self, url: &str, refs: &[String]) -> Result<(), FetchError> {
        if refs.is_empty() {
            return Ok(());
        }
        if self.copy_local_refs(url, refs).is_some() {
            return Ok(());
        }
        let specs: Vec<&str> = refs.iter().map(String::as_str).collect();
        self.connect::<FetchError>(url, &specs, Advertise::Matching, |listing| {
            match refs
                .iter()
                .find(|src| !listing.matched.iter().any(|(name, _)| name == *src))
            {
                Some(missing) => Err(FetchError::RefNotFound {
                    url: url.to_owned(),
                    git_ref: missing.clone(),
                    available: Vec::new(),
                }),
                None => Ok(true),
            }
        })?;
        Ok(())
    }
}

/// Why a connection to a remote failed: what was being done, and the cause.
#[derive(Debug, thiserror::Error)]
#[error("{action}")]
pub struct ConnectError {
    pub url: String,
    /// E.g. "connect to `URL`".
    pub action: String,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl From<ConnectError> for FetchError {
    fn from(e: ConnectError) -> Self {
        if e.source.is::<ShallowSource>() {
            return FetchError::ShallowSource { url: e.url };
        }
        FetchError::Unreachable {
            url: e.url,
            source: e.source,
        }
    }
}

impl From<ConnectError> for GitError {
    fn from(e: ConnectError) -> Self {
        GitError::new(e.action, e.source)
    }
}

/// Which refs the remote is asked to advertise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Advertise {
    /// Only those the refspecs' prefixes name (gix's default).
    Matching,
    /// All of them: the full list names what exists when a wanted ref does not.
    All,
}

/// What a remote advertised over one connection.
#[derive(Debug, Clone, Default)]
pub(super) struct Listing {
    /// Its branches, tags and HEAD (annotated tags peeled).
    pub refs: Vec<RemoteRef>,
    /// The remote refs the refspecs matched: full name and the object the
    /// ref names (unpeeled).
    pub matched: Vec<(String, Option<ObjectId>)>,
    /// Whether the refspecs matched anything at all (an object id too).
    pub any_match: bool,
}

impl Git {
    /// Opens one fetch connection to `url` for `specs` (no tags followed),
    /// reads its advertisement, and receives the pack when `receive` says so
    /// (it may also refuse with the caller's error). Refs are written only
    /// where a refspec has a destination.
    pub(super) fn connect<E: From<ConnectError>>(
        &self,
        url: &str,
        specs: &[&str],
        advertise: Advertise,
        receive: impl FnOnce(&Listing) -> Result<bool, E>,
    ) -> Result<Listing, E> {
        let fail =
            |action: String, source: Box<dyn std::error::Error + Send + Sync>| ConnectError {
                url: url.to_owned(),
                action,
                source,
            };
        let remote = self
            .repo
            .remote_at(url)
            .map_err(|e| fail(format!("use remote `{url}`"), e.into()))?
            .with_fetch_tags(gix::remote::fetch::Tags::None)
            .with_refspecs(specs.iter().copied(), Direction::Fetch)
            .map_err(|e| fail(format!("use the refspecs {}", specs.join(" ")), e.into()))?;
        super::ensure_tls_provider();
        let conn = remote
            .connect(Direction::Fetch)
            .map_err(|e| fail(format!("connect to `{url}`"), e.into()))?;
        let options = gix::remote::ref_map::Options {
            prefix_from_spec_as_filter_on_remote: advertise == Advertise::Matching,
            ..Default::default()
        };
        let prepare = conn
            .prepare_fetch(gix::progress::Discard, options)
            .map_err(|e| fail(format!("list the refs of `{url}`"), e.into()))?;
        let map = prepare.ref_map();
        let listing = Listing {
            refs: super::fetch::advertised(map),
            matched: map
                .mappings
                .iter()
                .filter_map(|m| {
                    let name = m.remote.as_name()?.to_str_lossy().into_owned();
                    Some((name, m.remote.as_id().map(|id| id.to_owned())))
                })
                .collect(),
            any_match: !map.mappings.is_empty(),
        };
        if receive(&listing)? {
            let shallow_file = self
                .repo
                .shallow_file()
                .map_err(|e| fail("find this repository's shallow file".into(), e.into()))?;
            let before = crate::fsutil::read_if_exists(&shallow_file)
                .map_err(|e| fail(format!("read {}", shallow_file.display()), e.into()))?;
            prepare
                .receive(gix::progress::Discard, &AtomicBool::new(false))
                .map_err(|e| fail(format!("fetch from `{url}`"), e.into()))?;
            // A shallow source sends commits whose parents it lacks, and the
            // fetch records them in `shallow`, as `git fetch` does: the
            // project's repository would turn shallow (and a push of the
            // module refs be refused). Put the file back and refuse.
            let after = crate::fsutil::read_if_exists(&shallow_file)
                .map_err(|e| fail(format!("read {}", shallow_file.display()), e.into()))?;
            if after != before {
                restore(&shallow_file, before.as_deref())
                    .map_err(|e| fail(format!("restore {}", shallow_file.display()), e.into()))?;
                return Err(fail(format!("fetch from `{url}`"), Box::new(ShallowSource)).into());
            }
        }
        Ok(listing)
    }
}

/// The source is a shallow clone: what it sent would cut this repository's
/// history too.
#[derive(Debug, thiserror::Error)]
#[error("it is a shallow clone (its history is cut)")]
pub struct ShallowSource;

/// Writes `bytes` back to `path`, or removes it when there were none.
fn restore(path: &std::path::Path, bytes: Option<&[u8]>) -> std::io::Result<()> {
    match bytes {
        None => match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        },
        Some(bytes) => crate::fsutil::write_atomic(path, bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::scratch_repo::ScratchRepo as Repo;

    /// The one connection set-up, over a real transport (a `file://` URL
    /// skips local.rs's direct copy): listing, a refused fetch, a received one.
    #[test]
    fn one_connection_lists_refuses_and_receives() {
        let upstream = Repo::new();
        upstream.commit("a.txt", "a");
        upstream.git(&["tag", "-a", "-m", "v1", "v1.0.0"]);
        upstream.commit("b.txt", "b");
        let tip = upstream.id("main");
        let tagged = upstream.id("v1.0.0^{commit}");
        let url = format!("file://{}", upstream.url());
        let here = Repo::new();
        here.commit("x.txt", "x");
        let git = here.open();

        let listing = git
            .connect::<FetchError>(&url, &["+refs/tags/*:refs/x/*"], Advertise::All, |_| {
                Ok(false)
            })
            .expect("list");
        let names: Vec<&str> = listing.refs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["HEAD", "refs/heads/main", "refs/tags/v1.0.0"]);
        assert_eq!(listing.refs[2].commit, tagged, "annotated tags are peeled");
        assert_eq!(listing.matched.len(), 1);
        assert!(!git.has_object(tip), "listing receives nothing");

        let refused =
            git.connect::<FetchError>(&url, &["refs/heads/main"], Advertise::Matching, |_| {
                Err(FetchError::NotACommit {
                    url: url.clone(),
                    git_ref: "main".into(),
                })
            });
        assert!(matches!(refused, Err(FetchError::NotACommit { .. })));
        assert!(!git.has_object(tip), "a refusal receives nothing");

        let got = git
            .connect::<GitError>(&url, &["refs/heads/main"], Advertise::Matching, |l| {
                Ok(l.any_match)
            })
            .expect("fetch");
        assert_eq!(got.matched, [("refs/heads/main".to_owned(), Some(tip))]);
        assert!(git.has_object(tip), "the pack was received");
        assert_eq!(git.list_remote(&url).expect("list").len(), 3);

        let missing = format!("file://{}/nope", upstream.url());
        let err = git.connect::<FetchError>(&missing, &["HEAD"], Advertise::Matching, |_| Ok(true));
        assert!(matches!(err, Err(FetchError::Unreachable { url, .. }) if url == missing));
        let err = git
            .connect::<GitError>(&missing, &["HEAD"], Advertise::Matching, |_| Ok(true))
            .expect_err("unreachable");
        assert_eq!(err.action, format!("connect to `{missing}`"));
    }
}
