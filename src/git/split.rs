//! `git subtree split`, in process and incremental.
//!
//! The split of a prefix rewrites every commit that has the prefix into a
//! commit whose tree is the prefix alone, with the same author, committer
//! and message, on top of the split parents. It follows git-subtree's
//! `cmd_split` rule for rule, so the commit ids are the ones
//! `git subtree split --prefix=<prefix>` prints (tests compare with the
//! real script):
//!
//! - a squash commit whose message names the prefix
//!   (`git-subtree-dir: <prefix>` and `git-subtree-split: <upstream>`) *is*
//!   its upstream commit: the split builds on upstream history;
//! - a join (`git-subtree-mainline:` too, from `git subtree add` without
//!   `--squash` or `split --rejoin`) maps its mainline commit to its split;
//! - a commit whose prefix tree equals one of its split parents' trees is
//!   that parent (git-subtree's `copy_or_skip`, with its ancestry checks for
//!   merges), so commits that do not touch the prefix disappear;
//! - any other commit with the prefix is copied with the prefix as its tree.
//!
//! One deliberate difference: git-subtree maps a commit *without* the
//! prefix whose parents have splits to the commit itself, which puts whole
//! project commits into the split when a prefix is deleted and added again.
//! Here such a commit passes its parents' splits through, so a split never
//! contains anything outside the prefix.
//!
//! The map (commit → split) is kept in a cache ([`CACHE_FORMAT`]): a commit
//! under `refs/quickscale/split/<name>` whose tree holds 256 shard blobs
//! (`00`…`ff`, by the first byte of the commit id) of `<commit> <split>`
//! lines. The split of a commit only depends on its own ancestry, so a
//! cached entry never goes stale; a later split walks only the commits the
//! cache does not know and rewrites only the shards they fall in. Histories
//! with joins are the exception (a join changes the split of an older
//! commit): they are split without the cache.

use std::collections::{BTreeSet, HashMap, HashSet};

use gix::ObjectId;
use gix::bstr::{BStr, ByteSlice};
use gix::objs::tree::{Entry as TreeEntry, EntryKind, EntryMode};

use super::{Git, GitContext, GitError, RefUpdate};

/// First line of the cache's `format` blob; a cache in another format is
/// ignored (and replaced).
pub const CACHE_FORMAT: &str = "git-quickscale split cache 1";

/// What the split of one commit is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mapped {
    /// The commit has the prefix; this is its split commit.
    Split(ObjectId),
    /// The commit lacks the prefix; its children see these split parents
    /// through it (none: nothing of the prefix before it).
    Through(Vec<ObjectId>),
}

/// The result of a split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// The split of the tip.
    pub tip: ObjectId,
    /// Commits read from the history (the cache spares the rest).
    pub walked: usize,
    /// Split commits written.
    pub created: usize,
    /// Whether a cache was found and used.
    pub cached: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    #[error("`{prefix}` is not a directory in commit {commit}")]
    NoPrefix { prefix: String, commit: ObjectId },
    #[error(
        "commit {squash} says `{prefix}` came from upstream commit {split}, which is not in this repository"
    )]
    MissingUpstream {
        prefix: String,
        squash: ObjectId,
        split: String,
    },
    #[error(transparent)]
    Git(#[from] GitError),
}

impl SplitError {
    pub fn hint(&self) -> Option<String> {
        match self {
            SplitError::NoPrefix { prefix, .. } => Some(format!(
                "split needs the directory `{prefix}` in the commit it splits (`git ls-tree HEAD {prefix}`)"
            )),
            SplitError::MissingUpstream { split, .. } => Some(format!(
                "fetch it from the module's repository first (`git fetch <module-url> {split}`; in a project, `git quickscale sync` fetches the module refs)"
            )),
            SplitError::Git(e) => e.hint(),
        }
    }
}

/// Why a split starts over without its cache.
enum Restart {
    /// The history has joins: split everything, without the cache.
    Joins,
    /// A cached split commit is gone (e.g. pruned): rebuild the cache.
    Stale,
}

/// One commit as the split needs it.
struct Node {
    parents: Vec<ObjectId>,
    /// The prefix's tree, when the commit has it as a directory.
    prefix_tree: Option<ObjectId>,
    /// git-subtree trailers naming this prefix.
    trailers: Option<SplitTrailers>,
}

/// `git-subtree-mainline:` and `git-subtree-split:` values of a commit whose
/// message names the prefix, as git-subtree reads them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct SplitTrailers {
    mainline: Option<String>,
    split: Option<String>,
}

impl Git {
    /// Splits `prefix` out of the history of `tip` (see the module docs);
    /// `cache_ref` names the cache to read and update, if any. Writes split
    /// commits and the cache; moves no other ref.
    pub fn split(
        &self,
        tip: ObjectId,
        prefix: &str,
        cache_ref: Option<&str>,
    ) -> Result<Split, SplitError> {
        let (split, cache_move) = self.split_with_cache(tip, prefix, cache_ref, true)?;
        if let Some(update) = cache_move {
            self.update_refs(&[update], "git quickscale split")?;
        }
        Ok(split)
    }

    /// [`Git::split`] that writes the cache's objects but leaves its ref to
    /// the caller: the move (stating the value it replaces), `None` when the
    /// cache is unchanged or someone else wrote one meanwhile (theirs is as
    /// good). The engine makes it part of its transaction.
    pub fn split_planned(
        &self,
        tip: ObjectId,
        prefix: &str,
        cache_ref: &str,
    ) -> Result<(Split, Option<RefUpdate>), SplitError> {
        self.split_with_cache(tip, prefix, Some(cache_ref), true)
    }

    /// [`Git::split`] reading the cache but never writing it (for reads
    /// such as `status`, with a repository that keeps new objects in memory).
    pub fn split_read_only(
        &self,
        tip: ObjectId,
        prefix: &str,
        cache_ref: &str,
    ) -> Result<Split, SplitError> {
        Ok(self
            .split_with_cache(tip, prefix, Some(cache_ref), false)?
            .0)
    }

    fn split_with_cache(
        &self,
        tip: ObjectId,
        prefix: &str,
        cache_ref: Option<&str>,
        save: bool,
    ) -> Result<(Split, Option<RefUpdate>), SplitError> {
        let prefix = prefix.trim_end_matches('/');
        let mut splitter = Splitter::new(self, prefix)?;
        if splitter.prefix_tree(self.tree_of(tip)?)?.is_none() {
            return Err(SplitError::NoPrefix {
                prefix: prefix.to_owned(),
                commit: tip,
            });
        }
        let mut cache = match cache_ref {
            Some(name) => Cache::load(self, name, prefix)?,
            None => Cache::empty(None),
        };
        let cached = cache.blobs.iter().any(Option::is_some);
        let result = match splitter.run(tip, &mut cache, &HashMap::new())? {
            Ok(id) => Ok(id),
            Err(Restart::Stale) => {
                cache = Cache::empty(cache.loaded);
                splitter.run(tip, &mut cache, &HashMap::new())?
            }
            Err(Restart::Joins) => Err(Restart::Joins),
        };
        let mut cache_move = None;
        let id = match result {
            Ok(id) => {
                if let Some(name) = cache_ref.filter(|_| save) {
                    cache_move = cache.save(self, name, prefix, id)?;
                }
                id
            }
            Err(_) => {
                // Joins: their overrides first, then everything without a cache.
                let overrides = splitter.joins(tip)?;
                let mut scratch = Cache::empty(None);
                match splitter.run(tip, &mut scratch, &overrides)? {
                    Ok(id) => id,
                    Err(_) => {
                        return Err(GitError::new(
                            format!("split `{prefix}`"),
                            "a split commit disappeared while splitting",
                        )
                        .into());
                    }
                }
            }
        };
        Ok((
            Split {
                tip: id,
                walked: splitter.walked,
                created: splitter.created,
                cached,
            },
            cache_move,
        ))
    }
}

impl Git {
    /// The commits that made each of `splits` (their parents' splits are
    /// other commits), from the cache at `cache_ref`, all shards read:
    /// (commit, its split). Names the project commits behind what a push
    /// sends.
    pub fn split_sources(
        &self,
        cache_ref: &str,
        splits: &HashSet<ObjectId>,
    ) -> Result<Vec<(ObjectId, ObjectId)>, GitError> {
        let Some(commit) = self.ref_target(cache_ref)? else {
            return Ok(Vec::new());
        };
        let mut map = HashMap::new();
        for (name, (kind, blob)) in self.tree_entries(self.tree_of(commit)?)? {
            if kind == EntryKind::Blob && name != "format" {
                map.extend(parse_shard(&self.read_blob(blob)?));
            }
        }
        let mut out = Vec::new();
        for (id, value) in &map {
            let Mapped::Split(n) = value else {
                continue;
            };
            if !splits.contains(n) {
                continue;
            }
            let inherited = self.parents(*id)?.iter().any(|p| match map.get(p) {
                Some(Mapped::Split(m)) => m == n,
                Some(Mapped::Through(ms)) => ms.contains(n),
                None => false,
            });
            if !inherited {
                out.push((*id, *n));
            }
        }
        out.sort();
        Ok(out)
    }
}

impl Git {
    /// The reverse of a split: the history of `tip` with every tree moved
    /// into directory `dir` (as `git filter-repo --to-subdirectory-filter`),
    /// authors, committers and messages kept. Deterministic; writes
    /// objects only.
    pub fn nest_history(&self, tip: ObjectId, dir: &str) -> Result<ObjectId, GitError> {
        let mut parents: HashMap<ObjectId, Vec<ObjectId>> = HashMap::new();
        let walk = self
            .repo
            .rev_walk([tip])
            .all()
            .ctx(|| format!("walk the history of {tip}"))?;
        for info in walk {
            let info = info.ctx(|| format!("walk the history of {tip}"))?;
            parents.insert(info.id, info.parent_ids.to_vec());
        }
        let mut map: HashMap<ObjectId, ObjectId> = HashMap::new();
        let mut stack = vec![(tip, false)];
        while let Some((id, ready)) = stack.pop() {
            if map.contains_key(&id) {
                continue;
            }
            let ps = parents.get(&id).cloned().unwrap_or_default();
            if !ready {
                stack.push((id, true));
                stack.extend(ps.iter().rev().map(|p| (*p, false)));
                continue;
            }
            let commit = self
                .repo
                .find_commit(id)
                .ctx(|| format!("read commit {id}"))?;
            let decoded = commit.decode().ctx(|| format!("decode commit {id}"))?;
            let tree = self.edit_tree(
                self.empty_tree(),
                &[super::tree::TreeEdit {
                    path: dir.to_owned(),
                    target: Some((EntryKind::Tree, decoded.tree())),
                }],
            )?;
            let sig = |s: Result<gix::actor::SignatureRef<'_>, _>| {
                s.ctx(|| format!("read a signature of {id}"))?
                    .to_owned()
                    .ctx(|| format!("read a date of {id}"))
            };
            let nested = gix::objs::Commit {
                tree,
                parents: ps.iter().filter_map(|p| map.get(p).copied()).collect(),
                author: sig(decoded.author())?,
                committer: sig(decoded.committer())?,
                encoding: None,
                message: decoded.message.to_owned(),
                extra_headers: Vec::new(),
            };
            let new = self
                .repo
                .write_object(&nested)
                .ctx(|| format!("write the nested copy of {id}"))?
                .detach();
            map.insert(id, new);
        }
        map.get(&tip)
            .copied()
            .ok_or_else(|| GitError::new("nest a history", "its tip was not rewritten"))
    }
}

/// State of one split: the repository, memoized tree lookups, counters.
struct Splitter<'g> {
    git: &'g Git,
    prefix: String,
    shallow: HashSet<ObjectId>,
    /// Root tree → the prefix's tree in it.
    prefix_trees: HashMap<ObjectId, Option<ObjectId>>,
    /// Split commit → its tree.
    split_trees: HashMap<ObjectId, ObjectId>,
    /// Objects known to exist (cached values are checked before use).
    present: HashSet<ObjectId>,
    /// (ancestor, descendant) → answer.
    ancestry: HashMap<(ObjectId, ObjectId), bool>,
    walked: usize,
    created: usize,
}

impl<'g> Splitter<'g> {
    fn new(git: &'g Git, prefix: &str) -> Result<Self, GitError> {
        let shallow = git
            .repo
            .shallow_commits()
            .ctx(|| "read the shallow boundary".into())?
            .map(|c| c.iter().copied().collect())
            .unwrap_or_default();
        Ok(Self {
            git,
            prefix: prefix.to_owned(),
            shallow,
            prefix_trees: HashMap::new(),
            split_trees: HashMap::new(),
            present: HashSet::new(),
            ancestry: HashMap::new(),
            walked: 0,
            created: 0,
        })
    }

    /// The split of `tip`: every commit the cache does not know is read,
    /// then split parents first (an explicit stack: no recursion depth).
    fn run(
        &mut self,
        tip: ObjectId,
        cache: &mut Cache,
        overrides: &HashMap<ObjectId, ObjectId>,
    ) -> Result<Result<ObjectId, Restart>, SplitError> {
        let with_joins = !overrides.is_empty();
        let mut nodes: HashMap<ObjectId, Node> = HashMap::new();
        let mut stack = vec![(tip, false)];
        while let Some((id, ready)) = stack.pop() {
            if ready {
                let Some(node) = nodes.remove(&id) else {
                    continue;
                };
                let value = match self.process(id, &node, cache)? {
                    Ok(v) => v,
                    Err(restart) => return Ok(Err(restart)),
                };
                cache.insert(self.git, id, value)?;
                continue;
            }
            if nodes.contains_key(&id) || cache.get(self.git, id)?.is_some() {
                continue;
            }
            if let Some(split) = overrides.get(&id) {
                cache.insert(self.git, id, Mapped::Split(*split))?;
                continue;
            }
            let node = self.read(id)?;
            if let Some(t) = &node.trailers {
                if t.mainline.is_some() && !with_joins {
                    return Ok(Err(Restart::Joins));
                }
                if t.mainline.is_none()
                    && let Some(split) = &t.split
                {
                    // A squash commit stands for its upstream commit.
                    let upstream = self.resolve_upstream(id, split)?;
                    cache.insert(self.git, id, Mapped::Split(upstream))?;
                    continue;
                }
            }
            stack.push((id, true));
            for p in node.parents.iter().rev() {
                stack.push((*p, false));
            }
            nodes.insert(id, node);
        }
        match cache.get(self.git, tip)? {
            Some(Mapped::Split(id)) => {
                if !self.exists(id) {
                    return Ok(Err(Restart::Stale));
                }
                Ok(Ok(id))
            }
            _ => Err(SplitError::NoPrefix {
                prefix: self.prefix.clone(),
                commit: tip,
            }),
        }
    }

    /// The overrides of every join in the history of `tip` (git-subtree's
    /// `find_existing_splits`): mainline → split and split → itself.
    fn joins(&mut self, tip: ObjectId) -> Result<HashMap<ObjectId, ObjectId>, SplitError> {
        let mut out = HashMap::new();
        let mut seen = HashSet::new();
        let mut stack = vec![tip];
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            let node = self.read(id)?;
            if let Some(SplitTrailers {
                mainline: Some(main),
                split: Some(split),
            }) = &node.trailers
            {
                let upstream = self.resolve_upstream(id, split)?;
                if let Ok(main) = ObjectId::from_hex(main.as_bytes()) {
                    out.entry(main).or_insert(upstream);
                }
                out.entry(upstream).or_insert(upstream);
            }
            stack.extend(node.parents);
        }
        Ok(out)
    }

    /// The split of one commit whose parents are all mapped.
    fn process(
        &mut self,
        id: ObjectId,
        node: &Node,
        cache: &mut Cache,
    ) -> Result<Result<Mapped, Restart>, SplitError> {
        let mut newparents = Vec::new();
        for p in &node.parents {
            match cache.get(self.git, *p)? {
                Some(Mapped::Split(n)) => newparents.push(n),
                Some(Mapped::Through(ns)) => newparents.extend(ns),
                None => {}
            }
        }
        for n in &newparents {
            if !self.exists(*n) {
                return Ok(Err(Restart::Stale));
            }
        }
        let Some(tree) = node.prefix_tree else {
            let mut through: Vec<ObjectId> = Vec::new();
            for n in newparents {
                if !through.contains(&n) {
                    through.push(n);
                }
            }
            return Ok(Ok(Mapped::Through(through)));
        };
        Ok(Ok(Mapped::Split(self.copy_or_skip(
            id,
            tree,
            &newparents,
        )?)))
    }

    /// git-subtree's `copy_or_skip`: reuse a split parent with the same
    /// tree unless the other parents bring history it lacks.
    fn copy_or_skip(
        &mut self,
        id: ObjectId,
        tree: ObjectId,
        newparents: &[ObjectId],
    ) -> Result<ObjectId, SplitError> {
        let mut identical: Option<ObjectId> = None;
        let mut nonidentical: Option<ObjectId> = None;
        let mut parents: Vec<ObjectId> = Vec::new();
        let mut copy = false;
        for &parent in newparents {
            if self.tree_of_split(parent)? == tree {
                match identical {
                    Some(current) => {
                        // `git merge-base $identical $parent`
                        if self.is_ancestor(current, parent)? {
                            identical = Some(parent);
                        } else if !self.is_ancestor(parent, current)? {
                            copy = true;
                        }
                    }
                    None => identical = Some(parent),
                }
            } else {
                nonidentical = Some(parent);
            }
            if !parents.contains(&parent) {
                parents.push(parent);
            }
        }
        if let (Some(same), Some(other)) = (identical, nonidentical)
            && !self.is_ancestor(other, same)?
        {
            // `git rev-list --count $identical..$nonidentical` is not 0.
            copy = true;
        }
        match identical {
            Some(same) if !copy => Ok(same),
            _ => self.copy_commit(id, tree, &parents),
        }
    }

    /// git-subtree's `copy_commit`: the same author, committer and message
    /// (as `git log --format=%an%n%ae%n%aD…%B` and `git commit-tree` carry
    /// them), the prefix as the tree, no signature or other header.
    fn copy_commit(
        &mut self,
        id: ObjectId,
        tree: ObjectId,
        parents: &[ObjectId],
    ) -> Result<ObjectId, SplitError> {
        let git = self.git;
        let commit = git
            .repo
            .find_commit(id)
            .ctx(|| format!("read commit {id}"))?;
        let decoded = commit.decode().ctx(|| format!("decode commit {id}"))?;
        let signature = |sig: Result<gix::actor::SignatureRef<'_>, _>, role: &str| {
            sig.ctx(|| format!("read the {role} of {id}"))?
                .trim()
                .to_owned()
                .ctx(|| format!("read the {role} date of {id}"))
        };
        let copy = gix::objs::Commit {
            tree,
            parents: parents.iter().copied().collect(),
            author: signature(decoded.author(), "author")?,
            committer: signature(decoded.committer(), "committer")?,
            encoding: None,
            message: decoded.message.to_owned(),
            extra_headers: Vec::new(),
        };
        let new = git
            .repo
            .write_object(&copy)
            .ctx(|| format!("write the split of {id}"))?
            .detach();
        self.created += 1;
        self.split_trees.insert(new, tree);
        self.present.insert(new);
        Ok(new)
    }

    fn read(&mut self, id: ObjectId) -> Result<Node, SplitError> {
        self.walked += 1;
        let commit = self
            .git
            .repo
            .find_commit(id)
            .ctx(|| format!("read commit {id}"))?;
        let decoded = commit.decode().ctx(|| format!("decode commit {id}"))?;
        let parents = if self.shallow.contains(&id) {
            Vec::new()
        } else {
            decoded.parents().collect()
        };
        let trailers = split_trailers(decoded.message, &self.prefix);
        let root = decoded.tree();
        let prefix_tree = self.prefix_tree(root)?;
        Ok(Node {
            parents,
            prefix_tree,
            trailers,
        })
    }

    /// The prefix's tree in a root tree (a directory only, as git-subtree's
    /// `subtree_for_commit`: a submodule there counts as no prefix).
    fn prefix_tree(&mut self, root: ObjectId) -> Result<Option<ObjectId>, GitError> {
        if let Some(known) = self.prefix_trees.get(&root) {
            return Ok(*known);
        }
        let tree = self
            .git
            .repo
            .find_tree(root)
            .ctx(|| format!("read tree {root}"))?;
        let entry = tree
            .lookup_entry(self.prefix.split('/'))
            .ctx(|| format!("look up `{}` in tree {root}", self.prefix))?;
        let found = entry.filter(|e| e.mode().is_tree()).map(|e| e.object_id());
        self.prefix_trees.insert(root, found);
        Ok(found)
    }

    fn tree_of_split(&mut self, id: ObjectId) -> Result<ObjectId, GitError> {
        if let Some(t) = self.split_trees.get(&id) {
            return Ok(*t);
        }
        let tree = self.git.tree_of(id)?;
        self.split_trees.insert(id, tree);
        Ok(tree)
    }

    fn is_ancestor(&mut self, ancestor: ObjectId, descendant: ObjectId) -> Result<bool, GitError> {
        if let Some(known) = self.ancestry.get(&(ancestor, descendant)) {
            return Ok(*known);
        }
        let answer = self.git.is_ancestor(ancestor, descendant)?;
        self.ancestry.insert((ancestor, descendant), answer);
        Ok(answer)
    }

    fn exists(&mut self, id: ObjectId) -> bool {
        if self.present.contains(&id) {
            return true;
        }
        let found = self.git.repo.has_object(id);
        if found {
            self.present.insert(id);
        }
        found
    }

    /// The commit a `git-subtree-split:` value names (`git rev-parse
    /// --verify <value>^{commit}`).
    fn resolve_upstream(&mut self, squash: ObjectId, value: &str) -> Result<ObjectId, SplitError> {
        let prefix = self.prefix.clone();
        let missing = || SplitError::MissingUpstream {
            prefix: prefix.clone(),
            squash,
            split: value.to_owned(),
        };
        let id = match ObjectId::from_hex(value.as_bytes()) {
            Ok(id) if self.exists(id) => id,
            Ok(_) => return Err(missing()),
            Err(_) => self
                .git
                .repo
                .rev_parse_single(format!("{value}^{{commit}}").as_str())
                .map_err(|_| missing())?
                .detach(),
        };
        let is_commit = self
            .git
            .repo
            .find_object(id)
            .ok()
            .and_then(|o| o.peel_to_commit().ok())
            .map(|c| c.id);
        is_commit.ok_or_else(missing)
    }
}

/// The git-subtree trailers of `message` when it names `prefix` on a line
/// of its own (`git log --grep="^git-subtree-dir: <prefix>/*$"`), read the
/// way git-subtree reads `%s%n%n%b`: the first paragraph as one line, then
/// each line's first two words.
fn split_trailers(message: &BStr, prefix: &str) -> Option<SplitTrailers> {
    let text = message.to_str_lossy();
    let names_prefix = text.lines().any(|line| {
        line.strip_prefix("git-subtree-dir: ")
            .and_then(|rest| rest.strip_prefix(prefix))
            .is_some_and(|tail| tail.chars().all(|c| c == '/'))
    });
    if !names_prefix {
        return None;
    }
    let mut lines = text.lines().skip_while(|l| l.trim().is_empty());
    let mut subject = Vec::new();
    for line in lines.by_ref() {
        if line.trim().is_empty() {
            break;
        }
        subject.push(line.trim());
    }
    let subject = subject.join(" ");
    let mut out = SplitTrailers::default();
    for line in std::iter::once(subject.as_str()).chain(lines) {
        let mut words = line.split_whitespace();
        let (Some(key), value) = (words.next(), words.next()) else {
            continue;
        };
        let value = value.map(str::to_owned).filter(|v| !v.is_empty());
        match key {
            "git-subtree-mainline:" => out.mainline = value,
            "git-subtree-split:" if value.is_some() => out.split = value,
            _ => {}
        }
    }
    Some(out)
}

/// The commit → split map, loaded shard by shard from the cache commit.
struct Cache {
    /// The cache commit read, if any (the value the ref must still have).
    loaded: Option<ObjectId>,
    /// Blob of each shard in the loaded cache.
    blobs: Vec<Option<ObjectId>>,
    /// Shards read or started, by first byte.
    shards: Vec<Option<HashMap<ObjectId, Mapped>>>,
    dirty: BTreeSet<u8>,
}

impl Cache {
    fn empty(loaded: Option<ObjectId>) -> Cache {
        Cache {
            loaded,
            blobs: vec![None; 256],
            shards: vec![None; 256],
            dirty: BTreeSet::new(),
        }
    }

    /// Reads the cache at `name`; a missing, foreign or unreadable one is
    /// an empty cache (to be replaced).
    fn load(git: &Git, name: &str, prefix: &str) -> Result<Cache, GitError> {
        let Some(commit) = git.ref_target(name)? else {
            return Ok(Cache::empty(None));
        };
        let mut cache = Cache::empty(Some(commit));
        let Ok(tree) = git.tree_of(commit) else {
            return Ok(cache);
        };
        let Ok(entries) = git.tree_entries(tree) else {
            return Ok(cache);
        };
        let format_ok = entries
            .get("format")
            .and_then(|(_, blob)| git.read_blob(*blob).ok())
            .is_some_and(|bytes| bytes == format_blob(prefix).as_bytes());
        if !format_ok {
            return Ok(cache);
        }
        for (name, (kind, blob)) in entries {
            if kind != EntryKind::Blob {
                continue;
            }
            if let Ok(byte) = u8::from_str_radix(&name, 16)
                && name.len() == 2
            {
                cache.blobs[usize::from(byte)] = Some(blob);
            }
        }
        Ok(cache)
    }

    fn shard(&mut self, git: &Git, byte: u8) -> Result<&mut HashMap<ObjectId, Mapped>, GitError> {
        let i = usize::from(byte);
        if self.shards[i].is_none() {
            let map = match self.blobs[i] {
                Some(blob) => parse_shard(&git.read_blob(blob)?),
                None => HashMap::new(),
            };
            self.shards[i] = Some(map);
        }
        match &mut self.shards[i] {
            Some(map) => Ok(map),
            None => Err(GitError::new("read the split cache", "a shard vanished")),
        }
    }

    fn get(&mut self, git: &Git, id: ObjectId) -> Result<Option<Mapped>, GitError> {
        Ok(self.shard(git, id.as_bytes()[0])?.get(&id).cloned())
    }

    fn insert(&mut self, git: &Git, id: ObjectId, value: Mapped) -> Result<(), GitError> {
        let byte = id.as_bytes()[0];
        self.shard(git, byte)?.insert(id, value);
        self.dirty.insert(byte);
        Ok(())
    }

    /// Writes the changed shards and a new cache commit whose parent is the
    /// split tip (which keeps the split history from being pruned), and
    /// returns the move of `name` to it, unless somebody else moved it
    /// meanwhile.
    fn save(
        &mut self,
        git: &Git,
        name: &str,
        prefix: &str,
        tip: ObjectId,
    ) -> Result<Option<RefUpdate>, GitError> {
        if self.dirty.is_empty() && self.loaded.is_some() {
            return Ok(None);
        }
        for byte in std::mem::take(&mut self.dirty) {
            let i = usize::from(byte);
            if let Some(map) = &self.shards[i] {
                self.blobs[i] = Some(git.write_blob(&render_shard(map))?);
            }
        }
        let mut entries: Vec<TreeEntry> = self
            .blobs
            .iter()
            .enumerate()
            .filter_map(|(i, blob)| {
                blob.map(|oid| TreeEntry {
                    mode: EntryMode::from(EntryKind::Blob),
                    filename: format!("{i:02x}").into(),
                    oid,
                })
            })
            .collect();
        entries.push(TreeEntry {
            mode: EntryMode::from(EntryKind::Blob),
            filename: "format".into(),
            oid: git.write_blob(format_blob(prefix).as_bytes())?,
        });
        entries.sort();
        let tree = git
            .repo
            .write_object(&gix::objs::Tree { entries })
            .ctx(|| "write the split cache tree".into())?
            .detach();
        let signature = gix::actor::Signature {
            name: "git-quickscale".into(),
            email: "git-quickscale@localhost".into(),
            time: gix::date::Time::new(0, 0),
        };
        let commit = git.write_commit(
            &format!("git-quickscale split cache for {prefix}\n"),
            tree,
            &[tip],
            &signature,
            &signature,
        )?;
        let current = git.ref_target(name)?;
        if current != self.loaded {
            // Someone else wrote a cache meanwhile; theirs is as good.
            return Ok(None);
        }
        Ok(Some(RefUpdate {
            name: name.to_owned(),
            expected: current,
            new: Some(commit),
        }))
    }
}

fn format_blob(prefix: &str) -> String {
    format!("{CACHE_FORMAT}\nprefix {prefix}\n")
}

/// `<commit> <split>` or `<commit> ~ <split>…` (passed through) per line.
fn render_shard(map: &HashMap<ObjectId, Mapped>) -> Vec<u8> {
    let mut lines: Vec<String> = map
        .iter()
        .map(|(id, value)| match value {
            Mapped::Split(n) => format!("{id} {n}\n"),
            Mapped::Through(ns) => {
                let mut line = format!("{id} ~");
                for n in ns {
                    line.push(' ');
                    line.push_str(&n.to_string());
                }
                line.push('\n');
                line
            }
        })
        .collect();
    lines.sort();
    lines.concat().into_bytes()
}

/// Reads a shard; lines that do not parse are skipped (their commits are
/// split again).
fn parse_shard(bytes: &[u8]) -> HashMap<ObjectId, Mapped> {
    let mut out = HashMap::new();
    for line in bytes.lines() {
        let mut words = line.split_str(" ");
        let Some(Ok(id)) = words.next().map(ObjectId::from_hex) else {
            continue;
        };
        let value = match words.next() {
            Some(b"~") => {
                let ids: Result<Vec<ObjectId>, _> = words.map(ObjectId::from_hex).collect();
                match ids {
                    Ok(ids) => Mapped::Through(ids),
                    Err(_) => continue,
                }
            }
            Some(hex) => match ObjectId::from_hex(hex) {
                Ok(n) if words.next().is_none() => Mapped::Split(n),
                _ => continue,
            },
            None => continue,
        };
        out.insert(id, value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> ObjectId {
        ObjectId::from_bytes_or_panic(&[n; 20])
    }

    #[test]
    fn shards_round_trip() {
        let mut map = HashMap::new();
        map.insert(id(1), Mapped::Split(id(2)));
        map.insert(id(3), Mapped::Through(vec![]));
        map.insert(id(4), Mapped::Through(vec![id(5), id(6)]));
        let bytes = render_shard(&map);
        assert_eq!(parse_shard(&bytes), map);
        // Deterministic bytes: sorted lines.
        assert_eq!(render_shard(&parse_shard(&bytes)), bytes);
    }

    #[test]
    fn broken_shard_lines_are_skipped() {
        let text = format!("{} {}\nnot a line\n{} zz\n", id(1), id(2), id(3));
        let map = parse_shard(text.as_bytes());
        assert_eq!(map.len(), 1);
        assert_eq!(map.get(&id(1)), Some(&Mapped::Split(id(2))));
    }

    #[test]
    fn trailers_are_read_like_git_subtree() {
        let sq = "Squashed 'modules/a/' content from commit abc\n\ngit-subtree-dir: modules/a\ngit-subtree-split: 0123\n";
        assert_eq!(
            split_trailers(sq.into(), "modules/a"),
            Some(SplitTrailers {
                mainline: None,
                split: Some("0123".into())
            })
        );
        // Another prefix, or one that only starts the same, is not this one.
        assert_eq!(split_trailers(sq.into(), "modules/ab"), None);
        assert_eq!(split_trailers(sq.into(), "modules"), None);
        let slashes =
            "x\n\ngit-subtree-dir: modules/a//\ngit-subtree-mainline: 11\ngit-subtree-split: 22\n";
        assert_eq!(
            split_trailers(slashes.into(), "modules/a"),
            Some(SplitTrailers {
                mainline: Some("11".into()),
                split: Some("22".into())
            })
        );
        // In the first paragraph, lines are joined as %s joins them.
        let joined = "git-subtree-dir: modules/a\ngit-subtree-split: 33\n";
        assert_eq!(
            split_trailers(joined.into(), "modules/a"),
            Some(SplitTrailers::default())
        );
    }
}
