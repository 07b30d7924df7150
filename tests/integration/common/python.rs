//! Running the generated Django project's own tooling (Python venvs, npm).
//! Written by the generated-project tests; see test_generated_project.rs.
//!
//! These checks install packages from the package indexes, so they only run
//! when asked: `QUICKSCALE_PYTHON_TESTS=1` (Python: venv, pip, Django, pytest)
//! and `QUICKSCALE_NPM_TESTS=1` (npm). When off, a test prints a `SKIPPED`
//! line straight to the terminal (not captured by the test harness) and
//! returns. Downloads are cached under `<target>/test-cache/{pip,npm}`,
//! since the tests run with a fake, empty HOME.
//!
//! Two stacks: `python3` from PATH (3.11 here) with Django 5.2 LTS, and the
//! newest Python >= 3.12 found (see [`django6_stack`]) with the newest
//! Django 6.x. Each stack gets one base venv per test run under
//! `<target>/test-cache/venvs/`, holding the dependencies every theme
//! declares; each test then makes a small venv of its own that sees the
//! base's packages through a `.pth` file and installs only what its project
//! adds (its modules), so a test costs seconds instead of a full install.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use super::{BIN, TestEnv, describe, stdout};

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

/// A visible `SKIPPED <test>: <why>` line (see [`super::skipped`]).
pub fn skipped(why: &str) {
    super::skipped(why);
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
/// With `QUICKSCALE_TEST_TIMING=1`, each command's duration is printed.
fn run_ok(cmd: Command, timeout: Duration, what: &str) -> Output {
    let start = Instant::now();
    let out = run_with_timeout(cmd, timeout);
    if std::env::var("QUICKSCALE_TEST_TIMING").is_ok_and(|v| v == "1") {
        let thread = std::thread::current();
        let short: String = what
            .replace(char::is_whitespace, " ")
            .chars()
            .take(60)
            .collect();
        let _ = writeln!(
            std::io::stderr(),
            "timing {}: {short}: {:.1?}",
            thread.name().unwrap_or_default(),
            start.elapsed()
        );
    }
    assert!(out.status.success(), "{what} failed:\n{}", describe(&out));
    out
}

/// Django 5.2 LTS, for the baseline stack.
pub const DJANGO_LTS: &str = "Django>=5.2,<5.3";
/// The newest Django 6.x, for Python >= 3.12.
pub const DJANGO_6: &str = "Django>=6.0,<7";

/// Set to an interpreter (path or command) to choose the Python >= 3.12 the
/// Django 6 checks run on; otherwise pyenv's and PATH's are searched.
pub const MODERN_PYTHON_VAR: &str = "QUICKSCALE_TEST_PYTHON";

/// A Python interpreter and the Django series a generated project is
/// tested with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack {
    pub python: PathBuf,
    /// (major, minor) of `python`.
    pub version: (u32, u32),
    /// A pip constraint on Django, e.g. [`DJANGO_LTS`].
    pub django: &'static str,
}

impl Stack {
    /// `python3.11-django5.2`: names the stack's base venv and test output.
    pub fn label(&self) -> String {
        let series = if self.django == DJANGO_LTS {
            "5.2"
        } else {
            "6"
        };
        format!("python{}.{}-django{series}", self.version.0, self.version.1)
    }
}

/// `(major, minor)` of an interpreter, or None when it does not run.
fn python_version(python: &Path) -> Option<(u32, u32)> {
    let out = Command::new(python)
        .args([
            "-c",
            "import sys, venv; print('%d %d' % sys.version_info[:2])",
        ])
        .stdin(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.split_whitespace().map(str::parse::<u32>);
    match (parts.next(), parts.next()) {
        (Some(Ok(major)), Some(Ok(minor))) => Some((major, minor)),
        _ => None,
    }
}

/// The baseline: `python3` from PATH (Python 3.11 on the CI image) with
/// Django 5.2 LTS.
pub fn lts_stack() -> Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK
        .get_or_init(|| {
            let python = PathBuf::from("python3");
            let version = python_version(&python)
                .expect("python3 on PATH runs and has the venv module (Python >= 3.11)");
            Stack {
                python,
                version,
                django: DJANGO_LTS,
            }
        })
        .clone()
}

/// Interpreters >= 3.12 that might exist: `$QUICKSCALE_TEST_PYTHON`, then
/// pyenv's versions (newest first), then `python3.1x` on PATH.
fn modern_python_candidates() -> Vec<PathBuf> {
    if let Some(given) = std::env::var_os(MODERN_PYTHON_VAR).filter(|v| !v.is_empty()) {
        return vec![PathBuf::from(given)];
    }
    let mut found = Vec::new();
    let pyenv_root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| {
            let out = Command::new("pyenv")
                .arg("root")
                .stdin(Stdio::null())
                .output()
                .ok()?;
            out.status
                .success()
                .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
        });
    if let Some(root) = pyenv_root
        && let Ok(entries) = std::fs::read_dir(root.join("versions"))
    {
        // Plain CPython releases only ("3.13.0", not "3.13.0t" or "pypy3.10").
        let mut versions: Vec<((u32, u32, u32), PathBuf)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let mut nums = name.split('.').map(str::parse::<u32>);
                match (nums.next(), nums.next(), nums.next(), nums.next()) {
                    (Some(Ok(3)), Some(Ok(minor)), Some(Ok(patch)), None) if minor >= 12 => {
                        Some(((3, minor, patch), e.path().join("bin/python3")))
                    }
                    _ => None,
                }
            })
            .collect();
        versions.sort();
        found.extend(versions.into_iter().rev().map(|(_, path)| path));
    }
    for minor in (12..=20).rev() {
        found.push(PathBuf::from(format!("python3.{minor}")));
    }
    found
}

/// The newest Python >= 3.12 on this machine with the newest Django 6.x.
/// None when there is none: the caller's Django 6 checks are skipped with a
/// `SKIPPED` line, except with `CI=true`, where that is a test failure.
pub fn django6_stack() -> Option<Stack> {
    static STACK: OnceLock<Option<Stack>> = OnceLock::new();
    let stack = STACK
        .get_or_init(|| {
            let found = modern_python_candidates().into_iter().find_map(|python| {
                let version = python_version(&python)?;
                (version >= (3, 12)).then_some(Stack {
                    python,
                    version,
                    django: DJANGO_6,
                })
            });
            // An interpreter asked for by name must be usable.
            if let Some(given) = std::env::var_os(MODERN_PYTHON_VAR).filter(|v| !v.is_empty()) {
                assert!(
                    found.is_some(),
                    "{MODERN_PYTHON_VAR}={} is not a working Python >= 3.12 with venv",
                    given.to_string_lossy()
                );
            }
            found
        })
        .clone();
    if stack.is_none() {
        let why = format!(
            "no Python >= 3.12 found (set {MODERN_PYTHON_VAR}, or install one with pyenv or as python3.1x on PATH), so the Django 6 checks did not run"
        );
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true"),
            "CI=true: {why}"
        );
        skipped(&why);
    }
    stack
}

/// Build backends of the modules the tests install (fixtures, first-party
/// and extracted modules use setuptools; upstream's use poetry-core), kept
/// in the base venv so that [`Venv::pip`] can build without isolation.
const BUILD_BACKENDS: &[&str] = &["setuptools>=77", "poetry-core>=1.9"];

/// The requirements every theme declares (requirements.txt and
/// requirements-dev.txt, without `-r`/`-e` lines): with [`BUILD_BACKENDS`],
/// what a base venv holds.
fn theme_requirements() -> Vec<String> {
    use git_quickscale::config::{Identity, Theme};
    let mut all: Vec<String> = Vec::new();
    for theme in Theme::ALL {
        let identity = Identity {
            slug: "demo".into(),
            package: "demo".into(),
            theme,
            name: None,
        };
        let files = git_quickscale::render::render_project(&identity).expect("render a theme");
        for name in ["requirements.txt", "requirements-dev.txt"] {
            let text = String::from_utf8_lossy(&files[name].contents).into_owned();
            for line in text.lines().map(str::trim) {
                if !line.is_empty()
                    && !line.starts_with('#')
                    && !line.starts_with('-')
                    && !all.iter().any(|l| l == line)
                {
                    all.push(line.to_owned());
                }
            }
        }
    }
    all
}

/// The stack's base venv, `<target>/test-cache/venvs/<label>`: made afresh
/// once per test run (so it has the newest releases), then shared.
fn base_venv(stack: &Stack) -> PathBuf {
    type Slot = Arc<Mutex<Option<PathBuf>>>;
    static BASES: Mutex<BTreeMap<String, Slot>> = Mutex::new(BTreeMap::new());
    let slot = BASES
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(stack.label())
        .or_default()
        .clone();
    // Held while building, so concurrent tests wait for one build; a
    // panicked build leaves None and the next test tries again.
    let mut guard = slot.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(dir) = guard.as_ref() {
        return dir.clone();
    }
    let dir = cache_dir("venvs").join(stack.label());
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("remove the previous run's base venv");
    }
    let started = Instant::now();
    let mut cmd = Command::new(&stack.python);
    cmd.args(["-m", "venv"]).arg(&dir).stdin(Stdio::null());
    run_ok(
        cmd,
        RUN_TIMEOUT,
        &format!("{} -m venv", stack.python.display()),
    );
    std::fs::write(dir.join("constraints.txt"), format!("{}\n", stack.django))
        .expect("write constraints.txt");
    std::fs::write(
        dir.join("requirements.txt"),
        theme_requirements()
            .iter()
            .map(String::as_str)
            .chain(BUILD_BACKENDS.iter().copied())
            .collect::<Vec<_>>()
            .join("\n")
            + "\n",
    )
    .expect("write requirements.txt");
    let mut cmd = Command::new(dir.join("bin/python"));
    cmd.args(["-m", "pip", "install", "--quiet", "-c"])
        .arg(dir.join("constraints.txt"))
        .arg("-r")
        .arg(dir.join("requirements.txt"))
        .env("PIP_CACHE_DIR", cache_dir("pip"))
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env("PIP_NO_INPUT", "1")
        .stdin(Stdio::null());
    run_ok(
        cmd,
        INSTALL_TIMEOUT,
        &format!("pip install ({})", stack.label()),
    );
    let _ = writeln!(
        std::io::stderr(),
        "note: base venv {} ready in {:.0?}",
        stack.label(),
        started.elapsed()
    );
    *guard = Some(dir.clone());
    dir
}

/// `<venv>/lib/pythonX.Y/site-packages`.
fn site_packages(venv: &Path, version: (u32, u32)) -> PathBuf {
    venv.join("lib")
        .join(format!("python{}.{}", version.0, version.1))
        .join("site-packages")
}

/// A virtual environment holding a generated project's dependencies.
pub struct Venv<'a> {
    env: &'a TestEnv,
    project: PathBuf,
    stack: Stack,
    dir: tempfile::TempDir,
}

impl<'a> Venv<'a> {
    /// A venv on the baseline stack (Python 3.11, Django 5.2 LTS); see
    /// [`Venv::create_on`].
    pub fn create(env: &'a TestEnv, project: &Path) -> Venv<'a> {
        Self::create_on(env, project, &lts_stack(), &[])
    }

    /// Creates a venv for `project` on `stack` and installs the project's
    /// declared dependencies (`pip install -r requirements-dev.txt`, run in
    /// the project directory, plus `extra_pip_args`). The venv sees the
    /// stack's base venv (see the module docs), so pip installs only what
    /// the base lacks: the embedded modules and their dependencies.
    pub fn create_on(
        env: &'a TestEnv,
        project: &Path,
        stack: &Stack,
        extra_pip_args: &[&str],
    ) -> Venv<'a> {
        let base = base_venv(stack);
        let dir = tempfile::Builder::new()
            .prefix("qs-venv-")
            .tempdir()
            .expect("venv tempdir");
        let mut cmd = base_command(env, &stack.python, project);
        cmd.args(["-m", "venv", "--without-pip"]).arg(dir.path());
        run_ok(cmd, RUN_TIMEOUT, "python -m venv");
        // Its own site-packages come first, so what it installs wins.
        let base_site = site_packages(&base, stack.version);
        let own_site = site_packages(dir.path(), stack.version);
        std::fs::write(
            own_site.join("_quickscale_test_base.pth"),
            format!("{}\n", base_site.display()),
        )
        .expect("write the .pth file");
        let venv = Venv {
            env,
            project: project.to_owned(),
            stack: stack.clone(),
            dir,
        };
        let constraints = base.join("constraints.txt");
        let mut args = vec![
            "install",
            "-c",
            constraints.to_str().expect("UTF-8 path"),
            "-r",
            "requirements-dev.txt",
        ];
        args.extend_from_slice(extra_pip_args);
        venv.pip(&args);
        venv
    }

    /// This venv, for another project on the same stack whose dependencies
    /// it already holds (the same modules in another theme: the caller
    /// checks). Saves a venv and an install per project.
    pub fn moved_to(self, project: &Path) -> Venv<'a> {
        Venv {
            project: project.to_owned(),
            ..self
        }
    }

    pub fn stack(&self) -> &Stack {
        &self.stack
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
    /// Installs build local modules without build isolation: the base venv
    /// has the build backends ([`BUILD_BACKENDS`]), and an isolated build
    /// environment per module cost seconds of CPU each.
    pub fn pip(&self, args: &[&str]) -> Output {
        let mut full = vec!["-m", "pip"];
        full.extend_from_slice(args);
        if args.first() == Some(&"install") {
            full.push("--no-build-isolation");
        }
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

/// Set to a Chromium binary to use for screenshots; otherwise `chromium`
/// or `chromium-browser` on PATH.
pub const CHROMIUM_VAR: &str = "QUICKSCALE_CHROMIUM";

/// A headless-capable Chromium, or None (and a `SKIPPED` line naming what
/// did not run). Optional even with `CI=true`: scripts/test.sh does not
/// install a browser (Debian: `apt-get install -y chromium`).
pub fn chromium(what: &str) -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = match std::env::var_os(CHROMIUM_VAR).filter(|v| !v.is_empty()) {
        Some(given) => vec![PathBuf::from(given)],
        None => vec!["chromium".into(), "chromium-browser".into()],
    };
    let found = candidates.into_iter().find(|c| {
        Command::new(c)
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if found.is_none() {
        skipped(&format!(
            "no chromium on PATH (or {CHROMIUM_VAR}), so {what} did not run"
        ));
    }
    found
}

/// `manage.py runserver` in the background; killed when dropped.
pub struct Server {
    child: std::process::Child,
    pub base_url: String,
    log: PathBuf,
}

impl Server {
    /// The server's output so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `GET <path>` to 127.0.0.1:`port`; returns the status code.
fn http_status(port: u16, path: &str) -> Option<u16> {
    use std::net::TcpStream;
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

impl Venv<'_> {
    /// Starts `manage.py runserver` (development settings) on a free port
    /// and waits until `/healthz/` answers.
    pub fn runserver(&self, scratch: &Path) -> Server {
        let port = std::net::TcpListener::bind(("127.0.0.1", 0))
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = scratch.join(format!("runserver-{port}.log"));
        let file = std::fs::File::create(&log).expect("runserver log");
        let mut cmd = self.command(
            &[
                "manage.py",
                "runserver",
                "--noreload",
                &format!("127.0.0.1:{port}"),
            ],
            &[],
        );
        cmd.stdout(file.try_clone().expect("log file")).stderr(file);
        let child = cmd.spawn().expect("start runserver");
        let server = Server {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            log,
        };
        let start = Instant::now();
        while http_status(port, "/healthz/") != Some(200) {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "runserver did not answer /healthz/ within 60s:\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        server
    }
}

/// Takes a 1280×900 screenshot of `url` with headless Chromium into `png`.
pub fn screenshot(env: &TestEnv, chromium: &Path, url: &str, png: &Path) {
    screenshot_sized(env, chromium, url, png, (1280, 900));
}

/// Takes a `width`×`height` screenshot (a phone: 390×844) of `url` into `png`.
pub fn screenshot_sized(
    env: &TestEnv,
    chromium: &Path,
    url: &str,
    png: &Path,
    (width, height): (u32, u32),
) {
    let profile = tempfile::tempdir().expect("chromium profile dir");
    let _ = std::fs::remove_file(png);
    let mut cmd = base_command(env, chromium, profile.path());
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--hide-scrollbars",
    ])
    .arg(format!("--window-size={width},{height}"))
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .arg(format!("--screenshot={}", png.display()))
    .arg(url);
    let out = run_ok(cmd, RUN_TIMEOUT, &format!("chromium --screenshot {url}"));
    let bytes = std::fs::read(png)
        .unwrap_or_else(|e| panic!("no screenshot {} ({e}):\n{}", png.display(), describe(&out)));
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 5_000,
        "{} is not a plausible screenshot ({} bytes)",
        png.display(),
        bytes.len()
    );
}

/// Python for `manage.py shell`: defines `anonymous_walk(markers)`, which
/// requests every route of the project's URLconf as a visitor (converters
/// filled with sample values) and returns `{"requested": n, "leaks": [...],
/// "statuses": {path: status}}`, a leak being a 200 whose page contains one
/// of `markers` (records the caller created first).
pub const ANONYMOUS_WALK: &str = r#"
import re as _re
from django.test import Client as _Client
from django.urls import URLResolver as _URLResolver, get_resolver as _get_resolver
from django.urls.resolvers import RoutePattern as _RoutePattern

_SAMPLES = {"int": "1", "uuid": "00000000-0000-0000-0000-000000000001"}


def _routes(patterns, prefix=""):
    for p in patterns:
        if isinstance(p.pattern, _RoutePattern):
            part = _re.sub(r"<(?:(\w+):)?\w+>", lambda m: _SAMPLES.get(m.group(1), "x"), str(p.pattern))
        else:
            part = str(p.pattern).lstrip("^").rstrip("$").replace("\\/", "/").replace("\\.", ".")
            if _re.search(r"[()\[\]?*+|{}\\]", part):
                # A regex with groups: no sample path to build.
                continue
        if isinstance(p, _URLResolver):
            yield from _routes(p.url_patterns, prefix + part)
        else:
            yield "/" + prefix + part


def anonymous_walk(markers):
    client = _Client(raise_request_exception=False)
    out = {"requested": 0, "leaks": [], "statuses": {}}
    for path in sorted(set(_routes(_get_resolver().url_patterns))):
        if path.startswith("/static/") or path.startswith("/media/"):
            continue
        response = client.get(path)
        out["requested"] += 1
        out["statuses"][path] = response.status_code
        body = response.content.decode("utf-8", "replace") if response.status_code == 200 else ""
        found = [m for m in markers if m in body]
        if found:
            out["leaks"].append({"path": path, "found": found})
    return out
"#;

/// The React frontend's ESLint and Prettier pass as generated (`npm run
/// lint`, `npm run format:check`, as CI runs them) and each refuses a file
/// that breaks its rules (a hook called conditionally, a line left unformatted).
pub fn frontend_lint_passes_and_can_fail(env: &TestEnv, frontend: &Path) {
    npm(env, frontend, &["run", "lint"], &[]);
    npm(env, frontend, &["run", "format:check"], &[]);
    let bad = frontend.join("src/LintProbe.tsx");
    std::fs::write(
        &bad,
        "import { useState } from 'react'\nexport function Probe({ on }: { on: boolean }) {\n  if (on) {   useState(0) }\n  return null\n}\n",
    )
    .expect("write the lint probe");
    let try_npm = |script: &str| {
        let mut cmd = base_command(env, "npm", frontend);
        cmd.env("npm_config_cache", cache_dir("npm"))
            .args(["run", script]);
        run_with_timeout(cmd, RUN_TIMEOUT)
    };
    let lint = try_npm("lint");
    let format = try_npm("format:check");
    std::fs::remove_file(&bad).expect("remove the lint probe");
    assert!(
        !lint.status.success() && stdout(&lint).contains("react-hooks/rules-of-hooks"),
        "ESLint accepted a conditional hook:\n{}",
        describe(&lint)
    );
    assert!(
        !format.status.success()
            && format!("{}{}", stdout(&format), super::stderr(&format)).contains("LintProbe.tsx"),
        "Prettier accepted an unformatted file:\n{}",
        describe(&format)
    );
}
