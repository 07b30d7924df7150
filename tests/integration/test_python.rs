//! The Python a project runs on comes from its modules: one value, carried
//! into `.python-version`, the README, the CI workflow, the Dockerfile,
//! apply's next steps and `status`; and said before pip when this machine
//! lacks it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::fixtures::{commit_to, module_repo};
use crate::common::{BIN, TestEnv, describe, stderr, stdout};

/// Like upstream's modules: Poetry ranges that need Python 3.14 and Django 6.
const UPSTREAM_LIKE: &str = "[tool.poetry]\nname = \"quickscale-modules-a\"\nversion = \"2.0.0\"\n\n[tool.poetry.dependencies]\npython = \"^3.14\"\ndjango = \"^6.0\"\n\n[build-system]\nrequires = [\"poetry-core\"]\nbuild-backend = \"poetry.core.masonry.api\"\n";

fn module_needing_py314(env: &TestEnv) -> PathBuf {
    let a = module_repo(env, "a");
    commit_to(
        env,
        &a,
        &[("pyproject.toml".into(), UPSTREAM_LIKE.into())],
        "poetry",
    );
    a
}

/// A PATH where `python3` is 3.11 and no `python3.14` exists, with git.
fn path_with_old_python(env: &TestEnv) -> PathBuf {
    let bin = env.root().join("fake-bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let git = String::from_utf8(
        Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .expect("find git")
            .stdout,
    )
    .expect("utf8");
    std::os::unix::fs::symlink(git.trim(), bin.join("git")).expect("link git");
    let python = bin.join("python3");
    std::fs::write(&python, "#!/bin/sh\necho 3.11.7\n").expect("python3");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    bin
}

fn qs_with_path(env: &TestEnv, dir: &Path, path: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    env.env(&mut cmd);
    cmd.env("PATH", path).current_dir(dir).args(args);
    let out = cmd.output().expect("run git-quickscale");
    assert!(out.status.success(), "{args:?}:\n{}", describe(&out));
    out
}

fn head_file(env: &TestEnv, dir: &Path, path: &str) -> String {
    env.git(dir, &["show", &format!("HEAD:{path}")])
}

#[test]
fn a_new_project_names_the_python_its_modules_need_everywhere() {
    let env = TestEnv::new();
    let a = module_needing_py314(&env);
    let source = format!("a={}", a.display());
    env.qs_ok(
        env.root(),
        &[
            "plan",
            "shop",
            "--theme",
            "showcase_html",
            "--module",
            "a",
            "--source",
            &source,
            "--yes",
        ],
    );
    let dir = env.root().join("shop");
    let out = qs_with_path(&env, &dir, &path_with_old_python(&env), &["apply", "--yes"]);
    let (err, text) = (stderr(&out), stdout(&out));

    // One value in every file that names a Python (as committed).
    assert_eq!(head_file(&env, &dir, ".python-version"), "3.14\n");
    let docker = head_file(&env, &dir, "Dockerfile");
    assert!(docker.contains("\nFROM python:3.14-slim\n"), "{docker}");
    let ci = head_file(&env, &dir, ".github/workflows/ci.yml");
    assert!(
        ci.contains("python-version-file: .python-version") && !ci.contains("python-version: \""),
        "{ci}"
    );
    let readme = head_file(&env, &dir, "README.md");
    assert!(
        readme.contains("Requirements: Python 3.14 or newer."),
        "{readme}"
    );
    assert!(
        readme.contains("a: Python ^3.14 ([tool.poetry.dependencies] python)"),
        "{readme}"
    );
    assert!(readme.contains("python3.14 -m venv .venv"), "{readme}");

    // This machine has only 3.11: said before pip, with the commands that install 3.14.
    assert!(
        err.contains("this project needs Python 3.14 (a: Python ^3.14"),
        "{err}"
    );
    assert!(
        err.contains("uv python install 3.14") && err.contains("pyenv install 3.14"),
        "{err}"
    );
    let all = format!("{text}{err}");
    assert!(
        all.contains(
            "Next: python3.14 -m venv .venv && .venv/bin/pip install -r requirements-dev.txt"
        ),
        "{all}"
    );

    let status = stdout(&env.qs_ok(&dir, &["status"]));
    assert!(
        status.contains("Python: 3.14 (a: Python ^3.14 ([tool.poetry.dependencies] python))"),
        "{status}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&env.qs_ok(&dir, &["status", "--json"]))).expect("json");
    assert_eq!(json["python"]["version"], "3.14");
    assert_eq!(json["python"]["stale"], serde_json::json!([]));
}

#[test]
fn a_project_without_modules_runs_on_the_projects_own_minimum() {
    let env = TestEnv::new();
    let dir = env.new_project(&[]);
    assert_eq!(head_file(&env, &dir, ".python-version"), "3.11\n");
    assert!(head_file(&env, &dir, "Dockerfile").contains("\nFROM python:3.11-slim\n"));
    let status = stdout(&env.qs_ok(&dir, &["status"]));
    assert!(
        status.contains("Python: 3.11 (the project's own minimum)"),
        "{status}"
    );
}

#[test]
fn a_module_that_needs_a_newer_python_names_each_file_to_change() {
    let env = TestEnv::new();
    let dir = env.new_project(&[]);
    let a = module_needing_py314(&env);
    env.plan_add(&dir, &[("a", &a)]);
    let before = env.repo_snapshot(&dir);
    let out = qs_with_path(&env, &dir, &path_with_old_python(&env), &["apply", "--yes"]);
    let err = stderr(&out);
    assert!(
        err.contains("the embedded modules now need Python 3.14 (a: Python ^3.14"),
        "{err}"
    );
    let docker_line = std::fs::read_to_string(dir.join("Dockerfile"))
        .expect("Dockerfile")
        .lines()
        .position(|l| l.starts_with("FROM python:"))
        .expect("FROM")
        + 1;
    for stale in [
        ".python-version:1: names Python 3.11".to_owned(),
        format!("Dockerfile:{docker_line}: names Python 3.11"),
        "README.md:".to_owned(),
    ] {
        assert!(err.contains(&stale), "{stale} not in:\n{err}");
    }
    // The CI workflow reads .python-version: nothing to say about it.
    assert!(!err.contains("ci.yml"), "{err}");
    assert!(err.contains("uv python install 3.14"), "{err}");
    // The user's files are theirs: named, never rewritten.
    for path in [".python-version", "Dockerfile", "README.md"] {
        assert_eq!(
            before.files.get(Path::new(path)).map(|f| &f.0),
            Some(&std::fs::read(dir.join(path)).expect("read")),
            "{path} changed"
        );
    }
    let status = stdout(&env.qs_ok(&dir, &["status"]));
    assert!(
        status.contains(".python-version:1 names Python 3.11: change it to 3.14"),
        "{status}"
    );

    // Once fixed, nothing is said; removing the module asks nothing.
    std::fs::write(dir.join(".python-version"), "3.14\n").expect("write");
    let status = stdout(&env.qs_ok(&dir, &["status"]));
    assert!(!status.contains(".python-version:1"), "{status}");
    let out = env.qs_ok(&dir, &["remove", "a", "--yes"]);
    assert!(
        !stderr(&out).contains("now need Python"),
        "{}",
        describe(&out)
    );
}
