//! git-subtree's commit formats, so `git subtree pull/split` keep working on
//! prefixes this tool creates, and prefixes git-subtree created can be adopted.

use gix::ObjectId;
use gix::objs::tree::EntryKind;

use super::tree::TreeEdit;
use super::{Git, GitContext, GitError, Signature};

/// The commits made by a squashed subtree add.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SquashAdd {
    pub squash: ObjectId,
    pub merge: ObjectId,
    pub tree: ObjectId,
}

/// The message of the squash commit of a first add (git-subtree `squash_msg`).
pub fn squash_message(prefix: &str, short: &str, split: ObjectId) -> String {
    format!(
        "Squashed '{prefix}/' content from commit {short}\n\ngit-subtree-dir: {prefix}\ngit-subtree-split: {split}\n"
    )
}

/// The message of the merge commit of an add (git-subtree `add_squashed_msg`).
pub fn merge_message(squash: ObjectId, prefix: &str) -> String {
    format!("Merge commit '{squash}' as '{prefix}'\n")
}

impl Git {
    /// `git subtree add --squash --prefix=<prefix> <upstream>`, as objects only:
    /// returns the new commits and tree; no ref, index or file is touched.
    pub fn squash_add(
        &self,
        head: ObjectId,
        head_tree: ObjectId,
        prefix: &str,
        upstream: ObjectId,
        author: &Signature,
        committer: &Signature,
    ) -> Result<SquashAdd, GitError> {
        let upstream_tree = self.tree_of(upstream)?;
        let short = self.short_id(upstream)?;
        let squash = self.write_commit(
            &squash_message(prefix, &short, upstream),
            upstream_tree,
            &[],
            author,
            committer,
        )?;
        let tree = self.edit_tree(
            head_tree,
            &[TreeEdit {
                path: prefix.to_owned(),
                target: Some((EntryKind::Tree, upstream_tree)),
            }],
        )?;
        let merge = self.write_commit(
            &merge_message(squash, prefix),
            tree,
            &[head, squash],
            author,
            committer,
        )?;
        Ok(SquashAdd {
            squash,
            merge,
            tree,
        })
    }

    /// The newest squash for `prefix` reachable from `head`, as git-subtree's
    /// `find_latest_squash` finds it: (squash commit, upstream split commit).
    pub fn latest_squash(
        &self,
        head: ObjectId,
        prefix: &str,
    ) -> Result<Option<(ObjectId, ObjectId)>, GitError> {
        Ok(self.squashes(head)?.remove(prefix))
    }

    /// The newest squash of every prefix reachable from `head`, in one walk
    /// (a shallow clone's walk stops at its boundary).
    pub fn squashes(
        &self,
        head: ObjectId,
    ) -> Result<std::collections::BTreeMap<String, (ObjectId, ObjectId)>, GitError> {
        use gix::revision::walk::Sorting;
        let mut found = std::collections::BTreeMap::new();
        let walk = self
            .repo
            .rev_walk([head])
            .sorting(Sorting::ByCommitTime(Default::default()))
            .all()
            .ctx(|| format!("walk the history of {head}"))?;
        for info in walk {
            let Ok(info) = info else {
                // Missing parents of a shallow clone end the walk.
                break;
            };
            let commit = info.object().ctx(|| format!("read commit {}", info.id))?;
            let message = commit
                .message_raw()
                .ctx(|| format!("read commit {}", info.id))?;
            let text = String::from_utf8_lossy(message);
            let Some(trailers) = parse_trailers(&text) else {
                continue;
            };
            let prefix = trailers.dir.trim_end_matches('/').to_owned();
            if found.contains_key(&prefix) {
                continue;
            }
            let Some(split) = trailers.split else {
                continue;
            };
            let squash = if trailers.mainline.is_some() {
                match commit.parent_ids().nth(1) {
                    Some(p) => p.detach(),
                    None => continue,
                }
            } else {
                info.id
            };
            found.insert(prefix, (squash, split));
        }
        Ok(found)
    }
}

/// The git-subtree trailers of a commit message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trailers {
    pub dir: String,
    pub mainline: Option<ObjectId>,
    pub split: Option<ObjectId>,
}

pub fn parse_trailers(message: &str) -> Option<Trailers> {
    let mut dir = None;
    let mut mainline = None;
    let mut split = None;
    for line in message.lines() {
        if let Some(v) = line.strip_prefix("git-subtree-dir: ") {
            dir = Some(v.trim().to_owned());
        } else if let Some(v) = line.strip_prefix("git-subtree-mainline: ") {
            mainline = ObjectId::from_hex(v.trim().as_bytes()).ok();
        } else if let Some(v) = line.strip_prefix("git-subtree-split: ") {
            split = ObjectId::from_hex(v.trim().as_bytes()).ok();
        }
    }
    Some(Trailers {
        dir: dir?,
        mainline,
        split,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_match_git_subtree() {
        let id = ObjectId::from_hex(b"0123456789abcdef0123456789abcdef01234567").expect("hex");
        assert_eq!(
            squash_message("modules/crm", "0123456", id),
            "Squashed 'modules/crm/' content from commit 0123456\n\ngit-subtree-dir: modules/crm\ngit-subtree-split: 0123456789abcdef0123456789abcdef01234567\n"
        );
        let t = parse_trailers(&squash_message("modules/crm", "0123456", id)).expect("trailers");
        assert_eq!(t.dir, "modules/crm");
        assert_eq!(t.split, Some(id));
    }
}
