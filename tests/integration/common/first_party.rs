//! This repository's first-party modules (`modules/<name>/`), published and
//! embedded the way users get them.
//!
//! [`publish`] copies the module folder as it is in the worktree (tracked
//! and new, not ignored, files) into a fresh repository, runs
//! `scripts/publish-first-party.sh --push` there into a temporary bare
//! repository, and returns that repository: the `splits/<name>-module`
//! branch users embed, without the network. [`embed`] plans and applies a
//! project from it with `--source <name>=file://…`.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{BIN, SubtreeLookup, TestEnv, describe, repo_root, stdout};

/// The branch the catalog names for a first-party module.
pub fn split_branch(name: &str) -> String {
    format!("splits/{name}-module")
}

/// Which splitter the publishing script can use here: `git quickscale
/// split` when this build has it, else the git-subtree script. None (with a
/// `SKIPPED` line; a panic with `CI=true`) when there is neither.
fn splitter_env() -> Option<Vec<(&'static str, String)>> {
    let has_split = Command::new(BIN)
        .args(["split", "--help"])
        .output()
        .is_ok_and(|o| o.status.success());
    let mut vars = vec![("QUICKSCALE", BIN.to_owned())];
    if has_split {
        return Some(vars);
    }
    let script = SubtreeLookup::from_env().oracle()?;
    vars.push(("QUICKSCALE_GIT_SUBTREE", script.display().to_string()));
    Some(vars)
}

/// Publishes `modules/<name>` of this checkout as `splits/<name>-module`
/// into a new bare repository under `env`; returns its path.
pub fn publish(env: &TestEnv, name: &str) -> Option<PathBuf> {
    let vars = splitter_env()?;
    let root = repo_root();
    let src = env.root().join(format!("first-party-{name}"));
    std::fs::create_dir_all(&src).expect("mkdir source repo");
    env.git(&src, &["init", "-q"]);
    let listed = env.git(
        &root,
        &[
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
            "--",
            &format!("modules/{name}"),
        ],
    );
    let mut files: Vec<&str> = listed.split('\0').filter(|f| !f.is_empty()).collect();
    assert!(
        files
            .iter()
            .any(|f| *f == format!("modules/{name}/module.yml")),
        "modules/{name}/module.yml is missing from this checkout"
    );
    files.push("scripts/publish-first-party.sh");
    for rel in files {
        let from = root.join(rel);
        if !from.is_file() {
            continue; // deleted in the worktree, still in the index
        }
        let to = src.join(rel);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&from, &to).unwrap_or_else(|e| panic!("copy {rel}: {e}"));
    }
    env.git(&src, &["add", "-A"]);
    env.git(
        &src,
        &["commit", "-q", "-m", &format!("Add the {name} module")],
    );
    let bare = env.root().join(format!("{name}-module.git"));
    env.git(
        env.root(),
        &["init", "-q", "--bare", bare.to_str().expect("UTF-8")],
    );

    let mut cmd = Command::new("bash");
    env.env(&mut cmd);
    cmd.current_dir(&src)
        .arg("scripts/publish-first-party.sh")
        .arg("--push")
        .arg(&bare)
        .arg(name);
    for (k, v) in &vars {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run scripts/publish-first-party.sh");
    assert!(
        out.status.success(),
        "publish-first-party.sh failed:\n{}",
        describe(&out)
    );
    let branch = split_branch(name);
    let tip = env.rev(&bare, &branch);
    assert_eq!(
        stdout(&out).trim(),
        format!("{branch} {tip}"),
        "the script names the branch and the commit it pushed"
    );
    // The split is the module folder alone, at the root.
    assert_eq!(
        env.rev(&bare, &format!("{branch}^{{tree}}")),
        env.rev(&src, &format!("HEAD:modules/{name}")),
        "{branch} is not the tree of modules/{name}"
    );
    Some(bare)
}

/// `file://` URL of a local repository.
pub fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// Plans a new project `slug` with `theme` and the published modules
/// (`(name, bare repository)`), `--set` arguments, applies it; returns its
/// directory.
pub fn embed(
    env: &TestEnv,
    slug: &str,
    theme: &str,
    modules: &[(&str, &Path)],
    sets: &[&str],
) -> PathBuf {
    let mut args: Vec<String> = vec![
        "plan".into(),
        slug.into(),
        "--theme".into(),
        theme.into(),
        "--yes".into(),
    ];
    for (name, repo) in modules {
        args.push("--module".into());
        args.push((*name).into());
        args.push("--source".into());
        args.push(format!("{name}={}", file_url(repo)));
    }
    for set in sets {
        args.push("--set".into());
        args.push((*set).into());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    env.qs_ok(env.root(), &args);
    let project = env.root().join(slug);
    env.qs_ok(&project, &["apply", "--yes"]);
    project
}
