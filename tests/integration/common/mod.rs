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

    /// Runs git-quickscale in `dir`.
    pub fn qs(&self, dir: &Path, args: &[&str]) -> Output {
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

pub mod fixtures;
pub mod python;

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

    /// The tree id of `rev` (e.g. `HEAD:modules/a`).
    pub fn rev(&self, dir: &Path, rev: &str) -> String {
        self.git(dir, &["rev-parse", rev]).trim().to_owned()
    }
}

/// A directory on PATH holding git-subtree, or `None` (with a visible message)
/// when this machine's git has no git-subtree script.
pub fn git_subtree_path(test: &str) -> Option<String> {
    let out = Command::new("git").args(["subtree", "-h"]).output().ok()?;
    let path = std::env::var("PATH").unwrap_or_default();
    if String::from_utf8_lossy(&out.stderr).contains("git subtree add")
        || String::from_utf8_lossy(&out.stdout).contains("git subtree add")
    {
        return Some(path);
    }
    for candidate in [
        "/usr/lib/git-core/git-subtree",
        "/usr/libexec/git-core/git-subtree",
        "/usr/share/doc/git/contrib/subtree/git-subtree.sh",
    ] {
        if Path::new(candidate).is_file() {
            let dir = std::env::temp_dir().join(format!("qs-subtree-bin-{}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("bin dir");
            let link = dir.join("git-subtree");
            if !link.exists() {
                std::os::unix::fs::symlink(candidate, &link).expect("symlink git-subtree");
            }
            return Some(format!("{}:{path}", dir.display()));
        }
    }
    // In CI the oracle must be there: a skip would hide a broken promise.
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{test}: the git-subtree script is not installed, and CI=true needs it as the oracle"
    );
    eprintln!(
        "SKIPPED {test}: the git-subtree script is not installed (Debian: it ships with git in /usr/lib/git-core)"
    );
    None
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
}
