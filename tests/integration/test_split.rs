//! `git quickscale split`: the same commits as the real `git subtree split`
//! (the oracle; skipped, visibly, where the script is not installed), an
//! incremental cache, and nothing outside the prefix in the result.

use std::path::{Path, PathBuf};

use crate::common::fixtures::module_repo;
use crate::common::{TestEnv, describe, git_subtree_path, stderr, stdout};

/// Writes files (relative to `dir`) and commits them with `message`.
pub fn commit_files(env: &TestEnv, dir: &Path, files: &[(&str, &str)], message: &str) {
    for (rel, text) in files {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
    }
    env.git(dir, &["add", "-A"]);
    env.git(dir, &["commit", "-qm", message]);
}

/// Appends a line to a file and commits it.
pub fn append_commit(env: &TestEnv, dir: &Path, rel: &str, line: &str, message: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let mut text = std::fs::read_to_string(&path).unwrap_or_default();
    text.push_str(line);
    text.push('\n');
    commit_files(env, dir, &[(rel, &text)], message);
}

/// `git subtree split --prefix=<prefix>` at HEAD.
pub fn oracle_split(env: &TestEnv, dir: &Path, path: &str, prefix: &str) -> String {
    env.git_with_path(
        dir,
        path,
        &["subtree", "split", &format!("--prefix={prefix}")],
    )
    .trim()
    .to_owned()
}

/// `git quickscale split NAME` at HEAD: the printed commit.
pub fn qs_split(env: &TestEnv, dir: &Path, name: &str) -> String {
    let out = env.qs_ok(dir, &["split", name]);
    stdout(&out).trim().to_owned()
}

/// A project with module `a` embedded at v1.0.0 from a fixture repository.
pub fn project_with_a(env: &TestEnv) -> (PathBuf, PathBuf) {
    let a = module_repo(env, "a");
    let dir = env.new_project(&[
        "--module",
        "a@v1.0.0",
        "--source",
        &format!("a={}", a.display()),
    ]);
    (dir, a)
}

const MODELS: &str = "modules/a/quickscale_modules_a/models.py";

/// Every commit reachable from `tip` and not from `base`.
fn commits_between(env: &TestEnv, dir: &Path, base: &str, tip: &str) -> Vec<String> {
    env.git(dir, &["rev-list", tip, &format!("^{base}")])
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn split_equals_git_subtree_split_for_one_embed_local_and_mixed_commits() {
    let Some(path) = git_subtree_path() else {
        return;
    };
    let env = TestEnv::new();
    let (dir, a) = project_with_a(&env);
    append_commit(&env, &dir, MODELS, "# local fix", "Fix a's model");
    commit_files(&env, &dir, &[("notes/user.txt", "mine\n")], "User code");
    let models = std::fs::read_to_string(dir.join(MODELS)).expect("models");
    commit_files(
        &env,
        &dir,
        &[
            (MODELS, &format!("{models}# second fix\n")),
            ("notes/secret.txt", "SECRET-TOKEN\n"),
        ],
        "Mixed: a fix and a user file",
    );
    let ours = qs_split(&env, &dir, "a");
    assert_eq!(ours, oracle_split(&env, &dir, &path, "modules/a"));
    // Module-only commits on top of the upstream commit.
    let upstream = env.rev(&a, "v1.0.0");
    assert_eq!(
        env.rev(&dir, &format!("{ours}^{{tree}}")),
        env.rev(&dir, "HEAD:modules/a")
    );
    let local = commits_between(&env, &dir, &upstream, &ours);
    assert_eq!(local.len(), 2, "the two module fixes: {local:?}");
    assert_eq!(env.rev(&dir, &format!("{ours}~2")), upstream);
    let files = env.git(&dir, &["ls-tree", "-r", "--name-only", &ours]);
    assert!(!files.contains("secret"), "{files}");
    assert!(!files.contains("quickscale.yml"), "{files}");
}

/// Embed, a local fix, a squash pull over it, a merged branch that touched
/// the module and user files, a second squash pull, a mixed commit, and a
/// commit with an unusual message and time zone.
fn rich_history(env: &TestEnv, path: &str) -> (PathBuf, PathBuf) {
    let (dir, a) = project_with_a(env);
    append_commit(env, &dir, MODELS, "# local fix 1", "Fix a's model");
    env.git_with_path(
        &dir,
        path,
        &[
            "subtree",
            "pull",
            "-q",
            "--squash",
            "--prefix=modules/a",
            a.to_str().expect("utf8"),
            "v1.1.0",
            "-m",
            "Update a to v1.1.0",
        ],
    );
    env.git(&dir, &["checkout", "-qb", "feature"]);
    append_commit(env, &dir, MODELS, "# feature fix", "Feature: module fix");
    append_commit(env, &dir, "notes/feature.txt", "f", "Feature: user file");
    env.git(&dir, &["checkout", "-q", "main"]);
    append_commit(env, &dir, "notes/main.txt", "m", "Main: user file");
    env.git(
        &dir,
        &["merge", "-q", "--no-ff", "feature", "-m", "Merge feature"],
    );
    env.git(&dir, &["checkout", "-qb", "user-only"]);
    append_commit(env, &dir, "notes/other.txt", "o", "User branch");
    env.git(&dir, &["checkout", "-q", "main"]);
    env.git(
        &dir,
        &[
            "merge",
            "-q",
            "--no-ff",
            "user-only",
            "-m",
            "Merge user-only",
        ],
    );
    env.git_with_path(
        &dir,
        path,
        &[
            "subtree",
            "pull",
            "-q",
            "--squash",
            "--prefix=modules/a",
            a.to_str().expect("utf8"),
            "v2.0.0",
            "-m",
            "Update a to v2.0.0",
        ],
    );
    let models = std::fs::read_to_string(dir.join(MODELS)).expect("models");
    commit_files(
        env,
        &dir,
        &[
            (MODELS, &format!("{models}# mixed\n")),
            ("notes/secret.txt", "SECRET-TOKEN\n"),
        ],
        "Mixed commit",
    );
    // A message without a final newline, in another time zone.
    std::fs::write(dir.join(MODELS), format!("{models}# mixed\n# tz\n")).expect("write");
    std::fs::write(env.root().join("msg"), "No final newline").expect("msg");
    env.git(&dir, &["add", "-A"]);
    env.git(
        &dir,
        &[
            "commit",
            "-q",
            "--cleanup=verbatim",
            "-F",
            env.root().join("msg").to_str().expect("utf8"),
            "--date=2026-01-05T10:00:00+05:30",
            "--author=Other Person <other@example.com>",
        ],
    );
    (dir, a)
}

#[test]
fn split_equals_git_subtree_split_across_squash_pulls_and_merges() {
    let Some(path) = git_subtree_path() else {
        return;
    };
    let env = TestEnv::new();
    let (dir, a) = rich_history(&env, &path);
    let ours = qs_split(&env, &dir, "a");
    assert_eq!(ours, oracle_split(&env, &dir, &path, "modules/a"));
    // The split builds on the last upstream commit and has the module only.
    let upstream = env.rev(&a, "v2.0.0");
    let ok = env.git(&dir, &["merge-base", "--is-ancestor", &upstream, &ours]);
    assert!(ok.is_empty());
    assert_eq!(
        env.rev(&dir, &format!("{ours}^{{tree}}")),
        env.rev(&dir, "HEAD:modules/a")
    );
    for commit in commits_between(&env, &dir, &upstream, &ours) {
        let files = env.git(&dir, &["ls-tree", "-r", "--name-only", &commit]);
        assert!(!files.contains("notes/"), "{commit}: {files}");
    }
}

#[test]
fn a_second_split_only_processes_new_commits_and_stays_identical() {
    let Some(path) = git_subtree_path() else {
        return;
    };
    let env = TestEnv::new();
    let (dir, _a) = rich_history(&env, &path);
    let first = env.qs_ok(&dir, &["split", "a"]);
    assert!(
        env.git(&dir, &["for-each-ref", "refs/quickscale/split/a"])
            .contains("refs/quickscale/split/a"),
        "the cache ref is written"
    );
    let again = env.qs_ok(&dir, &["split", "a"]);
    assert_eq!(stdout(&first), stdout(&again));
    assert!(
        stderr(&again).contains("0 commit(s) read, 0 written"),
        "{}",
        describe(&again)
    );
    append_commit(&env, &dir, MODELS, "# one more", "One more fix");
    let next = env.qs_ok(&dir, &["split", "a"]);
    assert!(
        stderr(&next).contains("1 commit(s) read, 1 written (the rest from the cache)"),
        "{}",
        describe(&next)
    );
    let next = stdout(&next).trim().to_owned();
    assert_eq!(next, oracle_split(&env, &dir, &path, "modules/a"));
    assert_eq!(env.rev(&dir, &format!("{next}^")), stdout(&first).trim());
    // Without the cache, and in a fresh clone: the same commit.
    env.git(&dir, &["update-ref", "-d", "refs/quickscale/split/a"]);
    assert_eq!(qs_split(&env, &dir, "a"), next);
    let clone = env.root().join("clone");
    env.git(
        env.root(),
        &[
            "clone",
            "-q",
            dir.to_str().expect("utf8"),
            clone.to_str().expect("utf8"),
        ],
    );
    // The squash commits name upstream commits a clone has (they came along).
    assert_eq!(qs_split(&env, &clone, "a"), next);
}

#[test]
fn a_cache_pointing_at_pruned_commits_is_rebuilt() {
    let env = TestEnv::new();
    let (dir, _a) = project_with_a(&env);
    append_commit(&env, &dir, MODELS, "# fix", "Fix");
    let first = qs_split(&env, &dir, "a");
    // Forge a cache whose entry for HEAD names a commit that does not exist.
    let cache = env.rev(&dir, "refs/quickscale/split/a");
    let head = env.rev(&dir, "HEAD");
    let shard = &head[..2];
    let missing = "0123456789abcdef0123456789abcdef01234567";
    let blob = {
        let mut cmd = std::process::Command::new("git");
        env.env(&mut cmd);
        let mut child = cmd
            .current_dir(&dir)
            .args(["hash-object", "-w", "--stdin"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(format!("{head} {missing}\n").as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("wait");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let listing = env.git(&dir, &["ls-tree", &cache]);
    let mut entries: Vec<String> = listing
        .lines()
        .filter(|l| !l.ends_with(&format!("\t{shard}")))
        .map(str::to_owned)
        .collect();
    entries.push(format!("100644 blob {blob}\t{shard}"));
    let tree = {
        let mut cmd = std::process::Command::new("git");
        env.env(&mut cmd);
        let mut child = cmd
            .current_dir(&dir)
            .arg("mktree")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all((entries.join("\n") + "\n").as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("wait");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let forged = env.git(&dir, &["commit-tree", &tree, "-m", "forged"]);
    env.git(
        &dir,
        &["update-ref", "refs/quickscale/split/a", forged.trim()],
    );
    assert_eq!(qs_split(&env, &dir, "a"), first);
    // The rebuilt cache maps HEAD to the real split again.
    let rebuilt = env.git(
        &dir,
        &[
            "cat-file",
            "-p",
            &format!("refs/quickscale/split/a:{shard}"),
        ],
    );
    assert!(rebuilt.contains(&format!("{head} {first}")), "{rebuilt}");
}

#[test]
fn split_works_in_a_repository_that_is_not_a_project() {
    let Some(path) = git_subtree_path() else {
        return;
    };
    let env = TestEnv::new();
    let dir = env.root().join("mono");
    std::fs::create_dir_all(&dir).expect("mkdir");
    env.git(&dir, &["init", "-q", "-b", "main"]);
    commit_files(&env, &dir, &[("README.md", "repo\n")], "Start");
    commit_files(
        &env,
        &dir,
        &[
            ("modules/billing/module.yml", "name: billing\n"),
            ("modules/teams/module.yml", "name: teams\n"),
        ],
        "Two modules",
    );
    append_commit(&env, &dir, "modules/billing/README.md", "b", "Billing docs");
    append_commit(&env, &dir, "src/main.rs", "fn main() {}", "Tool code");
    append_commit(&env, &dir, "modules/teams/README.md", "t", "Teams docs");
    for name in ["billing", "teams"] {
        let ours = qs_split(&env, &dir, name);
        assert_eq!(
            ours,
            oracle_split(&env, &dir, &path, &format!("modules/{name}"))
        );
        assert_eq!(
            env.rev(&dir, &format!("{ours}^{{tree}}")),
            env.rev(&dir, &format!("HEAD:modules/{name}"))
        );
    }
}

#[test]
fn a_history_with_a_plain_subtree_add_uses_its_join_like_git_subtree() {
    let Some(path) = git_subtree_path() else {
        return;
    };
    let env = TestEnv::new();
    let a = module_repo(&env, "a");
    let dir = env.root().join("plain");
    std::fs::create_dir_all(&dir).expect("mkdir");
    env.git(&dir, &["init", "-q", "-b", "main"]);
    commit_files(&env, &dir, &[("README.md", "x\n")], "Start");
    // Without --squash: upstream history is merged in, with a join commit.
    env.git_with_path(
        &dir,
        &path,
        &[
            "subtree",
            "add",
            "-q",
            "--prefix=modules/a",
            a.to_str().expect("utf8"),
            "v1.0.0",
        ],
    );
    append_commit(&env, &dir, MODELS, "# fix", "Fix");
    append_commit(&env, &dir, "README.md", "y", "User");
    let ours = qs_split(&env, &dir, "a");
    assert_eq!(ours, oracle_split(&env, &dir, &path, "modules/a"));
    assert_eq!(env.rev(&dir, &format!("{ours}^")), env.rev(&a, "v1.0.0"));
    // Joins are not cached (they change older commits' splits).
    assert_eq!(qs_split(&env, &dir, "a"), ours);
}

#[test]
fn a_prefix_deleted_and_added_again_never_brings_project_files() {
    let env = TestEnv::new();
    let (dir, _a) = project_with_a(&env);
    append_commit(&env, &dir, MODELS, "# fix", "Fix before removal");
    env.git(&dir, &["rm", "-rq", "modules/a"]);
    env.git(&dir, &["commit", "-qm", "Drop the module by hand"]);
    append_commit(&env, &dir, "notes/user.txt", "u", "User work");
    env.git(
        &dir,
        &[
            "read-tree",
            "--prefix=modules/a/",
            "-u",
            &env.rev(&dir, "refs/quickscale/modules/a^{tree}"),
        ],
    );
    env.git(&dir, &["commit", "-qm", "Bring it back"]);
    append_commit(&env, &dir, MODELS, "# later fix", "Later fix");
    let ours = qs_split(&env, &dir, "a");
    for commit in env.git(&dir, &["rev-list", &ours]).lines() {
        let files = env.git(&dir, &["ls-tree", "-r", "--name-only", commit]);
        assert!(
            !files.contains("quickscale.yml") && !files.contains("notes/"),
            "split commit {commit} carries project files:\n{files}"
        );
    }
    assert_eq!(
        env.rev(&dir, &format!("{ours}^{{tree}}")),
        env.rev(&dir, "HEAD:modules/a")
    );
}

#[test]
fn split_branch_is_created_then_only_moved_forward() {
    let env = TestEnv::new();
    let (dir, _a) = project_with_a(&env);
    append_commit(&env, &dir, MODELS, "# fix", "Fix");
    let out = env.qs_ok(&dir, &["split", "a", "--branch", "splits/a-module"]);
    assert!(stderr(&out).contains("Created branch 'splits/a-module'"));
    let first = stdout(&out).trim().to_owned();
    assert_eq!(env.rev(&dir, "splits/a-module"), first);
    append_commit(&env, &dir, MODELS, "# fix 2", "Fix 2");
    let out = env.qs_ok(&dir, &["split", "a", "-b", "splits/a-module"]);
    assert!(stderr(&out).contains("Updated branch 'splits/a-module'"));
    assert_eq!(
        env.rev(&dir, "splits/a-module^"),
        first,
        "fast-forwarded from the previous split"
    );
    // A branch with other history is never moved.
    env.git(&dir, &["branch", "-f", "other", "HEAD"]);
    let out = env.qs(&dir, &["split", "a", "-b", "other"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("branch 'other' is not an ancestor of commit"),
        "{}",
        describe(&out)
    );
    assert_eq!(env.rev(&dir, "other"), env.rev(&dir, "HEAD"));
}

#[test]
fn split_explains_a_missing_module_and_a_bad_name() {
    let env = TestEnv::new();
    let (dir, _a) = project_with_a(&env);
    let out = env.qs(&dir, &["split", "crm"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    assert!(
        err.contains("`modules/crm` is not a directory in commit"),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
    let out = env.qs(&dir, &["split", "../etc"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is not a module name"),
        "{}",
        describe(&out)
    );
    assert!(
        env.git(&dir, &["for-each-ref", "refs/quickscale/split/"])
            .is_empty(),
        "nothing cached for failed splits"
    );
}

/// Runs scripts/publish-modules.sh in `dir` with the built binary.
fn publish(env: &TestEnv, dir: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new("bash");
    env.env(&mut cmd);
    cmd.current_dir(dir)
        .env("QUICKSCALE", crate::common::BIN)
        .arg(crate::common::repo_root().join("scripts/publish-modules.sh"))
        .args(args);
    cmd.output().expect("run publish-modules.sh")
}

#[test]
fn publish_modules_script_publishes_every_module_folder_into_a_bare_repository() {
    let env = TestEnv::new();
    let dir = env.root().join("tool");
    std::fs::create_dir_all(&dir).expect("mkdir");
    env.git(&dir, &["init", "-q", "-b", "main"]);
    commit_files(&env, &dir, &[("src/main.rs", "fn main() {}\n")], "Tool");
    let mut files: Vec<(String, String)> = Vec::new();
    for name in ["alpha", "beta"] {
        for (rel, text) in crate::common::fixtures::module_files(name, "1.0.0") {
            files.push((format!("modules/{name}/{rel}"), text));
        }
    }
    files.push(("modules/scratch/notes.md".into(), "not a module\n".into()));
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    commit_files(&env, &dir, &refs, "First-party modules");
    append_commit(&env, &dir, "src/main.rs", "// more", "Tool work");
    let bare = env.root().join("published.git");
    env.git(
        env.root(),
        &["init", "-q", "--bare", bare.to_str().expect("utf8")],
    );

    let out = publish(&env, &dir, &["--push", bare.to_str().expect("utf8")]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(stderr(&out).contains("skipping modules/scratch (no module.yml)"));
    for name in ["alpha", "beta"] {
        let branch = format!("splits/{name}-module");
        assert_eq!(
            env.rev(&bare, &format!("{branch}^{{tree}}")),
            env.rev(&dir, &format!("HEAD:modules/{name}")),
            "{name}"
        );
        assert!(stdout(&out).contains(&format!("{branch} {}", env.rev(&bare, &branch))));
    }
    let branches = env.git(&bare, &["branch", "--format=%(refname:short)"]);
    assert_eq!(branches, "splits/alpha-module\nsplits/beta-module\n");
    // A later commit fast-forwards the branch that changed.
    let before = env.rev(&bare, "splits/alpha-module");
    append_commit(
        &env,
        &dir,
        "modules/alpha/README.md",
        "More docs.",
        "Alpha docs",
    );
    let out = publish(
        &env,
        &dir,
        &["--push", bare.to_str().expect("utf8"), "alpha"],
    );
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(env.rev(&bare, "splits/alpha-module^"), before);
    // What it published embeds like any upstream module.
    let project = env.new_project(&[
        "--module",
        "alpha@splits/alpha-module",
        "--source",
        &format!("alpha={}", bare.display()),
    ]);
    assert_eq!(
        env.rev(&project, "HEAD:modules/alpha"),
        env.rev(&dir, "HEAD:modules/alpha")
    );
}

#[test]
fn split_equals_git_subtree_split_when_merged_branches_carry_the_same_module_tree() {
    let Some(path) = git_subtree_path() else {
        return;
    };
    let env = TestEnv::new();
    let (dir, _a) = project_with_a(&env);
    // The same fix on two branches (a cherry-pick), then both merged: the
    // merge's module tree equals both parents' (git-subtree's merge-base rule).
    env.git(&dir, &["checkout", "-qb", "one"]);
    append_commit(&env, &dir, MODELS, "# shared fix", "Shared fix");
    let fix = env.rev(&dir, "HEAD");
    env.git(&dir, &["checkout", "-q", "main"]);
    env.git(&dir, &["checkout", "-qb", "two"]);
    append_commit(&env, &dir, "notes/two.txt", "2", "User work on two");
    env.git(&dir, &["cherry-pick", "-x", &fix]);
    env.git(&dir, &["checkout", "-q", "main"]);
    env.git(&dir, &["merge", "-q", "--no-ff", "one", "-m", "Merge one"]);
    env.git(&dir, &["merge", "-q", "--no-ff", "two", "-m", "Merge two"]);
    // A fast-forward-able module-only branch merged with --no-ff, and an
    // octopus merge of two user branches.
    env.git(&dir, &["checkout", "-qb", "three"]);
    append_commit(&env, &dir, MODELS, "# three", "Fix on three");
    env.git(&dir, &["checkout", "-q", "main"]);
    env.git(
        &dir,
        &["merge", "-q", "--no-ff", "three", "-m", "Merge three"],
    );
    for b in ["u1", "u2"] {
        env.git(&dir, &["checkout", "-qb", b, "main"]);
        append_commit(
            &env,
            &dir,
            &format!("notes/{b}.txt"),
            b,
            &format!("User {b}"),
        );
    }
    env.git(&dir, &["checkout", "-q", "main"]);
    env.git(
        &dir,
        &["merge", "-q", "--no-ff", "u1", "u2", "-m", "Octopus"],
    );
    append_commit(&env, &dir, MODELS, "# last", "Last fix");
    let ours = qs_split(&env, &dir, "a");
    assert_eq!(ours, oracle_split(&env, &dir, &path, "modules/a"));
    // The two copies of the fix are different commits: the merge is kept.
    let merges = env.git(&dir, &["log", "--merges", "--format=%s", &ours]);
    assert_eq!(merges, "Merge two\n");
}
