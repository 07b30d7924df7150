//! A note that no longer describes HEAD's tree. `git cherry-pick` never
//! copies notes, and amend and rebase copy them only where
//! `notes.rewriteRef` is set, so a commit the tool made can reach a branch
//! without its note: the nearest note then predates it, and reading it as
//! the state would report the commit's own changes as drift (a note-less
//! clone of the same commit finds none). Like a note-less merge
//! (`state::notes::nearest_merged`), such a note is checked against the
//! tree instead of being trusted.

use crate::catalog::Catalog;
use crate::config::{CONFIG_FILE, ConfigFile};
use crate::git::{Git, ObjectId};
use crate::state::{self, AppliedState, Origin, derive, refs};

use super::EngineError;

/// The state to read at `head` when the note on `note_commit` says
/// something else than the tree: the state derived from the tree when the
/// note no longer holds (it asks for other modules, refs or options than
/// quickscale.yml, or does not render the tree) while the tree renders
/// consistently from the derived state, which differs from the note: the
/// note is stale. A note copied onto HEAD whose modules or upstream commits
/// the tree contradicts is stale too, consistent or not. The note otherwise, so real drift — a hand edit, a
/// deleted module, quickscale.yml edited without apply — is still measured
/// against what the tool wrote.
pub fn settle_note(
    git: &Git,
    head: ObjectId,
    config: &ConfigFile,
    catalog: &Catalog,
    note_commit: ObjectId,
    note: AppliedState,
) -> Result<(Option<AppliedState>, Origin), EngineError> {
    let keep = |note| Ok((Some(note), Origin::Note(note_commit)));
    if state::note_agrees_with_tree(git, note_commit, head, &note)? {
        return keep(note);
    }
    let Some((derived, mut how)) = derive::derive(git, head, Some(&config.config), catalog)? else {
        return keep(note);
    };
    // A note on HEAD itself was copied there (the tool notes only the
    // commit it makes, whose tree it describes): when the tree embeds
    // other modules or other upstream commits than it says — a rebase
    // dropped a subtree merge, or replayed the commit onto a teammate's
    // update — the tree's own record wins, even where the tree is not
    // consistent with quickscale.yml (that is drift of the tree, which the
    // derived state measures).
    let copied_and_contradicted = note_commit == head && !same_embeds(&note, &derived);
    // The note still says what quickscale.yml asks and renders the tree:
    // the tree changed in ways that are not the tool's (a `git subtree
    // pull`, a local edit), which the note measures.
    let note_holds = || {
        asks_the_same(&note, &derived) && renders_consistently(git, head, config, catalog, &note)
    };
    if !copied_and_contradicted
        && (same_facts(&note, &derived)
            || note_holds()
            || !renders_consistently(git, head, config, catalog, &derived))
    {
        return keep(note);
    }
    how.ignored_note = Some(format!(
        "the note on {} in {} records an older state than HEAD's tree, which is consistent with {CONFIG_FILE} (a commit git quickscale made was cherry-picked, amended or rebased without its note); it was ignored",
        note_commit.to_hex_with_len(12),
        refs::NOTES_REF
    ));
    Ok((Some(derived), Origin::Derived(how)))
}

/// The facts a derivation proves equal: the same modules at the same
/// upstream commits with the same options and versions, and the same
/// managed blobs. (Sources and refs are taken from quickscale.yml by the
/// derivation, so they prove nothing; prefix trees differ by local edits.)
fn same_facts(note: &AppliedState, derived: &AppliedState) -> bool {
    note.managed == derived.managed
        && note.modules.len() == derived.modules.len()
        && note.modules.iter().all(|(name, n)| {
            derived.modules.get(name).is_some_and(|d| {
                d.commit == n.commit && d.options == n.options && d.version == n.version
            })
        })
}

/// Whether both states embed the same modules at the same upstream
/// commits (what the tree's squash trailers prove).
fn same_embeds(note: &AppliedState, derived: &AppliedState) -> bool {
    note.modules.len() == derived.modules.len()
        && note.modules.iter().all(|(name, n)| {
            derived
                .modules
                .get(name)
                .is_some_and(|d| d.commit == n.commit)
        })
}

/// Whether the note has the modules, sources, refs and options that
/// quickscale.yml gives the derived state (what `plan` compares).
fn asks_the_same(note: &AppliedState, derived: &AppliedState) -> bool {
    note.modules.len() == derived.modules.len()
        && note.modules.iter().all(|(name, n)| {
            derived.modules.get(name).is_some_and(|d| {
                d.source == n.source && d.git_ref == n.git_ref && d.options == n.options
            })
        })
}

/// Whether every managed file at `head` is what the tool renders for
/// `state` (as `check` compares them; a rendering error is not consistent).
fn renders_consistently(
    git: &Git,
    head: ObjectId,
    config: &ConfigFile,
    catalog: &Catalog,
    state: &AppliedState,
) -> bool {
    let Ok(tree) = git.tree_of(head) else {
        return false;
    };
    let options = state
        .modules
        .iter()
        .map(|(n, m)| (n.clone(), m.options.clone()))
        .collect();
    let Ok(files) = super::modules::render_wiring(
        git,
        tree,
        &options,
        catalog,
        &config.config.access_overrides(),
        &state.project.package,
    ) else {
        return false;
    };
    files.iter().all(|(path, file)| {
        git.entry_at(tree, path).ok().flatten().map(|(_, id)| id) == git.hash_blob(&file.contents)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{Identity, Theme};
    use crate::state::ModuleState;
    use crate::value::Value;

    fn state(page_size: i64, settings: &str) -> AppliedState {
        let mut s = AppliedState::new(Identity {
            slug: "shop".into(),
            package: "shop".into(),
            theme: Theme::ShowcaseHtml,
            name: None,
        });
        s.managed
            .insert("shop/settings/modules.py".into(), settings.into());
        s.modules.insert(
            "a".into(),
            ModuleState {
                source: "https://example.com/a.git".into(),
                git_ref: "v1".into(),
                commit: "1".repeat(40),
                prefix: "modules/a".into(),
                tree: "2".repeat(40),
                version: Some("1.0.0".into()),
                options: [("page_size".to_owned(), Value::Int(page_size))].into(),
            },
        );
        s
    }

    #[test]
    fn only_what_a_derivation_proves_counts_as_a_different_state() {
        let note = state(10, "aa");
        // A local edit of the module (another prefix tree), another ref in
        // quickscale.yml: a derivation proves neither.
        let mut local = note.clone();
        local.modules.get_mut("a").expect("a").tree = "3".repeat(40);
        local.modules.get_mut("a").expect("a").git_ref = "v2".into();
        assert!(same_facts(&note, &local));
        assert!(!same_facts(&note, &state(24, "aa")));
        assert!(!same_facts(&note, &state(10, "bb")));
        let mut updated = note.clone();
        updated.modules.get_mut("a").expect("a").commit = "4".repeat(40);
        assert!(!same_facts(&note, &updated));
        let mut removed = note.clone();
        removed.modules.clear();
        assert!(!same_facts(&note, &removed));
    }
}
