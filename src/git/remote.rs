//! What an upstream offers (its branches and tags, listed without fetching),
//! and fetching several of its refs over one connection: `update` asks each
//! source URL once however many modules share it.

use std::sync::atomic::AtomicBool;

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::remote::Direction;

use super::Git;
use super::fetch::FetchError;

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

fn unreachable(url: &str) -> impl Fn(Box<dyn std::error::Error + Send + Sync>) -> FetchError + '_ {
    move |e| FetchError::Unreachable {
        url: url.to_owned(),
        source: e,
    }
}

impl Git {
    /// Every branch and tag of `url` (one connection, nothing fetched).
    pub fn list_remote(&self, url: &str) -> Result<Vec<RemoteRef>, FetchError> {
        // A repository on this machine is read directly (local.rs).
        if let Some(refs) = self.list_local(url) {
            return Ok(refs);
        }
        let fail = unreachable(url);
        let remote = self
            .repo
            .remote_at(url)
            .map_err(|e| fail(e.into()))?
            .with_fetch_tags(gix::remote::fetch::Tags::None)
            // The destinations are never written: only the ref map is read
            // (gix needs a destination for a glob).
            .with_refspecs(
                [
                    "+refs/heads/*:refs/quickscale/tmp/ls/heads/*",
                    "+refs/tags/*:refs/quickscale/tmp/ls/tags/*",
                    "+HEAD:refs/quickscale/tmp/ls/HEAD",
                ],
                Direction::Fetch,
            )
            .map_err(|e| fail(e.into()))?;
        super::ensure_tls_provider();
        let conn = remote
            .connect(Direction::Fetch)
            .map_err(|e| fail(e.into()))?;
        let (map, _) = conn
            .ref_map(gix::progress::Discard, Default::default())
            .map_err(|e| fail(e.into()))?;
        Ok(super::fetch::advertised(&map))
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
        let fail = unreachable(url);
        let remote = self
            .repo
            .remote_at(url)
            .map_err(|e| fail(e.into()))?
            .with_fetch_tags(gix::remote::fetch::Tags::None)
            .with_refspecs(refs.iter().map(String::as_str), Direction::Fetch)
            .map_err(|e| fail(e.into()))?;
        super::ensure_tls_provider();
        let conn = remote
            .connect(Direction::Fetch)
            .map_err(|e| fail(e.into()))?;
        let prepare = conn
            .prepare_fetch(gix::progress::Discard, Default::default())
            .map_err(|e| fail(e.into()))?;
        let found: Vec<String> = prepare
            .ref_map()
            .mappings
            .iter()
            .filter_map(|m| match &m.remote {
                gix::remote::fetch::refmap::Source::Ref(r) => {
                    r.unpack().0.to_str().ok().map(str::to_owned)
                }
                gix::remote::fetch::refmap::Source::ObjectId(_) => None,
            })
            .collect();
        if let Some(missing) = refs.iter().find(|src| !found.contains(src)) {
            return Err(FetchError::RefNotFound {
                url: url.to_owned(),
                git_ref: missing.clone(),
                available: Vec::new(),
            });
        }
        prepare
            .receive(gix::progress::Discard, &AtomicBool::new(false))
            .map_err(|e| fail(e.into()))?;
        Ok(())
    }
}
