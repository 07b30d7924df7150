//! The README's set-up commands, as a new user runs them on a fresh clone.
//!
//! The first command (`./scripts/demo.sh`) runs from a `git clone` of this
//! checkout, so it sees committed files only: commit before running this
//! test. It runs `cargo install`, a release build; to keep that affordable
//! the build reuses a target directory under this suite's own target
//! (`<target>/readme-install`), builds the release profile without
//! optimisation (docs/architecture.md, "Testing", has the timings), and
//! shares the clone and the build with the wheel (common::release).

use std::path::Path;
use std::process::Command;

use crate::common::python::{self, Venv};
use crate::common::{TestEnv, describe, release, repo_root, stdout};

/// The README's first screen: what a new user reads before scrolling.
const FIRST_SCREEN_LINES: usize = 24;
const SETUP_HEADING: &str = "## Set up on a fresh machine";

/// The commands of the README's set-up block (comments dropped), and the
/// 1-based line where the block ends.
fn setup_commands(readme: &str) -> (Vec<String>, usize) {
    let lines: Vec<&str> = readme.lines().collect();
    let heading = lines
        .iter()
        .position(|l| l.trim() == SETUP_HEADING)
        .unwrap_or_else(|| panic!("README.md has no `{SETUP_HEADING}` section"));
    let open = heading
        + lines[heading..]
            .iter()
            .position(|l| l.trim() == "```sh")
            .expect("a ```sh block in the set-up section");
    assert!(
        lines[heading + 1..open].iter().all(|l| !l.starts_with('#')),
        "the set-up block must be in the set-up section"
    );
    let close = open
        + 1
        + lines[open + 1..]
            .iter()
            .position(|l| l.trim() == "```")
            .expect("the set-up block is closed");
    let commands = lines[open + 1..close]
        .iter()
        .map(|l| match l.find(" #") {
            Some(i) => l[..i].trim(),
            None => l.trim(),
        })
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    (commands, close + 1)
}

/// The command `.ci/run` hands over to (its `exec` line).
fn ci_command() -> String {
    let run = std::fs::read_to_string(repo_root().join(".ci/run")).expect(".ci/run");
    let execs: Vec<&str> = run
        .lines()
        .filter_map(|l| l.trim().strip_prefix("exec "))
        .collect();
    assert_eq!(execs.len(), 1, ".ci/run must end in one `exec`:\n{run}");
    execs[0].trim().to_owned()
}

#[test]
fn the_readme_starts_with_two_setup_commands_and_ci_runs_the_second() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    let (commands, end) = setup_commands(&readme);
    assert_eq!(commands.len(), 2, "set-up commands: {commands:?}");
    assert!(
        end <= FIRST_SCREEN_LINES,
        "the set-up block ends on line {end}, below the first screen ({FIRST_SCREEN_LINES} lines)"
    );
    assert_eq!(commands[0], "./scripts/demo.sh");
    assert_eq!(
        commands[1],
        ci_command(),
        "CI must run the README's test command"
    );
}

#[test]
fn setup_commands_are_read_without_their_comments() {
    let text = "# T\n\n## Set up on a fresh machine\n\nText.\n\n```sh\n./a.sh   # does a\n\n# a comment\n./b.sh --x\n```\nMore.\n";
    assert_eq!(
        setup_commands(text),
        (vec!["./a.sh".to_owned(), "./b.sh --x".to_owned()], 12)
    );
}

#[test]
fn the_readme_first_command_works_on_a_fresh_clone() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    let (commands, _) = setup_commands(&readme);
    let first = &commands[0];

    let env = TestEnv::new();
    // The same clone and build settings as the wheel the wheel and
    // pre-commit tests install (common::release): one release build per run.
    let clone = release::fresh_clone();
    let install_root = env.root().join("install");

    let mut cmd = Command::new("sh");
    env.env(&mut cmd);
    release::release_env(&mut cmd);
    cmd.env("CARGO_INSTALL_ROOT", &install_root)
        .current_dir(&clone)
        .args(["-c", first]);
    let started = std::time::Instant::now();
    let out = cmd.output().expect("run the README's first command");
    assert!(
        out.status.success(),
        "`{first}` failed on a fresh clone:\n{}",
        describe(&out)
    );
    eprintln!("`{first}` took {:.0?}", started.elapsed());

    // The binary and its man pages went where cargo install was told.
    let installed = install_root.join("bin/git-quickscale");
    assert!(installed.is_file(), "{} missing", installed.display());
    assert!(
        install_root
            .join("share/man/man1/git-quickscale.1")
            .is_file(),
        "man pages not installed:\n{}",
        describe(&out)
    );
    let text = stdout(&out);
    for step in ["manage.py migrate", "manage.py runserver"] {
        assert!(text.contains(step), "next steps lack `{step}`:\n{text}");
    }

    // The demo project is at the root of a repository of its own, clean,
    // and in sync; the clone does not see it.
    let demo = clone.join("demo");
    let top = env.git(&demo, &["rev-parse", "--show-toplevel"]);
    assert_eq!(
        Path::new(top.trim()).canonicalize().expect("canon"),
        demo.canonicalize().expect("canon")
    );
    assert_eq!(env.git(&demo, &["status", "--porcelain"]), "");
    assert_eq!(env.git(&clone, &["status", "--porcelain"]), "");
    let mut status = Command::new(&installed);
    env.env(&mut status);
    let status = status
        .current_dir(&demo)
        .arg("status")
        .output()
        .expect("run git-quickscale status");
    assert!(
        status.status.success() && stdout(&status).contains("In sync with quickscale.yml."),
        "{}",
        describe(&status)
    );

    if python::python_enabled() {
        let venv = Venv::create(&env, &demo);
        venv.manage(&["check"], &[]);
    }
}
