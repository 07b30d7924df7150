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

use crate::git::sync::LeasedPush;
use crate::git::{Git, GitError, RefUpdate};
use crate::state::refs;

/// How often fetch-merge-push is retried when the remote moved meanwhile.
const ATTEMPTS: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("no remote to sync with")]
    NoRemote,
    #[error("`{0}` is not a usable remote name")]
    BadRemote(String),
    #[error("the remote `{remote}` refused the state push:\n{output}")]
    PushRefused { remote: String, output: String },
    #[error("the remote `{remote}` kept changing its state; gave up after {ATTEMPTS} attempts")]
    Raced { remote: String },
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

/// Syncs the state with `remote` (default: the branch's upstream remote,
/// else `origin`).
pub fn sync(git: &Git, remote: Option<&str>) -> Result<Report, SyncError> {
    let remote = match remote {
        Some(r) => r.to_owned(),
        None => git.default_remote().ok_or(SyncError::NoRemote)?,
    };
    let tracking = tracking_name(&remote)?;
    let url = git.remote_url(&remote)?;
    for _ in 0..ATTEMPTS {
        if let Some(report) = attempt(git, &remote, &tracking, &url)? {
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
    let mut local_updates = Vec::new();
    if merged != local_notes {
        local_updates.push(RefUpdate {
            name: refs::NOTES_REF.to_owned(),
            expected: local_notes,
            new: merged,
        });
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
            local_updates.push(RefUpdate {
                name: refs::module_ref(module),
                expected: None,
                new: Some(*id),
            });
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
    git.update_refs(&local_updates, &format!("quickscale: sync with {remote}"))?;
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

/// [`remote_has_unfetched_state`] for the repository at `workdir`, given
/// at most `timeout`: a read must never hang on a slow or offline remote
/// (the probe is abandoned, and the answer is "don't know").
pub fn probe_remote_state(
    workdir: std::path::PathBuf,
    timeout: std::time::Duration,
) -> Option<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let found = Git::open_at_root(&workdir)
            .ok()
            .flatten()
            .and_then(|git| remote_has_unfetched_state(&git));
        let _ = tx.send(found);
    });
    rx.recv_timeout(timeout).ok().flatten()
}

/// Whether the default remote holds notes this clone has not fetched (for
/// `status` in a fresh clone). Errors (offline) count as "no". SSH remotes
/// are not asked: ssh may prompt for a passphrase, and a read never prompts.
pub fn remote_has_unfetched_state(git: &Git) -> Option<String> {
    let remote = git.default_remote()?;
    let tracking = tracking_name(&remote).ok()?;
    let url = git.remote_url(&remote).ok()?;
    let ssh = url.starts_with("ssh://")
        || (!url.contains("://")
            && url
                .split_once(':')
                .is_some_and(|(host, _)| host.contains('@')));
    if ssh {
        return None;
    }
    let spec = format!("+{}:{}", refs::NOTES_REF, refs::remote_notes_ref(&tracking));
    let fetched = git.fetch_refspecs(&url, &[spec], true).ok()?;
    let theirs = *fetched.remote_refs.get(refs::NOTES_REF)?;
    // A local clone may already have the objects (hard links): ask whether
    // the local notes contain the remote's.
    let known = match git.ref_target(refs::NOTES_REF).ok()? {
        Some(ours) => git.has_object(theirs) && git.is_ancestor(theirs, ours).unwrap_or(false),
        None => false,
    };
    (!known).then_some(remote)
}
