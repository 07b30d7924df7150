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
use crate::test_update::versions_repo;

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

/// A full commit id already in the project's object database is still
/// checked against the source: a commit of another module (or of the
/// project) is no version of this one.
#[test]
fn a_full_commit_id_present_locally_must_come_from_the_source() {
    let env = TestEnv::new();
    let (crm_repo, _) = annotated_repo(&env, "crm");
    let (blog_repo, _) = annotated_repo(&env, "blog");
    let dir = project(&env);
    plan_apply(&env, &dir, "crm@v1.0.0", &crm_repo);
    let crm_commit = peeled(&env, &crm_repo, "v1.0.0");
    let own = env.rev(&dir, "HEAD");
    for id in [crm_commit.as_str(), own.as_str()] {
        let out = env.qs(
            &dir,
            &[
                "plan",
                "--add",
                &format!("blog@{id}"),
                "--source",
                &format!("blog={}", blog_repo.display()),
                "--yes",
            ],
        );
        let out = if out.status.success() {
            env.qs(&dir, &["apply", "--yes"])
        } else {
            out
        };
        assert_ne!(out.status.code(), Some(0), "{id}: {}", describe(&out));
        assert!(stderr(&out).contains(id), "{}", describe(&out));
        assert!(!dir.join("modules/blog").exists(), "{id}");
        // What blog offers, not crm's.
        assert!(stderr(&out).contains("v2.0.0"), "{}", describe(&out));
        // quickscale.yml back as it was, for the next attempt.
        env.git(&dir, &["checkout", "--", "quickscale.yml"]);
    }
    assert_eq!(env.rev(&dir, "HEAD"), own);
    assert_eq!(env.git(&dir, &["status", "--porcelain"]), "");
    // A full id blog's source has, though already here, is taken.
    let blog_v1 = peeled(&env, &blog_repo, "v1.0.0");
    env.git(
        &dir,
        &["fetch", "-q", blog_repo.to_str().expect("utf8"), "v2.0.0"],
    );
    plan_apply(&env, &dir, &format!("blog@{blog_v1}"), &blog_repo);
    assert_eq!(note(&env, &dir)["modules"]["blog"]["commit"], blog_v1);
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
    // The plan says how the version resolves, before anything is fetched
    // (a plan line on stdout, not a warning), and apply says it again.
    let dry = env.qs_ok(&dir, &["--index", &index, "apply", "--dry-run"]);
    let plan_line = |out: &str| {
        out.lines()
            .find(|l| l.starts_with("  ~ auth: ") && l.ends_with("(monorepo tag)"))
            .map(str::to_owned)
    };
    let line = plan_line(&stdout(&dry)).unwrap_or_else(|| panic!("{}", describe(&dry)));
    assert!(
        line.contains("has no tag `splits/auth-module/0.63.0`: version 0.63.0 is commit")
            && line.contains("at the repository's tag `0.63.0`"),
        "{line}"
    );
    let out = env.qs_ok(&dir, &["--index", &index, "apply", "--yes"]);
    assert_eq!(plan_line(&stderr(&out)), Some(line), "{}", describe(&out));
    assert!(
        !stderr(&out).contains("warning: module auth: "),
        "{}",
        describe(&out)
    );
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

/// A local clone of github.com/Experto-AI/quickscale (gated tests).
const UPSTREAM_VAR: &str = "QUICKSCALE_UPSTREAM_REPO";

pub fn upstream_repo() -> Option<PathBuf> {
    match std::env::var_os(UPSTREAM_VAR).filter(|v| !v.is_empty()) {
        Some(path) => Some(PathBuf::from(path)),
        None => {
            crate::common::skipped(&format!(
                "set {UPSTREAM_VAR} to a local clone of github.com/Experto-AI/quickscale"
            ));
            None
        }
    }
}

/// The user guide's example against upstream's real history: 0.63.0 has
/// no split tag, only the monorepo's annotated tag `0.63.0`.
#[test]
fn upstream_auth_v0_63_0_resolves_against_upstreams_history() {
    let Some(upstream) = upstream_repo() else {
        return;
    };
    let env = TestEnv::new();
    let index = index_for(&env, &upstream, &["auth"]);
    let dir = project(&env);
    let out = env.qs_ok(
        &dir,
        &["--index", &index, "plan", "--add", "auth@v0.63.0", "--yes"],
    );
    let mut text = format!("{}{}", stdout(&out), stderr(&out));
    let out = env.qs_ok(&dir, &["--index", &index, "apply", "--yes"]);
    text.push_str(&format!("{}{}", stdout(&out), stderr(&out)));
    assert_eq!(
        env.rev(&dir, "HEAD:modules/auth"),
        env.rev(&upstream, "0.63.0:quickscale_modules/auth"),
        "{text}"
    );
    let n = note(&env, &dir);
    let commit = n["modules"]["auth"]["commit"].as_str().expect("commit");
    // c8dfca9 and the later 9c4aae8 hold that tree: the split of the
    // tagged commit is the one with its date.
    assert!(commit.starts_with("c8dfca9"), "{n:#}");
    assert!(text.contains("monorepo tag"), "{text}");
    // A short id of a commit on the split branch that no ref names.
    let dir2 = project_in(&env, "shop2");
    env.qs_ok(
        &dir2,
        &["--index", &index, "plan", "--add", "auth@9c4aae8", "--yes"],
    );
    env.qs_ok(&dir2, &["--index", &index, "apply", "--yes"]);
    assert!(
        note(&env, &dir2)["modules"]["auth"]["commit"]
            .as_str()
            .expect("commit")
            .starts_with("9c4aae8")
    );
}

fn project_in(env: &TestEnv, name: &str) -> PathBuf {
    env.qs_ok(
        env.root(),
        &["plan", name, "--theme", "showcase_html", "--yes"],
    );
    let dir = env.root().join(name);
    env.qs_ok(&dir, &["apply", "--yes"]);
    dir
}

/// Item 4 of issue 19: every commit of every `splits/*-module` branch of
/// upstream's repository is embedded (the oldest), then `update --to`
/// walks each consecutive commit. One project per module. Prints the
/// counts and every refusal; fails on any refusal that is not a security
/// refusal. Gated on `QUICKSCALE_UPSTREAM_REPO`; by hand:
/// `QUICKSCALE_UPSTREAM_REPO=… cargo test --test integration upstream_sweep -- --nocapture`.
#[test]
fn upstream_sweep_embeds_and_updates_every_split_commit() {
    let Some(upstream) = upstream_repo() else {
        return;
    };
    let env = TestEnv::new();
    let branches = env.git(
        &upstream,
        &[
            "for-each-ref",
            "--format=%(refname:short)",
            "refs/heads/splits/",
        ],
    );
    let mut report = Vec::new();
    let (mut embedded, mut updated, mut refused) = (0, 0, Vec::new());
    let mut placeholders = Vec::new();
    for branch in branches.lines() {
        let Some(name) = branch
            .strip_prefix("splits/")
            .and_then(|b| b.strip_suffix("-module"))
        else {
            continue;
        };
        let commits = env.git(&upstream, &["rev-list", "--reverse", branch]);
        let commits: Vec<&str> = commits.lines().collect();
        let dir = project_in(&env, &format!("p-{name}"));
        let source = format!("{name}={}", upstream.display());
        let mut embedded_at: Option<&str> = None;
        for c in &commits {
            let out = if embedded_at.is_none() {
                let plan = env.qs(
                    &dir,
                    &[
                        "plan",
                        "--add",
                        &format!("{name}@{c}"),
                        "--source",
                        &source,
                        "--yes",
                    ],
                );
                if plan.status.success() {
                    env.qs(&dir, &["apply", "--yes"])
                } else {
                    plan
                }
            } else {
                env.qs(&dir, &["update", name, "--to", c, "--yes"])
            };
            if out.status.success() {
                if embedded_at.is_none() {
                    embedded += 1;
                } else {
                    updated += 1;
                }
                embedded_at = Some(c);
                assert_eq!(
                    env.rev(&dir, &format!("HEAD:modules/{name}")),
                    env.rev(&upstream, &format!("{c}^{{tree}}")),
                    "{name}@{c}"
                );
            } else {
                let err = stderr(&out);
                let first = err
                    .lines()
                    .find(|l| l.starts_with("error"))
                    .unwrap_or("")
                    .to_owned();
                // A placeholder (billing before it existed, teams): a README
                // alone, nothing says what it contributes; upstream's catalog
                // marked them not ready, so its CLI never embedded them.
                let files = env.git(&upstream, &["ls-tree", "--name-only", c]);
                if files.lines().all(|f| f == "README.md")
                    && first.contains("it has no module.yml and the catalog has no wiring")
                {
                    placeholders.push(format!("{name}@{}", &c[..9]));
                } else {
                    refused.push(format!("{name}@{}: {first}", &c[..9]));
                }
                // A refused first embed is taken back out of the plan; a
                // refused update leaves the project at the previous commit.
                if embedded_at.is_none() {
                    let _ = env.qs(&dir, &["plan", "--remove", name, "--yes"]);
                }
            }
        }
        report.push(format!("{name}: {} commits", commits.len()));
    }
    eprintln!(
        "upstream sweep: {embedded} embedded, {updated} updated, {} refused, {} placeholders skipped ({})\n{}\n{}",
        refused.len(),
        placeholders.len(),
        placeholders.join(", "),
        report.join("\n"),
        refused.join("\n")
    );
    assert!(refused.is_empty(), "refused:\n{}", refused.join("\n"));
}

/// Item 4: upstream crm before 0.73 declared `enable_api` as a mutable
/// option without `django_setting`; upstream's CLI embedded it. So does
/// this tool, with a warning naming the line and the consequence, and an
/// update from there to a version that names the setting works.
#[test]
fn an_older_manifest_upstream_accepted_embeds_with_a_warning() {
    let env = TestEnv::new();
    let dir = env.root().join("upstream").join("crm");
    std::fs::create_dir_all(&dir).expect("mkdir");
    env.git(&dir, &["init", "-q", "-b", "main"]);
    for (version, line) in [
        ("1.0.0", "    enable_api: {type: boolean, default: true}\n"),
        (
            "1.1.0",
            "    enable_api: {type: boolean, default: true, django_setting: CRM_ENABLE_API}\n",
        ),
    ] {
        let mut files = module_files("crm", version);
        for (path, text) in files.iter_mut() {
            if path == "module.yml" {
                *text = text.replace("  mutable:\n", &format!("  mutable:\n{line}"));
            }
        }
        commit_to(&env, &dir, &files, &format!("crm {version}"));
        env.git(
            &dir,
            &["tag", "-a", "-m", "release", &format!("v{version}")],
        );
    }
    let project = project(&env);
    env.qs_ok(
        &project,
        &[
            "plan",
            "--add",
            "crm@v1.0.0",
            "--source",
            &format!("crm={}", dir.display()),
            "--yes",
        ],
    );
    let out = env.qs_ok(&project, &["apply", "--yes"]);
    let err = stderr(&out);
    assert!(
        err.contains("module.yml:6:")
            && err.contains("option enable_api")
            && err.contains("reaches no Django setting"),
        "{}",
        describe(&out)
    );
    let n = note(&env, &project);
    assert_eq!(n["modules"]["crm"]["options"]["enable_api"], true, "{n:#}");
    env.qs_ok(&project, &["update", "crm", "--to", "v1.1.0", "--yes"]);
    let files = env.git(
        &project,
        &["grep", "-l", "CRM_ENABLE_API", "HEAD", "--", ":!modules"],
    );
    assert!(
        !files.trim().is_empty(),
        "the setting is wired after the update"
    );
    let wired = env.git(
        &project,
        &["grep", "-h", "CRM_ENABLE_API", "HEAD", "--", ":!modules"],
    );
    assert!(wired.contains("True"), "{wired}");
}

/// A module source that is a shallow clone (its history cut, as `git clone
/// --depth 1` leaves it). Fetching from it made the project's repository
/// shallow too (`.git/shallow` written, as `git fetch` does), even when
/// apply then failed and said nothing was changed; `sync` could never push
/// the module refs again ("shallow update not allowed"). It is refused by
/// name, with the way out, and the repository is as it was.
#[test]
fn a_shallow_source_is_refused_and_leaves_the_project_whole() {
    let env = TestEnv::new();
    let crm = versions_repo(&env, "crm");
    let shallow = env.root().join("upstream").join("crm-shallow");
    env.git(
        env.root(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            "--no-single-branch",
            &format!("file://{}", crm.display()),
            shallow.to_str().expect("utf8"),
        ],
    );
    let dir = project(&env);
    env.qs_ok(
        &dir,
        &[
            "plan",
            "--add",
            "crm@v1.2.0",
            "--source",
            &format!("crm={}", shallow.display()),
            "--yes",
        ],
    );
    let head = env.rev(&dir, "HEAD");
    let out = env.qs(&dir, &["apply", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains("crm") && err.contains("shallow"), "{err}");
    assert!(err.contains("--unshallow"), "{err}");
    assert!(
        !dir.join(".git/shallow").exists(),
        "the project's repository was made shallow"
    );
    assert_eq!(env.rev(&dir, "HEAD"), head);
    env.git(&dir, &["fsck", "--no-dangling"]);
    // After `git fetch --unshallow` in the source, apply embeds it.
    env.git(&shallow, &["fetch", "-q", "--unshallow"]);
    env.qs_ok(&dir, &["apply", "--yes"]);
    assert!(!dir.join(".git/shallow").exists());
    assert_eq!(
        env.rev(&dir, "HEAD:modules/crm"),
        env.rev(&crm, "v1.2.0^{tree}")
    );
}

/// `update --to 0.63.0` (a bare version, as upstream's releases are
/// named) moves the module to its own tag of that version, as `--to
/// v0.63.0` and `auth@0.63.0` in quickscale.yml do. The repository's own
/// tag `0.63.0` tags the whole monorepo; taking it was refused as "the
/// whole QuickScale repository", with a hint to set a ref the project
/// already had.
#[test]
fn update_to_a_bare_version_takes_the_modules_tag_not_the_monorepo_tag() {
    let env = TestEnv::new();
    let repo = upstream_shaped(&env);
    let index = index_for(&env, &repo, &["auth", "crm"]);
    let dir = project(&env);
    env.qs_ok(
        &dir,
        &["--index", &index, "plan", "--add", "auth@v0.62.0", "--yes"],
    );
    env.qs_ok(&dir, &["--index", &index, "apply", "--yes"]);
    let out = env.qs_ok(
        &dir,
        &[
            "--index", &index, "update", "auth", "--to", "0.63.0", "--yes",
        ],
    );
    assert!(
        stdout(&out).contains("splits/auth-module/0.62.0 → splits/auth-module/0.63.0"),
        "{}",
        describe(&out)
    );
    let n = note(&env, &dir);
    assert_eq!(n["modules"]["auth"]["version"], "0.63.0", "{n:#}");
    assert_eq!(
        env.rev(&dir, "HEAD:modules/auth"),
        env.rev(&repo, "0.63.0:quickscale_modules/auth")
    );
    let config = std::fs::read_to_string(dir.join("quickscale.yml")).expect("config");
    assert!(config.contains("splits/auth-module/0.63.0"), "{config}");
    // Again: the version (found through the monorepo tag, as this fixture
    // has no split tag for 0.63.0) is where the module is already.
    let head = env.rev(&dir, "HEAD");
    let out = env.qs_ok(
        &dir,
        &[
            "--index", &index, "update", "auth", "--to", "0.63.0", "--yes",
        ],
    );
    assert!(
        stderr(&out).contains("it is at splits/auth-module/0.63.0 already")
            && !stdout(&out).contains("will:"),
        "{}",
        describe(&out)
    );
    assert_eq!(env.rev(&dir, "HEAD"), head);
}
