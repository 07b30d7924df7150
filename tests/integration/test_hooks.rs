//! The installed git hooks against real commits and merges: every policy
//! rule through the hook git runs, install/uninstall next to other hook
//! content and managers, and the pre-commit framework integration.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::fixtures::module_repo;
use crate::common::{BIN, TestEnv, append, describe, git_subtree_path, stderr, stdout};

/// PATH with the binary under test first, so the hook blocks find
/// `git-quickscale` as they would on a user's machine.
fn path_with_bin() -> String {
    let dir = Path::new(BIN).parent().expect("bin dir");
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Runs git (hooks included) with git-quickscale on PATH; not asserted.
fn git_run(env: &TestEnv, dir: &Path, args: &[&str]) -> Output {
    git_run_with_path(env, dir, &path_with_bin(), args)
}

fn git_run_with_path(env: &TestEnv, dir: &Path, path: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new("git");
    env.env(&mut cmd);
    // GIT_TRACE shows which hooks git ran (see `assert_hook_ran`).
    cmd.env("PATH", path)
        .env("GIT_TRACE", "1")
        .current_dir(dir)
        .args(args);
    cmd.output().expect("run git")
}

/// git ran the installed `hook`, and the hook found git-quickscale.
fn assert_hook_ran(out: &Output, hook: &str) {
    let err = stderr(out);
    assert!(
        err.lines()
            .any(|l| l.contains("run_command:") && l.contains(&format!("/{hook}"))),
        "git did not run the {hook} hook:\n{err}"
    );
    assert!(
        !err.contains("not on PATH"),
        "the hook did not find git-quickscale:\n{err}"
    );
}

/// Runs git-quickscale with itself on PATH (as after a normal install).
fn qs_run(env: &TestEnv, dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    env.env(&mut cmd);
    cmd.env("PATH", path_with_bin()).current_dir(dir).args(args);
    cmd.output().expect("run git-quickscale")
}

fn qs_run_ok(env: &TestEnv, dir: &Path, args: &[&str]) -> Output {
    let out = qs_run(env, dir, args);
    assert!(out.status.success(), "{args:?}:\n{}", describe(&out));
    out
}

/// A new project `shop` with module `a` embedded at v1.0.0. `hooks`: let
/// the first apply install them (else `--no-hooks`).
fn project(env: &TestEnv, hooks: bool) -> (PathBuf, PathBuf) {
    let a = module_repo(env, "a");
    let src = format!("a={}", a.display());
    env.qs_ok(
        env.root(),
        &[
            "plan",
            "shop",
            "--theme",
            "showcase_html",
            "--module",
            "a@v1.0.0",
            "--source",
            &src,
            "--yes",
        ],
    );
    let dir = env.root().join("shop");
    let mut args = vec!["apply", "--yes"];
    if !hooks {
        args.push("--no-hooks");
    }
    qs_run_ok(env, &dir, &args);
    (dir, a)
}

fn head(env: &TestEnv, dir: &Path) -> String {
    env.rev(dir, "HEAD")
}

/// Commits what is staged through the installed hooks; asserts refusal
/// (exit 1, HEAD unchanged) and returns stderr.
fn assert_commit_refused(env: &TestEnv, dir: &Path, args: &[&str]) -> String {
    let before = head(env, dir);
    let out = git_run(env, dir, args);
    assert_eq!(out.status.code(), Some(1), "{args:?}:\n{}", describe(&out));
    assert_eq!(head(env, dir), before, "a refused commit moved HEAD");
    let err = stderr(&out);
    assert!(err.contains("git-quickscale refused this"), "{err}");
    err
}

fn assert_commit_ok(env: &TestEnv, dir: &Path, args: &[&str]) -> Output {
    let before = head(env, dir);
    let out = git_run(env, dir, args);
    assert!(out.status.success(), "{args:?}:\n{}", describe(&out));
    assert_ne!(head(env, dir), before, "no commit was made");
    assert_hook_ran(&out, "pre-commit");
    out
}

fn hooks_status(env: &TestEnv, dir: &Path) -> serde_json::Value {
    let out = qs_run_ok(env, dir, &["hooks", "status", "--json"]);
    serde_json::from_slice(&out.stdout).expect("status JSON")
}

fn hook_state(status: &serde_json::Value, hook: &str) -> serde_json::Value {
    status["hooks"]
        .as_array()
        .expect("hooks")
        .iter()
        .find(|h| h["hook"] == hook)
        .cloned()
        .expect("hook in status")
}

// ---------------------------------------------------------------------------
// The rules, through the hook the first apply installed.

#[test]
fn the_first_apply_installs_the_hooks_and_no_hooks_skips_them() {
    let env = TestEnv::new();
    let (dir, _) = project(&env, true);
    for hook in ["pre-commit", "pre-merge-commit", "pre-push"] {
        let text = std::fs::read_to_string(dir.join(".git/hooks").join(hook)).expect("hook");
        assert!(
            text.starts_with("#!/bin/sh\n## START QUICKSCALE\n"),
            "{text}"
        );
        assert!(text.contains(&format!("git-quickscale hooks run {hook} \"$@\"")));
        assert!(text.ends_with("## END QUICKSCALE\n"));
    }
    let status = hooks_status(&env, &dir);
    assert_eq!(hook_state(&status, "pre-commit")["state"], "installed");
    assert_eq!(hook_state(&status, "pre-commit")["executable"], true);
    assert_eq!(status["mode"], "block");

    let env2 = TestEnv::new();
    let (dir2, _) = project(&env2, false);
    assert!(!dir2.join(".git/hooks/pre-commit").exists());
    let status = hooks_status(&env2, &dir2);
    assert_eq!(hook_state(&status, "pre-commit")["state"], "missing");
}

/// A hook started with stdout closed: the check must not let the first
/// file it opens become its stdout (which the user's lines, run after it,
/// inherit): it reopens the closed descriptor on /dev/null, as Rust's own
/// start-up does (src/main.rs skips that start-up on glibc).
#[test]
fn a_hook_started_with_stdout_closed_hands_on_dev_null_not_a_file() {
    let env = TestEnv::new();
    let (dir, _) = project(&env, true);
    let seen = env.root().join("fd1");
    append(
        &dir,
        ".git/hooks/pre-commit",
        &format!(
            // `test -ef` opens nothing, so it sees the shell's own fd 1.
            "[ /proc/$$/fd/1 -ef /dev/null ] && seen=dev-null || seen=other; echo $seen > '{0}'\n",
            seen.display()
        ),
    );
    append(&dir, "templates/base.html", "x\n");
    env.git(&dir, &["add", "-A"]);
    let mut cmd = Command::new("sh");
    env.env(&mut cmd);
    let out = cmd
        .env("PATH", path_with_bin())
        .current_dir(&dir)
        .args(["-c", "exec .git/hooks/pre-commit 1>&-"])
        .output()
        .expect("run the hook");
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        stderr(&out).is_empty(),
        "the check did not run: {}",
        describe(&out)
    );
    let fd1 = std::fs::read_to_string(&seen).expect("the user's line ran");
    assert_eq!(fd1.trim(), "dev-null");
}

#[test]
fn a_hook_the_tool_created_execs_the_check_and_lines_added_below_it_still_run() {
    let env = TestEnv::new();
    let (dir, _) = project(&env, true);
    let hook = dir.join(".git/hooks/pre-commit");
    let read = |p: &Path| std::fs::read_to_string(p).expect("hook");
    assert!(
        read(&hook).contains("exec git-quickscale hooks run pre-commit \"$@\""),
        "{}",
        read(&hook)
    );
    // pre-push: git's ref list on stdin belongs to the rest of a hook.
    assert!(!read(&dir.join(".git/hooks/pre-push")).contains("exec git-quickscale"));

    // Lines added below the block later, without `hooks install`.
    let marker = env.root().join("user-lines-ran");
    let user_line = format!(
        "echo \"ran $* ${{QUICKSCALE_HOOK_RAN-unset}}\" >> '{}'\n",
        marker.display()
    );
    append(&dir, ".git/hooks/pre-commit", &user_line);
    append(&dir, "modules/a/README.md", "x\n");
    append(&dir, "templates/base.html", "x\n");
    env.git(&dir, &["add", "-A"]);
    // A refusal stops the hook before them, as `|| exit $?` does.
    assert_commit_refused(&env, &dir, &["commit", "-qm", "mixed"]);
    assert!(!marker.exists(), "the user's lines ran after a refusal");
    // A commit that passes runs them once, with the block stepping aside
    // and its variable gone.
    env.git(&dir, &["restore", "--staged", "templates/base.html"]);
    assert_commit_ok(&env, &dir, &["commit", "-qm", "module"]);
    assert_eq!(read(&marker), "ran  unset\n");

    // `hooks install` gives a file with other content the block that runs
    // the check and goes on; the user's lines stay and still run.
    let status = hooks_status(&env, &dir);
    assert_eq!(hook_state(&status, "pre-commit")["state"], "outdated");
    assert_eq!(hook_state(&status, "pre-commit")["other_content"], true);
    qs_run_ok(&env, &dir, &["hooks", "install"]);
    let text = read(&hook);
    assert!(!text.contains("exec git-quickscale"), "{text}");
    assert!(
        text.contains("    git-quickscale hooks run pre-commit \"$@\" </dev/null || exit $?\n"),
        "{text}"
    );
    assert!(
        text.ends_with(&format!("## END QUICKSCALE\n{user_line}")),
        "{text}"
    );
    assert_eq!(
        hook_state(&hooks_status(&env, &dir), "pre-commit")["state"],
        "installed"
    );
    env.git(&dir, &["add", "-A"]);
    assert_commit_ok(&env, &dir, &["commit", "-qm", "mine"]);
    assert_eq!(read(&marker), "ran  unset\nran  unset\n");

    // Without the user's lines again, install goes back to the exec block.
    std::fs::write(&hook, text.replace(&user_line, "")).expect("hook");
    assert_eq!(
        hook_state(&hooks_status(&env, &dir), "pre-commit")["state"],
        "outdated"
    );
    qs_run_ok(&env, &dir, &["hooks", "install"]);
    assert!(read(&hook).contains("exec git-quickscale"));
    qs_run_ok(&env, &dir, &["hooks", "uninstall"]);
    assert!(!hook.exists());
}

#[test]
fn a_commit_mixing_module_and_user_files_is_refused_and_each_half_passes() {
    let env = TestEnv::new();
    let (dir, _) = project(&env, true);
    append(&dir, "modules/a/README.md", "local fix\n");
    append(&dir, "templates/base.html", "<!-- mine -->\n");
    append(&dir, "static/css/style.css", "/* mine */\n");
    env.git(&dir, &["add", "-A"]);
    let err = assert_commit_refused(&env, &dir, &["commit", "-qm", "mixed"]);
    assert!(err.contains("[mixed-commit]"), "{err}");
    assert!(err.contains("modules/a/README.md"), "{err}");
    assert!(err.contains("  templates/base.html\n"), "{err}");
    assert!(err.contains("  static/css/style.css\n"), "{err}");
    assert!(
        err.contains("git restore --staged -- static/css/style.css templates/base.html"),
        "{err}"
    );
    assert!(err.contains("--no-verify"), "{err}");

    // The fix it prints works: split, then both commits pass.
    env.git(
        &dir,
        &[
            "restore",
            "--staged",
            "--",
            "static/css/style.css",
            "templates/base.html",
        ],
    );
    assert_commit_ok(&env, &dir, &["commit", "-qm", "module fix"]);
    env.git(&dir, &["add", "-A"]);
    assert_commit_ok(&env, &dir, &["commit", "-qm", "my changes"]);
    assert_eq!(
        env.git(&dir, &["show", "--name-only", "--format=", "HEAD~1"])
            .trim(),
        "modules/a/README.md"
    );
}

/// `git cherry-pick` copies no note: after picking the commit that added
/// module `b`, the nearest note predates `b`. The hook must still see
/// `modules/b/` as a module (as `check` does), not as the user's files.
#[test]
fn after_cherry_picking_the_commit_that_added_a_module_the_hook_still_guards_it() {
    let env = TestEnv::new();
    let (dir, _) = project(&env, true);
    env.git(&dir, &["branch", "-q", "side"]);
    let b = module_repo(&env, "b");
    env.plan_add(&dir, &[("b", &b)]);
    qs_run_ok(&env, &dir, &["apply", "--yes"]);
    let tool_commit = head(&env, &dir);
    assert!(dir.join("modules/b/README.md").exists());

    env.git(&dir, &["switch", "-q", "side"]);
    append(&dir, "README.md", "side work\n");
    env.git(&dir, &["commit", "-qam", "Work on side", "--no-verify"]);
    // The apply made a squash, its merge and a wiring commit: pick the
    // merge (as its first parent's change) and the wiring.
    env.git(
        &dir,
        &["cherry-pick", "-m", "1", &format!("{tool_commit}~1")],
    );
    env.git(&dir, &["cherry-pick", &tool_commit]);
    let picked = head(&env, &dir);
    assert!(
        !env.git(&dir, &["notes", "--ref=quickscale", "list"])
            .contains(&picked),
        "cherry-pick copied the note"
    );
    assert!(dir.join("modules/b/README.md").exists());

    append(&dir, "modules/b/README.md", "local fix\n");
    append(&dir, "templates/base.html", "<!-- mine -->\n");
    env.git(&dir, &["add", "-A"]);
    let err = assert_commit_refused(&env, &dir, &["commit", "-qm", "mixed"]);
    assert!(err.contains("[mixed-commit]"), "{err}");
    assert!(err.contains("modules/b/README.md"), "{err}");
    assert!(err.contains("  templates/base.html\n"), "{err}");
    assert!(
        err.contains("ignored"),
        "the hook names the stale note:\n{err}"
    );

    // Each half alone passes.
    env.git(&dir, &["restore", "--staged", "--", "templates/base.html"]);
    assert_commit_ok(&env, &dir, &["commit", "-qm", "module fix"]);
    env.git(&dir, &["add", "-A"]);
    assert_commit_ok(&env, &dir, &["commit", "-qm", "my changes"]);
}

#[test]
fn commit_a_and_partial_commits_are_checked_with_the_index_git_uses() {
    let env = TestEnv::new();
    let (dir, _) = project(&env, true);
    append(&dir, "modules/a/README.md", "local fix\n");
    append(&dir, "templates/base.html", "<!-- mine -->\n");
    // `commit -a` and `commit <paths>` run the hook on a temporary index.
    let err = assert_commit_refused(&env, &dir, &["commit", "-qam", "all"]);
    assert!(err.contains("templates/base.html"), "{err}");
    assert_commit_refused(
        &env,
        &dir,
        &[
            "commit",
            "-qm",
            "some",
            "--",
            "modules/a/README.md",
            "templates/base.html",
        ],
    );
    assert_commit_ok(
        &env,
        &dir,
        &["commit", "-qm", "one", "--", "templates/base.html"],
    );
}

#[test]
fn hand_edits_of_managed_files_are_refused_with_the_quickscale_yml_way() {
    let env = TestEnv::new();
    let (dir, _) = project(&env, true);
    append(&dir, "shop/settings/modules.py", "A_GREETING = 'hi'\n");
    append(&dir, "requirements-modules.txt", "requests\n");
    env.git(&dir, &["add", "-A"]);
    let err = assert_commit_refused(&env, &dir, &["commit", "-qm", "edit"]);
    assert!(err.contains("[managed-edit]"), "{err}");
    assert!(err.contains("  shop/settings/modules.py\n"), "{err}");
    assert!(err.contains("  requirements-modules.txt\n"), "{err}");
    assert!(
        err.contains("git quickscale plan --reconfigure --set MODULE.OPTION=VALUE"),
        "{err}"
    );
    assert!(err.contains("requirements.txt"), "{err}");
    // The user-owned settings file is the place for it.
    env.git(&dir, &["reset", "-q", "--hard"]);
    append(&dir, "shop/settings/base.py", "A_GREETING = 'hi'\n");
    env.git(&dir, &["add", "-A"]);
    assert_commit_ok(&env, &dir, &["commit", "-qm", "setting"]);
}

#[test]
fn deleting_or_moving_a_module_prefix_is_refused_with_the_remove_recipe() {
    let env = TestEnv::new();
    let (dir, _) = project(&env, true);
    env.git(&dir, &["rm", "-rq", "modules/a"]);
    let err = assert_commit_refused(&env, &dir, &["commit", "-qm", "drop a"]);
    assert!(err.contains("[prefix-removed]"), "{err}");
    assert!(err.contains("  modules/a/\n"), "{err}");
    assert!(err.contains("git quickscale remove a"), "{err}");
    env.git(&dir, &["reset", "-q", "--hard"]);

    env.git(&dir, &["mv", "modules/a", "modules/b"]);
    let err = assert_commit_refused(&env, &dir, &["commit", "-qm", "rename a"]);
    assert!(
        err.contains("moves the module prefix modules/a/ to modules/b/"),
        "{err}"
    );
    env.git(&dir, &["reset", "-q", "--hard"]);
    assert!(dir.join("modules/a/module.yml").is_file());

    // Deleting one file of a module is module work, not a removal.
    env.git(&dir, &["rm", "-q", "modules/a/README.md"]);
    assert_commit_ok(&env, &dir, &["commit", "-qm", "drop a readme"]);
}

#[test]
fn committing_quickscale_yml_by_hand_warns_but_goes_ahead() {
    let env = TestEnv::new();
    let (dir, _) = project(&env, true);
    append(&dir, "quickscale.yml", "# a comment\n");
    env.git(&dir, &["add", "-A"]);
    let out = assert_commit_ok(&env, &dir, &["commit", "-qm", "yml"]);
    let err = stderr(&out);
    assert!(err.contains("warning: [desired-not-applied]"), "{err}");
    assert!(err.contains("git quickscale apply"), "{err}");
}

#[test]
fn warn_mode_and_no_verify_let_a_mixed_commit_through() {
    let env = TestEnv::new();
    let (dir, _) = project(&env, true);
    append(&dir, "modules/a/README.md", "x\n");
    append(&dir, "templates/base.html", "x\n");
    env.git(&dir, &["add", "-A"]);
    assert_commit_refused(&env, &dir, &["commit", "-qm", "mixed"]);
    let before = head(&env, &dir);
    let out = git_run(&env, &dir, &["commit", "--no-verify", "-qm", "mixed"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_ne!(head(&env, &dir), before);

    append(&dir, "modules/a/README.md", "y\n");
    append(&dir, "templates/base.html", "y\n");
    env.git(&dir, &["add", "-A"]);
    env.git(&dir, &["config", "quickscale.hooks.mode", "warn"]);
    let out = assert_commit_ok(&env, &dir, &["commit", "-qm", "mixed again"]);
    let err = stderr(&out);
    assert!(err.contains("warning: [mixed-commit]"), "{err}");
    assert!(err.contains("quickscale.hooks.mode is warn"), "{err}");
    assert_eq!(hooks_status(&env, &dir)["mode"], "warn");

    // A typo in the mode does not silently switch the checks off.
    env.git(&dir, &["config", "quickscale.hooks.mode", "bogus"]);
    append(&dir, "templates/base.html", "z\n");
    env.git(&dir, &["add", "-A"]);
    let out = git_run(&env, &dir, &["commit", "-qm", "z"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("quickscale.hooks.mode"),
        "{}",
        describe(&out)
    );
}

#[test]
fn a_real_git_subtree_pull_squash_passes_the_merge_hook() {
    let Some(subtree) = git_subtree_path() else {
        return;
    };
    let env = TestEnv::new();
    let (dir, a) = project(&env, true);
    let path = format!("{}:{subtree}", path_with_bin());
    let before = head(&env, &dir);
    let out = git_run_with_path(
        &env,
        &dir,
        &path,
        &[
            "subtree",
            "pull",
            "--squash",
            "--prefix=modules/a",
            a.to_str().expect("utf8"),
            "v1.1.0",
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    assert_hook_ran(&out, "pre-merge-commit");
    assert_eq!(env.rev(&dir, "HEAD^1"), before, "no merge commit");
    assert_eq!(
        env.rev(&dir, "HEAD:modules/a"),
        env.rev(&a, "v1.1.0^{tree}")
    );
}

/// A side branch whose tip carries git-subtree trailers for modules/a and
/// changes `files`: a crafted "subtree merge".
fn crafted_subtree_branch(env: &TestEnv, dir: &Path, a: &Path, files: &[&str]) {
    env.git(dir, &["checkout", "-qb", "side"]);
    for f in files {
        append(dir, f, "side change\n");
    }
    env.git(dir, &["add", "-A"]);
    let split = env.rev(a, "v1.1.0");
    let message = format!(
        "Squashed 'modules/a/' changes\n\ngit-subtree-dir: modules/a\ngit-subtree-split: {split}\n"
    );
    env.git(dir, &["commit", "--no-verify", "-qm", &message]);
    env.git(dir, &["checkout", "-q", "main"]);
}

#[test]
fn a_crafted_subtree_merge_that_also_edits_templates_is_blocked() {
    let env = TestEnv::new();
    let (dir, a) = project(&env, true);
    crafted_subtree_branch(
        &env,
        &dir,
        &a,
        &["modules/a/README.md", "templates/base.html"],
    );
    let before = head(&env, &dir);
    // pre-merge-commit: git names the merged head in GITHEAD_<id>.
    let out = git_run(
        &env,
        &dir,
        &["merge", "--no-ff", "-m", "Merge side", "side"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains("[subtree-merge]"), "{err}");
    assert!(err.contains("modules/a/"), "{err}");
    assert!(err.contains("  templates/base.html\n"), "{err}");
    assert!(!err.contains("  modules/a/README.md\n"), "{err}");
    assert!(err.contains("git merge --no-verify"), "{err}");
    assert_eq!(head(&env, &dir), before);
    // git leaves the merge to `git commit`: the pre-commit hook sees MERGE_HEAD.
    let err = assert_commit_refused(&env, &dir, &["commit", "-qm", "Merge side"]);
    assert!(err.contains("[subtree-merge]"), "{err}");
    env.git(&dir, &["merge", "--abort"]);

    // The same kind of merge touching only the prefix passes.
    env.git(&dir, &["branch", "-qD", "side"]);
    crafted_subtree_branch(&env, &dir, &a, &["modules/a/README.md"]);
    let out = git_run(
        &env,
        &dir,
        &["merge", "--no-ff", "-m", "Merge side", "side"],
    );
    assert!(out.status.success(), "{}", describe(&out));
    assert_hook_ran(&out, "pre-merge-commit");
    assert_eq!(env.rev(&dir, "HEAD^1"), before);
}

#[test]
fn an_ordinary_merge_of_separately_made_commits_passes() {
    let env = TestEnv::new();
    let (dir, _) = project(&env, true);
    env.git(&dir, &["checkout", "-qb", "feature"]);
    append(&dir, "modules/a/README.md", "module work\n");
    env.git(&dir, &["add", "-A"]);
    assert_commit_ok(&env, &dir, &["commit", "-qm", "module work"]);
    append(&dir, "templates/base.html", "my work\n");
    env.git(&dir, &["add", "-A"]);
    assert_commit_ok(&env, &dir, &["commit", "-qm", "my work"]);
    env.git(&dir, &["checkout", "-q", "main"]);
    let out = git_run(
        &env,
        &dir,
        &["merge", "--no-ff", "-m", "Merge feature", "feature"],
    );
    assert!(out.status.success(), "{}", describe(&out));
    assert_hook_ran(&out, "pre-merge-commit");
    assert_eq!(
        env.git(&dir, &["log", "-1", "--format=%s"]).trim(),
        "Merge feature"
    );
}

// ---------------------------------------------------------------------------
// Install and uninstall next to what is already there.

fn hook_files(dir: &Path) -> Vec<(String, Option<Vec<u8>>)> {
    ["pre-commit", "pre-merge-commit", "pre-push"]
        .iter()
        .map(|h| (h.to_string(), std::fs::read(dir.join(h)).ok()))
        .collect()
}

#[test]
fn install_status_uninstall_without_existing_hooks() {
    let env = TestEnv::new();
    let (dir, _) = project(&env, false);
    let out = qs_run_ok(&env, &dir, &["hooks", "install"]);
    let err = stderr(&out);
    assert!(
        err.contains("Installed the git-quickscale hooks in .git/hooks"),
        "{err}"
    );
    assert!(err.contains("pre-commit        created"), "{err}");
    let installed = hook_files(&dir.join(".git/hooks"));
    // Idempotent: a second install changes nothing.
    let out = qs_run_ok(&env, &dir, &["hooks", "install"]);
    assert!(
        stderr(&out).contains("already installed"),
        "{}",
        describe(&out)
    );
    assert_eq!(hook_files(&dir.join(".git/hooks")), installed);

    let text = stdout(&qs_run_ok(&env, &dir, &["hooks", "status"]));
    assert!(text.contains("Hooks directory: .git/hooks"), "{text}");
    assert!(text.contains("pre-commit        installed"), "{text}");
    assert!(text.contains("Mode: block"), "{text}");
    assert!(text.contains("git-quickscale on PATH: /"), "{text}");

    let out = qs_run_ok(&env, &dir, &["hooks", "uninstall"]);
    assert!(
        stderr(&out).contains("deleted (it only held the block)"),
        "{}",
        describe(&out)
    );
    assert!(
        hook_files(&dir.join(".git/hooks"))
            .iter()
            .all(|(_, c)| c.is_none())
    );
    let text = stdout(&qs_run_ok(&env, &dir, &["hooks", "status"]));
    assert!(text.contains("pre-commit        not installed"), "{text}");
    let out = qs_run_ok(&env, &dir, &["hooks", "uninstall"]);
    assert!(stderr(&out).contains("not installed"), "{}", describe(&out));
}

#[test]
fn an_existing_user_hook_keeps_running_and_comes_back_byte_identical() {
    let env = TestEnv::new();
    let (dir, _) = project(&env, false);
    let marker = env.root().join("user-hook-ran");
    let original = format!(
        "#!/bin/sh\n# my hook\necho \"ran $*\" >> '{}'\nexit 0\n",
        marker.display()
    );
    let hook = dir.join(".git/hooks/pre-commit");
    std::fs::write(&hook, &original).expect("hook");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o750)).expect("chmod");
    }
    let out = qs_run_ok(&env, &dir, &["hooks", "install"]);
    assert!(
        stderr(&out).contains("added to your existing hook"),
        "{}",
        describe(&out)
    );
    let status = hooks_status(&env, &dir);
    assert_eq!(hook_state(&status, "pre-commit")["state"], "installed");
    assert_eq!(hook_state(&status, "pre-commit")["other_content"], true);

    // The user's `exit 0` does not skip the check, and the user's hook still runs.
    append(&dir, "modules/a/README.md", "x\n");
    append(&dir, "templates/base.html", "x\n");
    env.git(&dir, &["add", "-A"]);
    assert_commit_refused(&env, &dir, &["commit", "-qm", "mixed"]);
    env.git(&dir, &["restore", "--staged", "templates/base.html"]);
    assert_commit_ok(&env, &dir, &["commit", "-qm", "module"]);
    assert_eq!(
        std::fs::read_to_string(&marker).expect("user hook ran"),
        "ran \n"
    );

    qs_run_ok(&env, &dir, &["hooks", "uninstall"]);
    assert_eq!(std::fs::read_to_string(&hook).expect("hook"), original);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&hook).expect("meta").permissions().mode() & 0o777,
        0o750
    );
    assert!(!dir.join(".git/hooks/pre-push").exists());
}

#[test]
fn a_non_shell_hook_is_refused_and_nothing_is_written() {
    let env = TestEnv::new();
    let (dir, _) = project(&env, false);
    let hooks = dir.join(".git/hooks");
    std::fs::write(
        hooks.join("pre-push"),
        "#!/usr/bin/env python3\nprint('hi')\n",
    )
    .expect("hook");
    let before = hook_files(&hooks);
    let out = qs_run(&env, &dir, &["hooks", "install"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains("is not a shell script (python3)"), "{err}");
    assert!(err.contains("git-quickscale hooks run"), "{err}");
    assert_eq!(hook_files(&hooks), before);
}

#[test]
fn core_hooks_path_husky_style_is_honoured() {
    let env = TestEnv::new();
    let (dir, _) = project(&env, false);
    let marker = env.root().join("husky-ran");
    std::fs::create_dir_all(dir.join(".husky/_")).expect("husky");
    std::fs::write(dir.join(".husky/_/husky.sh"), "# husky 8\n").expect("husky.sh");
    let original = format!(
        "#!/usr/bin/env sh\n. \"$(dirname -- \"$0\")/_/husky.sh\"\n\necho husky >> '{}'\n",
        marker.display()
    );
    std::fs::write(dir.join(".husky/pre-commit"), &original).expect("hook");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            dir.join(".husky/pre-commit"),
            std::fs::Permissions::from_mode(0o755),
        )
        .expect("chmod");
    }
    env.git(&dir, &["add", "-A"]);
    env.git(&dir, &["commit", "-qm", "husky"]);
    env.git(&dir, &["config", "core.hooksPath", ".husky"]);

    let out = qs_run_ok(&env, &dir, &["hooks", "install"]);
    assert!(
        stderr(&out).contains("Installed the git-quickscale hooks in .husky"),
        "{}",
        describe(&out)
    );
    assert!(!dir.join(".git/hooks/pre-commit").exists());
    let text = std::fs::read_to_string(dir.join(".husky/pre-commit")).expect("hook");
    assert!(
        text.starts_with("#!/usr/bin/env sh\n## START QUICKSCALE\n"),
        "{text}"
    );
    let status = hooks_status(&env, &dir);
    assert_eq!(status["location"]["source"]["kind"], "hooks_path");
    assert_eq!(status["location"]["outside"], false);
    assert_eq!(hook_state(&status, "pre-commit")["manager"], "husky");

    append(&dir, "modules/a/README.md", "x\n");
    append(&dir, "templates/base.html", "x\n");
    env.git(&dir, &["add", "modules", "templates"]);
    assert_commit_refused(&env, &dir, &["commit", "-qm", "mixed"]);
    env.git(&dir, &["restore", "--staged", "templates/base.html"]);
    assert_commit_ok(&env, &dir, &["commit", "-qm", "module"]);
    assert_eq!(
        std::fs::read_to_string(&marker).expect("husky ran"),
        "husky\n"
    );

    qs_run_ok(&env, &dir, &["hooks", "uninstall"]);
    assert_eq!(
        std::fs::read_to_string(dir.join(".husky/pre-commit")).expect("hook"),
        original
    );
    assert!(!dir.join(".husky/pre-push").exists());
}

#[test]
fn husky_9_hooks_go_into_the_user_hook_files() {
    let env = TestEnv::new();
    let (dir, _) = project(&env, false);
    // husky 9: core.hooksPath=.husky/_ with stubs that source `h`, which
    // runs .husky/<hook> with `sh -e`.
    std::fs::create_dir_all(dir.join(".husky/_")).expect("husky");
    std::fs::write(
        dir.join(".husky/_/h"),
        "#!/usr/bin/env sh\nn=$(basename \"$0\")\ns=$(dirname \"$(dirname \"$0\")\")/$n\n[ ! -f \"$s\" ] && exit 0\nsh -e \"$s\" \"$@\"\n",
    )
    .expect("h");
    for hook in ["pre-commit", "pre-merge-commit", "pre-push"] {
        let stub = dir.join(".husky/_").join(hook);
        std::fs::write(&stub, "#!/usr/bin/env sh\n. \"$(dirname \"$0\")/h\"\n").expect("stub");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    env.git(&dir, &["config", "core.hooksPath", ".husky/_"]);
    qs_run_ok(&env, &dir, &["hooks", "install"]);
    assert!(
        std::fs::read_to_string(dir.join(".husky/pre-commit"))
            .expect("user hook")
            .contains("## START QUICKSCALE")
    );
    assert!(
        !std::fs::read_to_string(dir.join(".husky/_/pre-commit"))
            .expect("stub")
            .contains("QUICKSCALE")
    );
    let status = hooks_status(&env, &dir);
    assert_eq!(status["location"]["source"]["kind"], "husky");

    append(&dir, "modules/a/README.md", "x\n");
    append(&dir, "templates/base.html", "x\n");
    env.git(&dir, &["add", "modules", "templates"]);
    let err = assert_commit_refused(&env, &dir, &["commit", "-qm", "mixed"]);
    assert!(err.contains("[mixed-commit]"), "{err}");
}

#[test]
fn a_hooks_path_outside_the_repository_needs_a_flag() {
    let env = TestEnv::new();
    let (dir, _) = project(&env, false);
    let shared = env.root().join("shared-hooks");
    env.git(
        &dir,
        &["config", "core.hooksPath", shared.to_str().expect("utf8")],
    );
    let out = qs_run(&env, &dir, &["hooks", "install"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains("is outside this repository"), "{err}");
    assert!(err.contains("--allow-outside-repo"), "{err}");
    assert!(!shared.exists());
    assert_eq!(hooks_status(&env, &dir)["location"]["outside"], true);

    qs_run_ok(&env, &dir, &["hooks", "install", "--allow-outside-repo"]);
    assert!(
        std::fs::read_to_string(shared.join("pre-commit"))
            .expect("hook")
            .contains("## START QUICKSCALE")
    );
}

/// What `lefthook install` writes (its hook template, abridged).
const LEFTHOOK_HOOK: &str = r#"#!/bin/sh

if [ "$LEFTHOOK" = "0" ]; then
  exit 0
fi

call_lefthook()
{
  if lefthook -h >/dev/null 2>&1
  then
    eval lefthook $@
  else
    echo "Can't find lefthook in PATH"
  fi
}

call_lefthook "run pre-commit $@"
"#;

#[test]
fn a_lefthook_managed_hook_gets_the_block_and_a_warning() {
    let env = TestEnv::new();
    let (dir, _) = project(&env, false);
    let hook = dir.join(".git/hooks/pre-commit");
    std::fs::write(&hook, LEFTHOOK_HOOK).expect("hook");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    std::fs::write(dir.join("lefthook.yml"), "pre-commit:\n  commands: {}\n").expect("config");
    let out = qs_run_ok(&env, &dir, &["hooks", "install"]);
    let err = stderr(&out);
    assert!(err.contains("managed by lefthook"), "{err}");
    assert!(err.contains("lefthook.yml"), "{err}");
    let status = hooks_status(&env, &dir);
    assert_eq!(hook_state(&status, "pre-commit")["manager"], "lefthook");
    assert_eq!(hook_state(&status, "pre-commit")["other_content"], true);
    assert!(
        status["managers"]
            .as_array()
            .expect("managers")
            .contains(&serde_json::json!("lefthook"))
    );

    append(&dir, "modules/a/README.md", "x\n");
    append(&dir, "templates/base.html", "x\n");
    env.git(&dir, &["add", "modules", "templates"]);
    assert_commit_refused(&env, &dir, &["commit", "-qm", "mixed"]);
    env.git(&dir, &["restore", "--staged", "templates/base.html"]);
    let out = assert_commit_ok(&env, &dir, &["commit", "-qm", "module"]);
    // lefthook's part ran after ours (git sends hook output to stderr).
    assert!(
        stderr(&out).contains("Can't find lefthook in PATH"),
        "{}",
        describe(&out)
    );

    qs_run_ok(&env, &dir, &["hooks", "uninstall"]);
    assert_eq!(std::fs::read_to_string(&hook).expect("hook"), LEFTHOOK_HOOK);
}

#[test]
fn hooks_installed_from_a_linked_worktree_live_in_the_common_dir() {
    let env = TestEnv::new();
    let (dir, _) = project(&env, false);
    let wt = env.root().join("wt");
    env.git(
        &dir,
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            "feature",
            wt.to_str().expect("utf8"),
        ],
    );
    let out = qs_run_ok(&env, &wt, &["hooks", "install"]);
    assert!(
        stderr(&out).contains("pre-commit        created"),
        "{}",
        describe(&out)
    );
    assert!(dir.join(".git/hooks/pre-commit").is_file());
    assert!(!dir.join(".git/worktrees/wt/hooks").exists());
    let status = hooks_status(&env, &wt);
    assert_eq!(status["location"]["source"]["kind"], "git_dir");
    assert_eq!(hook_state(&status, "pre-commit")["state"], "installed");

    // Commits in the linked worktree are checked against its own index.
    append(&wt, "modules/a/README.md", "x\n");
    append(&wt, "templates/base.html", "x\n");
    env.git(&wt, &["add", "-A"]);
    let err = assert_commit_refused(&env, &wt, &["commit", "-qm", "mixed"]);
    assert!(err.contains("  templates/base.html\n"), "{err}");
    // The main worktree's index has nothing staged: its commits pass.
    append(&dir, "templates/index.html", "x\n");
    env.git(&dir, &["add", "-A"]);
    assert_commit_ok(&env, &dir, &["commit", "-qm", "main work"]);

    qs_run_ok(&env, &wt, &["hooks", "uninstall"]);
    assert!(!dir.join(".git/hooks/pre-commit").exists());
}

#[test]
fn a_missing_binary_warns_in_one_line_and_lets_git_continue() {
    let env = TestEnv::new();
    let (dir, _) = project(&env, true);
    append(&dir, "modules/a/README.md", "x\n");
    append(&dir, "templates/base.html", "x\n");
    env.git(&dir, &["add", "-A"]);
    let before = head(&env, &dir);
    // The host PATH, without the binary under test.
    let out = git_run_with_path(
        &env,
        &dir,
        &std::env::var("PATH").unwrap_or_default(),
        &["commit", "-qm", "mixed"],
    );
    assert!(out.status.success(), "{}", describe(&out));
    assert_ne!(head(&env, &dir), before);
    let err = stderr(&out);
    let warnings: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("git-quickscale"))
        .collect();
    assert_eq!(
        warnings,
        ["warning: git-quickscale is not on PATH, so its pre-commit check was skipped"],
        "{err}"
    );
    // Status says so too.
    let mut cmd = Command::new(BIN);
    env.env(&mut cmd);
    cmd.env("PATH", "/usr/bin:/bin")
        .current_dir(&dir)
        .args(["hooks", "status"]);
    let text = stdout(&cmd.output().expect("status"));
    assert!(text.contains("git-quickscale on PATH: not found"), "{text}");
}

#[test]
fn the_hook_never_writes_to_the_repository() {
    let env = TestEnv::new();
    let (dir, _) = project(&env, true);
    append(&dir, "modules/a/README.md", "x\n");
    append(&dir, "templates/base.html", "x\n");
    env.git(&dir, &["add", "-A"]);
    // A stale lock of a dead process: a writing command's recovery removes
    // it; the hook must leave it (and everything else) alone.
    std::fs::create_dir_all(dir.join(".git/quickscale")).expect("dir");
    std::fs::write(dir.join(".git/quickscale/lock"), "999999999").expect("lock");
    let before = crate::common::snapshot(&dir.join(".git"));
    let out = qs_run(&env, &dir, &["hooks", "run", "pre-commit"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("[mixed-commit]"),
        "{}",
        describe(&out)
    );
    assert_eq!(crate::common::snapshot(&dir.join(".git")), before);
}

#[test]
fn outside_a_project_the_hook_does_nothing() {
    let env = TestEnv::new();
    let dir = env.root().join("plain");
    std::fs::create_dir_all(&dir).expect("dir");
    env.git(&dir, &["init", "-q"]);
    std::fs::write(dir.join("a.txt"), "a").expect("file");
    env.git(&dir, &["add", "-A"]);
    let out = qs_run(&env, &dir, &["hooks", "run", "pre-commit"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(stderr(&out).is_empty(), "{}", describe(&out));
    let out = qs_run(&env, &dir, &["hooks", "install"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("no quickscale.yml"),
        "{}",
        describe(&out)
    );
}

// ---------------------------------------------------------------------------
// The pre-commit framework, from PyPI.

#[test]
fn pre_commit_try_repo_blocks_a_mixed_commit() {
    use crate::common::python::{base_command, python_enabled, run_with_timeout};
    use crate::common::release;
    if !python_enabled() {
        return;
    }
    let env = TestEnv::new();
    // `language: python`: pre-commit pip-installs the repository's root
    // pyproject.toml, which pins the git-quickscale wheel; pip finds it in
    // the wheel directory of this run's one release build, as users get it
    // from PyPI. Nothing else provides the binary: PATH has git only.
    let Some((wheels, _)) = release::wheel(&env) else {
        return;
    };
    let tools = release::tools(&env).expect("tools, as for the wheel");
    let (dir, _) = project(&env, false);
    let find_links = match std::env::var("PIP_FIND_LINKS") {
        Ok(more) if !more.is_empty() => format!("{} {more}", wheels.display()),
        _ => wheels.display().to_string(),
    };
    // PATH without any git-quickscale: only the hook's environment has one.
    let system_path = std::env::var("PATH").unwrap_or_default();
    let without_tool: Vec<&str> = system_path
        .split(':')
        .filter(|d| !d.is_empty() && !Path::new(d).join("git-quickscale").exists())
        .collect();
    let venv_path = format!("{}:{}", tools.display(), without_tool.join(":"));
    let pre_commit_env = |cmd: &mut Command| {
        cmd.env("PATH", &venv_path)
            .env("PRE_COMMIT_HOME", env.root().join("pre-commit-home"))
            .env("PIP_FIND_LINKS", &find_links)
            .env("PIP_CACHE_DIR", crate::common::python::cache_dir("pip"));
    };
    let venv = tools.parent().expect("venv").to_owned();

    let try_repo = |dir: &Path| {
        let mut cmd = base_command(&env, venv.join("bin/pre-commit"), dir);
        pre_commit_env(&mut cmd);
        cmd.args([
            "try-repo",
            crate::common::repo_root().to_str().expect("utf8"),
            "git-quickscale",
        ]);
        run_with_timeout(cmd, std::time::Duration::from_secs(600))
    };
    append(&dir, "modules/a/README.md", "x\n");
    append(&dir, "templates/base.html", "x\n");
    env.git(&dir, &["add", "-A"]);
    let out = try_repo(&dir);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(text.contains("[mixed-commit]"), "{text}");
    assert!(text.contains("templates/base.html"), "{text}");

    env.git(&dir, &["restore", "--staged", "templates/base.html"]);
    let out = try_repo(&dir);
    assert!(out.status.success(), "{}", describe(&out));
    env.git(&dir, &["reset", "-q", "--hard"]);

    // Through `pre-commit install`, with our own hooks already there: they
    // move to pre-commit.legacy and still run; the configured hook runs in
    // both stages, and sees a subtree merge through GITHEAD_*.
    let root = crate::common::repo_root();
    let rev = env.git(&root, &["rev-parse", "HEAD"]);
    std::fs::write(
        dir.join(".pre-commit-config.yaml"),
        format!(
            "repos:\n  - repo: {}\n    rev: {}\n    hooks:\n      - id: git-quickscale\n",
            root.display(),
            rev.trim()
        ),
    )
    .expect("config");
    env.git(&dir, &["add", "-A"]);
    env.git(&dir, &["commit", "--no-verify", "-qm", "pre-commit config"]);
    qs_run_ok(&env, &dir, &["hooks", "install"]);
    let mut cmd = base_command(&env, venv.join("bin/pre-commit"), &dir);
    pre_commit_env(&mut cmd);
    cmd.args([
        "install",
        "--hook-type",
        "pre-commit",
        "--hook-type",
        "pre-merge-commit",
    ]);
    let out = run_with_timeout(cmd, std::time::Duration::from_secs(300));
    assert!(out.status.success(), "{}", describe(&out));
    assert!(dir.join(".git/hooks/pre-commit.legacy").is_file());
    let status = hooks_status(&env, &dir);
    assert_eq!(hook_state(&status, "pre-commit")["manager"], "pre-commit");
    assert!(
        hook_state(&status, "pre-commit")["aside"]
            .as_str()
            .expect("aside")
            .ends_with("pre-commit.legacy")
    );
    let git_pc = |args: &[&str]| {
        let mut cmd = Command::new("git");
        env.env(&mut cmd);
        pre_commit_env(&mut cmd);
        cmd.current_dir(&dir).args(args);
        run_with_timeout(cmd, std::time::Duration::from_secs(600))
    };
    append(&dir, "modules/a/README.md", "x\n");
    append(&dir, "templates/base.html", "x\n");
    env.git(&dir, &["add", "-A"]);
    let out = git_pc(&["commit", "-qm", "mixed"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    env.git(&dir, &["reset", "-q", "--hard"]);
    // Without our own block, the pre-commit framework's hook alone refuses a crafted subtree merge.
    std::fs::remove_file(dir.join(".git/hooks/pre-commit.legacy")).expect("rm");
    std::fs::remove_file(dir.join(".git/hooks/pre-merge-commit.legacy")).expect("rm");
    let a = env.root().join("upstream/a");
    crafted_subtree_branch(
        &env,
        &dir,
        &a,
        &["modules/a/README.md", "templates/base.html"],
    );
    let out = git_pc(&["merge", "--no-ff", "-m", "Merge side", "side"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(text.contains("[subtree-merge]"), "{text}");
}
