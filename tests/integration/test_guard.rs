//! Issue 21: the guard against hostile names and surprising side effects.
//! Output of every format stays safe with untrusted names (no line can start
//! a GitHub workflow command, JSON and SARIF still parse).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use proptest::prelude::*;

use crate::common::fixtures::module_repo;
use crate::common::{TestEnv, describe, stdout};

/// A project `shop` with module `a`, no hooks; returns its directory and
/// its first commit.
fn project(env: &TestEnv) -> (PathBuf, String) {
    let a = module_repo(env, "a");
    env.qs_ok(
        env.root(),
        &[
            "plan",
            "shop",
            "--theme",
            "showcase_html",
            "--module",
            "a@v1.0.0",
            "--source",
            &format!("a={}", a.display()),
            "--yes",
        ],
    );
    let dir = env.root().join("shop");
    env.qs_ok(&dir, &["apply", "--yes", "--no-hooks"]);
    let base = env.rev(&dir, "HEAD");
    (dir, base)
}

fn git_cmd(env: &TestEnv, dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    env.env(&mut cmd);
    cmd.current_dir(dir);
    cmd
}

/// Stages a mixed change (a module file and a user file named `name`) on
/// top of `base`.
fn stage_mixed(env: &TestEnv, dir: &Path, base: &str, name: &[u8]) {
    env.git(dir, &["reset", "-q", "--hard", base]);
    env.git(dir, &["clean", "-qfdx"]);
    let module_file = dir.join("modules/a/README.md");
    let mut text = std::fs::read_to_string(&module_file).unwrap_or_default();
    text.push_str("more\n");
    std::fs::write(&module_file, text).expect("module file");
    let mut name = name.to_vec();
    while dir.join(OsStr::from_bytes(&name)).exists() {
        name.push(b'x');
    }
    std::fs::write(dir.join(OsStr::from_bytes(&name)), "x\n").expect("user file");
    env.git(dir, &["add", "-A"]);
}

/// Commits what is staged with the message's bytes as they are.
fn commit_verbatim(env: &TestEnv, dir: &Path, message: &[u8]) {
    let file = env.root().join("message");
    std::fs::write(&file, message).expect("message");
    let out = git_cmd(env, dir)
        .args(["commit", "-q", "--no-verify", "--cleanup=verbatim", "-F"])
        .arg(&file)
        .output()
        .expect("git commit");
    assert!(out.status.success(), "{}", describe(&out));
}

fn lines_of(out: &Output) -> Vec<String> {
    let mut all = String::from_utf8_lossy(&out.stdout).into_owned();
    all.push('\n');
    all.push_str(&String::from_utf8_lossy(&out.stderr));
    all.split('\n').map(str::to_owned).collect()
}

/// A workflow command as the GitHub runner reads one: after trimming, the
/// line starts with `::`.
fn is_command(line: &str) -> bool {
    line.trim().starts_with("::")
}

/// Ours: `::error|warning|notice <props>::<data>` with no raw `\r`.
fn is_our_annotation(line: &str) -> bool {
    ["::error ", "::warning ", "::notice "]
        .iter()
        .any(|p| line.starts_with(p))
        && !line.contains('\r')
}

/// Every format of `check --base` and the pre-commit hook, for a mixed
/// change with a hostile file name and commit subject.
fn assert_every_format_safe(env: &TestEnv, dir: &Path, base: &str, name: &[u8], subject: &[u8]) {
    stage_mixed(env, dir, base, name);
    let hook = env.qs(dir, &["hooks", "run", "pre-commit"]);
    assert_eq!(hook.status.code(), Some(1), "{}", describe(&hook));
    for line in lines_of(&hook) {
        assert!(
            !is_command(&line),
            "hook output line {line:?}\n{}",
            describe(&hook)
        );
    }
    commit_verbatim(env, dir, subject);
    let sarif = env.root().join("check.sarif");
    for format in ["text", "json", "github"] {
        let out = env.qs(
            dir,
            &[
                "check",
                "--base",
                base,
                "--format",
                format,
                "--sarif",
                sarif.to_str().expect("utf8"),
            ],
        );
        assert_eq!(out.status.code(), Some(2), "{format}: {}", describe(&out));
        for line in lines_of(&out) {
            if format == "github" && is_our_annotation(&line) {
                continue;
            }
            assert!(
                !is_command(&line),
                "{format}: line {line:?}\n{}",
                describe(&out)
            );
        }
        if format == "json" {
            let v: serde_json::Value =
                serde_json::from_str(&stdout(&out)).expect("check --format json parses");
            assert!(v["findings"].as_array().is_some_and(|f| !f.is_empty()));
        }
        if format == "github" {
            let annotations = stdout(&out)
                .lines()
                .filter(|l| is_our_annotation(l))
                .count();
            assert!(annotations >= 1, "{}", describe(&out));
        }
        let text = std::fs::read_to_string(&sarif).expect("sarif written");
        let doc: serde_json::Value = serde_json::from_str(&text).expect("SARIF parses");
        assert_eq!(doc["version"], "2.1.0");
    }
}

/// The issue's case: a user file named `evil\n::error file=x::INJECTED` in
/// a mixed commit; the default text format printed the injected line.
#[test]
fn a_newline_in_a_file_name_cannot_inject_a_workflow_command() {
    let env = TestEnv::new();
    let (dir, base) = project(&env);
    let name = b"evil\n::error file=x::INJECTED";
    stage_mixed(&env, &dir, &base, name);
    commit_verbatim(&env, &dir, b"mixed\n::add-mask::subject\n");
    let out = env.qs(&dir, &["check", "--base", &base]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let text = stdout(&out);
    assert!(
        text.contains(r#""evil\n::error file=x::INJECTED""#),
        "the name is shown quoted, as git does:\n{text}"
    );
    for line in lines_of(&out) {
        assert!(!is_command(&line), "line {line:?}\n{}", describe(&out));
    }
    assert_every_format_safe(&env, &dir, &base, name, b"::stop-commands::x\n\nbody\n");
}

/// A file name: any characters but NUL and `/`, not `.`/`..`/`.git*`.
/// (UTF-8: the tree layer refuses other names with an error, which is safe
/// but reports nothing; see the report of issue 21.)
fn file_name() -> impl Strategy<Value = Vec<u8>> {
    "[^\\x00/]{1,16}"
        .prop_map(String::into_bytes)
        .prop_filter("a plain file name", |n| {
            n != b"." && n != b".." && !n.starts_with(b".git")
        })
}

fn subject() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(1u8..=255, 1..40)
}

/// Arbitrary bytes, biased towards the dangerous ones.
fn hostile() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"::error::".to_vec()),
        Just(b"\n::add-mask::".to_vec()),
        Just(b"\r::warning file=x::".to_vec()),
        Just(b"\x1b[2J".to_vec()),
        Just("\u{2028}\u{85}".as_bytes().to_vec()),
        subject(),
    ];
    proptest::collection::vec(piece, 1..4).prop_map(|p| p.concat())
}

proptest! {
    // Each case makes a commit and runs check four times: a few cases keep
    // it to seconds in CI; the escaper's own property test (src/escape.rs)
    // covers the string space.
    #![proptest_config(ProptestConfig { cases: 6, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn every_format_stays_safe_with_arbitrary_names_and_subjects(
        name in prop_oneof![file_name(), hostile().prop_filter("a plain UTF-8 file name", |n| {
            !n.contains(&b'/') && !n.starts_with(b".git") && n.len() < 200 && std::str::from_utf8(n).is_ok()
        })],
        subject in hostile(),
    ) {
        thread_local! {
            static SETUP: (TestEnv, PathBuf, String) = {
                let env = TestEnv::new();
                let (dir, base) = project(&env);
                (env, dir, base)
            };
        }
        SETUP.with(|(env, dir, base)| assert_every_format_safe(env, dir, base, &name, &subject));
    }
}

/// A loopback TCP listener that counts the connections made to it.
struct Listener {
    port: u16,
    count: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Listener {
    fn start() -> Self {
        use std::sync::atomic::Ordering;
        let socket = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        socket.set_nonblocking(true).expect("nonblocking");
        let port = socket.local_addr().expect("addr").port();
        let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (c, s) = (count.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match socket.accept() {
                    // Counted, then closed: the client sees a broken remote.
                    Ok((stream, _)) => {
                        c.fetch_add(1, Ordering::SeqCst);
                        drop(stream);
                    }
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
                }
            }
        });
        Self {
            port,
            count,
            stop,
            thread: Some(thread),
        }
    }

    fn connections(&self) -> usize {
        self.count.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `status` never opens a network connection, not even in a fresh clone
/// without notes: what the remote holds comes from the tracking ref of the
/// last fetch; `status --remote` asks.
#[test]
fn status_stays_offline_and_status_remote_asks() {
    let env = TestEnv::new();
    let (dir, _) = project(&env);
    let remote = env.root().join("remote.git");
    let remote_s = remote.to_str().expect("utf8");
    env.git(env.root(), &["init", "-q", "--bare", remote_s]);
    env.git(
        &dir,
        &["push", "-q", remote_s, "main", "refs/notes/quickscale"],
    );
    let clone = env.root().join("clone");
    env.git(
        env.root(),
        &["clone", "-q", remote_s, clone.to_str().expect("utf8")],
    );
    let listener = Listener::start();
    let url = format!("http://127.0.0.1:{}/shop.git", listener.port);
    env.git(&clone, &["remote", "set-url", "origin", &url]);

    let out = env.qs(&clone, &["status"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(
        listener.connections(),
        0,
        "status connected:\n{}",
        describe(&out)
    );
    let text = stdout(&out);
    assert!(text.contains("State: derived from the tree"), "{text}");
    assert!(
        text.contains("the state notes of `origin` were never fetched"),
        "{text}"
    );

    let out = env.qs(&clone, &["status", "--remote"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        listener.connections() >= 1,
        "--remote asks:\n{}",
        describe(&out)
    );
    assert!(
        crate::common::stderr(&out).contains("could not ask the remote"),
        "{}",
        describe(&out)
    );

    // What the last fetch brought is answered offline.
    env.git(
        &clone,
        &[
            "fetch",
            "-q",
            remote_s,
            "refs/notes/quickscale:refs/notes/remotes/origin/quickscale",
        ],
    );
    let before = listener.connections();
    let out = env.qs(&clone, &["status"]);
    assert_eq!(listener.connections(), before, "{}", describe(&out));
    assert!(
        stdout(&out).contains(
            "the remote `origin` had state notes at the last fetch that this clone has not merged"
        ),
        "{}",
        describe(&out)
    );
    // Nothing was written by status: no live notes ref.
    let refs = env.git(&clone, &["for-each-ref", "--format=%(refname)"]);
    assert!(!refs.contains("refs/notes/quickscale\n"), "{refs}");
}

const MODELS: &str = "modules/a/quickscale_modules_a/models.py";
const BRANCH: &str = "quickscale/shop/a";

/// A bare "upstream" for module `a` and a project embedding it from there
/// (hooks installed by its first apply).
fn project_with_bare_upstream(env: &TestEnv) -> (PathBuf, PathBuf) {
    let work = module_repo(env, "a");
    let bare = env.root().join("a.git");
    env.git(
        env.root(),
        &[
            "clone",
            "-q",
            "--bare",
            work.to_str().expect("utf8"),
            bare.to_str().expect("utf8"),
        ],
    );
    let dir = env.new_project(&[
        "--module",
        "a@v1.0.0",
        "--source",
        &format!("a={}", bare.display()),
    ]);
    (dir, bare)
}

/// git-quickscale with its own directory on PATH, so the installed hook
/// blocks (which call `git-quickscale`) really run.
fn qs_live(env: &TestEnv, dir: &Path, args: &[&str]) -> Output {
    let bin_dir = Path::new(crate::common::BIN).parent().expect("bin dir");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new(crate::common::BIN);
    env.env(&mut cmd);
    cmd.env("PATH", path)
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run git-quickscale")
}

fn has_ref(env: &TestEnv, repo: &Path, name: &str) -> bool {
    git_cmd(env, repo)
        .args(["rev-parse", "--verify", "-q", name])
        .output()
        .expect("git")
        .status
        .success()
}

/// `push` runs the user's pre-push hook (no `--no-verify`): a failing hook
/// stops it; the tool's own block in the same hook does nothing for it.
#[test]
fn push_runs_the_users_pre_push_hook_and_our_block_stands_aside() {
    let env = TestEnv::new();
    let (dir, bare) = project_with_bare_upstream(&env);
    let hook = dir.join(".git/hooks/pre-push");
    let ours = std::fs::read_to_string(&hook).expect("the pre-push hook is installed");
    let log = env.root().join("user-hook.log");
    let user = format!(
        "{ours}echo \"$1 $2\" >> '{}'\nif [ -e '{}' ]; then echo 'user gate: tests fail' >&2; exit 1; fi\n",
        log.display(),
        env.root().join("fail").display()
    );
    std::fs::write(&hook, user).expect("hook");
    crate::test_split::append_commit(&env, &dir, MODELS, "# fix 1", "Fix a: one");

    let out = qs_live(&env, &dir, &["push", "a", "--yes"]);
    assert!(out.status.success(), "{}", describe(&out));
    let ran = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        ran.contains(&bare.display().to_string()),
        "the user's pre-push hook ran: {ran:?}\n{}",
        describe(&out)
    );
    assert!(has_ref(&env, &bare, BRANCH));
    let refs = env.git(&bare, &["for-each-ref", "--format=%(refname)"]);
    assert!(
        !refs.contains("refs/notes"),
        "our block pushed the project state: {refs}"
    );
    assert!(!refs.contains("refs/quickscale"), "{refs}");

    // The user's gate refuses: nothing leaves, nothing is recorded.
    std::fs::write(env.root().join("fail"), "").expect("fail");
    let before_bare = env.rev(&bare, BRANCH);
    let before_record = env.rev(&dir, &format!("refs/quickscale/pushed/a/{BRANCH}"));
    crate::test_split::append_commit(&env, &dir, MODELS, "# fix 2", "Fix a: two");
    let out = qs_live(&env, &dir, &["push", "a", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        crate::common::stderr(&out).contains("user gate: tests fail"),
        "{}",
        describe(&out)
    );
    assert_eq!(env.rev(&bare, BRANCH), before_bare);
    assert_eq!(
        env.rev(&dir, &format!("refs/quickscale/pushed/a/{BRANCH}")),
        before_record
    );
}

/// `--branch HEAD` (and other names `git check-ref-format --branch`
/// refuses) is refused before anything runs.
#[test]
fn push_refuses_branch_names_git_refuses() {
    let env = TestEnv::new();
    let (dir, bare) = project_with_bare_upstream(&env);
    crate::test_split::append_commit(&env, &dir, MODELS, "# fix", "Fix a");
    for bad in ["HEAD", "-x", "a..b", "a.lock", "x@{1}", "a b"] {
        // git agrees.
        let git_says = git_cmd(&env, &dir)
            .args(["check-ref-format", "--branch", bad])
            .output()
            .expect("git");
        assert!(!git_says.status.success(), "git accepts {bad}");
        let out = env.qs(&dir, &["push", "a", &format!("--branch={bad}"), "--yes"]);
        assert_eq!(out.status.code(), Some(1), "{bad}: {}", describe(&out));
        assert!(
            crate::common::stderr(&out).contains("is not a valid branch name"),
            "{bad}: {}",
            describe(&out)
        );
    }
    let refs = env.git(&bare, &["for-each-ref", "--format=%(refname)"]);
    assert!(!refs.contains("refs/heads/HEAD"), "{refs}");
    assert!(
        env.git(&dir, &["for-each-ref", "refs/quickscale/pushed/"])
            .is_empty(),
        "nothing recorded"
    );
}

/// A deterministic token of `n` characters from `alphabet` (no real secret
/// sits in the repository).
fn token(seed: u64, alphabet: &str, n: usize) -> String {
    let chars: Vec<char> = alphabet.chars().collect();
    let mut x = seed;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chars[(x % chars.len() as u64) as usize]
        })
        .collect()
}

/// Secrets in outgoing commit messages and in lines added to the module's
/// files are refused, naming commit, file, line and rule; only
/// `--allow-secret <fingerprint>` lets each through.
#[test]
fn push_refuses_secrets_in_messages_and_added_lines() {
    let alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let github = format!("ghp_{}", token(7, alnum, 36));
    let aws = format!("AKIA{}", token(11, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16));
    let stripe = format!("sk_live_{}", token(13, alnum, 24));
    let env = TestEnv::new();
    let (dir, bare) = project_with_bare_upstream(&env);
    crate::test_split::append_commit(
        &env,
        &dir,
        MODELS,
        "# harmless: AKIAIOSFODNN7EXAMPLE",
        &format!("Fix a\n\nused {github} and\n{aws} to test"),
    );
    crate::test_split::append_commit(
        &env,
        &dir,
        MODELS,
        &format!("STRIPE_KEY = \"{stripe}\""),
        "Fix a: payments",
    );
    let models_lines = std::fs::read_to_string(dir.join(MODELS))
        .expect("models")
        .lines()
        .count();

    for extra in [&[][..], &["--dry-run"][..]] {
        let mut args = vec!["push", "a", "--yes"];
        args.extend_from_slice(extra);
        let out = env.qs(&dir, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", describe(&out));
        let err = crate::common::stderr(&out);
        for rule in [
            "[github-pat]",
            "[aws-access-token]",
            "[stripe-access-token]",
        ] {
            assert!(err.contains(rule), "{rule}: {err}");
        }
        assert!(err.contains("the message of commit"), "{err}");
        assert!(
            err.contains(&format!("{MODELS}:{models_lines} in commit")),
            "{err}"
        );
        assert!(
            !err.contains(&github) && !err.contains(&stripe),
            "secrets are not printed: {err}"
        );
        assert!(
            !err.contains("AKIAIOSFODNN7EXAMPLE"),
            "the documented example is not a finding: {err}"
        );
        assert!(err.contains("--allow-secret"), "{err}");
    }
    assert!(!has_ref(&env, &bare, BRANCH), "nothing left");
    assert!(
        env.git(&dir, &["for-each-ref", "refs/quickscale/pushed/"])
            .is_empty()
    );

    // Allowing two of three is not enough; all three pushes.
    let err = crate::common::stderr(&env.qs(&dir, &["push", "a", "--yes"]));
    let fingerprints: Vec<String> = err
        .lines()
        .filter_map(|l| l.trim().strip_prefix("fingerprint: "))
        .map(str::to_owned)
        .collect();
    assert_eq!(fingerprints.len(), 3, "{err}");
    let mut args = vec!["push", "a", "--yes"];
    for f in &fingerprints[..2] {
        args.extend(["--allow-secret", f.as_str()]);
    }
    let out = env.qs(&dir, &args);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(!has_ref(&env, &bare, BRANCH));
    args.extend(["--allow-secret", fingerprints[2].as_str()]);
    let out = env.qs(&dir, &args);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(has_ref(&env, &bare, BRANCH));
}

// ---------------------------------------------------------------------------
// Hooks: never write through, never leave behind.

fn hooks_json(env: &TestEnv, dir: &Path) -> serde_json::Value {
    let out = env.qs(dir, &["hooks", "status", "--json"]);
    assert!(out.status.success(), "{}", describe(&out));
    serde_json::from_slice(&out.stdout).expect("status JSON")
}

fn hook_json(status: &serde_json::Value, hook: &str) -> serde_json::Value {
    status["hooks"]
        .as_array()
        .expect("hooks")
        .iter()
        .find(|h| h["hook"] == hook)
        .cloned()
        .expect("hook")
}

fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Every file under `dir` holding our start marker.
fn files_with_block(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if is_symlink(&p) {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p)
                .is_ok_and(|b| String::from_utf8_lossy(&b).contains("## START QUICKSCALE"))
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A hook that is a symlink is judged by where it resolves: outside the
/// repository it needs --allow-outside-repo; a dangling one is left alone
/// (not replaced, not deleted) and reported.
#[test]
fn symlinked_hooks_are_judged_where_they_resolve_and_dangling_ones_left_alone() {
    let env = TestEnv::new();
    let (dir, _) = project(&env);
    let shared = env.root().join("shared");
    std::fs::create_dir_all(&shared).expect("shared");
    let shared_hook = shared.join("pre-commit");
    let original = "#!/bin/sh\necho shared checks\n";
    std::fs::write(&shared_hook, original).expect("shared hook");
    chmod(&shared_hook, 0o755);
    let hooks = dir.join(".git/hooks");
    std::fs::create_dir_all(&hooks).expect("hooks");
    std::os::unix::fs::symlink(&shared_hook, hooks.join("pre-commit")).expect("symlink");
    let gone = env.root().join("gone/pre-push");
    std::os::unix::fs::symlink(&gone, hooks.join("pre-push")).expect("dangling symlink");

    let out = env.qs(&dir, &["hooks", "install"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = crate::common::stderr(&out);
    assert!(err.contains("outside this repository"), "{err}");
    assert!(err.contains("--allow-outside-repo"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&shared_hook).expect("shared"),
        original
    );
    assert!(!hooks.join("pre-merge-commit").exists(), "nothing written");

    let out = env.qs(&dir, &["hooks", "install", "--allow-outside-repo"]);
    assert!(out.status.success(), "{}", describe(&out));
    let err = crate::common::stderr(&out);
    assert!(is_symlink(&hooks.join("pre-commit")));
    assert!(
        std::fs::read_to_string(&shared_hook)
            .expect("shared")
            .contains("## START QUICKSCALE")
    );
    assert!(
        is_symlink(&hooks.join("pre-push")),
        "the dangling symlink is kept"
    );
    assert!(!gone.exists() && !gone.parent().expect("dir").exists());
    assert!(err.contains("dangling symlink"), "reported: {err}");
    assert!(
        err.contains(&format!(
            "in {}, which the hook file links to",
            shared_hook.canonicalize().expect("real").display()
        )),
        "names where the block went: {err}"
    );
    let status = hooks_json(&env, &dir);
    assert_eq!(
        hook_json(&status, "pre-push")["state"],
        "dangling",
        "{status:#}"
    );
    assert!(
        stdout(&env.qs(&dir, &["hooks", "status"])).contains("dangling symlink"),
        "hooks status says so"
    );

    let out = env.qs(&dir, &["hooks", "uninstall"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(
        std::fs::read_to_string(&shared_hook).expect("shared"),
        original
    );
    assert!(is_symlink(&hooks.join("pre-commit")) && is_symlink(&hooks.join("pre-push")));
}

/// After other managers moved or copied our hooks (pre-commit's `.legacy`,
/// lefthook's `.old`, husky taking core.hooksPath over), uninstall finds
/// and removes every block and names each file.
#[test]
fn uninstall_removes_every_block_wherever_a_manager_moved_it() {
    let env = TestEnv::new();
    let (dir, _) = project(&env);
    env.qs_ok(&dir, &["hooks", "install"]);
    let hooks = dir.join(".git/hooks");
    // `pre-commit install`: our hook becomes pre-commit.legacy.
    std::fs::rename(hooks.join("pre-commit"), hooks.join("pre-commit.legacy")).expect("mv");
    let framework = "#!/usr/bin/env bash\n# File generated by pre-commit: https://pre-commit.com\nexec pre-commit hook-impl --hook-type=pre-commit -- \"$@\"\n";
    std::fs::write(hooks.join("pre-commit"), framework).expect("framework hook");
    chmod(&hooks.join("pre-commit"), 0o755);
    // `lefthook install`: ours becomes pre-merge-commit.old.
    std::fs::rename(
        hooks.join("pre-merge-commit"),
        hooks.join("pre-merge-commit.old"),
    )
    .expect("mv");
    std::fs::write(
        hooks.join("pre-merge-commit"),
        "#!/bin/sh\n# LEFTHOOK\nlefthook run pre-merge-commit\n",
    )
    .expect("lefthook");
    // husky 9 takes core.hooksPath over; a teammate's .husky/pre-push has the block.
    std::fs::create_dir_all(dir.join(".husky/_")).expect("husky");
    std::fs::write(
        dir.join(".husky/_/h"),
        "#!/usr/bin/env sh\nsh -e \"$s\" \"$@\"\n",
    )
    .expect("h");
    let block = std::fs::read_to_string(hooks.join("pre-push")).expect("ours");
    std::fs::write(
        dir.join(".husky/pre-push"),
        format!("npm test\n{}", block.trim_start_matches("#!/bin/sh\n")),
    )
    .expect("husky hook");
    env.git(&dir, &["config", "core.hooksPath", ".husky/_"]);

    let before = files_with_block(&dir);
    assert_eq!(before.len(), 4, "{before:?}");
    let out = env.qs(&dir, &["hooks", "uninstall"]);
    assert!(out.status.success(), "{}", describe(&out));
    let err = crate::common::stderr(&out);
    for name in [
        "pre-commit.legacy",
        "pre-merge-commit.old",
        ".husky/pre-push",
        ".git/hooks/pre-push",
    ] {
        assert!(err.contains(name), "names {name}: {err}");
    }
    assert_eq!(files_with_block(&dir), Vec::<PathBuf>::new(), "{err}");
    // Other content is as it was; files that only held the block are gone.
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-commit")).expect("fw"),
        framework
    );
    assert!(!hooks.join("pre-commit.legacy").exists());
    assert_eq!(
        std::fs::read_to_string(dir.join(".husky/pre-push")).expect("husky"),
        "npm test\n"
    );
}

/// husky runs `.husky/<hook>` with `sh -e`: no executable bit needed.
#[test]
fn husky_files_are_judged_as_husky_runs_them() {
    let env = TestEnv::new();
    let (dir, _) = project(&env);
    std::fs::create_dir_all(dir.join(".husky/_")).expect("husky");
    std::fs::write(
        dir.join(".husky/_/h"),
        "#!/usr/bin/env sh\nsh -e \"$s\" \"$@\"\n",
    )
    .expect("h");
    std::fs::write(dir.join(".husky/pre-commit"), "npm test\n").expect("hook");
    chmod(&dir.join(".husky/pre-commit"), 0o644);
    env.git(&dir, &["config", "core.hooksPath", ".husky/_"]);
    env.qs_ok(&dir, &["hooks", "install"]);
    let text = stdout(&env.qs(&dir, &["hooks", "status"]));
    assert!(!text.contains("NOT EXECUTABLE"), "{text}");
    let status = hooks_json(&env, &dir);
    assert_eq!(
        hook_json(&status, "pre-commit")["executable"],
        true,
        "{status:#}"
    );
    assert_eq!(hook_json(&status, "pre-commit")["state"], "installed");
}

/// A block changed by hand is "edited", not "from another version"; a
/// block of an earlier release is "outdated".
#[test]
fn a_hand_edited_block_is_reported_as_edited() {
    let env = TestEnv::new();
    let (dir, _) = project(&env);
    env.qs_ok(&dir, &["hooks", "install"]);
    let hook = dir.join(".git/hooks/pre-commit");
    let text = std::fs::read_to_string(&hook).expect("hook");
    let edited = text.replace("check was skipped", "check was skipped (edited)");
    assert_ne!(edited, text);
    std::fs::write(&hook, edited).expect("edit");
    // The pre-push block as the first release wrote it.
    let old_push = "## START QUICKSCALE\n# git-quickscale pushes the applied state with your branch (once `git quickscale sync` exists; a no-op until then).\n# Added by `git quickscale hooks install`; `git quickscale hooks uninstall` removes this block.\nif command -v git-quickscale >/dev/null 2>&1; then\n    git-quickscale hooks run pre-push \"$@\" </dev/null || exit $?\nelse\n    echo \"warning: git-quickscale is not on PATH, so its pre-push check was skipped\" >&2\nfi\n## END QUICKSCALE\n";
    std::fs::write(
        dir.join(".git/hooks/pre-push"),
        format!("#!/bin/sh\n{old_push}"),
    )
    .expect("old");
    let status = hooks_json(&env, &dir);
    assert_eq!(
        hook_json(&status, "pre-commit")["state"],
        "edited",
        "{status:#}"
    );
    assert_eq!(
        hook_json(&status, "pre-push")["state"],
        "outdated",
        "{status:#}"
    );
    let text = stdout(&env.qs(&dir, &["hooks", "status"]));
    assert!(text.contains("edited by hand"), "{text}");
    env.qs_ok(&dir, &["hooks", "install"]);
    let status = hooks_json(&env, &dir);
    assert_eq!(hook_json(&status, "pre-commit")["state"], "installed");
    assert_eq!(hook_json(&status, "pre-push")["state"], "installed");
}

/// From a linked worktree the hooks directory is shown canonical, not
/// through `worktrees/<name>/../..`.
#[test]
fn hook_paths_are_shown_canonical_from_a_linked_worktree() {
    let env = TestEnv::new();
    let (dir, _) = project(&env);
    let wt = env.root().join("wt");
    env.git(
        &dir,
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            "feature",
            wt.to_str().expect("utf8"),
        ],
    );
    let out = env.qs(&wt, &["hooks", "install"]);
    assert!(out.status.success(), "{}", describe(&out));
    let err = crate::common::stderr(&out);
    let real = dir.canonicalize().expect("canonical").join(".git/hooks");
    assert!(err.contains(&format!("in {}:", real.display())), "{err}");
    assert!(
        !err.contains("/../") && !err.contains("worktrees/"),
        "{err}"
    );
    let status = hooks_json(&env, &wt);
    let shown = status["location"]["dir"].as_str().expect("dir").to_owned();
    assert!(
        !shown.contains("..") && !shown.contains("worktrees"),
        "{shown}"
    );
    for h in status["hooks"].as_array().expect("hooks") {
        let p = h["path"].as_str().expect("path");
        assert!(!p.contains(".."), "{p}");
    }
}
