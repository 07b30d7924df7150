//! `plan` and `list-modules` through the real binary.

use std::collections::BTreeMap;

use git_quickscale::catalog::Catalog;
use git_quickscale::config;
use git_quickscale::value::Value;

use crate::common::{BIN, TestEnv, describe, stdout};

#[test]
fn git_runs_the_binary_as_a_subcommand_and_help_lists_every_command() {
    let env = TestEnv::new();
    // `cargo install` puts git-quickscale on PATH; git then finds `git quickscale`.
    let bin_dir = std::path::Path::new(BIN).parent().expect("bin dir");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let man_dir = env.root().join("man");
    env.qs_ok(
        env.root(),
        &["man", "--dir", man_dir.join("man1").to_str().expect("utf8")],
    );
    let git = |args: &[&str]| {
        let mut cmd = std::process::Command::new("git");
        env.env(&mut cmd);
        cmd.env("PATH", &path)
            .env("MANPATH", &man_dir)
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100");
        let out = cmd
            .current_dir(env.root())
            .args(args)
            .output()
            .expect("git");
        assert!(out.status.success(), "git {args:?}: {}", describe(&out));
        stdout(&out)
    };
    let short_help = git(&["quickscale", "-h"]);
    // git turns `--help` into `git help quickscale`, which shows the man page.
    let man_help = git(&["quickscale", "--help"]);
    for sub in [
        "plan",
        "apply",
        "status",
        "check",
        "update",
        "remove",
        "push",
        "list-modules",
        "hooks",
        "undo",
        "completions",
        "man",
    ] {
        assert!(
            short_help.lines().any(|l| l.trim_start().starts_with(sub)),
            "`{sub}` missing from -h:\n{short_help}"
        );
        assert!(
            man_help.contains(&format!("git-quickscale-{sub}(1)")),
            "`{sub}` missing from the man page:\n{man_help}"
        );
    }
    assert!(man_dir.join("man1/git-quickscale-plan.1").is_file());
}

#[test]
fn plan_new_project_from_flags() {
    let env = TestEnv::new();
    let out = env.qs_ok(
        env.root(),
        &[
            "plan",
            "demo",
            "--theme",
            "showcase_html",
            "--module",
            "crm",
            "--module",
            "auth@v0.63.0",
            "--set",
            "crm.deals_per_page=50",
            "--yes",
        ],
    );
    let path = env.root().join("demo/quickscale.yml");
    let text = std::fs::read_to_string(&path).expect("written");
    assert!(text.contains("version: \"1\"\n"), "{text}");
    assert!(stdout(&out).contains("deals_per_page: 50"));
    let catalog = Catalog::load(&[]).expect("catalog");
    let cfg = config::parse(&text, "quickscale.yml", &catalog).expect("reads back");
    assert_eq!(cfg.project.slug, "demo");
    assert_eq!(cfg.project.package, "demo");
    assert_eq!(cfg.project.theme, config::Theme::ShowcaseHtml);
    let names: Vec<&str> = cfg.modules.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["crm", "auth"]);
    assert_eq!(
        cfg.modules[0].options,
        BTreeMap::from([("deals_per_page".to_owned(), Value::Int(50))])
    );
    assert!(cfg.modules[1].options.is_empty());
    assert_eq!(cfg.sources["auth"].git_ref.as_deref(), Some("v0.63.0"));
    assert_eq!(cfg.sources["auth"].url, None);

    // Planning again refuses to overwrite without --force, and leaves the file alone.
    let again = env.qs(env.root(), &["plan", "demo", "--yes"]);
    assert_eq!(again.status.code(), Some(1), "{}", describe(&again));
    assert_eq!(std::fs::read_to_string(&path).expect("kept"), text);
    env.qs_ok(
        env.root(),
        &[
            "plan",
            "demo",
            "--yes",
            "--force",
            "--theme",
            "showcase_htmx",
        ],
    );
    assert!(
        std::fs::read_to_string(&path)
            .expect("new")
            .contains("theme: showcase_htmx")
    );
}

const HAND_WRITTEN: &str = "\
# Shop project — hand-written, please keep my notes.
version: '1'        # the only version there is

project:
    slug: shop      # used for containers
    package: shop
    theme: showcase_html

# Modules, in the order I like them.
modules:
    crm:                    # sales team wants this
        deals_per_page: 40  # more than the default
        # contacts_per_page: 10   (maybe later)
    auth:
    forms: {forms_per_page: 5, spam_protection_enabled: yes}

docker: {start: false, build: false}   # no docker on this box
# end of file
";

#[test]
fn edits_keep_comments_and_formatting() {
    let env = TestEnv::new();
    let dir = env.root().join("shop");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("quickscale.yml"), HAND_WRITTEN).expect("write");
    env.git(&dir, &["init", "-q"]);
    env.git(&dir, &["add", "quickscale.yml"]);
    env.git(&dir, &["commit", "-qm", "hand-written"]);

    env.qs_ok(&dir, &["plan", "--add", "blog", "--yes"]);
    env.qs_ok(&dir, &["plan", "--remove", "crm", "--yes"]);
    env.qs_ok(
        &dir,
        &[
            "plan",
            "--reconfigure",
            "--set",
            "auth.registration_enabled=false",
            "--yes",
        ],
    );

    let diff = env.git(&dir, &["diff", "-U0", "--no-color"]);
    let changed: Vec<&str> = diff
        .lines()
        .filter(|l| {
            (l.starts_with('+') || l.starts_with('-'))
                && !l.starts_with("+++")
                && !l.starts_with("---")
        })
        .collect();
    assert_eq!(
        changed,
        [
            "-    crm:                    # sales team wants this",
            "-        deals_per_page: 40  # more than the default",
            "+    # sales team wants this",
            "+    # more than the default",
            "+        registration_enabled: false",
            "+    blog: {}",
        ],
        "{diff}"
    );
    let text = std::fs::read_to_string(dir.join("quickscale.yml")).expect("read");
    for comment in HAND_WRITTEN
        .lines()
        .filter_map(|l| l.find('#').map(|i| &l[i..]))
    {
        assert!(text.contains(comment), "comment `{comment}` lost:\n{text}");
    }
    let catalog = Catalog::load(&[]).expect("catalog");
    let cfg = config::parse(&text, "quickscale.yml", &catalog).expect("still valid");
    let names: Vec<&str> = cfg.modules.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["auth", "forms", "blog"]);
    assert_eq!(
        cfg.modules[0].options["registration_enabled"],
        Value::Bool(false)
    );
}

#[test]
fn list_modules_json_and_index_overrides() {
    let env = TestEnv::new();
    let out = env.qs_ok(env.root(), &["list-modules", "--json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let ready: Vec<&str> = rows
        .iter()
        .filter(|r| r["ready"] == true)
        .map(|r| r["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        ready,
        [
            "auth",
            "blog",
            "listings",
            "crm",
            "forms",
            "storage",
            "backups",
            "notifications",
            "social",
            "billing",
            "teams",
            "orgs",
            "analytics"
        ]
    );
    // First-party modules come from this repository's split branches.
    let teams = rows.iter().find(|r| r["name"] == "teams").expect("listed");
    assert_eq!(
        teams["source"],
        "https://github.com/Experto-AI/git-quickscale.git"
    );
    assert_eq!(teams["ref"], "splits/teams-module");
    let crm = rows.iter().find(|r| r["name"] == "crm").expect("crm");
    assert_eq!(
        crm["source"],
        "https://github.com/Experto-AI/quickscale.git"
    );
    assert_eq!(crm["ref"], "splits/crm-module");

    let index = env.root().join("override.toml");
    std::fs::write(
        &index,
        "[modules.crm]\nsource = \"/srv/git/crm.git\"\nref = \"v2.0.0\"\n",
    )
    .expect("write");
    let out = env.qs_ok(
        env.root(),
        &[
            "list-modules",
            "--json",
            "--index",
            index.to_str().expect("utf8"),
        ],
    );
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let crm = rows.iter().find(|r| r["name"] == "crm").expect("crm");
    assert_eq!(crm["source"], "/srv/git/crm.git");
    assert_eq!(crm["ref"], "v2.0.0");
    // The same override through the environment and through git config.
    let mut cmd = std::process::Command::new(BIN);
    env.env(&mut cmd);
    let out = cmd
        .current_dir(env.root())
        .env("QUICKSCALE_INDEX", &index)
        .args(["list-modules", "--json"])
        .output()
        .expect("run");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("/srv/git/crm.git"),
        "{}",
        describe(&out)
    );
    env.git(
        env.root(),
        &[
            "config",
            "--global",
            "quickscale.index",
            index.to_str().expect("utf8"),
        ],
    );
    let out = env.qs_ok(env.root(), &["list-modules", "--json"]);
    assert!(stdout(&out).contains("/srv/git/crm.git"));
}

#[test]
fn list_modules_marks_wanted_modules_inside_a_project() {
    let env = TestEnv::new();
    env.qs_ok(env.root(), &["plan", "shop", "--module", "crm", "--yes"]);
    let out = env.qs_ok(&env.root().join("shop"), &["list-modules", "--json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("json");
    for r in &rows {
        assert_eq!(r["wanted"], r["name"] == "crm", "{r}");
    }
}
