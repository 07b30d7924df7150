//! Installing, removing and inspecting the hook blocks.
//!
//! Where: `core.hooksPath` when set (relative to the worktree, as git reads
//! it; husky 9's `.husky/_` means its user hooks in `.husky/`), else the
//! `hooks/` directory of the common git dir, which every linked worktree
//! shares. What: the block goes right after the shebang line of an existing
//! shell hook (before an `exec` or `exit` that would skip it), or into a new
//! `#!/bin/sh` file. Uninstalling removes exactly the inserted bytes.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{END_MARKER, Hook, HooksError, MODE_KEY, Mode, START_MARKER};
use crate::git::ByteSlice;
use crate::git::Git;

/// The first line of a hook file the tool creates.
const CREATED_HEADER: &str = "#!/bin/sh\n";

/// Interpreters that run a shell block.
const SHELLS: &[&str] = &[
    "sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "yash", "posh", "busybox",
];

/// Where the hook files live, and why there.
#[derive(Debug, Clone, Serialize)]
pub struct Location {
    pub dir: PathBuf,
    pub source: Source,
    /// Outside the worktree and the git directory: possibly shared with
    /// other repositories.
    pub outside: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Source {
    /// `<git common dir>/hooks`, shared by every worktree.
    GitDir,
    /// `core.hooksPath`, as configured.
    HooksPath(String),
    /// husky 9 (`core.hooksPath` = `.husky/_`): its user hooks in `.husky/`.
    Husky(String),
}

/// Another hook manager seen in a hook file or in the project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Manager {
    Lefthook,
    PreCommit,
    Husky,
}

impl Manager {
    pub fn name(self) -> &'static str {
        match self {
            Manager::Lefthook => "lefthook",
            Manager::PreCommit => "pre-commit",
            Manager::Husky => "husky",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HookState {
    /// The current block is there.
    Installed,
    /// A block of an earlier release is there; `install` updates it.
    Outdated,
    /// A block that matches no release: edited by hand; `install` restores it.
    Edited,
    /// The hook file is a symlink to nothing: left alone (git runs nothing).
    Dangling,
    /// The file exists without a block.
    NotInstalled,
    /// No hook file.
    Missing,
}

#[derive(Debug, Clone, Serialize)]
pub struct HookStatus {
    pub hook: Hook,
    pub path: PathBuf,
    pub state: HookState,
    /// git ignores a hook file that is not executable.
    pub executable: bool,
    /// The file has content of its own besides the block (it keeps running).
    pub other_content: bool,
    /// The manager that wrote the file, when one did.
    pub manager: Option<Manager>,
    /// Another file holding the block: a moved-aside copy (`<hook>.legacy`
    /// of pre-commit, `<hook>.old` of lefthook), the git directory's own
    /// hook when core.hooksPath points elsewhere, husky's user hook.
    pub aside: Option<PathBuf>,
    /// The hook file is a symlink to this path (dangling when `state` is
    /// `dangling`).
    pub link_target: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub location: Location,
    pub mode: Mode,
    pub hooks: Vec<HookStatus>,
    /// Hook managers configured in the project (their config files).
    pub managers: Vec<Manager>,
    /// Where `git-quickscale` is found on PATH (the blocks call it by name).
    pub binary: Option<PathBuf>,
}

/// What install or uninstall did to one hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// A new hook file.
    Created,
    /// The block was added to an existing hook.
    Added,
    /// An older block was replaced.
    Updated,
    /// Already as wanted.
    Unchanged,
    /// The block was removed; the rest of the file is as it was.
    Removed,
    /// The file only held the block (the tool had created it): deleted.
    Deleted,
    /// No block to remove.
    Absent,
    /// A symlink to a file that does not exist: left alone, nothing written.
    Dangling,
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub location: Location,
    pub hooks: Vec<(Hook, PathBuf, Action)>,
    /// Managers whose own install would rewrite the files (see docs/hooks.md).
    pub managers: Vec<Manager>,
}

/// Finds where the hooks of the repository at `git` live.
pub fn locate(git: &Git) -> Result<Location, HooksError> {
    let workdir = git.workdir_if_any().map(real_path);
    // Canonical: from a linked worktree the common dir reads
    // `.git/worktrees/<name>/../..`.
    let common = real_path(git.common_dir());
    let configured = git
        .config_string("core.hooksPath")
        .filter(|v| !v.is_empty());
    let (dir, source) = match configured {
        None => (common.join("hooks"), Source::GitDir),
        Some(value) => {
            let expanded = match value.strip_prefix("~/") {
                Some(rest) => crate::git::query::home_dir()
                    .map(|h| h.join(rest))
                    .unwrap_or_else(|| PathBuf::from(&value)),
                None => PathBuf::from(&value),
            };
            let dir = if expanded.is_absolute() {
                expanded
            } else {
                workdir
                    .clone()
                    .unwrap_or_else(|| common.clone())
                    .join(expanded)
            };
            if dir.file_name().is_some_and(|n| n == "_") && dir.join("h").is_file() {
                let parent = dir.parent().map(Path::to_owned).unwrap_or(dir);
                (parent, Source::Husky(value))
            } else {
                (dir, Source::HooksPath(value))
            }
        }
    };
    let dir = real_path(&dir);
    let outside = !inside_repository(git, &dir);
    Ok(Location {
        dir,
        source,
        outside,
    })
}

/// Whether `path` (symlinks resolved) is inside the worktree or the common
/// git directory.
fn inside_repository(git: &Git, path: &Path) -> bool {
    let real = real_path(path);
    let inside = |root: &Path| real.starts_with(real_path(root));
    git.workdir_if_any().is_some_and(inside) || inside(git.common_dir())
}

/// A hook file as git would open it.
#[derive(Debug, Clone)]
enum HookFile {
    /// A regular file, or no file yet.
    Plain(PathBuf),
    /// A symlink to an existing file: judged (and edited) where it points.
    Link { link: PathBuf, target: PathBuf },
    /// A symlink to nothing.
    Dangling { link: PathBuf, target: PathBuf },
}

impl HookFile {
    fn at(path: &Path) -> Self {
        match std::fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::read_link(path).unwrap_or_default();
                let target = match target.is_absolute() {
                    true => target,
                    false => path.parent().unwrap_or(Path::new("")).join(target),
                };
                match path.canonicalize() {
                    Ok(real) => HookFile::Link {
                        link: path.to_owned(),
                        target: real,
                    },
                    Err(_) => HookFile::Dangling {
                        link: path.to_owned(),
                        target,
                    },
                }
            }
            _ => HookFile::Plain(path.to_owned()),
        }
    }

    /// The file to read and write (a link's target).
    fn file(&self) -> Option<&Path> {
        match self {
            HookFile::Plain(p) => Some(p),
            HookFile::Link { target, .. } => Some(target),
            HookFile::Dangling { .. } => None,
        }
    }
}

/// `path` with symlinks resolved as far as it exists.
fn real_path(path: &Path) -> PathBuf {
    let mut existing = path.to_owned();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            return rest.into_iter().rev().fold(real, |acc, c| acc.join(c));
        }
        match (
            existing.file_name().map(ToOwned::to_owned),
            existing.parent(),
        ) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_owned();
            }
            _ => return path.to_owned(),
        }
    }
}

/// Installs (or updates) every hook. Nothing is written unless every hook
/// file can take the block. A hook that is a symlink is edited where it
/// points, which must be inside the repository unless `allow_outside`; a
/// dangling symlink is left alone.
pub fn install(git: &Git, allow_outside: bool) -> Result<Outcome, HooksError> {
    let location = locate(git)?;
    if location.outside && !allow_outside {
        return Err(HooksError::Outside {
            dir: location.dir.clone(),
            from: match &location.source {
                Source::GitDir => "the git directory".into(),
                Source::HooksPath(v) | Source::Husky(v) => format!("core.hooksPath ({v})"),
            },
        });
    }
    let mut planned = Vec::new();
    for hook in Hook::ALL {
        let file = HookFile::at(&location.dir.join(hook.name()));
        let path = match &file {
            HookFile::Dangling { link, .. } => {
                planned.push((hook, link.clone(), Vec::new(), Action::Dangling, false));
                continue;
            }
            HookFile::Link { link, target } => {
                if !allow_outside && !inside_repository(git, target) {
                    return Err(HooksError::Outside {
                        dir: target.clone(),
                        from: format!("the hook {} is a symlink that", link.display()),
                    });
                }
                target.clone()
            }
            HookFile::Plain(p) => p.clone(),
        };
        let existing = read_optional(&path)?;
        let (content, action) = match &existing {
            None => (
                format!(
                    "{CREATED_HEADER}{}",
                    block_for(hook, CREATED_HEADER.as_bytes(), &location)
                )
                .into_bytes(),
                Action::Created,
            ),
            Some(old) => {
                let rest = without_block(old, &path)?.unwrap_or_else(|| old.clone());
                let block = block_for(hook, &rest, &location);
                match with_block(old, block, &path)? {
                    Some(new) if new == *old => (new, Action::Unchanged),
                    Some(new) if find_block(old, &path)?.is_some() => (new, Action::Updated),
                    Some(new) => (new, Action::Added),
                    None => (old.clone(), Action::Unchanged),
                }
            }
        };
        planned.push((hook, path, content, action, existing.is_none()));
    }
    std::fs::create_dir_all(&location.dir)
        .map_err(|e| HooksError::io(&location.dir, "cannot create the hooks directory", e))?;
    let mut hooks = Vec::new();
    let mut managers = Vec::new();
    for (hook, path, content, action, created) in planned {
        if action == Action::Dangling {
            hooks.push((hook, path, action));
            continue;
        }
        if action != Action::Unchanged {
            crate::fsutil::write_atomic(&path, &content)
                .map_err(|e| HooksError::io(&path, "cannot write the hook", e))?;
            if created {
                make_executable(&path)?;
            }
        }
        managers.extend(manager_of(&content, &location));
        hooks.push((hook, path, action));
    }
    managers.sort();
    managers.dedup();
    Ok(Outcome {
        location,
        hooks,
        managers,
    })
}

/// Every file that may hold a block of `hook`: the hook file, the copies
/// hook managers move aside (`.legacy` of pre-commit, `.old` of lefthook),
/// the same in the git directory's own hooks when core.hooksPath moved
/// them elsewhere (husky), and husky's user hook file. Canonical, deduplicated.
fn block_candidates(git: &Git, location: &Location, hook: Hook) -> Vec<HookFile> {
    let mut dirs = vec![location.dir.clone()];
    let git_hooks = real_path(&git.common_dir().join("hooks"));
    if !dirs.contains(&git_hooks) {
        dirs.push(git_hooks);
    }
    let mut out: Vec<HookFile> = Vec::new();
    let mut seen: Vec<PathBuf> = Vec::new();
    let mut push = |path: PathBuf| {
        let file = HookFile::at(&path);
        let key = file.file().map(real_path).unwrap_or(path);
        if !seen.contains(&key) {
            seen.push(key);
            out.push(file);
        }
    };
    for dir in &dirs {
        for suffix in ["", ".legacy", ".old"] {
            push(dir.join(format!("{}{suffix}", hook.name())));
        }
    }
    if let Some(root) = git.workdir_if_any() {
        let husky = real_path(&root.join(".husky"));
        if husky.is_dir() && !dirs.contains(&husky) {
            push(husky.join(hook.name()));
        }
    }
    out
}

/// Removes the block from every hook, and from wherever a hook manager
/// moved or copied it ([`block_candidates`]); a file that only held it (the
/// tool created it) is deleted. A dangling symlink is left alone. Each file
/// touched is in the outcome; a hook with no block anywhere is `Absent`.
pub fn uninstall(git: &Git) -> Result<Outcome, HooksError> {
    let location = locate(git)?;
    let mut planned = Vec::new();
    for hook in Hook::ALL {
        let mut any = false;
        for file in block_candidates(git, &location, hook) {
            let Some(path) = file.file().map(Path::to_owned) else {
                continue;
            };
            let Some(old) = read_optional(&path)? else {
                continue;
            };
            match without_block(&old, &path)? {
                None => {}
                Some(rest) if rest == CREATED_HEADER.as_bytes() => {
                    any = true;
                    planned.push((hook, path, None, Action::Deleted));
                }
                Some(rest) => {
                    any = true;
                    planned.push((hook, path, Some(rest), Action::Removed));
                }
            }
        }
        if !any {
            planned.push((hook, location.dir.join(hook.name()), None, Action::Absent));
        }
    }
    let mut hooks = Vec::new();
    for (hook, path, content, action) in planned {
        match (&action, content) {
            (Action::Deleted, _) => std::fs::remove_file(&path)
                .map_err(|e| HooksError::io(&path, "cannot delete the hook", e))?,
            (Action::Removed, Some(content)) => crate::fsutil::write_atomic(&path, &content)
                .map_err(|e| HooksError::io(&path, "cannot write the hook", e))?,
            _ => {}
        }
        hooks.push((hook, path, action));
    }
    Ok(Outcome {
        location,
        hooks,
        managers: Vec::new(),
    })
}

/// What is installed where. `path_var` is the PATH to look the binary up in.
pub fn status(git: &Git, path_var: Option<&std::ffi::OsStr>) -> Result<Status, HooksError> {
    let location = locate(git)?;
    let mode = read_mode(git)?;
    let mut hooks = Vec::new();
    for hook in Hook::ALL {
        let file = HookFile::at(&location.dir.join(hook.name()));
        if let HookFile::Dangling { link, target } = &file {
            hooks.push(HookStatus {
                hook,
                path: link.clone(),
                state: HookState::Dangling,
                executable: false,
                other_content: false,
                manager: None,
                aside: None,
                link_target: Some(target.clone()),
            });
            continue;
        }
        let link_target = match &file {
            HookFile::Link { target, .. } => Some(target.clone()),
            _ => None,
        };
        let path = file.file().map(Path::to_owned).unwrap_or_default();
        let existing = read_optional(&path)?;
        let (state, other_content, manager) = match &existing {
            None => (HookState::Missing, false, None),
            Some(content) => {
                let rest = without_block(content, &path)?.unwrap_or_else(|| content.clone());
                let state = match find_block(content, &path)? {
                    Some(range) => {
                        block_state(hook, &content[range], block_for(hook, &rest, &location))
                    }
                    None => HookState::NotInstalled,
                };
                let other = !rest.trim().is_empty() && rest != CREATED_HEADER.as_bytes();
                (state, other, manager_of(content, &location))
            }
        };
        let aside = block_candidates(git, &location, hook)
            .into_iter()
            .skip(1)
            .filter_map(|f| f.file().map(Path::to_owned))
            .find(|p| {
                std::fs::read(p)
                    .ok()
                    .is_some_and(|c| find_block(&c, p).ok().flatten().is_some())
            });
        // husky 9 runs its user hook files with `sh -e`: no executable bit needed.
        let run_by_husky = matches!(location.source, Source::Husky(_));
        hooks.push(HookStatus {
            hook,
            executable: existing.is_some() && (run_by_husky || is_executable(&path)),
            path,
            state,
            other_content,
            manager,
            aside,
            link_target,
        });
    }
    let managers = project_managers(git, &location);
    Ok(Status {
        location,
        mode,
        hooks,
        managers,
        binary: path_var.and_then(|p| find_on_path("git-quickscale", p)),
    })
}

/// The configured mode; unset means `block`.
pub fn read_mode(git: &Git) -> Result<Mode, HooksError> {
    match git.config_string_raw(MODE_KEY) {
        None => Ok(Mode::Block),
        Some(value) => Mode::parse(&value).ok_or(HooksError::BadMode { value }),
    }
}

/// Git blob ids of the blocks earlier releases installed (`hooks/` in git
/// history): such a block is `Outdated`; any other non-current block was
/// edited by hand. When a block in `hooks/` changes, add the old one's
/// `git hash-object hooks/<hook>` here (hooks/README.md).
const PREVIOUS_BLOCKS: &[&str] = &[
    // hooks/pre-push of the first release (before `sync` existed).
    "1eb9c49d045d6dd1d8b82026a8a30ffd2ca2cd36",
];

/// The block `install` writes into a hook file whose content without the
/// block is `rest`: the one that `exec`s the check when the file holds
/// nothing else (as `install` creates it), else the one that runs it and
/// goes on. husky runs its hook files with `sh -e` and needs no executable
/// bit, so the check could not run such a file again: always the plain one;
/// so off Unix, where the check cannot replace itself with the file.
fn block_for(hook: Hook, rest: &[u8], location: &Location) -> &'static str {
    match hook.exec_block() {
        Some(exec)
            if cfg!(unix)
                && rest == CREATED_HEADER.as_bytes()
                && !matches!(location.source, Source::Husky(_)) =>
        {
            exec
        }
        _ => hook.block(),
    }
}

/// The state of a block found in a hook of `hook`, where `current` is the
/// block [`block_for`] chooses for that file.
fn block_state(hook: Hook, found: &[u8], current: &str) -> HookState {
    // A block at the end of a file may lack its final newline.
    let mut normal = found.to_vec();
    if !normal.ends_with(b"\n") {
        normal.push(b'\n');
    }
    if normal == current.as_bytes() {
        return HookState::Installed;
    }
    // This release's other block: the file gained or lost other content
    // since; `install` switches it.
    if normal == hook.block().as_bytes()
        || hook.exec_block().is_some_and(|b| normal == b.as_bytes())
    {
        return HookState::Outdated;
    }
    let id = crate::git::query::sha1_blob_id(&normal)
        .map(|id| id.to_string())
        .unwrap_or_default();
    if PREVIOUS_BLOCKS.contains(&id.as_str()) {
        HookState::Outdated
    } else {
        HookState::Edited
    }
}

fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, HooksError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(HooksError::io(path, "cannot read the hook", e)),
    }
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<(), HooksError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| HooksError::io(path, "cannot make the hook executable", e))
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> Result<(), HooksError> {
    Ok(())
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// The manager that wrote a hook file, by its fingerprint.
fn manager_of(content: &[u8], location: &Location) -> Option<Manager> {
    if content.contains_str("LEFTHOOK") || content.contains_str("lefthook") {
        Some(Manager::Lefthook)
    } else if content.contains_str("File generated by pre-commit")
        || content.contains_str("pre_commit")
    {
        Some(Manager::PreCommit)
    } else if matches!(location.source, Source::Husky(_))
        || matches!(&location.source, Source::HooksPath(v) if v.contains(".husky"))
    {
        Some(Manager::Husky)
    } else {
        None
    }
}

/// Managers configured in the project's worktree.
fn project_managers(git: &Git, location: &Location) -> Vec<Manager> {
    let mut out = Vec::new();
    if let Some(root) = git.workdir_if_any() {
        let has = |names: &[&str]| names.iter().any(|n| root.join(n).is_file());
        if has(&[
            "lefthook.yml",
            ".lefthook.yml",
            "lefthook.yaml",
            ".lefthook.yaml",
            "lefthook.toml",
            ".lefthook.toml",
            "lefthook.json",
            ".lefthook.json",
        ]) {
            out.push(Manager::Lefthook);
        }
        if has(&[".pre-commit-config.yaml", ".pre-commit-config.yml"]) {
            out.push(Manager::PreCommit);
        }
        if root.join(".husky").is_dir() || matches!(location.source, Source::Husky(_)) {
            out.push(Manager::Husky);
        }
    }
    out
}

/// Whether the hook file at `path` has commands after its block: lines a
/// user added below an [`Hook::exec_block`], which the shell never reaches,
/// so the check runs the file again for them. An unreadable file or one
/// without a block has none (git could not have run its block).
pub fn has_lines_after_block(path: &Path) -> bool {
    let Ok(content) = std::fs::read(path) else {
        return false;
    };
    match find_block(&content, path) {
        Ok(Some(range)) => content[range.end..]
            .lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with(b"#")),
        _ => false,
    }
}

/// The first executable file called `name` in `path_var`.
pub fn find_on_path(name: &str, path_var: &std::ffi::OsStr) -> Option<PathBuf> {
    std::env::split_paths(path_var)
        .map(|d| d.join(name))
        .find(|p| p.is_file() && is_executable(p))
}

/// The byte range of the block (from its start marker through the end of its
/// end-marker line, newline included when there is one).
fn find_block(content: &[u8], path: &Path) -> Result<Option<std::ops::Range<usize>>, HooksError> {
    let mut offset = 0;
    let mut start = None;
    for line in content.split_inclusive(|b| *b == b'\n') {
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        match start {
            None if text == START_MARKER.as_bytes() => start = Some(offset),
            Some(s) if text == END_MARKER.as_bytes() => return Ok(Some(s..offset + line.len())),
            _ => {}
        }
        offset += line.len();
    }
    match start {
        Some(_) => Err(HooksError::BrokenBlock {
            path: path.to_owned(),
        }),
        None => Ok(None),
    }
}

/// `content` with `block` in it: replacing an existing block, else right
/// after the shebang line. `None` when nothing changes.
fn with_block(content: &[u8], block: &str, path: &Path) -> Result<Option<Vec<u8>>, HooksError> {
    if let Some(range) = find_block(content, path)? {
        let ends_with_newline = content[..range.end].ends_with(b"\n");
        let new_block = if ends_with_newline {
            block.as_bytes()
        } else {
            block.trim_end_matches('\n').as_bytes()
        };
        if content[range.clone()] == *new_block {
            return Ok(None);
        }
        let mut out = content[..range.start].to_vec();
        out.extend_from_slice(new_block);
        out.extend_from_slice(&content[range.end..]);
        return Ok(Some(out));
    }
    if let Some(interpreter) = interpreter(content)
        && !is_shell(&interpreter)
    {
        return Err(HooksError::NotShell {
            path: path.to_owned(),
            interpreter,
        });
    }
    let mut out = Vec::with_capacity(content.len() + block.len() + 1);
    if content.starts_with(b"#!") {
        match content.find_byte(b'\n') {
            Some(nl) => {
                out.extend_from_slice(&content[..=nl]);
                out.extend_from_slice(block.as_bytes());
                out.extend_from_slice(&content[nl + 1..]);
            }
            None => {
                // A lone shebang without a newline: the block ends the file
                // without one, so removing it restores these exact bytes.
                out.extend_from_slice(content);
                out.push(b'\n');
                out.extend_from_slice(block.trim_end_matches('\n').as_bytes());
            }
        }
    } else {
        out.extend_from_slice(block.as_bytes());
        out.extend_from_slice(content);
    }
    Ok(Some(out))
}

/// `content` without its block(s); `None` when there is none.
fn without_block(content: &[u8], path: &Path) -> Result<Option<Vec<u8>>, HooksError> {
    let mut out = content.to_vec();
    let mut found = false;
    while let Some(range) = find_block(&out, path)? {
        found = true;
        let mut start = range.start;
        if !out[..range.end].ends_with(b"\n") && start > 0 && out[start - 1] == b'\n' {
            start -= 1;
        }
        out.drain(start..range.end);
    }
    Ok(found.then_some(out))
}

/// The interpreter a shebang names (`env`'s argument for `/usr/bin/env X`).
fn interpreter(content: &[u8]) -> Option<String> {
    let rest = content.strip_prefix(b"#!")?;
    let line = rest.lines().next().unwrap_or_default().to_str_lossy();
    let mut words = line.split_whitespace();
    let program = words.next()?;
    let base = program.rsplit('/').next().unwrap_or(program);
    if base == "env" {
        return words
            .find(|w| !w.starts_with('-') && !w.contains('='))
            .map(|w| w.rsplit('/').next().unwrap_or(w).to_owned());
    }
    Some(base.to_owned())
}

fn is_shell(interpreter: &str) -> bool {
    SHELLS.contains(&interpreter)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCK: &str = "## START QUICKSCALE\necho hi\n## END QUICKSCALE\n";

    fn p() -> PathBuf {
        PathBuf::from(".git/hooks/pre-commit")
    }

    fn roundtrip(original: &str) -> String {
        let with = with_block(original.as_bytes(), BLOCK, &p())
            .expect("insert")
            .expect("changed");
        let with = String::from_utf8(with).expect("utf8");
        assert!(with.contains(BLOCK.trim_end()), "{with:?}");
        // Idempotent.
        assert_eq!(
            with_block(with.as_bytes(), BLOCK, &p()).expect("again"),
            None
        );
        let without = without_block(with.as_bytes(), &p())
            .expect("remove")
            .expect("found");
        assert_eq!(String::from_utf8(without).expect("utf8"), original);
        with
    }

    #[test]
    fn the_block_goes_after_the_shebang_and_comes_out_byte_identical() {
        let with = roundtrip("#!/bin/sh\nnpm test\nexec lint\n");
        assert_eq!(with, format!("#!/bin/sh\n{BLOCK}npm test\nexec lint\n"));
        roundtrip("npm test\n");
        roundtrip("");
        roundtrip("#!/bin/sh");
        roundtrip("#!/usr/bin/env bash\r\necho windows\r\n");
        roundtrip("#!/bin/sh\nno final newline");
    }

    #[test]
    fn an_older_block_is_replaced_in_place() {
        let old =
            "#!/bin/sh\nbefore\n## START QUICKSCALE\nold\n## END QUICKSCALE\nafter\n".to_owned();
        let new = with_block(old.as_bytes(), BLOCK, &p())
            .expect("ok")
            .expect("changed");
        assert_eq!(
            String::from_utf8(new).expect("utf8"),
            format!("#!/bin/sh\nbefore\n{BLOCK}after\n")
        );
    }

    #[test]
    fn non_shell_hooks_are_refused() {
        for script in ["#!/usr/bin/env python3\nprint()\n", "#!/usr/bin/node\n"] {
            let err = with_block(script.as_bytes(), BLOCK, &p()).expect_err("refused");
            assert!(matches!(err, HooksError::NotShell { .. }), "{err}");
        }
        for script in [
            "#!/usr/bin/env bash\n",
            "#!/bin/zsh -e\n",
            "#!/usr/bin/env -S sh -e\n",
        ] {
            assert!(
                with_block(script.as_bytes(), BLOCK, &p()).is_ok(),
                "{script}"
            );
        }
    }

    #[test]
    fn a_start_marker_without_an_end_is_an_error() {
        let broken = "#!/bin/sh\n## START QUICKSCALE\necho\n";
        assert!(matches!(
            with_block(broken.as_bytes(), BLOCK, &p()),
            Err(HooksError::BrokenBlock { .. })
        ));
        assert!(matches!(
            without_block(broken.as_bytes(), &p()),
            Err(HooksError::BrokenBlock { .. })
        ));
    }

    fn at(source: Source) -> Location {
        Location {
            dir: PathBuf::from(".git/hooks"),
            source,
            outside: false,
        }
    }

    #[test]
    fn only_a_file_holding_nothing_else_gets_the_exec_block() {
        let git_dir = at(Source::GitDir);
        let header = CREATED_HEADER.as_bytes();
        let exec = Hook::PreCommit.exec_block().expect("pre-commit execs");
        assert_eq!(block_for(Hook::PreCommit, header, &git_dir), exec);
        let plain = Hook::PreCommit.block();
        assert_eq!(
            block_for(Hook::PreCommit, b"#!/bin/sh\nnpm test\n", &git_dir),
            plain
        );
        assert_eq!(
            block_for(Hook::PreCommit, b"#!/bin/bash\n", &git_dir),
            plain
        );
        let husky = at(Source::Husky(".husky/_".into()));
        assert_eq!(block_for(Hook::PreCommit, header, &husky), plain);
        assert_eq!(
            block_for(Hook::PrePush, header, &git_dir),
            Hook::PrePush.block()
        );

        // Each block is current where it belongs; the other one is outdated.
        assert_eq!(
            block_state(Hook::PreCommit, exec.as_bytes(), exec),
            HookState::Installed
        );
        assert_eq!(
            block_state(Hook::PreCommit, plain.as_bytes(), plain),
            HookState::Installed
        );
        assert_eq!(
            block_state(Hook::PreCommit, plain.as_bytes(), exec),
            HookState::Outdated
        );
        assert_eq!(
            block_state(Hook::PreCommit, exec.as_bytes(), plain),
            HookState::Outdated
        );
        let edited = exec.replace("exec git-quickscale", "git-quickscale");
        assert_eq!(
            block_state(Hook::PreCommit, edited.as_bytes(), exec),
            HookState::Edited
        );
    }

    #[test]
    fn commands_after_the_block_are_seen_comments_and_blank_lines_are_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("pre-commit");
        let block = Hook::PreCommit.exec_block().expect("exec");
        for (rest, expected) in [
            ("", false),
            ("\n  \n# a note\n", false),
            ("npm test\n", true),
            ("# lint:\n  exec lint", true),
        ] {
            std::fs::write(&path, format!("{CREATED_HEADER}{block}{rest}")).expect("write");
            assert_eq!(has_lines_after_block(&path), expected, "{rest:?}");
        }
        // Lines before the block ran already.
        std::fs::write(&path, format!("{CREATED_HEADER}npm test\n{block}")).expect("write");
        assert!(!has_lines_after_block(&path));
        assert!(!has_lines_after_block(&dir.path().join("missing")));
    }

    #[test]
    fn without_a_block_nothing_is_removed() {
        assert_eq!(without_block(b"#!/bin/sh\necho\n", &p()).expect("ok"), None);
    }

    #[test]
    fn env_shebangs_name_their_program() {
        assert_eq!(
            interpreter(b"#!/usr/bin/env python3\n").as_deref(),
            Some("python3")
        );
        assert_eq!(interpreter(b"#! /bin/bash -eu\n").as_deref(), Some("bash"));
        assert_eq!(interpreter(b"echo\n"), None);
    }
}
