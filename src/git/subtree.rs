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

/// The message of the squash commit of a pull (git-subtree `squash_msg`):
/// `log` and `revert` are the `%h %s` lines of the upstream commits gained
/// and lost.
pub fn squash_pull_message(
    prefix: &str,
    old_short: &str,
    new_short: &str,
    log: &[String],
    revert: &[String],
    split: ObjectId,
) -> String {
    let mut out = format!("Squashed '{prefix}/' changes from {old_short}..{new_short}\n\n");
    for line in log {
        out.push_str(line);
        out.push('\n');
    }
    for line in revert {
        out.push_str("REVERT: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&format!(
        "\ngit-subtree-dir: {prefix}\ngit-subtree-split: {split}\n"
    ));
    out
}

/// The message `git merge --no-ff <squash>` writes (git-subtree's pull):
/// ` into <branch>` unless the branch matches `merge.suppressDest` (by
/// default `main` and `master`); a detached HEAD is `HEAD`.
pub fn pull_merge_message(squash: ObjectId, branch: &str, suppress: &[String]) -> String {
    use gix::bstr::ByteSlice;
    let suppressed = suppress.iter().any(|p| {
        gix::glob::wildmatch(
            p.as_bytes().as_bstr(),
            branch.as_bytes().as_bstr(),
            gix::glob::wildmatch::Mode::empty(),
        )
    });
    if suppressed {
        format!("Merge commit '{squash}'\n")
    } else {
        format!("Merge commit '{squash}' into {branch}\n")
    }
}

/// The commits made by a squashed subtree pull.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SquashPull {
    pub squash: ObjectId,
    pub merge: ObjectId,
    pub tree: ObjectId,
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

    /// The squash commit of `git subtree pull --squash` moving `prefix` from
    /// upstream `old_split` (squashed as `old_squash`) to `new_split`, as an
    /// object only.
    pub fn squash_pull_commit(
        &self,
        prefix: &str,
        old_squash: ObjectId,
        old_split: ObjectId,
        new_split: ObjectId,
        author: &Signature,
        committer: &Signature,
    ) -> Result<ObjectId, GitError> {
        let message = squash_pull_message(
            prefix,
            &self.short_id(old_split)?,
            &self.short_id(new_split)?,
            &self.log_lines(new_split, old_split)?,
            &self.log_lines(old_split, new_split)?,
            new_split,
        );
        let tree = self.tree_of(new_split)?;
        self.write_commit(&message, tree, &[old_squash], author, committer)
    }

    /// The merge commit of `git subtree pull --squash`: `head` and `squash`
    /// as parents, `tree` the merged tree (objects only).
    pub fn subtree_merge_commit(
        &self,
        head: ObjectId,
        squash: ObjectId,
        tree: ObjectId,
        branch: &str,
        author: &Signature,
        committer: &Signature,
    ) -> Result<ObjectId, GitError> {
        let message = self.subtree_merge_commit_message(squash, branch);
        self.write_commit(&message, tree, &[head, squash], author, committer)
    }

    /// The message [`Git::subtree_merge_commit`] writes on `branch`.
    pub fn subtree_merge_commit_message(&self, squash: ObjectId, branch: &str) -> String {
        pull_merge_message(squash, &short_branch(branch), &self.suppress_dest())
    }

    /// `merge.suppressDest` as git reads it: an empty value clears the list;
    /// unset means `main` and `master`.
    fn suppress_dest(&self) -> Vec<String> {
        let config = self.repo.config_snapshot();
        let Some(values) = config.strings("merge.suppressDest") else {
            return vec!["main".into(), "master".into()];
        };
        let mut out = Vec::new();
        for v in values {
            if v.is_empty() {
                out.clear();
            } else {
                out.push(v.to_string());
            }
        }
        out
    }

    /// `git log --pretty=tformat:'%h %s' <hide>..<tip>` (newest first).
    pub fn log_lines(&self, tip: ObjectId, hide: ObjectId) -> Result<Vec<String>, GitError> {
        Ok(self
            .log_between(tip, hide)?
            .into_iter()
            .map(|(_, short, subject)| format!("{short} {subject}"))
            .collect())
    }

    /// The commits of `hide..tip`, newest first: (id, short id, subject).
    pub fn log_between(
        &self,
        tip: ObjectId,
        hide: ObjectId,
    ) -> Result<Vec<(ObjectId, String, String)>, GitError> {
        use gix::revision::walk::Sorting;
        let walk = self
            .repo
            .rev_walk([tip])
            .with_hidden([hide])
            .sorting(Sorting::ByCommitTime(Default::default()))
            .all()
            .ctx(|| format!("walk {hide}..{tip}"))?;
        let mut out = Vec::new();
        for info in walk {
            let info = info.ctx(|| format!("walk {hide}..{tip}"))?;
            let commit = info.object().ctx(|| format!("read commit {}", info.id))?;
            let subject = commit
                .message()
                .ctx(|| format!("read the message of {}", info.id))?
                .summary()
                .to_string();
            out.push((info.id, self.short_id(info.id)?, subject));
        }
        Ok(out)
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
        Ok(self.squashes_and_trailers(head, None)?.0)
    }

    /// [`Git::squashes`], and in the same walk the values of every
    /// `<trailer_key>: <value>` line of the commit messages, newest first.
    #[allow(clippy::type_complexity)]
    pub fn squashes_and_trailers(
        &self,
        head: ObjectId,
        trailer_key: Option<&str>,
    ) -> Result<
        (
            std::collections::BTreeMap<String, (ObjectId, ObjectId)>,
            Vec<String>,
        ),
        GitError,
    > {
        use gix::revision::walk::Sorting;
        let mut found = std::collections::BTreeMap::new();
        let mut values = Vec::new();
        let trailer_prefix = trailer_key.map(|k| format!("{k}: "));
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
            if let Some(key) = &trailer_prefix {
                values.extend(
                    text.lines()
                        .filter_map(|l| l.strip_prefix(key.as_str()))
                        .map(|v| v.trim().to_owned()),
                );
            }
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
        Ok((found, values))
    }
}

/// `refs/heads/feature` → `feature`; `HEAD` stays `HEAD`.
fn short_branch(branch: &str) -> String {
    branch
        .strip_prefix("refs/heads/")
        .unwrap_or(branch)
        .to_owned()
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

    #[test]
    fn pull_messages_match_git_subtree() {
        let id = ObjectId::from_hex(b"0123456789abcdef0123456789abcdef01234567").expect("hex");
        assert_eq!(
            squash_pull_message(
                "modules/a",
                "78d576c",
                "f5ca993",
                &["f5ca993 c4".into(), "a691294 c3".into()],
                &["1111111 gone".into()],
                id
            ),
            "Squashed 'modules/a/' changes from 78d576c..f5ca993\n\nf5ca993 c4\na691294 c3\nREVERT: 1111111 gone\n\ngit-subtree-dir: modules/a\ngit-subtree-split: 0123456789abcdef0123456789abcdef01234567\n"
        );
        let defaults = ["main".to_owned(), "master".to_owned()];
        assert_eq!(
            pull_merge_message(id, "main", &defaults),
            format!("Merge commit '{id}'\n")
        );
        assert_eq!(
            pull_merge_message(id, "feature", &defaults),
            format!("Merge commit '{id}' into feature\n")
        );
        assert_eq!(
            pull_merge_message(id, "HEAD", &defaults),
            format!("Merge commit '{id}' into HEAD\n")
        );
        assert_eq!(
            pull_merge_message(id, "release/1", &["release/*".to_owned()]),
            format!("Merge commit '{id}'\n")
        );
    }
}
