//! Executing a plan: every commit is built as objects first, then the
//! worktree and index move once, then all refs move in one transaction.
//! Any failure rolls everything back (see `txn`).

use std::collections::BTreeMap;

use gix::ObjectId;
use gix::objs::tree::EntryKind;

use super::plan::{Plan, Scope};
use super::untrusted::{self, Limits};
use super::{EngineError, Event, Workspace};
use crate::config::CONFIG_FILE;
use crate::git::tree::TreeEdit;
use crate::git::{Git, GitError, NOTES_REWRITE_KEY, RefUpdate, Signature};
use crate::manifest::{MANIFEST_FILE, Manifest};
use crate::render::{self, FileMap};
use crate::source::{self, Location};
use crate::state::refs::{self, NOTES_REF, TMP_PREFIX, UNDO_REF};
use crate::state::{AppliedState, ModuleState, Operation, notes};
use crate::txn::{self, Txn};
use crate::value::Value;
use crate::wiring::{self, ModuleInput};

/// What an operation did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub head: ObjectId,
    /// Commits made, oldest first, with their summaries.
    pub commits: Vec<(ObjectId, String)>,
    pub state: AppliedState,
    pub created_repo: bool,
    pub files_written: usize,
}

/// Runs `plan` as operation `op`, committing `config_text` as quickscale.yml.
pub fn execute(
    ws: &mut Workspace,
    plan: &Plan,
    op: &str,
    config_text: &str,
    events: &mut dyn FnMut(Event),
) -> Result<Outcome, EngineError> {
    let generated = match &plan.generate {
        Some(identity) => {
            let mut files = render::render_project(identity)?;
            files.extend(wiring::render(
                &identity.package,
                &wiring::Wiring::default(),
            ));
            let existing: Vec<String> = files
                .keys()
                .filter(|p| {
                    p.as_str() != CONFIG_FILE && std::fs::symlink_metadata(ws.root.join(p)).is_ok()
                })
                .cloned()
                .collect();
            if !existing.is_empty() {
                return Err(EngineError::WouldOverwrite(existing));
            }
            // The first commit also holds quickscale.yml: count it, as the
            // later "Writing N file(s)" does.
            events(Event::Generating {
                files: files.len() + usize::from(!files.contains_key(CONFIG_FILE)),
            });
            Some(files)
        }
        None => None,
    };
    let created_repo = ws.git.is_none();
    if created_repo {
        check_identity_without_repo()?;
        ws.git = Some(Git::init(&ws.root)?);
    }
    let Some(git) = ws.git.as_ref() else {
        return Err(EngineError::Git(GitError::new(
            "open the repository",
            "it is missing",
        )));
    };
    let (author, committer) = match git.identity() {
        Ok(sigs) => sigs,
        Err(_) if created_repo => {
            let _ = std::fs::remove_dir_all(git.git_dir());
            return Err(EngineError::NoIdentity);
        }
        Err(_) => return Err(EngineError::NoIdentity),
    };
    let mut tx = Txn::begin(git, op, created_repo)?;
    let result = run(
        ws,
        git,
        &mut tx,
        plan,
        op,
        config_text,
        generated,
        &author,
        &committer,
        events,
    );
    match result {
        Ok(mut outcome) => {
            tx.commit()?;
            outcome.created_repo = created_repo;
            events(Event::Done);
            Ok(outcome)
        }
        Err(e) => match tx.rollback() {
            Ok(()) => Err(EngineError::RolledBack(Box::new(e))),
            Err(rollback_error) => Err(EngineError::Txn(rollback_error)),
        },
    }
}

#[allow(clippy::too_many_arguments)]
fn run(
    ws: &Workspace,
    git: &Git,
    tx: &mut Txn<'_>,
    plan: &Plan,
    op: &str,
    config_text: &str,
    generated: Option<FileMap>,
    author: &Signature,
    committer: &Signature,
    events: &mut dyn FnMut(Event),
) -> Result<Outcome, EngineError> {
    let head = git.head()?.commit;
    let base_tree = match head {
        Some(h) => git.tree_of(h)?,
        None => git.empty_tree(),
    };
    let desired = &ws.config.config;
    let mut state = ws
        .applied
        .clone()
        .unwrap_or_else(|| AppliedState::new(desired.project.clone()));
    state.schema = crate::state::SCHEMA;
    state.tool = format!("git-quickscale {}", env!("CARGO_PKG_VERSION"));
    state.operation = Some(Operation {
        kind: op.to_owned(),
        before: head.map(|h| h.to_string()),
    });
    let mut tip = head;
    let mut tree = base_tree;
    let mut commits = Vec::new();
    let mut notes_to_write: Vec<(ObjectId, String)> = Vec::new();
    let config_blob = git.write_blob(config_text.as_bytes())?;

    if let Some(files) = generated {
        let mut edits = file_edits(git, &files)?;
        edits.push(TreeEdit {
            path: CONFIG_FILE.to_owned(),
            target: Some((EntryKind::Blob, config_blob)),
        });
        tree = git.edit_tree(tree, &edits)?;
        state.managed = managed_ids(git, tree, &state.project.package)?;
        let id = git.write_commit(
            "Initial project structure\n",
            tree,
            &parents(tip),
            author,
            committer,
        )?;
        events(Event::Committed {
            id: id.to_string(),
            summary: "Initial project structure".into(),
        });
        commits.push((id, "Initial project structure".to_owned()));
        notes_to_write.push((id, state.to_note()));
        tip = Some(id);
    }

    let limits = Limits::from_config(git);
    let mut manifests: BTreeMap<String, Option<Manifest>> = BTreeMap::new();
    let mut module_refs: Vec<(String, ObjectId)> = Vec::new();
    for add in &plan.add {
        let fetch_url = match source::location(&add.source, &ws.root) {
            Location::Local(path) => path.to_string_lossy().into_owned(),
            Location::Remote(url) => url,
        };
        events(Event::Fetching {
            module: add.name.clone(),
            url: add.source.clone(),
            git_ref: add.git_ref.clone(),
        });
        let upstream = git
            .fetch_commit(&fetch_url, &add.git_ref, &refs::tmp_ref(&add.name))
            .map_err(|source| EngineError::Fetch {
                module: add.name.clone(),
                source,
            })?;
        events(Event::Fetched {
            module: add.name.clone(),
            commit: upstream.to_string(),
        });
        txn::test_pause(git.git_dir(), "fetched");
        let upstream_tree = git.tree_of(upstream)?;
        untrusted::check_tree(git, &add.name, upstream_tree, limits)?;
        let label = format!("{}@{}:{MANIFEST_FILE}", add.source, add.git_ref);
        let manifest = source::manifest_at_commit(&git.repo, upstream, &add.name, &label)?;
        let given = desired
            .module(&add.name)
            .map(|m| m.options.clone())
            .unwrap_or_default();
        let options = resolve_options(&add.name, manifest.as_ref(), &given)?;
        let prefix = prefix_of(&add.name);
        if git.entry_at(tree, &prefix)?.is_some() {
            return Err(EngineError::Options(vec![format!(
                "module {}: `{prefix}` already exists in the tree; remove it or add it to quickscale.yml's applied state with `git quickscale status --repair-state`",
                add.name
            )]));
        }
        let Some(parent) = tip else {
            return Err(EngineError::Git(GitError::new(
                "embed a module",
                "there is no commit to merge into",
            )));
        };
        let sa = git.squash_add(parent, tree, &prefix, upstream, author, committer)?;
        state.modules.insert(
            add.name.clone(),
            ModuleState {
                source: add.source.clone(),
                git_ref: add.git_ref.clone(),
                commit: upstream.to_string(),
                prefix: prefix.clone(),
                tree: upstream_tree.to_string(),
                version: manifest.as_ref().map(|m| m.version.clone()),
                options,
            },
        );
        manifests.insert(add.name.clone(), manifest);
        module_refs.push((add.name.clone(), upstream));
        let summary = git.commit_summary(sa.merge)?;
        events(Event::Committed {
            id: sa.merge.to_string(),
            summary: summary.clone(),
        });
        commits.push((sa.merge, summary));
        notes_to_write.push((sa.merge, state.to_note()));
        tip = Some(sa.merge);
        tree = sa.tree;
    }

    for adopt in &plan.adopt {
        let prefix = prefix_of(&adopt.name);
        let Some(parent) = tip else {
            return Err(EngineError::Git(GitError::new(
                "adopt a module",
                "there is no commit",
            )));
        };
        let prefix_tree = git.subtree_at(tree, &prefix)?.ok_or_else(|| {
            GitError::new(format!("adopt `{prefix}`"), "it is not a directory in HEAD")
        })?;
        let upstream = git.latest_squash(parent, &prefix)?.map(|(_, split)| split);
        let manifest = read_manifest(git, tree, &adopt.name)?;
        let given = desired
            .module(&adopt.name)
            .map(|m| m.options.clone())
            .unwrap_or_default();
        let options = resolve_options(&adopt.name, manifest.as_ref(), &given)?;
        state.modules.insert(
            adopt.name.clone(),
            ModuleState {
                source: adopt.source.clone(),
                git_ref: adopt.git_ref.clone(),
                commit: upstream.map(|u| u.to_string()).unwrap_or_default(),
                prefix,
                tree: prefix_tree.to_string(),
                version: manifest.as_ref().map(|m| m.version.clone()),
                options,
            },
        );
        if let Some(u) = upstream.filter(|u| git.repo.has_object(*u)) {
            module_refs.push((adopt.name.clone(), u));
        }
        manifests.insert(adopt.name.clone(), manifest);
    }

    // Removals, wiring and quickscale.yml go into one final commit.
    let mut edits = Vec::new();
    for name in &plan.remove {
        edits.push(TreeEdit {
            path: prefix_of(name),
            target: None,
        });
        state.modules.remove(name);
    }
    let mut inputs = Vec::new();
    let names: Vec<String> = state.modules.keys().cloned().collect();
    for name in names {
        let manifest = match manifests.remove(&name) {
            Some(m) => m,
            None => read_manifest(git, tree, &name)?,
        };
        if plan.scope == Scope::Full
            && let Some(wanted) = desired.module(&name)
        {
            let resolved = resolve_options(&name, manifest.as_ref(), &wanted.options)?;
            if let Some(m) = state.modules.get_mut(&name) {
                m.options = resolved;
            }
        }
        let prefix = prefix_of(&name);
        let installable = git
            .entry_at(tree, &format!("{prefix}/pyproject.toml"))?
            .is_some()
            || git.entry_at(tree, &format!("{prefix}/setup.py"))?.is_some();
        inputs.push(ModuleInput {
            name: name.clone(),
            hints: ws
                .catalog
                .get(&name)
                .map(|e| e.wiring.clone())
                .unwrap_or_default(),
            options: state
                .modules
                .get(&name)
                .map(|m| m.options.clone())
                .unwrap_or_default(),
            manifest,
            installable,
        });
    }
    let wiring = wiring::compute(&inputs)?;
    let managed = wiring::render(&state.project.package, &wiring);
    edits.extend(file_edits(git, &managed)?);
    edits.push(TreeEdit {
        path: CONFIG_FILE.to_owned(),
        target: Some((EntryKind::Blob, config_blob)),
    });
    let final_tree = git.edit_tree(tree, &edits)?;
    state.managed = managed_ids(git, final_tree, &state.project.package)?;
    if final_tree != tree {
        let summary = final_summary(plan);
        let parent = tip
            .ok_or_else(|| GitError::new("commit the wiring", "there is no commit to build on"))?;
        let id = git.write_commit(
            &format!("{summary}\n"),
            final_tree,
            &[parent],
            author,
            committer,
        )?;
        events(Event::Committed {
            id: id.to_string(),
            summary: summary.clone(),
        });
        commits.push((id, summary));
        notes_to_write.push((id, state.to_note()));
        tip = Some(id);
        tree = final_tree;
    } else if let Some(t) = tip
        && notes_to_write.last().map(|(c, _)| *c) != Some(t)
    {
        // Nothing to commit (e.g. adopting a subtree): record the state on HEAD.
        notes_to_write.push((t, state.to_note()));
    }
    let tip = tip.ok_or_else(|| GitError::new("finish the operation", "no commit was made"))?;

    // Everything is objects so far. Refuse to touch paths with uncommitted work.
    let changes = git.diff_trees(base_tree, tree)?;
    let keep = vec![CONFIG_FILE.to_owned()];
    let blocked = git.check_clean(&changes, &keep)?;
    if !blocked.is_empty() {
        return Err(EngineError::Dirty(
            blocked.iter().map(ToString::to_string).collect(),
        ));
    }
    let notes_parent = git.ref_target(NOTES_REF)?;
    let notes_commit = notes::write_commit(
        git,
        notes_parent,
        &notes_to_write,
        committer,
        &format!("Notes added by 'git quickscale {op}'\n"),
    )?;
    txn::test_pause(git.git_dir(), "prepared");

    tx.record_worktree_move(base_tree, tree, keep)?;
    events(Event::WritingFiles {
        count: changes.len(),
    });
    git.apply_changes(&changes, &mut |_| {
        txn::test_pause(git.git_dir(), "files-written")
    })?;
    txn::test_pause(git.git_dir(), "refs");

    let mut updates = vec![RefUpdate {
        name: tx.journal().branch.clone(),
        expected: head,
        new: Some(tip),
    }];
    if let Some(h) = head {
        updates.push(RefUpdate {
            name: UNDO_REF.to_owned(),
            expected: git.ref_target(UNDO_REF)?,
            new: Some(h),
        });
    }
    updates.push(RefUpdate {
        name: NOTES_REF.to_owned(),
        expected: notes_parent,
        new: Some(notes_commit),
    });
    for name in &plan.remove {
        let r = refs::module_ref(name);
        if let Some(current) = git.ref_target(&r)? {
            updates.push(RefUpdate {
                name: r,
                expected: Some(current),
                new: None,
            });
        }
    }
    if plan.record_state.is_some() {
        for (name, m) in &state.modules {
            if let Ok(id) = ObjectId::from_hex(m.commit.as_bytes())
                && git.repo.has_object(id)
                && !module_refs.iter().any(|(n, _)| n == name)
            {
                module_refs.push((name.clone(), id));
            }
        }
    }
    for (name, id) in module_refs {
        let r = refs::module_ref(&name);
        let current = git.ref_target(&r)?;
        if current != Some(id) {
            updates.push(RefUpdate {
                name: r,
                expected: current,
                new: Some(id),
            });
        }
    }
    for (name, id) in git.refs_with_prefix(TMP_PREFIX)? {
        updates.push(RefUpdate {
            name,
            expected: Some(id),
            new: None,
        });
    }
    git.update_refs(&updates, &format!("git quickscale {op}"))?;
    git.ensure_local_config(NOTES_REWRITE_KEY, NOTES_REF)?;
    Ok(Outcome {
        head: tip,
        commits,
        state,
        created_repo: false,
        files_written: changes.len(),
    })
}

/// Every file a new project starts with: the theme plus empty wiring.
pub fn generated_files(identity: &crate::config::Identity) -> Result<FileMap, EngineError> {
    let mut files = render::render_project(identity)?;
    files.extend(wiring::render(
        &identity.package,
        &wiring::Wiring::default(),
    ));
    Ok(files)
}

/// `modules/<name>`.
pub fn prefix_of(name: &str) -> String {
    format!("{}/{name}", crate::state::derive::MODULES_DIR)
}

fn parents(tip: Option<ObjectId>) -> Vec<ObjectId> {
    tip.into_iter().collect()
}

fn file_edits(git: &Git, files: &FileMap) -> Result<Vec<TreeEdit>, EngineError> {
    files
        .iter()
        .map(|(path, f)| {
            let blob = git.write_blob(&f.contents)?;
            let kind = if f.executable {
                EntryKind::BlobExecutable
            } else {
                EntryKind::Blob
            };
            Ok(TreeEdit {
                path: path.clone(),
                target: Some((kind, blob)),
            })
        })
        .collect()
}

fn managed_ids(
    git: &Git,
    tree: ObjectId,
    package: &str,
) -> Result<BTreeMap<String, String>, EngineError> {
    let mut out = BTreeMap::new();
    for path in wiring::managed_paths(package) {
        if let Some((_, id)) = git.entry_at(tree, &path)? {
            out.insert(path, id.to_string());
        }
    }
    Ok(out)
}

fn read_manifest(git: &Git, tree: ObjectId, name: &str) -> Result<Option<Manifest>, EngineError> {
    let path = format!("{}/{MANIFEST_FILE}", prefix_of(name));
    match git.entry_at(tree, &path)? {
        Some((_, blob)) => {
            let text = String::from_utf8_lossy(&git.read_blob(blob)?).into_owned();
            Manifest::parse(&text, &path, name)
                .map(Some)
                .map_err(|d| EngineError::Source(crate::source::SourceError::Manifest(d)))
        }
        None => Ok(None),
    }
}

fn resolve_options(
    name: &str,
    manifest: Option<&Manifest>,
    given: &BTreeMap<String, Value>,
) -> Result<BTreeMap<String, Value>, EngineError> {
    match manifest {
        Some(m) => m.resolve_options(name, given).map_err(EngineError::Options),
        None if given.is_empty() => Ok(BTreeMap::new()),
        None => Err(EngineError::Options(vec![format!(
            "module {name}: it has no module.yml, so it takes no options; remove them from quickscale.yml"
        )])),
    }
}

fn final_summary(plan: &Plan) -> String {
    let mut parts = Vec::new();
    if !plan.add.is_empty() || !plan.adopt.is_empty() {
        let names: Vec<&str> = plan
            .add
            .iter()
            .chain(&plan.adopt)
            .map(|a| a.name.as_str())
            .collect();
        parts.push(format!(
            "Wire module{} {}",
            plural(names.len()),
            names.join(", ")
        ));
    }
    if !plan.remove.is_empty() {
        parts.push(format!(
            "Remove module{} {}",
            plural(plan.remove.len()),
            plan.remove.join(", ")
        ));
    }
    if !plan.reconfigure.is_empty() {
        let opts: Vec<String> = plan
            .reconfigure
            .iter()
            .map(|c| format!("{}.{}", c.module, c.option))
            .collect();
        parts.push(format!("Reconfigure {}", opts.join(", ")));
    }
    if parts.is_empty() {
        parts.push(if plan.rewire.is_empty() {
            "Record quickscale.yml".to_owned()
        } else {
            "Regenerate module wiring".to_owned()
        });
    }
    parts.join("; ")
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Without a repository yet, checks that git would find an identity
/// (environment, then global config), so nothing is written without one.
fn check_identity_without_repo() -> Result<(), EngineError> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let globals = gix::config::File::from_globals().ok();
    let cfg = |k: &str| {
        globals
            .as_ref()
            .and_then(|f| f.string(k))
            .map(|v| v.to_string())
            .filter(|v| !v.trim().is_empty())
    };
    let name = env("GIT_AUTHOR_NAME")
        .or_else(|| cfg("author.name"))
        .or_else(|| cfg("user.name"));
    let email = env("GIT_AUTHOR_EMAIL")
        .or_else(|| cfg("author.email"))
        .or_else(|| cfg("user.email"))
        .or_else(|| env("EMAIL"));
    let committer_name = env("GIT_COMMITTER_NAME")
        .or_else(|| cfg("committer.name"))
        .or_else(|| cfg("user.name"));
    let committer_email = env("GIT_COMMITTER_EMAIL")
        .or_else(|| cfg("committer.email"))
        .or_else(|| cfg("user.email"))
        .or_else(|| env("EMAIL"));
    if name.is_some() && email.is_some() && committer_name.is_some() && committer_email.is_some() {
        Ok(())
    } else {
        Err(EngineError::NoIdentity)
    }
}
