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
    env.plan_add(&dir, &[("a", &a)]);
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

#[test]
fn nothing_says_committed_before_the_operation_has_committed() {
    let env = TestEnv::new();
    let a = crate::common::fixtures::module_repo(&env, "a");
    let dir = env.new_project(&[]);
    // a is fine; b's source does not exist, so the apply fails after a was prepared.
    env.qs_ok(
        &dir,
        &[
            "plan",
            "--add",
            "a",
            "--add",
            "b",
            "--source",
            &format!("a={}", a.display()),
            "--source",
            &format!("b={}", env.root().join("missing").display()),
            "--yes",
        ],
    );
    let out = env.qs(&dir, &["apply", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!text.contains("Committed"), "{text}");
    assert!(text.contains("nothing was changed"), "{text}");
}

#[test]
fn generation_counts_agree_and_remove_says_what_happens_to_the_data_first() {
    let env = TestEnv::new();
    env.qs_ok(
        env.root(),
        &["plan", "shop", "--theme", "showcase_html", "--yes"],
    );
    let dir = env.root().join("shop");
    let out = env.qs_ok(&dir, &["apply", "--yes"]);
    let err = stderr(&out);
    let count = |prefix: &str| -> String {
        err.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .map(|rest| rest.chars().take_while(char::is_ascii_digit).collect())
            .unwrap_or_default()
    };
    let generating = count("Generating the project (");
    assert!(!generating.is_empty(), "{err}");
    assert_eq!(generating, count("Writing "), "{err}");

    let a = crate::common::fixtures::module_repo(&env, "a");
    env.plan_add(&dir, &[("a", &a)]);
    env.qs_ok(&dir, &["apply", "--yes"]);
    // The plan line itself carries the consequence, before the question.
    let out = env.qs_ok(&dir, &["remove", "a", "--yes"]);
    let plan_line = stdout(&out)
        .lines()
        .find(|l| l.contains("- remove a"))
        .map(str::to_owned)
        .unwrap_or_default();
    assert!(
        plan_line.contains("its database tables stay")
            && plan_line.contains("python manage.py migrate quickscale_modules_a zero"),
        "{}",
        describe(&out)
    );
}
