//! Hermetic test environment: temp dirs, a pinned git identity and dates,
//! and helpers to run the real binary and inspect repositories.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_git-quickscale");
pub const FIXED_DATE: &str = "2026-01-02T03:04:05Z";

/// A temporary home with its own git config; every command runs inside it.
pub struct TestEnv {
    pub tmp: tempfile::TempDir,
}

impl TestEnv {
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let home = tmp.path().join("home");
        std::fs::create_dir_all(&home).expect("home");
        std::fs::write(
            home.join(".gitconfig"),
            "[user]\n\tname = Test User\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n[protocol \"file\"]\n\tallow = always\n",
        )
        .expect("gitconfig");
        Self { tmp }
    }

    pub fn root(&self) -> &Path {
        self.tmp.path()
    }

    pub fn home(&self) -> PathBuf {
        self.tmp.path().join("home")
    }

    /// Applies the hermetic environment to a command.
    pub fn env(&self, cmd: &mut Command) {
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", self.home().join(".gitconfig"))
            .env("GIT_AUTHOR_DATE", FIXED_DATE)
            .env("GIT_COMMITTER_DATE", FIXED_DATE)
            .env("TZ", "UTC")
            .env("LC_ALL", "C")
            .env("NO_COLOR", "1")
            .env("QUICKSCALE_INDEX", "");
    }

    /// Runs git-quickscale in `dir`, then checks that it left no scratch
    /// ref and no ref lock of its own (whatever its exit status).
    pub fn qs(&self, dir: &Path, args: &[&str]) -> Output {
        let out = self.qs_unchecked(dir, args);
        assert_no_scratch(dir, args, &out);
        out
    }

    /// Runs git-quickscale in `dir` without the scratch-ref check (for
    /// tests that plant leftovers on purpose).
    pub fn qs_unchecked(&self, dir: &Path, args: &[&str]) -> Output {
        let mut cmd = Command::new(BIN);
        self.env(&mut cmd);
        cmd.current_dir(dir).args(args);
        cmd.output().expect("run git-quickscale")
    }

    /// Runs git-quickscale and asserts success.
    pub fn qs_ok(&self, dir: &Path, args: &[&str]) -> Output {
        let out = self.qs(dir, args);
        assert!(
            out.status.success(),
            "git-quickscale {args:?} failed:\n{}",
            describe(&out)
        );
        out
    }

    /// Runs git in `dir` and returns stdout; panics on failure.
    pub fn git(&self, dir: &Path, args: &[&str]) -> String {
        let mut cmd = Command::new("git");
        self.env(&mut cmd);
        let out = cmd.current_dir(dir).args(args).output().expect("run git");
        assert!(
            out.status.success(),
            "git {args:?} failed:\n{}",
            describe(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// The common git directory of the repository `dir` is in, if any.
fn common_git_dir(dir: &Path) -> Option<PathBuf> {
    let mut here = Some(dir);
    while let Some(d) = here {
        let dotgit = d.join(".git");
        if dotgit.is_dir() {
            return Some(dotgit);
        }
        if dotgit.is_file() {
            let text = std::fs::read_to_string(&dotgit).ok()?;
            let gitdir = d.join(text.trim().strip_prefix("gitdir:")?.trim());
            return Some(match std::fs::read_to_string(gitdir.join("commondir")) {
                Ok(common) => gitdir.join(common.trim()),
                Err(_) => gitdir,
            });
        }
        here = d.parent();
    }
    None
}

/// Every file under `dir`, recursively (none when it does not exist).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// The suite-wide check of issue 19: after any command, whatever its exit
/// status, `refs/quickscale/tmp` is empty (loose and packed) and no ref
/// lock of the tool's namespace remains.
pub fn assert_no_scratch(dir: &Path, args: &[&str], out: &Output) {
    let left = scratch_left(dir, true);
    assert!(
        left.is_empty(),
        "git-quickscale {args:?} left scratch refs or ref locks: {left:?}\n{}",
        describe(out)
    );
}

/// After a command killed on purpose ([`kill_at`]): no scratch ref, even
/// then, since fetches write none. A ref lock may remain (a transaction
/// killed mid-way); the next command's [`TestEnv::qs`] checks that recover
/// removed it.
pub fn assert_no_scratch_after_kill(dir: &Path, args: &[&str]) {
    let left = scratch_left(dir, false);
    assert!(
        left.is_empty(),
        "git-quickscale {args:?}, killed, left scratch refs: {left:?}"
    );
}

/// Scratch refs under `refs/quickscale/tmp` (loose and packed) and, with
/// `locks`, ref locks of the tool's namespace, in `dir`'s repository.
fn scratch_left(dir: &Path, locks: bool) -> Vec<String> {
    let Some(git_dir) = common_git_dir(dir) else {
        return Vec::new();
    };
    let mut left: Vec<String> = files_under(&git_dir.join("refs/quickscale/tmp"))
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    if let Ok(packed) = std::fs::read_to_string(git_dir.join("packed-refs")) {
        left.extend(
            packed
                .lines()
                .filter(|l| l.contains(" refs/quickscale/tmp/"))
                .map(str::to_owned),
        );
    }
    if locks {
        left.extend(
            files_under(&git_dir.join("refs/quickscale"))
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e == "lock"))
                .map(|p| p.display().to_string()),
        );
        if git_dir.join("packed-refs.lock").exists() {
            left.push("packed-refs.lock".into());
        }
    }
    left.sort();
    left.dedup();
    left
}

pub fn describe(out: &Output) -> String {
    format!(
        "status: {}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every file under `dir` (including `.git`) with its bytes and mode.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let entry = entry.expect("entry");
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).expect("meta");
            let rel = path.strip_prefix(dir).expect("prefix").to_owned();
            if meta.is_dir() {
                out.insert(rel, (Vec::new(), meta.permissions().mode()));
                stack.push(path);
            } else if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path).expect("link");
                out.insert(
                    rel,
                    (target.into_os_string().into_encoded_bytes(), 0o120000),
                );
            } else {
                out.insert(
                    rel,
                    (
                        std::fs::read(&path).expect("read"),
                        meta.permissions().mode(),
                    ),
                );
            }
        }
    }
    out
}

/// Copies a directory tree.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub mod first_party;
pub mod fixtures;
pub mod python;
pub mod release;

/// HEAD, the index file, every ref and every worktree file: what an
/// all-or-nothing operation must leave exactly as it found it.
#[derive(PartialEq, Eq)]
pub struct RepoSnapshot {
    pub head: String,
    pub index: Option<Vec<u8>>,
    pub refs: String,
    pub files: BTreeMap<PathBuf, (Vec<u8>, u32)>,
}

impl std::fmt::Debug for RepoSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "HEAD {:?}, index {} bytes, refs {:?}, {} files",
            self.head,
            self.index.as_ref().map_or(0, Vec::len),
            self.refs,
            self.files.len()
        )
    }
}

/// Asserts two snapshots are equal, naming what differs.
pub fn assert_same_repo(before: &RepoSnapshot, after: &RepoSnapshot, what: &str) {
    assert_eq!(before.head, after.head, "{what}: HEAD differs");
    assert_eq!(before.refs, after.refs, "{what}: refs differ");
    assert!(
        before.index == after.index,
        "{what}: the index file differs"
    );
    let changed: Vec<String> = before
        .files
        .iter()
        .filter(|(p, v)| after.files.get(*p) != Some(v))
        .map(|(p, _)| format!("changed or removed: {}", p.display()))
        .chain(
            after
                .files
                .keys()
                .filter(|p| !before.files.contains_key(*p))
                .map(|p| format!("added: {}", p.display())),
        )
        .collect();
    assert!(
        changed.is_empty(),
        "{what}: worktree differs:\n{}",
        changed.join("\n")
    );
}

impl TestEnv {
    pub fn repo_snapshot(&self, dir: &Path) -> RepoSnapshot {
        let head = {
            let mut cmd = Command::new("git");
            self.env(&mut cmd);
            let out = cmd
                .current_dir(dir)
                .args(["rev-parse", "--symbolic-full-name", "HEAD", "HEAD"])
                .output()
                .expect("git");
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        let refs = self.git(dir, &["for-each-ref", "--format=%(refname) %(objectname)"]);
        let index = std::fs::read(dir.join(".git/index")).ok();
        let files = snapshot(dir)
            .into_iter()
            .filter(|(p, _)| !p.starts_with(".git"))
            .collect();
        RepoSnapshot {
            head,
            index,
            refs,
            files,
        }
    }

    /// Plans and applies a new showcase_html project `shop`; returns its directory.
    pub fn new_project(&self, extra_plan_args: &[&str]) -> PathBuf {
        let mut args = vec!["plan", "shop", "--theme", "showcase_html", "--yes"];
        args.extend_from_slice(extra_plan_args);
        self.qs_ok(self.root(), &args);
        let dir = self.root().join("shop");
        self.qs_ok(&dir, &["apply", "--yes"]);
        dir
    }

    /// `plan --add NAME --source NAME=PATH … --yes` in `dir`: wants each
    /// module from its local repository.
    pub fn plan_add(&self, dir: &Path, sources: &[(&str, &Path)]) -> Output {
        let mut args: Vec<String> = vec!["plan".into()];
        for (name, _) in sources {
            args.extend(["--add".into(), (*name).to_owned()]);
        }
        for (name, path) in sources {
            args.extend(["--source".into(), format!("{name}={}", path.display())]);
        }
        args.push("--yes".into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.qs_ok(dir, &args)
    }

    /// The tree id of `rev` (e.g. `HEAD:modules/a`).
    pub fn rev(&self, dir: &Path, rev: &str) -> String {
        self.git(dir, &["rev-parse", rev]).trim().to_owned()
    }
}

/// Appends `text` to the file at `rel` in `dir` (creating it).
pub fn append(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    let mut old = std::fs::read_to_string(&path).unwrap_or_default();
    old.push_str(text);
    std::fs::write(&path, old).expect("write");
}

/// Names the file that collects every `SKIPPED` line; scripts/test.sh sets
/// it and prints the file as a summary once the suite has run.
pub const SKIP_LOG_VAR: &str = "QUICKSCALE_SKIP_LOG";

/// Reports that the current test is skipped: `SKIPPED <test>: <why>` on
/// the real stderr (written directly, so the harness's output capture does
/// not swallow it) and appended to `$QUICKSCALE_SKIP_LOG` when set.
pub fn skipped(why: &str) {
    use std::io::Write;
    let line = skip_line(why);
    let _ = std::io::stderr().write_all(line.as_bytes());
    if let Some(log) = std::env::var_os(SKIP_LOG_VAR).filter(|v| !v.is_empty()) {
        append_line(Path::new(&log), &line);
    }
}

/// `SKIPPED <current test>: <why>` and a newline.
fn skip_line(why: &str) -> String {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("<unnamed test>");
    format!("SKIPPED {test}: {why}\n")
}

fn append_line(log: &Path, line: &str) {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .and_then(|mut f| f.write_all(line.as_bytes()))
        .unwrap_or_else(|e| panic!("cannot append to {SKIP_LOG_VAR}={}: {e}", log.display()));
}

/// The git-subtree script to compare with, as scripts/test.sh exports it.
pub const GIT_SUBTREE_VAR: &str = "QUICKSCALE_GIT_SUBTREE";

/// Where the git-subtree oracle tests look for the script.
#[derive(Debug, Clone)]
pub struct SubtreeLookup {
    /// `$QUICKSCALE_GIT_SUBTREE`: when set, it must exist.
    pub configured: Option<PathBuf>,
    /// Candidates in order: git's exec path, then PATH, then where
    /// distributions put it outside the exec path.
    pub candidates: Vec<PathBuf>,
    /// `CI=true`: a missing script fails the test instead of skipping it.
    pub ci: bool,
}

impl SubtreeLookup {
    pub fn from_env() -> Self {
        let mut candidates = Vec::new();
        if let Ok(out) = Command::new("git").arg("--exec-path").output()
            && out.status.success()
        {
            let exec = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            candidates.push(Path::new(&exec).join("git-subtree"));
        }
        for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
            candidates.push(dir.join("git-subtree"));
        }
        for known in [
            "/usr/lib/git-core/git-subtree",
            "/usr/libexec/git-core/git-subtree",
            "/usr/share/doc/git/contrib/subtree/git-subtree.sh",
        ] {
            candidates.push(PathBuf::from(known));
        }
        Self {
            configured: std::env::var_os(GIT_SUBTREE_VAR)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            candidates,
            ci: std::env::var("CI").is_ok_and(|v| v == "true"),
        }
    }

    /// The script, or why there is none. A configured path that does not
    /// exist is an error even outside CI: the setup is wrong, not the machine.
    pub fn find(&self) -> Result<PathBuf, String> {
        if let Some(path) = &self.configured {
            return if path.is_file() {
                Ok(path.clone())
            } else {
                Err(format!(
                    "{GIT_SUBTREE_VAR}={} is not a file",
                    path.display()
                ))
            };
        }
        self.candidates
            .iter()
            .find(|p| p.is_file())
            .cloned()
            .ok_or_else(|| {
                "the git-subtree script is not installed (it ships with git, in `git --exec-path`; Debian: /usr/lib/git-core/git-subtree)".into()
            })
    }

    /// The script for an oracle test. `None` (with a visible `SKIPPED`
    /// line) when it is missing; a panic when it is missing in CI or the
    /// configured path is wrong, so that CI never passes without comparing.
    pub fn oracle(&self) -> Option<PathBuf> {
        match self.find() {
            Ok(path) => Some(path),
            Err(why) if self.ci || self.configured.is_some() => panic!(
                "{why}: the git-subtree oracle tests must run (CI=true or {GIT_SUBTREE_VAR} is set)"
            ),
            Err(why) => {
                skipped(&why);
                None
            }
        }
    }
}

/// A PATH with git-subtree in front of the current one, or `None` (after a
/// visible `SKIPPED` line) when the script is missing outside CI.
pub fn git_subtree_path() -> Option<String> {
    let script = SubtreeLookup::from_env().oracle()?;
    let path = std::env::var("PATH").unwrap_or_default();
    let dir = std::env::temp_dir().join(format!("qs-subtree-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("bin dir");
    let link = dir.join("git-subtree");
    if std::fs::symlink_metadata(&link).is_err() {
        // Tests run in parallel: another one may have made it meanwhile.
        if let Err(e) = std::os::unix::fs::symlink(&script, &link) {
            assert!(link.exists(), "symlink git-subtree: {e}");
        }
    }
    Some(format!("{}:{path}", dir.display()))
}

impl TestEnv {
    /// Runs git with a different PATH (e.g. one that has git-subtree).
    pub fn git_with_path(&self, dir: &Path, path: &str, args: &[&str]) -> String {
        let mut cmd = Command::new("git");
        self.env(&mut cmd);
        let out = cmd
            .env("PATH", path)
            .current_dir(dir)
            .args(args)
            .output()
            .expect("run git");
        assert!(
            out.status.success(),
            "git {args:?} failed:\n{}",
            describe(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// Starts `git quickscale ARGS` paused at the test pause point `point` and
/// kills it there with SIGKILL.
pub fn kill_at(env: &TestEnv, dir: &Path, args: &[&str], point: &str) {
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let marker = dir.join(format!(".git/quickscale/paused-at-{point}"));
    let _ = std::fs::remove_file(&marker);
    let mut cmd = Command::new(BIN);
    env.env(&mut cmd);
    let mut child = cmd
        .current_dir(dir)
        .env("QUICKSCALE_TEST_PAUSE_AT", point)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let started = Instant::now();
    while !marker.exists() {
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            panic!("{args:?} exited ({status}) before reaching {point}:\n{err}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{args:?} never reached {point}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let killed = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    child.wait().expect("reap");
    let _ = std::fs::remove_file(&marker);
    assert_no_scratch_after_kill(dir, args);
}

#[cfg(test)]
mod skip_tests {
    use super::*;

    #[test]
    fn a_kill_may_leave_ref_locks_but_never_scratch_refs() {
        let tmp = tempfile::tempdir().expect("tmp");
        let git = tmp.path().join(".git");
        std::fs::create_dir_all(git.join("refs/quickscale/tmp/crm")).expect("mkdir");
        std::fs::create_dir_all(git.join("refs/quickscale/modules")).expect("mkdir");
        std::fs::write(git.join("refs/quickscale/modules/crm.lock"), "").expect("w");
        assert_eq!(scratch_left(tmp.path(), false), Vec::<String>::new());
        assert_eq!(scratch_left(tmp.path(), true).len(), 1);
        std::fs::write(git.join("refs/quickscale/tmp/crm/main"), "0".repeat(40)).expect("w");
        std::fs::write(
            git.join("packed-refs"),
            format!("{} refs/quickscale/tmp/blog/main\n", "1".repeat(40)),
        )
        .expect("w");
        assert_eq!(scratch_left(tmp.path(), false).len(), 2);
        assert!(
            std::panic::catch_unwind(|| assert_no_scratch_after_kill(tmp.path(), &["apply"]))
                .is_err()
        );
    }

    fn lookup(candidates: Vec<PathBuf>, ci: bool) -> SubtreeLookup {
        SubtreeLookup {
            configured: None,
            candidates,
            ci,
        }
    }

    #[test]
    fn a_missing_git_subtree_fails_the_oracle_in_ci() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let l = lookup(vec![tmp.path().join("git-subtree")], true);
        let err = std::panic::catch_unwind(|| l.oracle()).expect_err("CI must not skip");
        let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(
            msg.contains("not installed") && msg.contains("CI=true"),
            "{msg}"
        );
        // Outside CI the same lookup reports why, for a visible skip.
        assert!(
            lookup(vec![tmp.path().join("git-subtree")], false)
                .find()
                .is_err()
        );
    }

    #[test]
    fn a_configured_git_subtree_must_exist_even_outside_ci() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let l = SubtreeLookup {
            configured: Some(tmp.path().join("nope")),
            candidates: Vec::new(),
            ci: false,
        };
        assert!(std::panic::catch_unwind(|| l.oracle()).is_err());
    }

    #[test]
    fn git_subtree_is_the_first_candidate_that_exists() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (missing, present) = (tmp.path().join("a"), tmp.path().join("b"));
        std::fs::write(&present, "#!/bin/sh\n").expect("write");
        let l = lookup(vec![missing, present.clone()], true);
        assert_eq!(l.oracle(), Some(present.clone()));
        let configured = SubtreeLookup {
            configured: Some(present.clone()),
            candidates: Vec::new(),
            ci: true,
        };
        assert_eq!(configured.find(), Ok(present));
    }

    #[test]
    fn a_skip_is_appended_to_the_skip_log() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let log = tmp.path().join("skips.log");
        append_line(&log, &skip_line("first reason"));
        append_line(&log, &skip_line("second reason"));
        let text = std::fs::read_to_string(&log).expect("skip log");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0].starts_with(
                "SKIPPED common::skip_tests::a_skip_is_appended_to_the_skip_log: first reason"
            ),
            "{text}"
        );
    }
}
