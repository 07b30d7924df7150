//! Running the generated Django project's own tooling (Python venvs, npm).
//! Written by the generated-project tests; see test_generated_project.rs.
//!
//! These checks install packages from the package indexes, so they only run
//! when asked: `QUICKSCALE_PYTHON_TESTS=1` (Python: venv, pip, Django, pytest)
//! and `QUICKSCALE_NPM_TESTS=1` (npm). When off, a test prints a `SKIPPED`
//! line straight to the terminal (not captured by the test harness) and
//! returns. Downloads are cached under `<target>/test-cache/{pip,npm}`,
//! since the tests run with a fake, empty HOME.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::{BIN, TestEnv, describe};

/// Switch for the Python checks of generated projects.
pub const PYTHON_SWITCH: &str = "QUICKSCALE_PYTHON_TESTS";
/// Switch for the npm checks of the React theme.
pub const NPM_SWITCH: &str = "QUICKSCALE_NPM_TESTS";

/// Installing dependencies may download a lot; anything else should be quick.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(900);
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

/// Host variables that pip and npm need to reach their indexes (proxies,
/// certificates, index settings). Everything else stays out: the commands
/// run in the hermetic `TestEnv` environment.
const PASS_THROUGH: &[&str] = &[
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
    "PYENV_ROOT",
    "PYENV_VERSION",
];
const PASS_THROUGH_PREFIXES: &[&str] = &["PIP_", "NPM_CONFIG_"];

/// True when the Python checks are switched on; otherwise prints a visible
/// `SKIPPED` line naming the current test.
pub fn python_enabled() -> bool {
    switch_enabled(PYTHON_SWITCH, "the generated-project Python checks")
}

/// True when the npm checks are switched on; otherwise prints a visible
/// `SKIPPED` line naming the current test.
pub fn npm_enabled() -> bool {
    switch_enabled(NPM_SWITCH, "the generated-project npm checks")
}

fn switch_enabled(var: &str, what: &str) -> bool {
    if std::env::var(var).is_ok_and(|v| v == "1") {
        return true;
    }
    skipped(&format!("set {var}=1 to run {what}"));
    false
}

/// Prints `SKIPPED <test>: <why>` to the real stderr, bypassing the test
/// harness's output capture so that it shows up in a normal `cargo test`.
pub fn skipped(why: &str) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("<unnamed test>");
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}

/// True when a working `python3` is on PATH; otherwise prints `SKIPPED`.
/// For checks that need a plain interpreter, not the project's dependencies.
pub fn python3_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import ast, json, sys"])
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        skipped("python3 is not on PATH");
    }
    ok
}

/// `<target>/test-cache/<kind>`: shared download caches that survive the
/// per-test temporary HOME.
pub fn cache_dir(kind: &str) -> PathBuf {
    // BIN is `<target>/<profile>/git-quickscale`.
    let target = Path::new(BIN)
        .parent()
        .and_then(Path::parent)
        .map(Path::to_owned)
        .unwrap_or_else(|| super::repo_root().join("target"));
    let dir = target.join("test-cache").join(kind);
    std::fs::create_dir_all(&dir).expect("create the test download cache");
    dir
}

/// A command in the hermetic test environment plus the host's network settings.
pub fn base_command(env: &TestEnv, program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
    let mut cmd = Command::new(program);
    env.env(&mut cmd);
    for (key, value) in std::env::vars_os() {
        let Some(name) = key.to_str() else { continue };
        let upper = name.to_ascii_uppercase();
        if PASS_THROUGH.contains(&upper.as_str())
            || PASS_THROUGH_PREFIXES.iter().any(|p| upper.starts_with(p))
        {
            cmd.env(&key, value);
        }
    }
    cmd.current_dir(dir).stdin(Stdio::null());
    cmd
}

/// Runs `cmd`, killing it after `timeout`; returns its output.
pub fn run_with_timeout(mut cmd: Command, timeout: Duration) -> Output {
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {shown}: {e}"));
    let read_all = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    };
    let stdout = read_all(Box::new(child.stdout.take().expect("stdout pipe")));
    let stderr = read_all(Box::new(child.stderr.take().expect("stderr pipe")));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let status = child.wait().expect("wait for the killed child");
            let out = Output {
                status,
                stdout: stdout.join().unwrap_or_default(),
                stderr: stderr.join().unwrap_or_default(),
            };
            panic!(
                "{shown} did not finish within {}s and was killed:\n{}",
                timeout.as_secs(),
                describe(&out)
            );
        }
        std::thread::sleep(Duration::from_millis(25));
    };
    Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

/// Like `run_with_timeout`, and panics with the full output unless it succeeded.
fn run_ok(cmd: Command, timeout: Duration, what: &str) -> Output {
    let out = run_with_timeout(cmd, timeout);
    assert!(out.status.success(), "{what} failed:\n{}", describe(&out));
    out
}

/// A fresh virtual environment holding a generated project's dependencies.
pub struct Venv<'a> {
    env: &'a TestEnv,
    project: PathBuf,
    dir: tempfile::TempDir,
}

impl<'a> Venv<'a> {
    /// Creates a venv with `python3 -m venv` in a new temporary directory and
    /// installs the project's declared dependencies
    /// (`pip install -r requirements-dev.txt`, run in the project directory).
    pub fn create(env: &'a TestEnv, project: &Path) -> Venv<'a> {
        let dir = tempfile::Builder::new()
            .prefix("qs-venv-")
            .tempdir()
            .expect("venv tempdir");
        let mut cmd = base_command(env, "python3", project);
        cmd.args(["-m", "venv"]).arg(dir.path());
        run_ok(cmd, RUN_TIMEOUT, "python3 -m venv");
        let venv = Venv {
            env,
            project: project.to_owned(),
            dir,
        };
        venv.pip(&["install", "-r", "requirements-dev.txt"]);
        venv
    }

    pub fn project(&self) -> &Path {
        &self.project
    }

    pub fn bin_dir(&self) -> PathBuf {
        self.dir.path().join("bin")
    }

    pub fn python_path(&self) -> PathBuf {
        self.bin_dir().join("python")
    }

    /// A command for the venv's `python` in the project directory, with the
    /// venv activated (first on PATH, VIRTUAL_ENV set) and the pip cache shared.
    pub fn command(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Command {
        let mut cmd = base_command(self.env, self.python_path(), &self.project);
        let path = std::env::join_paths(std::iter::once(self.bin_dir()).chain(
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
        ))
        .expect("PATH");
        cmd.env("PATH", path)
            .env("VIRTUAL_ENV", self.dir.path())
            .env("PIP_CACHE_DIR", cache_dir("pip"))
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .env("PIP_NO_INPUT", "1")
            .env("PYTHONUNBUFFERED", "1")
            .args(args);
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `python <args>` in the project without checking the result.
    pub fn try_python(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Output {
        run_with_timeout(self.command(args, extra_env), RUN_TIMEOUT)
    }

    /// Runs `python <args>` in the project and asserts success.
    pub fn python(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Output {
        let what = format!("python {}", args.join(" "));
        run_ok(self.command(args, extra_env), RUN_TIMEOUT, &what)
    }

    /// Runs `python -m pip <args>` in the project and asserts success.
    pub fn pip(&self, args: &[&str]) -> Output {
        let mut full = vec!["-m", "pip"];
        full.extend_from_slice(args);
        let what = format!("pip {}", args.join(" "));
        run_ok(self.command(&full, &[]), INSTALL_TIMEOUT, &what)
    }

    /// Runs `python manage.py <args>` and asserts success.
    pub fn manage(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Output {
        let mut full = vec!["manage.py"];
        full.extend_from_slice(args);
        self.python(&full, extra_env)
    }

    /// Runs the project's own test suite, `python -m pytest <args>`, and
    /// asserts that it passed.
    pub fn pytest(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Output {
        let mut full = vec!["-m", "pytest", "-p", "no:cacheprovider"];
        full.extend_from_slice(args);
        self.python(&full, extra_env)
    }

    /// Runs `python manage.py shell -c <code>` and asserts success.
    pub fn shell(&self, code: &str, extra_env: &[(&str, &str)]) -> Output {
        self.manage(&["shell", "-c", code], extra_env)
    }
}

/// Runs `npm <args>` in `dir` with a shared cache and asserts success.
pub fn npm(env: &TestEnv, dir: &Path, args: &[&str], extra_env: &[(&str, &str)]) -> Output {
    let mut cmd = base_command(env, "npm", dir);
    cmd.env("npm_config_cache", cache_dir("npm"))
        .env("npm_config_update_notifier", "false")
        .env("npm_config_fund", "false")
        .env("npm_config_audit", "false")
        .env("npm_config_progress", "false")
        .env("CI", "true")
        .args(args);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let timeout = if args.first().is_some_and(|a| *a == "install" || *a == "ci") {
        INSTALL_TIMEOUT
    } else {
        RUN_TIMEOUT
    };
    run_ok(cmd, timeout, &format!("npm {}", args.join(" ")))
}

/// Runs the plain `python3` from PATH (no venv) in `dir` and asserts success.
pub fn system_python(env: &TestEnv, dir: &Path, args: &[&str]) -> Output {
    let mut cmd = base_command(env, "python3", dir);
    cmd.args(args);
    run_ok(cmd, RUN_TIMEOUT, &format!("python3 {}", args.join(" ")))
}
