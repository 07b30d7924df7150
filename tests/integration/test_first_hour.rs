//! A new user's first hour: overrides mean what people expect, printed
//! recipes keep them, and messages say what happened when it happened.

use crate::common::fixtures::monorepo;
use crate::common::{TestEnv, describe, stderr, stdout};

#[test]
fn a_source_url_without_ref_keeps_the_catalog_ref() {
    let env = TestEnv::new();
    let upstream = monorepo(&env, &["crm"]);
    let dir = env.new_project(&[]);
    env.qs_ok(
        &dir,
        &[
            "plan",
            "--add",
            "crm",
            "--source",
            &format!("crm=file://{}", upstream.display()),
            "--yes",
        ],
    );
    let out = env.qs_ok(&dir, &["apply", "--yes"]);
    assert!(
        stdout(&out).contains("at splits/crm-module"),
        "{}",
        describe(&out)
    );
    // The split branch was embedded, not the monorepo's HEAD.
    assert_eq!(
        env.rev(&dir, "HEAD:modules/crm"),
        env.rev(&upstream, "splits/crm-module^{tree}")
    );
    assert!(dir.join("modules/crm/module.yml").is_file());
    assert!(!dir.join("modules/crm/quickscale_modules").exists());

    // list-modules shows the source this project uses.
    let out = env.qs_ok(&dir, &["list-modules", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let crm = rows
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == "crm"))
        .expect("crm row");
    assert_eq!(crm["source"], format!("file://{}", upstream.display()));
    assert_eq!(crm["ref"], "splits/crm-module");
    let out = env.qs_ok(&dir, &["list-modules"]);
    assert!(
        stdout(&out).contains(&format!("file://{}", upstream.display())),
        "{}",
        describe(&out)
    );
}

#[test]
fn refusal_recipes_keep_the_source_override() {
    let env = TestEnv::new();
    let upstream = monorepo(&env, &["crm"]);
    let url = format!("file://{}", upstream.display());
    let dir = env.new_project(&[]);
    env.qs_ok(
        &dir,
        &[
            "plan",
            "--add",
            "crm",
            "--source",
            &format!("crm={url}"),
            "--yes",
        ],
    );
    env.qs_ok(&dir, &["apply", "--yes"]);
    // An immutable option changes: the recipe re-adds crm from the same source.
    let yml = std::fs::read_to_string(dir.join("quickscale.yml")).expect("yml");
    std::fs::write(
        dir.join("quickscale.yml"),
        yml.replace("  crm: {}", "  crm: {storage: file}"),
    )
    .expect("write");
    let out = env.qs(&dir, &["apply", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "git quickscale plan --add crm --source crm={url} --set crm.storage=file"
        )),
        "{text}"
    );
    // Following it works.
    env.qs_ok(&dir, &["plan", "--remove", "crm", "--yes"]);
    env.qs_ok(&dir, &["apply", "--yes"]);
    env.qs_ok(
        &dir,
        &[
            "plan",
            "--add",
            "crm",
            "--source",
            &format!("crm={url}"),
            "--set",
            "crm.storage=file",
            "--yes",
        ],
    );
    env.qs_ok(&dir, &["apply", "--yes"]);
    let _ = stderr(&out);
}

#[test]
fn a_module_needing_a_newer_python_and_django_is_reported_before_pip() {
    let env = TestEnv::new();
    let a = crate::common::fixtures::module_repo(&env, "a");
    // Like the real upstream modules: Poetry ranges the project's stack cannot meet on 3.11.
    crate::common::fixtures::commit_to(
        &env,
        &a,
        &[(
            "pyproject.toml".into(),
            "[tool.poetry]\nname = \"quickscale-modules-a\"\nversion = \"2.0.0\"\n\n[tool.poetry.dependencies]\npython = \"^3.14\"\ndjango = \"^6.0\"\n\n[build-system]\nrequires = [\"poetry-core\"]\nbuild-backend = \"poetry.core.masonry.api\"\n".into(),
        )],
        "poetry",
    );
    let dir = env.new_project(&[]);
    env.qs_ok(
        &dir,
        &[
            "plan",
            "--add",
            "a",
            "--source",
            &format!("a={}", a.display()),
            "--yes",
        ],
    );
    let out = env.qs(&dir, &["apply", "--dry-run"]);
    let err = stderr(&out);
    assert!(
        err.contains("module a needs Python ^3.14 ([tool.poetry.dependencies] python); the project supports >=3.11"),
        "{}",
        describe(&out)
    );
    assert!(
        err.contains("module a needs Django ^6.0") && err.contains("Python 3.12 or newer"),
        "{}",
        describe(&out)
    );
    let before = env.repo_snapshot(&dir);
    let out = env.qs(&dir, &["apply", "--yes", "--strict"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    crate::common::assert_same_repo(&before, &env.repo_snapshot(&dir), "--strict");
    let out = env.qs_ok(&dir, &["apply", "--yes"]);
    assert_eq!(
        stderr(&out).matches("module a needs Python").count(),
        1,
        "said once: {}",
        describe(&out)
    );
    assert!(dir.join("modules/a/module.yml").is_file());
}
