//! `split` and `push`: a module's history alone, and sending it upstream.
//!
//! The split is [`Git::split`] with the cache `refs/quickscale/split/<name>`.
//! `push` splits HEAD, lists what would leave the machine (the split commits
//! the upstream commit does not have, and a diffstat against it), pushes
//! with `git push` — the one place this tool runs git for the user, with
//! their credentials and config — and records what it pushed in
//! `refs/quickscale/pushed/<name>/<branch>` through the transaction API.
//!
//! Before anything leaves, the branch name is checked as `git
//! check-ref-format --branch` does and what would leave (the outgoing
//! commits' messages and the lines they add) is scanned for secrets
//! (`crate::secrets`). The push runs the user's pre-push hooks; the tool's
//! own pre-push block sees [`MODULE_PUSH_ENV`] and does
//! nothing (it would send the project's state to the module's repository).

use std::collections::{HashMap, HashSet};
use std::process::{Command, Stdio};

use crate::git::ObjectId;

use super::Workspace;
use super::session::WriteSession;
use crate::git::split::{Split, SplitError};
use crate::git::{Git, GitContext, GitError};
use crate::source::{self, Location};
use crate::state::refs;
use crate::txn::TxnError;

/// Set (to `1`) in the environment of the `git push` that `git quickscale
/// push` runs: the pre-push block then does nothing, since that push sends a
/// module's split history to the module's repository, not the project.
pub const MODULE_PUSH_ENV: &str = "GIT_QUICKSCALE_MODULE_PUSH";

/// What `split --branch` did to the branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BranchMove {
    Created,
    Updated,
    Unchanged,
}

/// The result of `git quickscale split`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitOutcome {
    pub prefix: String,
    pub split: Split,
    /// The branch set to the split, and how.
    pub branch: Option<(String, BranchMove)>,
}

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("`{name}` {problem}")]
    BadName { name: String, problem: String },
    #[error("there is no commit to split yet")]
    NoCommit,
    #[error(transparent)]
    Split(#[from] SplitError),
    #[error("`{0}` is not a valid branch name")]
    BadBranch(String),
    #[error("branch '{branch}' is not an ancestor of commit '{split}'")]
    BranchDiverged { branch: String, split: ObjectId },
    #[error("module {name} is not embedded in this project")]
    NotEmbedded { name: String, embedded: Vec<String> },
    #[error(
        "module {name} was embedded from upstream commit {commit}, which is not in this repository"
    )]
    MissingBase { name: String, commit: String },
    #[error(
        "`{branch}` on `{url}` has commits that this split does not contain; nothing was pushed"
    )]
    NonFastForward {
        name: String,
        url: String,
        branch: String,
        detail: String,
    },
    #[error("`git push` to `{url}` failed; nothing was recorded\n{detail}")]
    PushFailed { url: String, detail: String },
    #[error("the secret rules named by {key} (`{path}`) cannot be read: {message}")]
    SecretRulesFile {
        key: &'static str,
        path: String,
        message: String,
    },
    #[error(transparent)]
    SecretRules(#[from] crate::secrets::RulesError),
    #[error(transparent)]
    Txn(#[from] TxnError),
    #[error(transparent)]
    Git(#[from] GitError),
}

impl PushError {
    pub fn hint(&self) -> Option<String> {
        match self {
            PushError::BadName { .. } => {
                Some("name the module as in `modules/<name>` (see `git quickscale status`)".into())
            }
            PushError::NoCommit => Some("commit something first".into()),
            PushError::Split(e) => e.hint(),
            PushError::BadBranch(_) => {
                Some("use a name `git check-ref-format --branch` accepts".into())
            }
            PushError::BranchDiverged { branch, .. } => Some(format!(
                "the branch has commits the split does not: pick another branch, or delete it (`git branch -D {branch}`) if it is yours to replace"
            )),
            PushError::NotEmbedded { embedded, .. } => Some(if embedded.is_empty() {
                "no module is embedded; `git quickscale split NAME` splits any modules/<name> folder".into()
            } else {
                format!("embedded modules: {}", embedded.join(", "))
            }),
            PushError::MissingBase { .. } => Some(
                "fetch the module refs (`git quickscale sync`), or fetch that commit from the module's repository".into(),
            ),
            PushError::NonFastForward { name, branch, .. } => Some(format!(
                "push never forces: bring the upstream changes into the project first (`git quickscale update {name}`, from `{branch}` if your fixes were merged there), then push again; or push to a new branch with `--branch <name>`"
            )),
            PushError::PushFailed { .. } => Some(
                "check the URL, your access and your credentials (`git push` ran with your git config), then push again".into(),
            ),
            PushError::SecretRulesFile { key, .. } => Some(format!(
                "fix the path, or unset it to use the built-in rules: git config --unset {key}"
            )),
            PushError::SecretRules(_) => Some(format!(
                "fix the file (gitleaks' configuration format), or unset {} to use the built-in rules",
                crate::secrets::RULES_KEY
            )),
            PushError::Txn(e) => e.hint(),
            PushError::Git(e) => e.hint(),
        }
    }
}

/// The directory a module lives in.
pub fn prefix_of(name: &str) -> String {
    super::execute::prefix_of(name)
}

/// Checks a module name before it becomes a path or a ref.
pub fn check_name(name: &str) -> Result<(), PushError> {
    match crate::identity::module_name_problem(name) {
        Some(problem) => Err(PushError::BadName {
            name: name.to_owned(),
            problem,
        }),
        None => Ok(()),
    }
}

/// `refs/heads/<branch>`, when `git check-ref-format --branch` accepts it.
pub fn branch_ref(branch: &str) -> Result<String, PushError> {
    if branch_name_ok(branch) {
        Ok(format!("refs/heads/{branch}"))
    } else {
        Err(PushError::BadBranch(branch.to_owned()))
    }
}

/// git's rules for a branch name (`check-ref-format --branch`, that is
/// `refs/heads/<name>` checked by `check_refname_format`, plus: not `HEAD`,
/// not starting with `-`).
pub fn branch_name_ok(name: &str) -> bool {
    if name.is_empty() || name == "HEAD" || name.starts_with('-') || name == "@" {
        return false;
    }
    if name.ends_with('/') || name.ends_with('.') || name.starts_with('/') {
        return false;
    }
    if name.contains("..") || name.contains("@{") || name.contains("//") {
        return false;
    }
    let bad_char = |c: char| {
        c.is_ascii_control() || matches!(c, ' ' | '~' | '^' | ':' | '?' | '*' | '[' | '\\')
    };
    if name.chars().any(bad_char) {
        return false;
    }
    name.split('/')
        .all(|part| !part.is_empty() && !part.starts_with('.') && !part.ends_with(".lock"))
}

/// Splits `modules/<name>` out of HEAD's history (with the cache), and sets
/// `branch` to the result when given: created, or moved forward only. The
/// cache and the branch move in one transaction of the session.
pub fn split_module(
    git: &Git,
    session: &WriteSession,
    name: &str,
    branch: Option<&str>,
) -> Result<SplitOutcome, PushError> {
    check_name(name)?;
    let branch_ref = branch.map(branch_ref).transpose()?;
    let head = git.head()?.commit.ok_or(PushError::NoCommit)?;
    let prefix = prefix_of(name);
    let (split, cache_move) = git.split_planned(head, &prefix, &refs::split_cache_ref(name))?;
    let mut tx = session.transaction(git, "split");
    if let Some(m) = &cache_move {
        tx.point_of_no_return(&m.name);
        tx.move_ref_expecting(&m.name, m.expected, m.new);
    }
    let branch = match (branch, branch_ref) {
        (Some(short), Some(full)) => {
            let current = git.ref_target(&full)?;
            let how = match current {
                Some(c) if c == split.tip => BranchMove::Unchanged,
                Some(c) if git.is_ancestor(c, split.tip)? => BranchMove::Updated,
                Some(_) => {
                    // The cache is kept: the next split starts from it.
                    if cache_move.is_some() {
                        tx.run()?;
                    }
                    return Err(PushError::BranchDiverged {
                        branch: short.to_owned(),
                        split: split.tip,
                    });
                }
                None => BranchMove::Created,
            };
            if how != BranchMove::Unchanged {
                // The branch was checked to move forward from `current`.
                tx.point_of_no_return(&full);
                tx.move_ref_expecting(&full, current, Some(split.tip));
            }
            Some((short.to_owned(), how))
        }
        _ => None,
    };
    if !tx.prepared().refs.is_empty() {
        tx.run()?;
    }
    Ok(SplitOutcome {
        prefix,
        split,
        branch,
    })
}

/// Splits `prefix` out of `head` with the cache at `cache`; the cache's ref
/// moves through the session's transaction (directly without a session).
fn split_cached(
    git: &Git,
    session: Option<&WriteSession>,
    head: ObjectId,
    prefix: &str,
    cache: &str,
) -> Result<crate::git::split::Split, PushError> {
    let Some(session) = session else {
        return Ok(git.split(head, prefix, Some(cache))?);
    };
    let (split, cache_move) = git.split_planned(head, prefix, cache)?;
    if let Some(m) = cache_move {
        let mut tx = session.transaction(git, "split");
        tx.point_of_no_return(&m.name);
        tx.move_ref_expecting(&m.name, m.expected, m.new);
        tx.run()?;
    }
    Ok(split)
}

/// One commit that would leave the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaving {
    pub id: ObjectId,
    pub summary: String,
}

/// One file of the diffstat against the upstream commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStat {
    /// Relative to the module's root.
    pub path: String,
    pub added: usize,
    pub removed: usize,
    pub binary: bool,
}

/// Everything `push` will do, computed before anything leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushPlan {
    pub module: String,
    pub prefix: String,
    /// Where to, as given or recorded (`--remote`, else the module's source).
    pub url: String,
    /// What `git push` is given (a local path made absolute).
    pub push_url: String,
    /// The branch on the remote (short name).
    pub branch: String,
    /// The upstream commit the module builds on.
    pub base: ObjectId,
    pub split: Split,
    /// The split commits the upstream commit (and an earlier push to the
    /// same branch) does not have, oldest first.
    pub commits: Vec<Leaving>,
    /// The module's files against the upstream commit.
    pub files: Vec<FileStat>,
    /// What was last pushed to this branch, if anything.
    pub pushed_before: Option<ObjectId>,
    /// Split commits made from project commits that changed the module
    /// *and* other files: only their module part leaves (their message goes
    /// as it is).
    pub mixed: Vec<Leaving>,
    /// A GitHub compare or GitLab merge-request page for the branch.
    pub review_url: Option<String>,
    /// Secrets found in what would leave (messages and added lines).
    pub secrets: Vec<crate::secrets::Finding>,
    /// Where the secret rules came from (built in, or the configured file).
    pub secret_rules: String,
}

impl PushPlan {
    /// The `git push` that `push` runs, as `--dry-run` shows it.
    pub fn command(&self) -> String {
        format!(
            "{}=1 git push {} {}:refs/heads/{}",
            MODULE_PUSH_ENV,
            source::shell_word(&self.push_url),
            self.split.tip,
            self.branch
        )
    }
}

/// The branch `push` uses by default: named after the project and the module.
pub fn default_branch(project_slug: &str, name: &str) -> String {
    format!("quickscale/{project_slug}/{name}")
}

/// Splits the module and works out what a push would send; nothing leaves.
pub fn plan_push(
    ws: &Workspace,
    name: &str,
    remote: Option<&str>,
    branch: Option<&str>,
) -> Result<PushPlan, PushError> {
    check_name(name)?;
    let git = ws
        .git
        .as_ref()
        .ok_or_else(|| GitError::new("open the repository", "the project has none yet"))?;
    let Some((applied, module)) = ws
        .applied
        .as_ref()
        .and_then(|a| Some((a, a.modules.get(name)?)))
    else {
        return Err(PushError::NotEmbedded {
            name: name.to_owned(),
            embedded: ws.embedded(),
        });
    };
    let head = ws.head.ok_or(PushError::NoCommit)?;
    let prefix = prefix_of(name);
    // The last squash names the upstream commit the prefix builds on (also
    // after a `git subtree pull`); the state's commit otherwise.
    let recorded = git.latest_squash(head, &prefix)?.map(|(_, split)| split);
    let base = recorded
        .or_else(|| ObjectId::from_hex(module.commit.as_bytes()).ok())
        .filter(|id| git.has_object(*id))
        .ok_or_else(|| PushError::MissingBase {
            name: name.to_owned(),
            commit: recorded.map_or_else(|| module.commit.clone(), |r| r.to_string()),
        })?;
    let branch = match branch {
        Some(b) => b.to_owned(),
        None => default_branch(&applied.project.slug, name),
    };
    branch_ref(&branch)?;
    let url = remote.unwrap_or(&module.source).to_owned();
    let push_url = match (remote, source::location(&url, &ws.root)) {
        // `--remote origin`: a remote configured in this repository.
        (Some(name), Location::Local(path)) if !path.exists() && git.has_remote(name) => {
            git.remote_url(name)?
        }
        (_, Location::Local(path)) => path.to_string_lossy().into_owned(),
        (_, Location::Remote(u)) => u,
    };
    let cache = refs::split_cache_ref(name);
    let split = split_cached(git, ws.lock.as_ref(), head, &prefix, &cache)?;
    let pushed_before = git.ref_target(&refs::pushed_ref(name, &branch))?;
    let mut hidden = vec![base];
    if let Some(p) = pushed_before
        && git.has_object(p)
    {
        hidden.push(p);
    }
    let ids = leaving(git, split.tip, &hidden)?;
    let mut commits = Vec::new();
    for id in &ids {
        commits.push(Leaving {
            id: *id,
            summary: git.commit_summary(*id)?,
        });
    }
    let files = diffstat(git, git.tree_of(base)?, git.tree_of(split.tip)?)?;
    let mixed = mixed_sources(git, &cache, &prefix, &ids)?;
    let (scanner, secret_rules) = secret_scanner(git, &ws.root)?;
    let secrets = scan_secrets(git, &scanner, &ids)?;
    Ok(PushPlan {
        secrets,
        secret_rules,
        module: name.to_owned(),
        prefix,
        review_url: review_url(&push_url, &branch, &module.git_ref),
        url,
        push_url,
        branch,
        base,
        split,
        commits,
        files,
        pushed_before,
        mixed,
    })
}

/// The secret rules: the gitleaks-format file named by
/// `quickscale.push.secretRules` (relative to the worktree), else the
/// built-in ones; and where they came from.
fn secret_scanner(
    git: &Git,
    root: &std::path::Path,
) -> Result<(crate::secrets::Scanner, String), PushError> {
    use crate::secrets::{RULES_KEY, Scanner};
    let Some(path) = git.config_string(RULES_KEY) else {
        return Ok((Scanner::builtin()?, "built in".to_owned()));
    };
    let full = root.join(&path);
    let text = std::fs::read_to_string(&full).map_err(|e| PushError::SecretRulesFile {
        key: RULES_KEY,
        path: path.clone(),
        message: e.to_string(),
    })?;
    let origin = format!("from {path} ({RULES_KEY})");
    Ok((Scanner::from_toml(&text, &origin)?, origin))
}

/// Files larger than this are not scanned line by line (generated or data).
const SCAN_LIMIT: usize = 2 << 20;

/// Scans each outgoing commit: its message, and the lines it adds to the
/// module's files (against its first parent; a secret added and removed
/// again still leaves in history).
fn scan_secrets(
    git: &Git,
    scanner: &crate::secrets::Scanner,
    ids: &[ObjectId],
) -> Result<Vec<crate::secrets::Finding>, PushError> {
    use crate::secrets::MESSAGE_FILE;
    let mut out = Vec::new();
    for id in ids {
        let commit = id.to_string();
        let message = git.commit_message(*id)?;
        out.extend(scanner.scan_lines(
            &commit,
            MESSAGE_FILE,
            message.lines().enumerate().map(|(i, l)| (i + 1, l)),
        ));
        let parent_tree = match git.parents(*id)?.first() {
            Some(p) => git.tree_of(*p)?,
            None => git.empty_tree(),
        };
        for change in git.diff_trees(parent_tree, git.tree_of(*id)?)? {
            let Some(new) = change
                .new
                .filter(|l| l.kind != crate::git::EntryKind::Commit)
            else {
                continue;
            };
            let after = git.read_blob(new.id)?;
            let before = match change.old {
                Some(l) if l.kind != crate::git::EntryKind::Commit => git.read_blob(l.id)?,
                _ => Vec::new(),
            };
            if after.contains(&0) || after.len() > SCAN_LIMIT || before.len() > SCAN_LIMIT {
                continue;
            }
            let (a, b) = (
                String::from_utf8_lossy(&before),
                String::from_utf8_lossy(&after),
            );
            let diff = similar::TextDiff::from_lines(a.as_ref(), b.as_ref());
            let added: Vec<(usize, &str)> = diff
                .iter_all_changes()
                .filter(|c| c.tag() == similar::ChangeTag::Insert)
                .filter_map(|c| {
                    Some((c.new_index()? + 1, c.value().trim_end_matches(['\n', '\r'])))
                })
                .collect();
            out.extend(scanner.scan_lines(&commit, &change.path, added));
        }
    }
    Ok(out)
}

/// Commits reachable from `tip` and from none of `hidden`, parents first.
fn leaving(git: &Git, tip: ObjectId, hidden: &[ObjectId]) -> Result<Vec<ObjectId>, GitError> {
    let mut parents: HashMap<ObjectId, Vec<ObjectId>> = HashMap::new();
    for info in git.walk(tip, hidden)? {
        let (id, commit_parents) = info?;
        parents.insert(id, commit_parents);
    }
    let mut order = Vec::new();
    let mut done = HashSet::new();
    let mut stack = vec![(tip, false)];
    while let Some((id, ready)) = stack.pop() {
        if ready {
            order.push(id);
            continue;
        }
        let Some(ps) = parents.get(&id) else {
            continue;
        };
        if !done.insert(id) {
            continue;
        }
        stack.push((id, true));
        for p in ps.iter().rev() {
            stack.push((*p, false));
        }
    }
    Ok(order)
}

/// Per file: lines added and removed from `old` to `new` (both the module's trees).
fn diffstat(git: &Git, old: ObjectId, new: ObjectId) -> Result<Vec<FileStat>, GitError> {
    let mut out = Vec::new();
    for change in git.diff_trees(old, new)? {
        let read = |leaf: Option<crate::git::tree::Leaf>| -> Result<Vec<u8>, GitError> {
            match leaf {
                Some(l) if l.kind != crate::git::EntryKind::Commit => git.read_blob(l.id),
                _ => Ok(Vec::new()),
            }
        };
        let (a, b) = (read(change.old)?, read(change.new)?);
        let binary = a.contains(&0) || b.contains(&0);
        let (mut added, mut removed) = (0, 0);
        if !binary {
            let (a, b) = (String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
            for c in similar::TextDiff::from_lines(a.as_ref(), b.as_ref()).iter_all_changes() {
                match c.tag() {
                    similar::ChangeTag::Insert => added += 1,
                    similar::ChangeTag::Delete => removed += 1,
                    similar::ChangeTag::Equal => {}
                }
            }
        }
        out.push(FileStat {
            path: change.path,
            added,
            removed,
            binary,
        });
    }
    Ok(out)
}

/// The split commits among `split_ids` made from project commits that
/// changed the prefix and other files together (single-parent commits
/// only: a merge is not an edit), named by the project commit's summary.
fn mixed_sources(
    git: &Git,
    cache: &str,
    prefix: &str,
    split_ids: &[ObjectId],
) -> Result<Vec<Leaving>, GitError> {
    let wanted: HashSet<ObjectId> = split_ids.iter().copied().collect();
    let under = format!("{prefix}/");
    let mut out = Vec::new();
    for (project, split) in git.split_sources(cache, &wanted)? {
        let parents = git.parents(project)?;
        let [parent] = parents.as_slice() else {
            continue;
        };
        let changes = git.diff_trees(git.tree_of(*parent)?, git.tree_of(project)?)?;
        if changes.iter().any(|c| !c.path.starts_with(&under)) {
            out.push(Leaving {
                id: split,
                summary: git.commit_summary(project)?,
            });
        }
    }
    out.sort_by_key(|l| split_ids.iter().position(|s| *s == l.id));
    Ok(out)
}

/// The page to open a pull or merge request from `branch` into `base_ref`,
/// for github.com and gitlab.com URLs (https or ssh).
pub fn review_url(url: &str, branch: &str, base_ref: &str) -> Option<String> {
    let trimmed = url.trim_end_matches('/').trim_end_matches(".git");
    let (host, path) = if let Some(rest) = trimmed.strip_prefix("git@") {
        rest.split_once(':')?
    } else {
        let rest = trimmed.split_once("://")?.1;
        let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
        rest.split_once('/')?
    };
    if path.split('/').filter(|p| !p.is_empty()).count() < 2 {
        return None;
    }
    match host {
        "github.com" => Some(format!(
            "https://github.com/{path}/compare/{base_ref}...{branch}?expand=1"
        )),
        "gitlab.com" => Some(format!(
            "https://gitlab.com/{path}/-/merge_requests/new?merge_request%5Bsource_branch%5D={branch}&merge_request%5Btarget_branch%5D={base_ref}"
        )),
        _ => None,
    }
}

/// A module's pushes, and what is not pushed yet (for `status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushState {
    /// Branch → the split commit last pushed there.
    pub pushed: Vec<(String, ObjectId)>,
    /// Split commits of HEAD that neither `base` nor any push has.
    pub unpushed: usize,
}

/// What of module `name` has been pushed, and how many of its split
/// commits have not. Read-only: the split reads the cache but keeps new
/// objects in memory and writes no ref.
pub fn push_state(
    git: &Git,
    head: ObjectId,
    name: &str,
    base: ObjectId,
) -> Result<PushState, PushError> {
    check_name(name)?;
    let prefix = refs::pushed_prefix(name);
    let pushed: Vec<(String, ObjectId)> = git
        .refs_with_prefix(&prefix)?
        .into_iter()
        .map(|(r, id)| (r[prefix.len()..].to_owned(), id))
        .collect();
    let memory = git.with_object_memory();
    let split = memory.split_read_only(head, &prefix_of(name), &refs::split_cache_ref(name))?;
    let mut hidden: Vec<ObjectId> = vec![base];
    hidden.extend(
        pushed
            .iter()
            .map(|(_, id)| *id)
            .filter(|id| git.has_object(*id)),
    );
    let unpushed = leaving(&memory, split.tip, &hidden)?.len();
    Ok(PushState { pushed, unpushed })
}

/// Why `git push` did not push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The remote refused the update (not a fast-forward, or it has
    /// commits we do not): the branch moved.
    pub moved: bool,
    /// git's porcelain line and error output.
    pub detail: String,
}

impl Refused {
    pub fn into_error(self, name: &str, url: &str, branch: &str) -> PushError {
        if self.moved {
            PushError::NonFastForward {
                name: name.to_owned(),
                url: url.to_owned(),
                branch: branch.to_owned(),
                detail: self.detail,
            }
        } else {
            PushError::PushFailed {
                url: url.to_owned(),
                detail: self.detail,
            }
        }
    }
}

/// `git push <url> <tip>:refs/heads/<branch>`, never forced, with the
/// user's git config, credentials and pre-push hooks. The tool's own
/// pre-push block sees [`MODULE_PUSH_ENV`] and does nothing
/// (it would send the project's state refs to the module's repository).
/// `prompt`: git may ask for credentials on the terminal. Returns git's
/// porcelain line for the branch.
pub fn git_push(
    git: &Git,
    push_url: &str,
    tip: ObjectId,
    branch: &str,
    prompt: bool,
) -> Result<Result<String, Refused>, GitError> {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(git.workdir())
        .args([
            "push",
            "--porcelain",
            "--no-follow-tags",
            "--recurse-submodules=no",
            "--",
        ])
        .arg(push_url)
        .arg(format!("{tip}:refs/heads/{branch}"))
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env(MODULE_PUSH_ENV, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if prompt {
        cmd.stdin(Stdio::inherit());
    } else {
        cmd.stdin(Stdio::null()).env("GIT_TERMINAL_PROMPT", "0");
    }
    let out = cmd
        .output()
        .ctx(|| format!("run `git push` to `{push_url}`"))?;
    let porcelain = String::from_utf8_lossy(&out.stdout).into_owned();
    let errors = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    let line = porcelain
        .lines()
        .find(|l| l.contains(&format!("refs/heads/{branch}")))
        .unwrap_or_default()
        .to_owned();
    if out.status.success() {
        return Ok(Ok(line));
    }
    let detail = [line.as_str(), errors.as_str()]
        .iter()
        .filter(|t| !t.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("\n");
    let moved = line.starts_with('!')
        && (line.contains("non-fast-forward")
            || line.contains("fetch first")
            || line.contains("rejected"));
    Ok(Err(Refused { moved, detail }))
}

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// git's porcelain line for the ref.
    pub summary: String,
    /// The ref that records the push.
    pub record: String,
}

/// Pushes the split ([`git_push`]), then records the push in
/// `refs/quickscale/pushed/<name>/<branch>` in one transaction.
pub fn push(ws: &Workspace, plan: &PushPlan, prompt: bool) -> Result<Pushed, PushError> {
    let git = ws
        .git
        .as_ref()
        .ok_or_else(|| GitError::new("open the repository", "the project has none yet"))?;
    let session = ws
        .lock
        .as_ref()
        .ok_or_else(|| GitError::new("record the push", "the repository is not locked"))?;
    let line = match git_push(git, &plan.push_url, plan.split.tip, &plan.branch, prompt)? {
        Ok(line) => line,
        Err(refused) => return Err(refused.into_error(&plan.module, &plan.url, &plan.branch)),
    };
    let record = refs::pushed_ref(&plan.module, &plan.branch);
    if git.ref_target(&record)? != Some(plan.split.tip) {
        // The record is the point of no return: the branch does not move.
        let mut tx = session.transaction(git, "push");
        tx.point_of_no_return(&record);
        tx.move_ref(&record, Some(plan.split.tip))?;
        tx.run()?;
    }
    Ok(Pushed {
        summary: line,
        record,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_links_for_github_and_gitlab() {
        assert_eq!(
            review_url(
                "https://github.com/Experto-AI/quickscale.git",
                "quickscale/shop/crm",
                "splits/crm-module"
            )
            .as_deref(),
            Some(
                "https://github.com/Experto-AI/quickscale/compare/splits/crm-module...quickscale/shop/crm?expand=1"
            )
        );
        assert_eq!(
            review_url("git@github.com:me/mod.git", "fix", "main").as_deref(),
            Some("https://github.com/me/mod/compare/main...fix?expand=1")
        );
        assert_eq!(
            review_url("https://user@gitlab.com/group/sub/mod", "fix", "main").as_deref(),
            Some(
                "https://gitlab.com/group/sub/mod/-/merge_requests/new?merge_request%5Bsource_branch%5D=fix&merge_request%5Btarget_branch%5D=main"
            )
        );
        assert_eq!(review_url("/srv/git/mod.git", "fix", "main"), None);
        assert_eq!(
            review_url("https://example.com/a/b.git", "fix", "main"),
            None
        );
        assert_eq!(review_url("https://github.com/only", "fix", "main"), None);
    }

    #[test]
    fn branch_names_are_checked_like_git() {
        assert!(branch_ref("quickscale/shop/crm").is_ok());
        for bad in [
            "",
            "-x",
            "a..b",
            "a b",
            "x.lock",
            "a~1",
            "refs/../x",
            "HEAD",
            "@",
            "a@{1}",
            "a/",
            "a.",
            ".a",
            "a/.b",
            "a//b",
            "/a",
            "a:b",
            "a?",
            "a*",
            "a[b",
            "a\\b",
            "a\x7fb",
            "a^",
            "a/b.lock/c",
        ] {
            assert!(branch_ref(bad).is_err(), "{bad}");
        }
        for good in [
            "main",
            "feature/x",
            "a.b",
            "a-b",
            "HEADS",
            "x/HEAD",
            "a@b",
            "ü",
        ] {
            assert!(branch_ref(good).is_ok(), "{good}");
        }
    }
}
