//! Module updates as pull requests: the generated project's
//! `.github/quickscale-updates.sh` (what `quickscale-updates.yml` runs),
//! against a bare remote, with a fake `gh` that records its arguments.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::fixtures::module_repo;
use crate::common::{BIN, TestEnv, describe, stdout};

/// A `gh` that records each call (one line, arguments joined by spaces),
/// keeps the open pull requests in `prs` ("number branch" lines), and
/// copies each `--body-file` it is given to `body-<number>.md`.
const FAKE_GH: &str = r#"#!/bin/sh
dir="$FAKE_GH_DIR"
echo "$*" >>"$dir/calls"
touch "$dir/prs"
case "$1 $2" in
"pr list")
    head=""
    prev=""
    for a in "$@"; do
        [ "$prev" = "--head" ] && head="$a"
        prev="$a"
    done
    if [ -n "$head" ]; then
        awk -v b="$head" '$2 == b { print $1 }' "$dir/prs"
    else
        cat "$dir/prs"
    fi
    ;;
"pr create")
    n=$(( $(cat "$dir/next" 2>/dev/null || echo 100) + 1 ))
    echo "$n" >"$dir/next"
    head=""; body=""; prev=""
    for a in "$@"; do
        [ "$prev" = "--head" ] && head="$a"
        [ "$prev" = "--body-file" ] && body="$a"
        prev="$a"
    done
    echo "$n $head" >>"$dir/prs"
    cp "$body" "$dir/body-$n.md"
    echo "https://github.com/example/shop/pull/$n"
    ;;
"pr edit")
    body=""; prev=""
    for a in "$@"; do
        [ "$prev" = "--body-file" ] && body="$a"
        prev="$a"
    done
    cp "$body" "$dir/body-$3.md"
    ;;
"pr close")
    awk -v n="$3" '$1 != n' "$dir/prs" >"$dir/prs.new" && mv "$dir/prs.new" "$dir/prs"
    ;;
esac
"#;

struct Setup {
    env: TestEnv,
    project: PathBuf,
    remote: PathBuf,
    gh: PathBuf,
    path: String,
}

impl Setup {
    /// A project with `a` and `c` at v1.0.0 (1.1.0 compatible and 2.0.0
    /// breaking upstream) and `b` pinned to the commit of its v1.0.0, pushed
    /// to a bare `origin`.
    fn new(opt_in: bool) -> Setup {
        let env = TestEnv::new();
        let project = env.new_project(&[]);
        let mut args = vec!["plan".to_owned()];
        for name in ["a", "b", "c"] {
            let repo = module_repo(&env, name);
            let at = if name == "b" {
                env.rev(&repo, "v1.0.0^{commit}")
            } else {
                "v1.0.0".into()
            };
            args.extend([
                "--add".into(),
                format!("{name}@{at}"),
                "--source".into(),
                format!("{name}={}", repo.display()),
            ]);
        }
        args.push("--yes".into());
        env.qs_ok(
            &project,
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        env.qs_ok(&project, &["apply", "--yes"]);
        if opt_in {
            let config = project.join("quickscale.yml");
            let mut text = std::fs::read_to_string(&config).expect("config");
            text.push_str("updates:\n  pull_requests: true\n");
            std::fs::write(&config, text).expect("config");
            env.git(
                &project,
                &["commit", "--no-verify", "-qam", "Update pull requests on"],
            );
        }
        let remote = env.root().join("remote.git");
        env.git(
            env.root(),
            &["init", "-q", "--bare", remote.to_str().expect("utf8")],
        );
        env.git(
            &project,
            &["remote", "add", "origin", remote.to_str().expect("utf8")],
        );
        env.git(&project, &["push", "-q", "origin", "main"]);
        let gh = env.root().join("gh");
        std::fs::create_dir_all(gh.join("bin")).expect("mkdir");
        std::fs::write(gh.join("bin/gh"), FAKE_GH).expect("gh");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(gh.join("bin/gh"), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        let path = format!(
            "{}:{}:{}",
            gh.join("bin").display(),
            Path::new(BIN).parent().expect("bin dir").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Setup {
            env,
            project,
            remote,
            gh,
            path,
        }
    }

    fn run_script(&self) -> Output {
        let mut cmd = Command::new("bash");
        self.env.env(&mut cmd);
        cmd.env("PATH", &self.path)
            .env("FAKE_GH_DIR", &self.gh)
            .env("BASE_BRANCH", "main")
            .current_dir(&self.project)
            .arg(".github/quickscale-updates.sh");
        let out = cmd.output().expect("run the update script");
        assert!(out.status.success(), "{}", describe(&out));
        out
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.gh.join("calls"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn prs(&self) -> String {
        std::fs::read_to_string(self.gh.join("prs")).unwrap_or_default()
    }

    fn remote_branches(&self) -> Vec<String> {
        self.env
            .git(
                &self.remote,
                &["for-each-ref", "--format=%(refname:short)", "refs/heads"],
            )
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// `sources.<module>.ref` in quickscale.yml on `branch` of the remote.
    fn config_at(&self, branch: &str) -> String {
        self.env
            .git(&self.remote, &["show", &format!("{branch}:quickscale.yml")])
    }

    fn module_version(&self, branch: &str, module: &str) -> String {
        let readme = self.env.git(
            &self.remote,
            &["show", &format!("{branch}:modules/{module}/README.md")],
        );
        readme
            .lines()
            .find_map(|l| l.strip_prefix("Version "))
            .expect("a version line")
            .trim_end_matches('.')
            .to_owned()
    }
}

#[test]
fn updates_become_one_pull_request_per_group_refreshed_and_closed_when_they_land() {
    let s = Setup::new(true);
    // A stale update pull request, from a group that no longer exists.
    std::fs::write(s.gh.join("prs"), "7 quickscale/update/old-major\n").expect("prs");
    let main_before = s.env.git(&s.remote, &["rev-parse", "main"]);

    s.run_script();
    let mut branches = s.remote_branches();
    branches.sort();
    assert_eq!(
        branches,
        [
            "main",
            "quickscale/update/a-major",
            "quickscale/update/c-major",
            "quickscale/update/compatible"
        ]
    );
    // main is untouched; each branch is main plus the update's commits.
    assert_eq!(s.env.git(&s.remote, &["rev-parse", "main"]), main_before);
    for branch in ["compatible", "a-major", "c-major"] {
        let branch = format!("quickscale/update/{branch}");
        let base = s.env.git(&s.remote, &["merge-base", "main", &branch]);
        assert_eq!(base, main_before, "{branch} starts from main");
    }
    // compatible: a and c to 1.1.0 together; b (pinned) stays.
    assert_eq!(
        s.module_version("quickscale/update/compatible", "a"),
        "1.1.0"
    );
    assert_eq!(
        s.module_version("quickscale/update/compatible", "c"),
        "1.1.0"
    );
    assert_eq!(
        s.module_version("quickscale/update/compatible", "b"),
        "1.0.0"
    );
    // Each major alone.
    assert_eq!(s.module_version("quickscale/update/a-major", "a"), "2.0.0");
    assert_eq!(s.module_version("quickscale/update/a-major", "c"), "1.0.0");
    assert_eq!(s.module_version("quickscale/update/c-major", "c"), "2.0.0");
    assert!(
        s.config_at("quickscale/update/a-major")
            .contains("ref: v2.0.0")
    );
    let log = s.env.git(
        &s.remote,
        &["log", "--format=%s", "main..quickscale/update/compatible"],
    );
    assert!(log.contains("Squashed 'modules/a/' changes"), "{log}");
    assert!(log.contains("Squashed 'modules/c/' changes"), "{log}");

    let calls = s.calls();
    assert!(
        calls.contains(&"pr create --base main --head quickscale/update/compatible --title Update a to v1.1.0, c to v1.1.0 --body-file".to_owned())
            || calls.iter().any(|c| c.starts_with("pr create --base main --head quickscale/update/compatible --title Update a to v1.1.0, c to v1.1.0 --body-file ")),
        "{calls:#?}"
    );
    assert!(
        calls.iter().any(|c| c.starts_with(
            "pr create --base main --head quickscale/update/a-major --title Update a to v2.0.0 (breaking)"
        )),
        "{calls:#?}"
    );
    assert!(
        calls
            .iter()
            .any(|c| c.starts_with("pr close 7 --delete-branch")),
        "{calls:#?}"
    );
    let prs = s.prs();
    assert!(!prs.contains("old-major"), "{prs}");
    let number = |branch: &str| {
        prs.lines()
            .find(|l| l.ends_with(branch))
            .and_then(|l| l.split(' ').next())
            .unwrap_or_else(|| panic!("no PR for {branch}: {prs}"))
            .to_owned()
    };
    let compatible = number("quickscale/update/compatible");
    let body = std::fs::read_to_string(s.gh.join(format!("body-{compatible}.md"))).expect("body");
    assert!(body.starts_with("## Module updates"), "{body}");
    assert!(
        body.contains("| a | `v1.0.0` (1.0.0) | `v1.1.0` (1.1.0) |"),
        "{body}"
    );
    assert!(
        body.contains("| c | `v1.0.0` (1.0.0) | `v1.1.0` (1.1.0) |"),
        "{body}"
    );
    assert!(body.contains("git-quickscale:update-pr"), "{body}");
    // The pinned module is in no group.
    assert!(!body.contains("| b |"), "{body}");
    assert!(
        !s.calls().iter().any(|c| c.contains("update/b")),
        "{:?}",
        s.calls()
    );
    let major =
        std::fs::read_to_string(s.gh.join(format!("body-{}.md", number("a-major")))).expect("body");
    assert!(
        major.contains("| a | `v1.0.0` (1.0.0) | `v2.0.0` (2.0.0) |"),
        "{major}"
    );
    assert!(!major.contains("| c |"), "{major}");

    // Again: the same pull requests are refreshed, none opened.
    std::fs::remove_file(s.gh.join("calls")).expect("rm");
    s.run_script();
    let calls = s.calls();
    assert!(
        !calls.iter().any(|c| c.starts_with("pr create")),
        "{calls:#?}"
    );
    assert!(
        calls.iter().any(|c| c.starts_with(&format!(
            "pr edit {compatible} --title Update a to v1.1.0, c to v1.1.0"
        ))),
        "{calls:#?}"
    );
    assert_eq!(s.prs().lines().count(), 3, "{}", s.prs());

    // The compatible update lands: its pull request is closed on the next run.
    let p = &s.project;
    s.env.git(p, &["checkout", "-q", "main"]);
    s.env.git(p, &["fetch", "-q", "origin"]);
    s.env.git(
        p,
        &[
            "merge",
            "-q",
            "--ff-only",
            "origin/quickscale/update/compatible",
        ],
    );
    s.env.git(p, &["push", "-q", "origin", "main"]);
    std::fs::remove_file(s.gh.join("calls")).expect("rm");
    s.run_script();
    let calls = s.calls();
    assert!(
        calls
            .iter()
            .any(|c| c.starts_with(&format!("pr close {compatible} --delete-branch"))),
        "{calls:#?}"
    );
    assert_eq!(s.prs().lines().count(), 2, "{}", s.prs());
    assert!(s.prs().contains("quickscale/update/a-major"));
    // The majors now start from the landed update.
    assert_eq!(s.module_version("quickscale/update/a-major", "c"), "1.1.0");
    // Nothing of the user's changed: the worktree is clean, main is where it was put.
    assert_eq!(s.env.git(p, &["status", "--porcelain"]), "");
}

#[test]
fn without_the_opt_in_the_script_says_how_and_opens_nothing() {
    let s = Setup::new(false);
    let out = s.run_script();
    assert!(
        stdout(&out).contains("set `updates: {pull_requests: true}` in quickscale.yml"),
        "{}",
        describe(&out)
    );
    assert!(s.calls().is_empty(), "{:?}", s.calls());
    assert_eq!(s.remote_branches(), ["main"]);
}
