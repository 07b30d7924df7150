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

/// The requirement lines pip would install for `file` in `project`:
/// `-r` files followed, each embedded module (`-e ./modules/<m>`) replaced
/// by the dependencies its pyproject.toml declares (pip cannot build a
/// local directory for another Python), and each module's own Python range.
pub(crate) fn requirement_set(
    project: &Path,
    file: &str,
    out: &mut Vec<String>,
    pythons: &mut Vec<String>,
) {
    let text = std::fs::read_to_string(project.join(file)).expect("requirements file");
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(inner) = line.strip_prefix("-r ") {
            requirement_set(project, inner.trim(), out, pythons);
        } else if let Some(dir) = line
            .trim_start_matches("-e ")
            .trim()
            .strip_prefix("./modules/")
        {
            let pyproject =
                std::fs::read_to_string(project.join("modules").join(dir).join("pyproject.toml"))
                    .expect("module pyproject.toml");
            module_requirements(&pyproject, out, pythons);
        } else {
            out.push(line.to_owned());
        }
    }
}

/// A module's dependencies (PEP 621 or Poetry) as PEP 508 lines.
fn module_requirements(pyproject: &str, out: &mut Vec<String>, pythons: &mut Vec<String>) {
    let doc: toml::Table = pyproject.parse().expect("module pyproject.toml is TOML");
    let project = doc.get("project").and_then(|p| p.as_table());
    if let Some(p) = project {
        if let Some(rp) = p.get("requires-python").and_then(|v| v.as_str()) {
            pythons.push(rp.to_owned());
        }
        for d in p
            .get("dependencies")
            .and_then(|d| d.as_array())
            .into_iter()
            .flatten()
        {
            out.push(d.as_str().expect("a dependency string").to_owned());
        }
    }
    let poetry = doc
        .get("tool")
        .and_then(|t| t.get("poetry"))
        .and_then(|p| p.get("dependencies"))
        .and_then(|d| d.as_table());
    for (name, value) in poetry.into_iter().flatten() {
        let range = match value {
            toml::Value::String(s) => s.clone(),
            toml::Value::Table(t) => match t.get("version").and_then(|v| v.as_str()) {
                Some(v) => v.to_owned(),
                None => continue,
            },
            _ => continue,
        };
        if name == "python" {
            pythons.push(range);
        } else {
            let spec = git_quickscale::compat::to_pep440(&range)
                .unwrap_or_else(|| panic!("{name} = {range:?}: not expressible in PEP 440"));
            out.push(format!("{name}{spec}"));
        }
    }
}

/// A venv with a current pip (`<target>/test-cache/resolver-pip`, made
/// once): pip before 24 checks `Requires-Python` of a `--target` dry run
/// against the running interpreter, not `--python-version`.
fn resolver_python(env: &TestEnv) -> PathBuf {
    // Several resolutions run on threads at once: one makes the venv, the
    // others wait (two pip upgrades into one venv leave a broken pip).
    static MAKING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _making = MAKING.lock().unwrap_or_else(|e| e.into_inner());
    let dir = crate::common::python::cache_dir("resolver-pip");
    let python = dir.join("bin/python");
    if !dir.join("ready").exists() {
        let _ = std::fs::remove_dir_all(&dir);
        let mut venv = crate::common::python::base_command(env, "python3", env.root());
        venv.arg("-m").arg("venv").arg(&dir);
        let mut pip = crate::common::python::base_command(env, &python, env.root());
        pip.args(["-m", "pip", "install", "-q", "pip>=24"]);
        for mut cmd in [venv, pip] {
            let out = cmd.output().expect("make the resolver venv");
            assert!(out.status.success(), "{}", describe(&out));
        }
        std::fs::write(dir.join("ready"), "").expect("mark the resolver venv");
    }
    python
}

/// `pip install --dry-run` of `reqs` for `python`: pip's resolver, wheels' metadata only.
pub(crate) fn pip_resolves(
    env: &TestEnv,
    project: &Path,
    reqs: &[String],
    python: &str,
) -> Result<(), String> {
    let mut cmd = crate::common::python::base_command(env, resolver_python(env), project);
    cmd.args([
        "-m",
        "pip",
        "install",
        "--dry-run",
        "--ignore-installed",
        "--quiet",
    ])
    .args(["--only-binary=:all:", "--python-version", python])
    .arg("--target")
    .arg(env.root().join("never-written"))
    .arg("--cache-dir")
    .arg(crate::common::python::cache_dir("pip"))
    .args(reqs);
    let out = crate::common::python::run_with_timeout(cmd, std::time::Duration::from_secs(300));
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{reqs:?} on Python {python}:\n{}", describe(&out)))
    }
}

/// Every generated requirements set installs on the Python the project
/// declares: each theme alone, the first-party billing and teams, and a
/// module shaped like upstream's (Poetry, Python ^3.14, Django ^6.0); the
/// same upstream-like set on the project's baseline Python must fail, so
/// the check can tell.
#[test]
fn generated_requirements_resolve_on_the_declared_python() {
    if !crate::common::python::python_enabled() {
        return;
    }
    let env = TestEnv::new();
    let mut projects = Vec::new();
    // crm_react embeds upstream's crm and auth: from a local clone when given.
    let upstream = std::env::var("QUICKSCALE_UPSTREAM_REPO")
        .ok()
        .filter(|v| !v.is_empty());
    for theme in git_quickscale::render::available_themes() {
        let slug = format!("p_{}", theme.name());
        let mut plan = vec![
            "plan".to_owned(),
            slug.clone(),
            "--theme".into(),
            theme.name().into(),
        ];
        if theme.name() == "crm_react" {
            let Some(repo) = &upstream else {
                crate::common::python::skipped(
                    "crm_react's requirements: set QUICKSCALE_UPSTREAM_REPO to a local clone of upstream QuickScale",
                );
                continue;
            };
            for m in ["crm", "auth"] {
                plan.extend(["--source".to_owned(), format!("{m}=file://{repo}")]);
            }
        }
        plan.push("--yes".into());
        let plan: Vec<&str> = plan.iter().map(String::as_str).collect();
        env.qs_ok(env.root(), &plan);
        let dir = env.root().join(&slug);
        env.qs_ok(&dir, &["apply", "--yes"]);
        projects.push(dir);
    }
    if let (Some(billing), Some(teams)) = (
        crate::common::first_party::publish(&env, "billing"),
        crate::common::first_party::publish(&env, "teams"),
    ) {
        projects.push(crate::common::first_party::embed(
            &env,
            "saas",
            "showcase_htmx",
            &[("billing", &billing), ("teams", &teams)],
            &["billing.currency=eur", "billing.pricing_route=plans/"],
        ));
    }
    let a = module_needing_py314(&env);
    commit_to(
        &env,
        &a,
        &[(
            "pyproject.toml".into(),
            UPSTREAM_LIKE.replace(
                "django = \"^6.0\"\n",
                "django = \"^6.0\"\ndjangorestframework = \"^3.15\"\n",
            ),
        )],
        "a needs drf",
    );
    let source = format!("a={}", a.display());
    env.qs_ok(
        env.root(),
        &[
            "plan",
            "upstreamish",
            "--theme",
            "showcase_html",
            "--module",
            "a",
            "--source",
            &source,
            "--yes",
        ],
    );
    let upstreamish = env.root().join("upstreamish");
    env.qs_ok(&upstreamish, &["apply", "--yes"]);
    projects.push(upstreamish.clone());

    // One pip run per distinct (requirements, Python), all at once: pip
    // waits on the index far more than it computes.
    let mut jobs: std::collections::BTreeMap<(Vec<String>, String), String> = Default::default();
    let mut failures = Vec::new();
    for dir in &projects {
        let declared =
            std::fs::read_to_string(dir.join(".python-version")).expect(".python-version");
        let python = declared.trim().to_owned();
        let (mut reqs, mut pythons) = (Vec::new(), Vec::new());
        requirement_set(dir, "requirements-dev.txt", &mut reqs, &mut pythons);
        for range in &pythons {
            if git_quickscale::compat::allows(range, &python) != Some(true) {
                failures.push(format!(
                    "{}: a module needs Python {range}, not {python}",
                    dir.display()
                ));
            }
        }
        reqs.sort();
        jobs.entry((reqs, python))
            .or_insert_with(|| dir.display().to_string());
    }
    // The control: pip cannot install the upstream-like set on 3.11.
    let mut control = Vec::new();
    requirement_set(
        &upstreamish,
        "requirements-dev.txt",
        &mut control,
        &mut Vec::new(),
    );
    assert!(control.iter().any(|r| r == "django>=6.0,<7"), "{control:?}");
    let results: Vec<(String, Result<(), String>)> = std::thread::scope(|scope| {
        let env = &env;
        let mut handles: Vec<_> = jobs
            .iter()
            .map(|((reqs, python), label)| {
                scope.spawn(move || (label.clone(), pip_resolves(env, env.root(), reqs, python)))
            })
            .collect();
        let control = &control;
        handles.push(scope.spawn(move || {
            let refused = pip_resolves(env, env.root(), control, "3.11").is_err();
            (
                "control".to_owned(),
                if refused {
                    Ok(())
                } else {
                    Err("Django ^6.0 resolved on Python 3.11".into())
                },
            )
        }));
        handles
            .into_iter()
            .map(|h| h.join().expect("pip thread"))
            .collect()
    });
    for (label, result) in results {
        if let Err(e) = result {
            failures.push(format!("{label}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
