//! Every ref and note name the tool uses. Nothing else spells them out.

/// Notes holding the applied state, one per commit the tool makes.
pub const NOTES_REF: &str = "refs/notes/quickscale";
/// Root of the tool's own refs.
pub const NAMESPACE: &str = "refs/quickscale/";
/// `refs/quickscale/modules/<name>` → the upstream commit embedded now
/// (keeps its objects alive; `git log` on it shows the module's history).
pub const MODULES_PREFIX: &str = "refs/quickscale/modules/";
/// HEAD before the last writing operation.
pub const UNDO_REF: &str = "refs/quickscale/undo";
/// A commit holding upstream QuickScale's files as `adopt` found them
/// (its state files, the wiring it generated), committed or not.
pub const ADOPTED_REF: &str = "refs/quickscale/adopted";
/// Scratch refs for fetches in progress; removed when the operation ends.
pub const TMP_PREFIX: &str = "refs/quickscale/tmp/";

pub fn module_ref(name: &str) -> String {
    format!("{MODULES_PREFIX}{name}")
}

pub fn tmp_ref(name: &str) -> String {
    format!("{TMP_PREFIX}{name}")
}

/// Where `git quickscale sync` fetches a remote's notes (under refs/notes/,
/// so `git notes` can read them; never the live NOTES_REF).
pub fn remote_notes_ref(remote: &str) -> String {
    format!("refs/notes/remotes/{remote}/quickscale")
}

/// Where `git quickscale sync` fetches a remote's module refs.
pub fn remote_modules_prefix(remote: &str) -> String {
    format!("{NAMESPACE}remotes/{remote}/modules/")
}

/// `refs/quickscale/split/<name>` → the split cache of `modules/<name>`: a
/// commit whose tree maps each processed commit to its split (format in
/// docs/state-format.md); its parent is the last split tip.
pub const SPLIT_PREFIX: &str = "refs/quickscale/split/";
/// `refs/quickscale/pushed/<name>/<branch>` → the split commit `push` last
/// sent to `<branch>` of the module's repository.
pub const PUSHED_PREFIX: &str = "refs/quickscale/pushed/";

pub fn split_cache_ref(name: &str) -> String {
    format!("{SPLIT_PREFIX}{name}")
}

pub fn pushed_ref(name: &str, branch: &str) -> String {
    format!("{PUSHED_PREFIX}{name}/{branch}")
}

/// Every push record of module `name` lives under this prefix.
pub fn pushed_prefix(name: &str) -> String {
    format!("{PUSHED_PREFIX}{name}/")
}
