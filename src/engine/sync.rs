//! `git quickscale sync`: share the applied state (notes and module refs)
//! through a remote.
//!
//! 1. Fetch the remote's `refs/notes/quickscale` and
//!    `refs/quickscale/modules/*` into tracking refs (never a forced fetch
//!    into the live notes ref, which would drop local notes).
//! 2. Merge notes commit by commit: notes on different commits combine; the
//!    same commit with different notes keeps the local one and is reported.
//! 3. Push the merged notes, and module refs the remote lacks or is behind
//!    on, with leases on the values just fetched; when someone pushed in
//!    between, start again (a few times).

use crate::git::ObjectId;
use serde::Serialize;

use super::EngineError;
use super::session::{Mode, WriteSession};
use crate::git::sync::LeasedPush;
use crate::git::{Git, GitError};
use crate::state::refs;

/// How often fetch-merge-push is retried when the remote moved meanwhile.
const ATTEMPTS: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("not inside a git repository")]
    NotARepository,
    #[error("no remote to sync with")]
    NoRemote,
    #[error("`{0}` is not a usable remote name")]
    BadRemote(String),
    #[error("the remote `{remote}` refused the state push:\n{output}")]
    PushRefused { remote: String, output: String },
    #[error("the remote `{remote}` kept changing its state; gave up after {ATTEMPTS} attempts")]
    Raced { remote: String },
    #[error(transparent)]
    Txn(#[from] crate::txn::TxnError),
}

impl From<EngineError> for SyncError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Txn(e) => SyncError::Txn(e),
            EngineError::Git(e) => SyncError::Git(e),
            other => SyncError::Git(GitError::new(
                "open the repository for writing",
                other.to_string(),
            )),
        }
    }
}

impl SyncError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            SyncError::Git(_) => "check the remote's URL and your access (`git fetch` should work)".into(),
            SyncError::NoRemote => "add one (`git remote add origin URL`) or name it: git quickscale sync REMOTE".into(),
            SyncError::BadRemote(_) => "name a remote from `git remote -v`".into(),
            SyncError::PushRefused { .. } => {
                "you may lack push access to refs/notes/* or refs/quickscale/*; the local state is merged and kept".into()
            }
            SyncError::Raced { .. } => "run `git quickscale sync` again".into(),
            SyncError::NotARepository => "run it inside the project's repository".into(),
            SyncError::Txn(e) => return e.hint(),
        })
    }
}

/// What happened to the notes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "result")]
pub enum NotesResult {
    /// Neither side has notes.
    None,
    /// The remote's notes are already in the local ones.
    UpToDate,
    /// Local notes moved forward to the remote's (or were created).
    FastForward,
    /// Both had new notes: a merge commit combines them.
    Merged { added: usize },
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub remote: String,
    /// Where the remote's notes were fetched to.
    pub tracking_ref: String,
    pub notes: NotesResult,
    /// Commits annotated differently on both sides: the local note was kept.
    pub conflicts: Vec<String>,
    /// Local module refs created from the remote's.
    pub modules_fetched: Vec<String>,
    /// Refs pushed to the remote.
    pub pushed: Vec<String>,
    /// Module refs that point to unrelated commits on both sides: left as they are.
    pub modules_diverged: Vec<String>,
}

impl Report {
    /// The full ref name of a module listed in `modules_fetched` or
    /// `modules_diverged`, for messages (the CLI does not name `state`).
    pub fn module_ref(module: &str) -> String {
        refs::module_ref(module)
    }
}

/// [`sync`] in the repository around `cwd` (GIT_DIR/GIT_WORK_TREE when
/// git set them).
pub fn sync_from(cwd: &std::path::Path, remote: Option<&str>) -> Result<Report, SyncError> {
    let git = Git::discover_with_env(cwd).ok_or(SyncError::NotARepository)?;
    sync(&git, remote)
}

/// Syncs the state with `remote` (default: the branch's upstream remote,
/// else `origin`).
///
/// It moves the notes and module refs that writing commands move, so it
/// holds the same lock (the pre-push hook included).
pub fn sync(git: &Git, remote: Option<&str>) -> Result<Report, SyncError> {
    // Only the lock: sync runs inside `git push` (the pre-push hook) too,
    // whatever git is in the middle of.
    let session = super::session::open_for_write(git, Mode::LockOnly)?.session;
    let remote = match remote {
        Some(r) => r.to_owned(),
        None => git.default_remote().ok_or(SyncError::NoRemote)?,
    };
    let tracking = tracking_name(&remote)?;
    let url = git.remote_url(&remote)?;
    for _ in 0..ATTEMPTS {
        if let Some(report) = attempt(git, &session, &remote, &tracking, &url)? {
            return Ok(report);
        }
    }
    Err(SyncError::Raced { remote })
}

/// The name used in tracking refs: the remote's name, or for a URL a
/// sanitized form of it.
fn tracking_name(remote: &str) -> Result<String, SyncError> {
    let name: String = remote
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let name = name.trim_matches('.').to_owned();
    if name.is_empty() {
        return Err(SyncError::BadRemote(remote.to_owned()));
    }
    Ok(name)
}

/// One fetch-merge-push; `None` when a lease failed (the remote moved).
fn attempt(
    git: &Git,
    session: &WriteSession,
    remote: &str,
    tracking: &str,
    url: &str,
) -> Result<Option<Report>, SyncError> {
    let notes_tracking = refs::remote_notes_ref(tracking);
    let modules_tracking = refs::remote_modules_prefix(tracking);
    let specs = vec![
        format!("+{}:{notes_tracking}", refs::NOTES_REF),
        format!("+{}*:{modules_tracking}*", refs::MODULES_PREFIX),
    ];
    let fetched = git.fetch_refspecs(url, &specs, false)?;
    let remote_notes = fetched.remote_refs.get(refs::NOTES_REF).copied();
    let mut report = Report {
        remote: remote.to_owned(),
        tracking_ref: notes_tracking.clone(),
        notes: NotesResult::None,
        conflicts: Vec::new(),
        modules_fetched: Vec::new(),
        pushed: Vec::new(),
        modules_diverged: Vec::new(),
    };
    let local_notes = git.ref_target(refs::NOTES_REF)?;
    let merged = merge_notes(git, local_notes, remote_notes, remote, &mut report)?;
    let mut tx = session.transaction(git, "sync");
    // The notes were merged from this value: they move only from it.
    if merged != local_notes {
        tx.move_ref_expecting(refs::NOTES_REF, local_notes, merged);
    }
    let mut pushes = Vec::new();
    if let Some(merged) = merged
        && Some(merged) != remote_notes
    {
        pushes.push(LeasedPush {
            local: merged.to_string(),
            remote: refs::NOTES_REF.to_owned(),
            expect: remote_notes,
        });
    }
    // Module refs: take the remote's where there is none locally; push ours
    // where the remote has none or is behind.
    let local_modules = git.refs_with_prefix(refs::MODULES_PREFIX)?;
    for (name, id) in &fetched.remote_refs {
        let Some(module) = name.strip_prefix(refs::MODULES_PREFIX) else {
            continue;
        };
        if !local_modules.iter().any(|(n, _)| n == name) && git.has_object(*id) {
            tx.move_ref_expecting(&refs::module_ref(module), None, Some(*id));
            report.modules_fetched.push(module.to_owned());
        }
    }
    for (name, id) in &local_modules {
        let module = name.trim_start_matches(refs::MODULES_PREFIX);
        match fetched.remote_refs.get(name) {
            Some(theirs) if theirs == id => {}
            Some(theirs) if git.has_object(*theirs) && git.is_ancestor(*theirs, *id)? => {
                pushes.push(LeasedPush {
                    local: id.to_string(),
                    remote: name.clone(),
                    expect: Some(*theirs),
                });
            }
            Some(_) => report.modules_diverged.push(module.to_owned()),
            None => pushes.push(LeasedPush {
                local: id.to_string(),
                remote: name.clone(),
                expect: None,
            }),
        }
    }
    if let Some(first) = tx.prepared().refs.first().map(|r| r.name.clone()) {
        // One ref transaction: any of its refs tells whether it happened.
        tx.point_of_no_return(&first);
        tx.run()?;
    }
    match git.push_leased(remote, &pushes)? {
        Ok(()) => {}
        Err(output) if output.contains("stale info") || output.contains("fetch first") => {
            return Ok(None);
        }
        Err(output) => {
            return Err(SyncError::PushRefused {
                remote: remote.to_owned(),
                output,
            });
        }
    }
    report.pushed = pushes.into_iter().map(|p| p.remote).collect();
    Ok(Some(report))
}

/// The local notes commit after taking in `theirs`.
fn merge_notes(
    git: &Git,
    ours: Option<ObjectId>,
    theirs: Option<ObjectId>,
    remote: &str,
    report: &mut Report,
) -> Result<Option<ObjectId>, SyncError> {
    let (ours, theirs) = match (ours, theirs) {
        (None, None) => return Ok(None),
        (Some(o), None) => {
            report.notes = NotesResult::UpToDate;
            return Ok(Some(o));
        }
        (None, Some(t)) => {
            report.notes = NotesResult::FastForward;
            return Ok(Some(t));
        }
        (Some(o), Some(t)) => (o, t),
    };
    if git.is_ancestor(theirs, ours)? {
        report.notes = NotesResult::UpToDate;
        return Ok(Some(ours));
    }
    if git.is_ancestor(ours, theirs)? {
        report.notes = NotesResult::FastForward;
        return Ok(Some(theirs));
    }
    let mine = git.notes_in(ours)?;
    let other = git.notes_in(theirs)?;
    let mut added = Vec::new();
    for (commit, blob) in &other {
        match mine.get(commit) {
            None => added.push((*commit, *blob)),
            Some(b) if b == blob => {}
            Some(_) => report.conflicts.push(commit.to_string()),
        }
    }
    let signature = git
        .identity()
        .map(|(_, committer)| committer)
        .map_err(SyncError::Git)?;
    let merge = git.write_notes_merge(
        ours,
        &added,
        &[ours, theirs],
        &signature,
        &format!("Notes merged by 'git quickscale sync' from {remote}\n"),
    )?;
    report.notes = NotesResult::Merged { added: added.len() };
    Ok(Some(merge))
}

/// What this clone knows of the remote's state without asking it: the
/// remote-tracking notes ref (`refs/notes/remotes/<remote>/quickscale`)
/// that the last `sync` (or a fetch of `refs/notes/quickscale`) brought.
/// A read (`status`) answers from this and never opens a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KnownRemoteState {
    /// No remote is configured.
    NoRemote,
    /// The remote's notes were never fetched: it may or may not have some.
    NeverFetched { remote: String },
    /// The last fetch brought notes the local ones do not contain.
    Unmerged { remote: String },
    /// The local notes contain what the last fetch brought.
    Merged { remote: String },
}

/// [`KnownRemoteState`] of the default remote, from local refs only.
pub fn known_remote_state(git: &Git) -> KnownRemoteState {
    let Some(remote) = git.default_remote() else {
        return KnownRemoteState::NoRemote;
    };
    let Ok(tracking) = tracking_name(&remote) else {
        return KnownRemoteState::NeverFetched { remote };
    };
    let theirs = match git.ref_target(&refs::remote_notes_ref(&tracking)) {
        Ok(Some(id)) => id,
        _ => return KnownRemoteState::NeverFetched { remote },
    };
    let merged = match git.ref_target(refs::NOTES_REF) {
        Ok(Some(ours)) => ours == theirs || git.is_ancestor(theirs, ours).unwrap_or(false),
        _ => false,
    };
    if merged {
        KnownRemoteState::Merged { remote }
    } else {
        KnownRemoteState::Unmerged { remote }
    }
}

/// [`ask_remote_state`] for the repository at `workdir`, given at most
/// `timeout` (the question is abandoned, and the answer is an error).
/// Only `status --remote` asks: it opens a connection to the remote.
pub fn probe_remote_state(
    workdir: std::path::PathBuf,
    timeout: std::time::Duration,
) -> Result<Option<String>, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let found = match Git::open_at_root(&workdir) {
            Ok(Some(git)) => ask_remote_state(&git).map_err(|e| e.to_string()),
            Ok(None) => Err("not a git repository".to_owned()),
            Err(e) => Err(e.to_string()),
        };
        let _ = tx.send(found);
    });
    rx.recv_timeout(timeout)
        .unwrap_or_else(|_| Err(format!("no answer within {} s", timeout.as_secs())))
}

/// Asks the default remote whether it holds notes this clone lacks: the
/// remote's name when it does, `None` when it does not. Fetches nothing into
/// the live notes ref.
pub fn ask_remote_state(git: &Git) -> Result<Option<String>, SyncError> {
    let remote = git.default_remote().ok_or(SyncError::NoRemote)?;
    let tracking = tracking_name(&remote)?;
    let url = git.remote_url(&remote)?;
    let spec = format!("+{}:{}", refs::NOTES_REF, refs::remote_notes_ref(&tracking));
    let fetched = git.fetch_refspecs(&url, &[spec], true)?;
    let Some(theirs) = fetched.remote_refs.get(refs::NOTES_REF).copied() else {
        return Ok(None);
    };
    // A local clone may already have the objects (hard links): ask whether
    // the local notes contain the remote's.
    let known = match git.ref_target(refs::NOTES_REF)? {
        Some(ours) => git.has_object(theirs) && git.is_ancestor(theirs, ours).unwrap_or(false),
        None => false,
    };
    Ok((!known).then_some(remote))
}
