//! One release build per test run, shared: the README test's `cargo
//! install` and the wheel (`maturin build`) that the wheel and pre-commit
//! tests install.
//!
//! Both build from the same fresh clone (`<target>/readme-clone`, made once
//! per run) with the same target directory (`<target>/readme-install`) and
//! the same profile overrides, so whichever runs second finds the crate
//! and every dependency compiled and only links or packages (measured:
//! `maturin build` after `cargo install` compiles nothing).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use super::python::{base_command, run_with_timeout};
use super::{BIN, TestEnv, describe, repo_root};

/// `<target>`: where this test binary's target directory is.
pub fn target_dir() -> PathBuf {
    Path::new(BIN)
        .parent()
        .and_then(Path::parent)
        .map(Path::to_owned)
        .expect("BIN is <target>/<profile>/git-quickscale")
}

/// A fresh `git clone` of this checkout (committed files only), made once
/// per test run at a fixed path so that every release build of the run
/// compiles the same sources.
pub fn fresh_clone() -> PathBuf {
    static CLONE: OnceLock<PathBuf> = OnceLock::new();
    CLONE
        .get_or_init(|| {
            let clone = target_dir().join("readme-clone");
            if clone.exists() {
                std::fs::remove_dir_all(&clone).expect("remove the previous clone");
            }
            let out = Command::new("git")
                .args(["clone", "-q", "--no-hardlinks"])
                .arg(repo_root())
                .arg(&clone)
                .output()
                .expect("git clone");
            assert!(out.status.success(), "git clone:\n{}", describe(&out));
            clone
        })
        .clone()
}

/// The cargo and rustup homes of the user running the tests: the builds run
/// with a temporary HOME but must find the same toolchain and crate cache.
pub fn tool_homes() -> Vec<(&'static str, PathBuf)> {
    let home = PathBuf::from(std::env::var_os("HOME").expect("HOME"));
    let from_env = |var: &str, default: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(default))
    };
    vec![
        ("CARGO_HOME", from_env("CARGO_HOME", ".cargo")),
        ("RUSTUP_HOME", from_env("RUSTUP_HOME", ".rustup")),
    ]
}

/// The environment of the shared release build: toolchain, registry access
/// (proxies, mirrors), the shared target directory and the profile
/// overrides (no optimisation: docs/architecture.md, "Testing").
pub fn release_env(cmd: &mut Command) {
    for (var, path) in tool_homes() {
        cmd.env(var, path);
    }
    for (key, value) in std::env::vars_os() {
        let name = key.to_string_lossy().to_ascii_uppercase();
        if name == "RUSTUP_TOOLCHAIN"
            || name.ends_with("_PROXY")
            || name.starts_with("SSL_CERT_")
            || [
                "CARGO_NET_",
                "CARGO_HTTP_",
                "CARGO_REGISTRIES_",
                "CARGO_REGISTRY_",
            ]
            .iter()
            .any(|p| name.starts_with(p))
        {
            cmd.env(&key, value);
        }
    }
    cmd.env("CARGO_TARGET_DIR", target_dir().join("readme-install"))
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "256")
        // Incremental helps a rerun on a warm directory; a CI run is cold.
        .env(
            "CARGO_PROFILE_RELEASE_INCREMENTAL",
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                "false"
            } else {
                "true"
            },
        )
        .env("CARGO_TERM_COLOR", "never");
}

/// A venv with maturin, pre-commit and zizmor from PyPI
/// (`<target>/test-cache/tools`, made once; scripts/test.sh makes it
/// before the tests). None when pip cannot install them.
pub fn tools(env: &TestEnv) -> Option<PathBuf> {
    static TOOLS: Mutex<Option<Result<PathBuf, String>>> = Mutex::new(None);
    let mut guard = TOOLS.lock().unwrap_or_else(|e| e.into_inner());
    let result = guard.get_or_insert_with(|| {
        let dir = super::python::cache_dir("tools");
        let bin = dir.join("bin");
        if ["maturin", "pre-commit", "zizmor"]
            .iter()
            .all(|t| bin.join(t).is_file())
        {
            return Ok(bin);
        }
        let mut venv = base_command(env, "python3", env.root());
        venv.args(["-m", "venv"]).arg(&dir);
        let mut pip = base_command(env, bin.join("python"), env.root());
        pip.args([
            "-m",
            "pip",
            "install",
            "-q",
            "maturin>=1.7,<2",
            "pre-commit",
        ])
        .env("PIP_CACHE_DIR", super::python::cache_dir("pip"));
        for cmd in [venv, pip] {
            let out = run_with_timeout(cmd, std::time::Duration::from_secs(600));
            if !out.status.success() {
                return Err(describe(&out));
            }
        }
        Ok(bin)
    });
    match result {
        Ok(bin) => Some(bin.clone()),
        Err(why) => {
            let why = format!("maturin and pre-commit cannot be installed from PyPI:\n{why}");
            assert!(
                !std::env::var("CI").is_ok_and(|v| v == "true"),
                "with CI=true the wheel tests cannot skip: {why}"
            );
            super::skipped(&why);
            None
        }
    }
}

/// The git-quickscale wheel of this checkout, built once per run with
/// maturin from [`fresh_clone`] with [`release_env`]; its directory (for
/// `pip --find-links`) and the file. None (SKIPPED) without maturin.
pub fn wheel(env: &TestEnv) -> Option<(PathBuf, PathBuf)> {
    static WHEEL: Mutex<Option<(PathBuf, PathBuf)>> = Mutex::new(None);
    let bin = tools(env)?;
    let mut guard = WHEEL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(found) = guard.as_ref() {
        return Some(found.clone());
    }
    let clone = fresh_clone();
    let out_dir = target_dir().join("test-wheels");
    if out_dir.exists() {
        std::fs::remove_dir_all(&out_dir).expect("remove old wheels");
    }
    let mut cmd = Command::new(bin.join("maturin"));
    env.env(&mut cmd);
    release_env(&mut cmd);
    cmd.current_dir(clone.join("packaging/pypi"))
        .args(["build", "--release", "--out"])
        .arg(&out_dir);
    let started = std::time::Instant::now();
    let out = run_with_timeout(cmd, std::time::Duration::from_secs(3600));
    assert!(out.status.success(), "maturin build:\n{}", describe(&out));
    eprintln!("maturin build took {:.0?}", started.elapsed());
    let file = std::fs::read_dir(&out_dir)
        .expect("wheel dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .expect("maturin wrote a wheel");
    *guard = Some((out_dir, file));
    guard.clone()
}
