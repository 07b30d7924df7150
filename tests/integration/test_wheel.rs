//! The PyPI wheel, as a user gets it: built with maturin (once per run,
//! shared with the README test's build: common::release), installed with
//! pip into a fresh venv, and used through that venv's PATH only. Named
//! `test_*` (not `e2e_1_*`) so that it starts after the README test's
//! build has had its head start, instead of holding a test thread while
//! it waits for that build.

use std::process::Command;

use crate::common::python::{base_command, python_enabled, run_with_timeout};
use crate::common::{TestEnv, describe, release, stdout};

#[test]
fn the_wheel_installs_into_a_fresh_venv_and_runs_from_its_path() {
    if !python_enabled() {
        return;
    }
    let env = TestEnv::new();
    let Some((_, wheel)) = release::wheel(&env) else {
        return;
    };
    let size = std::fs::metadata(&wheel).expect("wheel").len();
    eprintln!("wheel {}: {} KiB", wheel.display(), size / 1024);
    let name = wheel.file_name().and_then(|n| n.to_str()).expect("name");
    assert!(
        name.starts_with(&format!(
            "git_quickscale-{}-py3-none-",
            env!("CARGO_PKG_VERSION")
        )),
        "{name}"
    );

    let venv = env.root().join("venv");
    let mut cmd = base_command(&env, "python3", env.root());
    cmd.args(["-m", "venv"]).arg(&venv);
    let out = run_with_timeout(cmd, std::time::Duration::from_secs(300));
    assert!(out.status.success(), "{}", describe(&out));
    let started = std::time::Instant::now();
    let mut cmd = base_command(&env, venv.join("bin/python"), env.root());
    cmd.args(["-m", "pip", "install", "-q", "--no-index"])
        .arg(&wheel);
    let out = run_with_timeout(cmd, std::time::Duration::from_secs(300));
    assert!(out.status.success(), "pip install:\n{}", describe(&out));
    eprintln!("pip install of the wheel took {:.1?}", started.elapsed());

    // The binary and its man pages, where PATH and man look.
    assert!(venv.join("bin/git-quickscale").is_file());
    assert!(venv.join("share/man/man1/git-quickscale.1").is_file());
    assert!(venv.join("share/man/man1/git-quickscale-apply.1").is_file());

    // Only the venv's bin (and git) on PATH: `git quickscale` is the wheel's.
    let git_dir = String::from_utf8(
        Command::new("sh")
            .args(["-c", "dirname \"$(command -v git)\""])
            .output()
            .expect("git")
            .stdout,
    )
    .expect("utf8");
    let path = format!("{}:{}", venv.join("bin").display(), git_dir.trim());
    let git = |dir: &std::path::Path, args: &[&str]| {
        let mut cmd = Command::new("git");
        env.env(&mut cmd);
        cmd.env("PATH", &path).current_dir(dir).args(args);
        let out = cmd.output().expect("git");
        assert!(out.status.success(), "git {args:?}:\n{}", describe(&out));
        out
    };
    let version = stdout(&git(env.root(), &["quickscale", "--version"]));
    assert_eq!(
        version.trim(),
        format!("git-quickscale {}", env!("CARGO_PKG_VERSION"))
    );
    git(
        env.root(),
        &[
            "quickscale",
            "plan",
            "shop",
            "--theme",
            "showcase_html",
            "--yes",
        ],
    );
    let shop = env.root().join("shop");
    git(&shop, &["quickscale", "apply", "--yes"]);
    let status = stdout(&git(&shop, &["quickscale", "status"]));
    assert!(status.contains("In sync with quickscale.yml."), "{status}");
    let log = stdout(&git(&shop, &["log", "--format=%s"]));
    assert_eq!(log.trim(), "Initial project structure");
    // The hooks apply installed run the wheel's binary.
    let hook = std::fs::read_to_string(shop.join(".git/hooks/pre-commit")).expect("hook");
    assert!(hook.contains("quickscale"), "{hook}");
}
