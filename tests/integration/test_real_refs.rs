//! Refs as real repositories have them (issue 19 items 1–3): annotated
//! tags, tags pointing at tags, a tag and a branch of one name, hundreds of
//! tags, commit pins (full, abbreviated, no branch tip), scratch refs that
//! never outlive a command, and versions of a monorepo-shaped upstream
//! whose split tags start late.
//!
//! Every command run through `TestEnv::qs` also checks that
//! `refs/quickscale/tmp` is empty afterwards (tests/integration/common).

use std::path::{Path, PathBuf};

use crate::common::fixtures::{commit_to, module_files};
use crate::common::{TestEnv, describe, stderr, stdout};

fn note(env: &TestEnv, dir: &Path) -> serde_json::Value {
    serde_json::from_str(&env.git(dir, &["notes", "--ref", "quickscale", "show", "HEAD"]))
        .expect("note")
}

/// A module repository `name` whose release tags are all annotated:
/// v1.0.0, v1.1.0 (and a branch `v1.1.0` at another commit), v1.2.0 (an
/// annotated tag pointing at another annotated tag), v2.0.0; between
/// v1.0.0 and v1.1.0 a commit no ref names. Returns (path, that commit).
fn annotated_repo(env: &TestEnv, name: &str) -> (PathBuf, String) {
    let dir = env.root().join("upstream").join(name);
    std::fs::create_dir_all(&dir).expect("mkdir");
    env.git(&dir, &["init", "-q", "-b", "main"]);
    let mut hidden = String::new();
    for version in ["1.0.0", "1.1.0", "1.2.0", "2.0.0"] {
        commit_to(
            env,
            &dir,
            &module_files(name, version),
            &format!("{name} {version}"),
        );
        let tag = format!("v{version}");
        if version == "1.2.0" {
            env.git(&dir, &["tag", "-a", "-m", "inner", "inner-1.2.0"]);
            env.git(&dir, &["tag", "-a", "-m", "outer", &tag, "inner-1.2.0"]);
        } else {
            env.git(&dir, &["tag", "-a", "-m", &format!("{name} {tag}"), &tag]);
        }
        if version == "1.0.0" {
            commit_to(
                env,
                &dir,
                &[("NOTES.md".into(), "between releases\n".into())],
                "notes between releases",
            );
            hidden = env.git(&dir, &["rev-parse", "HEAD"]).trim().to_owned();
        }
    }
    // A branch named like a tag, at another commit: the tag wins (as in git).
    env.git(&dir, &["branch", "v1.1.0", "v2.0.0^{commit}"]);
    (dir, hidden)
}

fn project(env: &TestEnv) -> PathBuf {
    env.new_project(&[])
}

fn plan_apply(env: &TestEnv, dir: &Path, spec: &str, repo: &Path) {
    let name = spec.split('@').next().expect("name");
    env.qs_ok(
        dir,
        &[
            "plan",
            "--add",
            spec,
            "--source",
            &format!("{name}={}", repo.display()),
            "--yes",
        ],
    );
    env.qs_ok(dir, &["apply", "--yes"]);
}

fn peeled(env: &TestEnv, repo: &Path, rev: &str) -> String {
    env.rev(repo, &format!("{rev}^{{commit}}"))
}

#[test]
fn annotated_tags_pin_update_and_check_like_lightweight_ones() {
    let env = TestEnv::new();
    let (repo, _) = annotated_repo(&env, "crm");
    let dir = project(&env);
    plan_apply(&env, &dir, "crm@v1.0.0", &repo);
    let n = note(&env, &dir);
    assert_eq!(n["modules"]["crm"]["commit"], peeled(&env, &repo, "v1.0.0"));
    assert_eq!(
        env.rev(&dir, "HEAD:modules/crm"),
        env.rev(&repo, "v1.0.0^{tree}")
    );
    assert_eq!(
        env.rev(&dir, "refs/quickscale/modules/crm"),
        peeled(&env, &repo, "v1.0.0")
    );

    // The versions cache: the tag pointing at a tag is a version too.
    let out = env.qs(&dir, &["update", "--check", "--json"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["modules"][0]["compatible"], "v1.2.0", "{v}");
    assert_eq!(v["modules"][0]["breaking"], "v2.0.0", "{v}");
    let out = env.qs_ok(&dir, &["status"]);
    assert!(
        stdout(&out).contains("v1.2.0 (compatible), v2.0.0 (breaking)"),
        "{}",
        describe(&out)
    );

    // --to a tag that is also a branch name: the tag (as `git rev-parse`).
    env.qs_ok(&dir, &["update", "crm", "--to", "v1.1.0", "--yes"]);
    let n = note(&env, &dir);
    assert_eq!(n["modules"]["crm"]["commit"], peeled(&env, &repo, "v1.1.0"));
    assert_eq!(
        env.rev(&dir, "HEAD:modules/crm"),
        env.rev(&repo, "refs/tags/v1.1.0^{tree}")
    );
    // The newest compatible version is the tag of a tag.
    env.qs_ok(&dir, &["update", "--yes"]);
    let n = note(&env, &dir);
    assert_eq!(n["modules"]["crm"]["ref"], "v1.2.0");
    assert_eq!(n["modules"]["crm"]["commit"], peeled(&env, &repo, "v1.2.0"));
    assert_eq!(
        env.rev(&dir, "HEAD:modules/crm"),
        env.rev(&repo, "v1.2.0^{tree}")
    );
    // A pin straight to the tag of a tag, in a second module slot.
    env.qs_ok(&dir, &["update", "crm", "--to", "v2.0.0", "--yes"]);
    assert_eq!(
        note(&env, &dir)["modules"]["crm"]["commit"],
        peeled(&env, &repo, "v2.0.0")
    );
}

#[test]
fn a_tag_of_a_tag_pins_at_plan_time() {
    let env = TestEnv::new();
    let (repo, _) = annotated_repo(&env, "crm");
    let dir = project(&env);
    plan_apply(&env, &dir, "crm@v1.2.0", &repo);
    assert_eq!(
        note(&env, &dir)["modules"]["crm"]["commit"],
        peeled(&env, &repo, "v1.2.0")
    );
}

#[test]
fn commit_pins_full_and_abbreviated_including_commits_no_ref_names() {
    let env = TestEnv::new();
    let (repo, hidden) = annotated_repo(&env, "crm");
    let dir = project(&env);
    // Abbreviated (12 hex) id of a commit that is neither a tip nor tagged.
    plan_apply(&env, &dir, &format!("crm@{}", &hidden[..12]), &repo);
    let n = note(&env, &dir);
    assert_eq!(n["modules"]["crm"]["commit"], hidden);
    assert_eq!(
        env.rev(&dir, "HEAD:modules/crm"),
        env.rev(&repo, &format!("{hidden}^{{tree}}"))
    );
    // --to a 7-hex commit that an annotated tag names.
    let v11 = peeled(&env, &repo, "refs/tags/v1.1.0");
    env.qs_ok(&dir, &["update", "crm", "--to", &v11[..7], "--yes"]);
    assert_eq!(note(&env, &dir)["modules"]["crm"]["commit"], v11);
    // --to a full id.
    let v10 = peeled(&env, &repo, "v1.0.0");
    env.qs_ok(&dir, &["update", "crm", "--to", &v10, "--yes"]);
    assert_eq!(note(&env, &dir)["modules"]["crm"]["commit"], v10);
    // Too short to be an id, and unknown: what crm offers, no hint to retry.
    let out = env.qs(&dir, &["update", "crm", "--to", "deadbeef", "--yes"]);
    assert_ne!(out.status.code(), Some(0), "{}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains("deadbeef"), "{err}");
    assert!(err.contains("v1.2.0") && err.contains("main"), "{err}");
    assert!(!err.contains("run the command again"), "{err}");
}

#[test]
fn a_prefix_shorter_than_seven_hex_is_no_commit_id() {
    let env = TestEnv::new();
    let (repo, _) = annotated_repo(&env, "crm");
    // Below 7 hex nothing is a commit id: refused, naming crm's versions.
    let dir = project(&env);
    let head = env.rev(&repo, "main");
    let out = env.qs(
        &dir,
        &[
            "plan",
            "--add",
            &format!("crm@{}", &head[..6]),
            "--source",
            &format!("crm={}", repo.display()),
            "--yes",
        ],
    );
    let combined = format!("{}{}", stdout(&out), stderr(&out));
    // plan may accept (it only records), but apply must refuse clearly.
    if out.status.success() {
        let out = env.qs(&dir, &["apply", "--yes"]);
        assert_ne!(out.status.code(), Some(0), "{}", describe(&out));
        let err = stderr(&out);
        assert!(err.contains(&head[..6]) && err.contains("v2.0.0"), "{err}");
    } else {
        assert!(combined.contains(&head[..6]), "{combined}");
    }
}

/// `count` annotated tags `t0000`… on `commit`, in one git process.
fn many_tags(env: &TestEnv, repo: &Path, commit: &str, count: usize) {
    let mut stream = String::new();
    for i in 0..count {
        let msg = format!("tag {i}\n");
        stream.push_str(&format!(
            "tag t{i:04}\nfrom {commit}\ntagger T <t@e> 0 +0000\ndata {}\n{msg}\n",
            msg.len()
        ));
    }
    let mut cmd = std::process::Command::new("git");
    env.env(&mut cmd);
    let mut child = cmd
        .current_dir(repo)
        .args(["fast-import", "--quiet"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("fast-import");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stream.as_bytes())
        .expect("write");
    assert!(child.wait().expect("wait").success());
}

#[test]
fn hundreds_of_annotated_tags_leave_no_scratch_ref() {
    let env = TestEnv::new();
    let (repo, hidden) = annotated_repo(&env, "crm");
    let main = env.rev(&repo, "main");
    many_tags(&env, &repo, &main, 300);
    let dir = project(&env);
    // A commit pin fetches every branch and tag: none may stay behind.
    plan_apply(&env, &dir, &format!("crm@{hidden}"), &repo);
    assert_eq!(note(&env, &dir)["modules"]["crm"]["commit"], hidden);
    let out = env.qs(&dir, &["update", "--check"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(
        env.git(&dir, &["for-each-ref", "refs/quickscale/tmp"]),
        "",
        "scratch refs left"
    );
}

#[test]
fn recover_removes_scratch_refs_of_a_killed_command_and_their_locks() {
    let env = TestEnv::new();
    let (repo, _) = annotated_repo(&env, "crm");
    let dir = project(&env);
    // What an older git-quickscale killed mid-fetch leaves: scratch refs
    // holding annotated tag objects (loose and packed) and a ref lock.
    env.git(
        &dir,
        &[
            "fetch",
            "-q",
            repo.to_str().expect("utf8"),
            "+refs/tags/*:refs/quickscale/tmp/crm/tags/*",
        ],
    );
    env.git(&dir, &["pack-refs", "--all"]);
    env.git(
        &dir,
        &[
            "fetch",
            "-q",
            repo.to_str().expect("utf8"),
            "+refs/heads/main:refs/quickscale/tmp/crm/heads/main",
        ],
    );
    let lock = dir.join(".git/refs/quickscale/tmp/crm/heads/main.lock");
    std::fs::write(&lock, "").expect("lock");
    assert!(
        !env.git(&dir, &["for-each-ref", "refs/quickscale/tmp"])
            .is_empty()
    );
    let out = env.qs_unchecked(&dir, &["recover"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(env.git(&dir, &["for-each-ref", "refs/quickscale/tmp"]), "");
    assert!(!lock.exists(), "the ref lock stayed");
    // And the next embed of an annotated tag works.
    plan_apply(&env, &dir, "crm@v1.0.0", &repo);
}

#[test]
fn leftover_scratch_refs_never_block_a_command() {
    let env = TestEnv::new();
    let (repo, _) = annotated_repo(&env, "crm");
    let dir = project(&env);
    env.git(
        &dir,
        &[
            "fetch",
            "-q",
            repo.to_str().expect("utf8"),
            "+refs/tags/*:refs/quickscale/tmp/crm/tags/*",
        ],
    );
    env.qs_unchecked(
        &dir,
        &[
            "plan",
            "--add",
            "crm@v1.0.0",
            "--source",
            &format!("crm={}", repo.display()),
            "--yes",
        ],
    );
    let out = env.qs(&dir, &["apply", "--yes"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(
        note(&env, &dir)["modules"]["crm"]["commit"],
        peeled(&env, &repo, "v1.0.0")
    );
}

// ---------------------------------------------------------------------------
// A monorepo-shaped upstream: versions before the split tags
// ---------------------------------------------------------------------------

/// Upstream QuickScale's shape: monorepo `main` with annotated version
/// tags `0.62.0`, `0.63.0`, `0.88.0` (module `auth` under
/// `quickscale_modules/auth`), the split branch `splits/auth-module` with
/// one commit per version whose tree equals that subtree, a split tag only
/// for 0.88.0, and another module `crm` with its own split branch and tags.
fn upstream_shaped(env: &TestEnv) -> PathBuf {
    let dir = env.root().join("upstream").join("quickscale");
    let auth = env.root().join("work").join("auth");
    let crm = env.root().join("work").join("crm");
    for d in [&dir, &auth, &crm] {
        std::fs::create_dir_all(d).expect("mkdir");
        env.git(d, &["init", "-q", "-b", "main"]);
    }
    for version in ["0.62.0", "0.63.0", "0.88.0"] {
        let mut files = vec![(
            "pyproject.toml".to_owned(),
            format!("[project]\nname = \"quickscale\"\nversion = \"{version}\"\n"),
        )];
        for (rel, text) in module_files("auth", version) {
            files.push((format!("quickscale_modules/auth/{rel}"), text));
        }
        commit_to(env, &dir, &files, &format!("release {version}"));
        env.git(
            &dir,
            &["tag", "-a", "-m", &format!("release {version}"), version],
        );
        // The split commit of auth at this version (same tree as the
        // subtree), then one between releases, as upstream's history has.
        commit_to(
            env,
            &auth,
            &module_files("auth", version),
            &format!("auth {version}"),
        );
        if version == "0.88.0" {
            env.git(
                &auth,
                &[
                    "tag",
                    "-a",
                    "-m",
                    "auth 0.88.0",
                    "splits/auth-module/0.88.0",
                ],
            );
        }
        commit_to(
            env,
            &auth,
            &[("README.md".into(), format!("work after {version}\n"))],
            "wip",
        );
    }
    for version in ["0.88.0", "0.89.0"] {
        commit_to(
            env,
            &crm,
            &module_files("crm", version),
            &format!("crm {version}"),
        );
        env.git(
            &crm,
            &[
                "tag",
                "-a",
                "-m",
                "crm",
                &format!("splits/crm-module/{version}"),
            ],
        );
    }
    for (work, name) in [(&auth, "auth"), (&crm, "crm")] {
        env.git(
            &dir,
            &[
                "fetch",
                "-q",
                work.to_str().expect("utf8"),
                &format!("+refs/heads/main:refs/heads/splits/{name}-module"),
                "+refs/tags/*:refs/tags/*",
            ],
        );
    }
    dir
}

fn index_for(env: &TestEnv, repo: &Path, names: &[&str]) -> String {
    let path = env.root().join("index.toml");
    let mut text = String::new();
    for name in names {
        text.push_str(&format!(
            "[modules.{name}]\nsource = \"{}\"\n",
            repo.display()
        ));
    }
    std::fs::write(&path, text).expect("index");
    path.to_str().expect("utf8").to_owned()
}

#[test]
fn a_version_before_the_split_tags_resolves_through_the_monorepo_tag() {
    let env = TestEnv::new();
    let repo = upstream_shaped(&env);
    let index = index_for(&env, &repo, &["auth", "crm"]);
    let dir = project(&env);
    let out = env.qs_ok(
        &dir,
        &["--index", &index, "plan", "--add", "auth@v0.63.0", "--yes"],
    );
    let text = format!("{}{}", stdout(&out), stderr(&out));
    let out = env.qs_ok(&dir, &["--index", &index, "apply", "--yes"]);
    let text = format!("{text}{}{}", stdout(&out), stderr(&out));
    let expected = env.git(
        &repo,
        &[
            "log",
            "--format=%H",
            "--grep=^auth 0.63.0$",
            "splits/auth-module",
        ],
    );
    let n = note(&env, &dir);
    assert_eq!(n["modules"]["auth"]["commit"], expected.trim(), "{n:#}");
    assert_eq!(n["modules"]["auth"]["version"], "0.63.0");
    assert_eq!(
        env.rev(&dir, "HEAD:modules/auth"),
        env.rev(&repo, "0.63.0:quickscale_modules/auth")
    );
    // The plan or apply says how the version was found.
    assert!(
        text.contains("0.63.0") && text.contains("splits/auth-module"),
        "{text}"
    );
    assert!(text.contains("monorepo tag"), "{text}");
}

#[test]
fn a_missing_version_names_the_versions_of_this_module_only() {
    let env = TestEnv::new();
    let repo = upstream_shaped(&env);
    let index = index_for(&env, &repo, &["auth", "crm"]);
    let dir = project(&env);
    let out = env.qs(
        &dir,
        &["--index", &index, "plan", "--add", "crm@0.50.0", "--yes"],
    );
    let out = if out.status.success() {
        env.qs(&dir, &["--index", &index, "apply", "--yes"])
    } else {
        out
    };
    assert_ne!(out.status.code(), Some(0), "{}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains("0.88.0") && err.contains("0.89.0"), "{err}");
    // Not auth's tags, not the monorepo's release tags.
    assert!(!err.contains("splits/auth-module"), "{err}");
    assert!(!err.contains("0.62.0"), "{err}");
}
