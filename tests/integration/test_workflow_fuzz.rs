//! A model-based workflow fuzzer (issue 20): two clones of one project and
//! a linked worktree, sharing a bare remote, driven through random sequences
//! of this tool's commands, ordinary git use and SIGKILLs. After every step:
//!
//! 1. nothing of the user's is lost: user files in the worktree are
//!    byte-identical after each tool command, and every user commit made
//!    is still in the repository;
//! 2. `check` agrees with `apply --dry-run --detailed-exitcode`, and with
//!    `check` in a note-less clone of the same commit;
//! 3. after a kill, `recover` finishes the operation (nothing else changed);
//! 4. no scratch ref and no `.lock` file of the tool remains; exit codes are
//!    0/1/2; no panic.
//!
//! `QUICKSCALE_FUZZ_SEQUENCES` (default 1) sequences of
//! `QUICKSCALE_FUZZ_STEPS` (default 10) steps; `QUICKSCALE_FUZZ_SEED` the
//! first seed (sequence i uses seed + i; default fixed, so the suite is
//! repeatable). `scripts/fuzz-workflows.sh N` runs N sequences from a
//! random seed and prints it; a failure prints the seed and the steps.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::fixtures::{app_package, module_repo};
use crate::common::{BIN, TestEnv, describe, stderr};
use crate::test_team::kill;
use crate::test_update::{add_module, versions_repo};

/// SplitMix64: small, seedable, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// One project, two clones (`one`, `two`) and a linked worktree of `one`
/// (`side`, on branch `side`), with the remote `origin`.
struct World<'a> {
    env: &'a TestEnv,
    actors: Vec<PathBuf>,
    /// Each actor's git dir and common git dir (they never change).
    git_dirs: Vec<(PathBuf, PathBuf)>,
    /// A clone without notes, moved to the commit compared (invariant 2).
    noteless: Option<PathBuf>,
    log: Vec<String>,
    /// Commits the user made (hex), per actor: they must stay in the repository.
    user_commits: Vec<Vec<String>>,
    counter: u64,
    seed: u64,
    /// What happened, to show the sequences did something.
    stats: BTreeMap<String, usize>,
    /// Where the time went (`QUICKSCALE_FUZZ_PROFILE=1` prints it).
    profile: std::cell::RefCell<BTreeMap<String, std::time::Duration>>,
}

const VERSIONS: &[&str] = &["v1.0.0", "v1.1.0", "v1.2.0", "v2.0.0"];
const KILL_POINTS: &[&str] = &[
    "journal-written",
    "files-written",
    "index-written",
    "refs-moved",
];

fn views(name: &str) -> String {
    format!("modules/{name}/{}/views.py", app_package(name))
}

impl<'a> World<'a> {
    /// Builds the world in `env` (the same every sequence: no randomness).
    fn build(env: &TestEnv) {
        let a = module_repo(env, "a");
        let crm = versions_repo(env, "crm");
        let one = env.new_project(&[]);
        add_module(env, &one, "crm", &crm, "v1.0.0");
        env.plan_add(&one, &[("a", &a)]);
        env.qs_ok(&one, &["apply", "--yes"]);
        let remote = env.root().join("remote.git");
        let s = |p: &Path| p.to_str().expect("utf8").to_owned();
        env.git(env.root(), &["init", "-q", "--bare", &s(&remote)]);
        env.git(&one, &["remote", "add", "origin", &s(&remote)]);
        env.git(&one, &["push", "-q", "-u", "origin", "main"]);
        env.qs_ok(&one, &["sync", "origin"]);
        let two = env.root().join("two");
        env.git(env.root(), &["clone", "-q", &s(&remote), &s(&two)]);
        env.qs_ok(&two, &["sync", "origin"]);
        let side = env.root().join("side");
        env.git(&one, &["worktree", "add", "-q", "-b", "side", &s(&side)]);
    }

    /// The world [`World::build`] made in `env`.
    fn open(env: &'a TestEnv, seed: u64) -> Self {
        let actors: Vec<PathBuf> = ["shop", "two", "side"]
            .iter()
            .map(|n| env.root().join(n))
            .collect();
        let git_dirs = actors
            .iter()
            .map(|dir| {
                let out = env.git(
                    dir,
                    &[
                        "rev-parse",
                        "--path-format=absolute",
                        "--absolute-git-dir",
                        "--git-common-dir",
                    ],
                );
                let mut lines = out.lines().map(PathBuf::from);
                let git_dir = lines.next().expect("git dir");
                (git_dir, lines.next().expect("common dir"))
            })
            .collect();
        World {
            env,
            actors,
            git_dirs,
            noteless: None,
            log: Vec::new(),
            user_commits: vec![Vec::new(), Vec::new(), Vec::new()],
            counter: 0,
            seed,
            stats: BTreeMap::new(),
            profile: Default::default(),
        }
    }

    fn git_dir(&self, actor: usize) -> &Path {
        &self.git_dirs[actor].0
    }

    /// Adds the time since `started` to `what`'s total.
    fn spent(&self, what: impl Into<String>, started: std::time::Instant) {
        *self.profile.borrow_mut().entry(what.into()).or_default() += started.elapsed();
    }

    fn fail(&self, what: &str) -> ! {
        if std::env::var_os("QUICKSCALE_FUZZ_KEEP").is_some() {
            // Left for inspection: the actors' repositories, the remote.
            eprintln!("world kept at {}", self.env.root().display());
            std::process::exit(101);
        }
        panic!(
            "workflow fuzzer: seed {} failed at step {}: {what}\nsteps:\n  {}\nreplay: QUICKSCALE_FUZZ_SEED={} QUICKSCALE_FUZZ_SEQUENCES=1 scripts/fuzz-workflows.sh 1",
            self.seed,
            self.log.len(),
            self.log.join("\n  "),
            self.seed
        );
    }

    /// git, tolerating failure (the user's own commands may fail).
    fn git(&self, dir: &Path, args: &[&str]) -> Output {
        let started = std::time::Instant::now();
        let mut cmd = std::process::Command::new("git");
        self.env.env(&mut cmd);
        let out = cmd.current_dir(dir).args(args).output().expect("run git");
        let sub = args
            .iter()
            .find(|a| !a.starts_with('-') && !a.contains('='));
        self.spent(format!("git {}", sub.unwrap_or(&args[0])), started);
        out
    }

    fn git_ok(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.git(dir, args);
        if !out.status.success() {
            self.fail(&format!("git {args:?} failed:\n{}", describe(&out)));
        }
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The tool, with invariant 4 on its exit and invariant 1 on the
    /// user's files around it.
    fn qs(&mut self, actor: usize, args: &[&str]) -> Output {
        let dir = self.actors[actor].clone();
        self.log
            .push(format!("[{actor}] git quickscale {}", args.join(" ")));
        let started = std::time::Instant::now();
        let before = user_files(&dir);
        self.spent("user files", started);
        let out = self.run_tool(&dir, args);
        let key = format!("{} exit {:?}", args[0], out.status.code().unwrap_or(-1));
        *self.stats.entry(key).or_default() += 1;
        self.after_tool(actor, &out, args, &before);
        out
    }

    /// The binary under test: this build, or `QUICKSCALE_FUZZ_BIN` (to
    /// show what the fuzzer finds in another build).
    fn run_tool(&self, dir: &Path, args: &[&str]) -> Output {
        let started = std::time::Instant::now();
        let bin = std::env::var("QUICKSCALE_FUZZ_BIN").unwrap_or_else(|_| BIN.to_owned());
        let mut cmd = std::process::Command::new(bin);
        self.env.env(&mut cmd);
        let out = cmd
            .current_dir(dir)
            .args(args)
            .output()
            .expect("run git-quickscale");
        self.spent(format!("tool {}", args[0]), started);
        out
    }

    fn after_tool(
        &self,
        actor: usize,
        out: &Output,
        args: &[&str],
        before: &BTreeMap<String, Vec<u8>>,
    ) {
        let code = out.status.code();
        if !matches!(code, Some(0..=2)) || stderr(out).contains("panicked") {
            self.fail(&format!("{args:?} exited {code:?}:\n{}", describe(out)));
        }
        let after = user_files(&self.actors[actor]);
        if &after != before {
            let changed: Vec<&String> = before
                .keys()
                .chain(after.keys())
                .filter(|k| before.get(*k) != after.get(*k))
                .collect();
            self.fail(&format!("{args:?} changed the user's files {changed:?}"));
        }
        self.no_leftovers(actor, args);
    }

    /// Invariant 4: no scratch ref, no lock file of the tool.
    fn no_leftovers(&self, actor: usize, what: &[&str]) {
        let started = std::time::Instant::now();
        self.no_leftovers_at(actor, what);
        self.spent("invariant: no leftovers", started);
    }

    fn no_leftovers_at(&self, actor: usize, what: &[&str]) {
        let (git_dir, common) = &self.git_dirs[actor];
        // `git for-each-ref refs/quickscale/tmp`, read directly (files
        // backend: loose refs and packed-refs), for a process less a step.
        let mut tmp: Vec<String> = walk_files(&common.join("refs/quickscale/tmp"))
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        let packed = std::fs::read_to_string(common.join("packed-refs")).unwrap_or_default();
        tmp.extend(
            packed
                .lines()
                .filter(|l| l.contains(" refs/quickscale/tmp/"))
                .map(str::to_owned),
        );
        if !tmp.is_empty() {
            self.fail(&format!("{what:?} left scratch refs:\n{tmp:?}"));
        }
        let mut locks = lock_files(&common.join("refs/quickscale"));
        locks.extend(lock_files(&common.join("refs/notes")));
        if git_dir.join("index.lock").exists() {
            locks.push(git_dir.join("index.lock"));
        }
        if !locks.is_empty() {
            self.fail(&format!("{what:?} left lock files {locks:?}"));
        }
    }

    fn paused_or_interrupted(&self, actor: usize) -> bool {
        let git_dir = self.git_dir(actor);
        git_dir.join("quickscale/paused.json").exists()
            || git_dir.join("quickscale/journal.json").exists()
            || git_dir.join("MERGE_HEAD").exists()
            || git_dir.join("rebase-merge").exists()
            || git_dir.join("rebase-apply").exists()
    }

    /// Invariant 3: `status`, which may answer from its cache, says what a
    /// run without the cache says (twice: the second run is a hit).
    fn status_cache_agrees(&mut self, dir: &Path) {
        let fresh = {
            let bin = std::env::var("QUICKSCALE_FUZZ_BIN").unwrap_or_else(|_| BIN.to_owned());
            let mut cmd = std::process::Command::new(bin);
            self.env.env(&mut cmd);
            cmd.env("QUICKSCALE_STATUS_CACHE", "0")
                .current_dir(dir)
                .args(["status", "--json"])
                .output()
                .expect("run git-quickscale")
        };
        for round in ["first", "repeated"] {
            let cached = self.run_tool(dir, &["status", "--json"]);
            *self
                .stats
                .entry("status compared with and without its cache".into())
                .or_default() += 1;
            if cached.stdout != fresh.stdout || cached.status.code() != fresh.status.code() {
                self.fail(&format!(
                    "status ({round} run) says something else than status without its cache:\n{}\n{}",
                    describe(&cached),
                    describe(&fresh)
                ));
            }
        }
    }

    /// Invariant 2: check == apply --dry-run == check in a note-less clone.
    fn agreement(&mut self, actor: usize, noteless: bool) {
        if self.paused_or_interrupted(actor) {
            return;
        }
        let dir = self.actors[actor].clone();
        let check = self.qs(actor, &["check", "--format", "json"]);
        let report: serde_json::Value = match serde_json::from_slice(&check.stdout) {
            Ok(v) => v,
            Err(_) => self.fail(&format!("check printed no JSON:\n{}", describe(&check))),
        };
        let drift = report["drift"].as_bool().unwrap_or(false);
        if check.status.code() != Some(if drift { 2 } else { 0 }) {
            self.fail(&format!(
                "check's exit and report disagree:\n{}",
                describe(&check)
            ));
        }
        if drift && std::env::var_os("QUICKSCALE_FUZZ_VERBOSE").is_some() {
            eprintln!(
                "drift after:\n  {}\n{}",
                self.log.join("\n  "),
                String::from_utf8_lossy(&self.run_tool(&dir, &["check"]).stdout)
            );
        }
        self.status_cache_agrees(&dir);
        // A derived state (no note here) is work for apply (it records it).
        if report["state"] == "note" {
            let apply = self.qs(actor, &["apply", "--dry-run", "--detailed-exitcode"]);
            let pending = apply.status.code() == Some(2);
            if pending != drift {
                self.fail(&format!(
                    "check says drift={drift}, apply --dry-run --detailed-exitcode exits {:?}:\n{}\n{}",
                    apply.status.code(),
                    describe(&check),
                    describe(&apply)
                ));
            }
        }
        if noteless {
            let started = std::time::Instant::now();
            *self
                .stats
                .entry("note-less clone compared".into())
                .or_default() += 1;
            let clone = self.noteless_at(&dir);
            let other = self.run_tool(&clone, &["check", "--format", "json"]);
            let theirs: serde_json::Value =
                serde_json::from_slice(&other.stdout).unwrap_or_default();
            let their_drift = theirs["drift"].as_bool().unwrap_or(false);
            if their_drift != drift {
                self.fail(&format!(
                    "check says drift={drift} here but {their_drift} in a note-less clone of the same commit:\n{}\n{}",
                    describe(&check),
                    describe(&other)
                ));
            }
            self.spent("note-less clone (all of it)", started);
        }
    }

    /// A clone without notes (nor module refs) at `dir`'s HEAD, with its
    /// worktree's quickscale.yml (check reads it). One clone per sequence,
    /// fetched and checked out again each time: as a fresh `git clone`
    /// has it (refs/heads only, no notes), for a fraction of the cost.
    fn noteless_at(&mut self, dir: &Path) -> PathBuf {
        let s = |p: &Path| p.to_str().expect("utf8").to_owned();
        let clone = self.env.root().join("noteless");
        if self.noteless.is_none() {
            self.git_ok(self.env.root(), &["init", "-q", &s(&clone)]);
            self.noteless = Some(clone.clone());
        }
        self.git_ok(&clone, &["fetch", "-q", "--no-tags", &s(dir), "HEAD"]);
        self.git_ok(&clone, &["checkout", "-q", "-f", "--detach", "FETCH_HEAD"]);
        self.git_ok(&clone, &["clean", "-q", "-fdx"]);
        let notes = self.git_ok(&clone, &["for-each-ref", "refs/notes", "refs/quickscale"]);
        if !notes.is_empty() {
            self.fail(&format!("the note-less clone has notes:\n{notes}"));
        }
        let config = std::fs::read(dir.join("quickscale.yml")).expect("config");
        std::fs::write(clone.join("quickscale.yml"), config).expect("config");
        clone
    }

    fn user_commit(&mut self, actor: usize, rng: &mut Rng) {
        let dir = self.actors[actor].clone();
        let n = rng.below(4);
        let rel = format!("user/notes-{n}.txt");
        std::fs::create_dir_all(dir.join("user")).expect("mkdir");
        let text = format!("{} written by actor {actor}\n", rng.next());
        std::fs::write(dir.join(&rel), text).expect("write");
        self.log.push(format!("[{actor}] edit {rel}; git commit"));
        self.git_ok(&dir, &["add", "--", &rel]);
        let out = self.git(&dir, &["commit", "-qm", &format!("User edit of {rel}")]);
        if out.status.success() {
            let head = self.git_ok(&dir, &["rev-parse", "HEAD"]);
            self.user_commits[actor].push(head.trim().to_owned());
        }
    }

    fn step(&mut self, rng: &mut Rng) {
        let actor = rng.below(self.actors.len());
        let dir = self.actors[actor].clone();
        // A paused update is finished or given up first, as a user would.
        if self.paused(actor) {
            self.resume(actor, rng);
            return;
        }
        match rng.below(15) {
            0 | 1 => self.user_commit(actor, rng),
            2 => {
                // Uncommitted work, staged or not: every tool command keeps it.
                let rel = "user/wip.txt";
                std::fs::create_dir_all(dir.join("user")).expect("mkdir");
                std::fs::write(dir.join(rel), format!("wip {}\n", rng.next())).expect("write");
                self.log.push(format!("[{actor}] edit {rel} (uncommitted)"));
                if rng.chance(50) {
                    self.log.push(format!("[{actor}] git add -A user"));
                    self.git_ok(&dir, &["add", "-A", "user"]);
                }
            }
            3 => {
                self.log
                    .push(format!("[{actor}] git status (refreshing the index)"));
                let readme = dir.join("README.md");
                if let Ok(text) = std::fs::read(&readme) {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    std::fs::write(&readme, text).expect("touch");
                }
                self.git_ok(&dir, &["status", "--porcelain"]);
            }
            4 | 5 => {
                let size = 11 + rng.below(40);
                self.qs(
                    actor,
                    &[
                        "plan",
                        "--reconfigure",
                        "--set",
                        &format!("a.page_size={size}"),
                        "--yes",
                    ],
                );
                self.qs(actor, &["apply", "--yes"]);
            }
            6 | 7 => {
                let to = VERSIONS[rng.below(VERSIONS.len())];
                let mut args = vec!["update", "crm", "--to", to, "--yes"];
                if rng.chance(60) {
                    args.push("--conflicts=merge");
                }
                self.qs(actor, &args);
            }
            8 => {
                // A local patch of a module file, committed.
                let rel = views("crm");
                let path = dir.join(&rel);
                if let Ok(text) = std::fs::read_to_string(&path) {
                    let patched = text.replacen("\"module\"", "\"module (patched)\"", 1);
                    let patched = if patched == text {
                        format!("# local patch {}\n{text}", rng.next())
                    } else {
                        patched
                    };
                    std::fs::write(&path, patched).expect("write");
                    self.log.push(format!("[{actor}] patch {rel}; git commit"));
                    self.git_ok(&dir, &["add", "--", &rel]);
                    let _ = self.git(&dir, &["commit", "-qm", "Local patch"]);
                }
            }
            9 => {
                if rng.chance(50) {
                    self.qs(actor, &["undo"]);
                } else if self.has_module(actor, "a") {
                    self.qs(actor, &["remove", "a", "--yes"]);
                } else {
                    let source = format!("a={}", self.env.root().join("upstream/a").display());
                    let out = self.qs(actor, &["plan", "--add", "a", "--source", &source, "--yes"]);
                    if out.status.success() {
                        self.qs(actor, &["apply", "--yes"]);
                    }
                }
            }
            10 => self.exchange(actor, rng),
            11 => {
                let what = rng.below(3);
                let what = if what == 2 && rng.chance(50) { 3 } else { what };
                match what {
                    0 => {
                        self.log
                            .push(format!("[{actor}] git stash -u; git stash pop"));
                        let out = self.git(&dir, &["stash", "-u", "-q"]);
                        if out.status.success() {
                            let _ = self.git(&dir, &["stash", "pop", "-q"]);
                        }
                    }
                    1 => {
                        self.log.push(format!("[{actor}] git gc"));
                        self.git_ok(&dir, &["gc", "-q"]);
                    }
                    2 if actor == 2 => {
                        // The linked worktree takes main's last commit.
                        self.log.push(format!("[{actor}] git cherry-pick main"));
                        let out = self.git(&dir, &["cherry-pick", "main"]);
                        if !out.status.success() {
                            let _ = self.git(&dir, &["cherry-pick", "--abort"]);
                        }
                    }
                    2 if rng.chance(50) => {
                        self.log
                            .push(format!("[{actor}] git switch -c topic; git switch -"));
                        let topic = format!("topic-{}", self.counter);
                        self.counter += 1;
                        let _ = self.git(&dir, &["switch", "-q", "-c", &topic]);
                        let _ = self.git(&dir, &["switch", "-q", "-"]);
                    }
                    3 => {
                        // Without notes.rewrite, an amended tool commit loses its note.
                        let notes = if rng.chance(50) { "true" } else { "false" };
                        self.log.push(format!(
                            "[{actor}] git -c notes.rewrite.amend={notes} commit --amend"
                        ));
                        let rewrite = format!("notes.rewrite.amend={notes}");
                        let _ = self.git(
                            &dir,
                            &["-c", &rewrite, "commit", "-q", "--amend", "-m", "Amended"],
                        );
                    }
                    _ => {}
                }
            }
            12 | 13 => self.kill(actor, rng),
            _ => {
                self.qs(actor, &["status"]);
            }
        }
    }

    fn has_module(&self, actor: usize, name: &str) -> bool {
        std::fs::read_to_string(self.actors[actor].join("quickscale.yml"))
            .is_ok_and(|t| t.contains(&format!("\n  {name}:")))
    }

    fn paused(&self, actor: usize) -> bool {
        let git_dir = self.git_dir(actor);
        git_dir.join("quickscale/paused.json").exists()
    }

    /// Resolves a paused update (their side) and continues, or aborts.
    fn resume(&mut self, actor: usize, rng: &mut Rng) {
        let dir = self.actors[actor].clone();
        if rng.chance(50) {
            let out = self.qs(actor, &["update", "--abort"]);
            if out.status.code() != Some(0) {
                self.fail(&format!("update --abort failed:\n{}", describe(&out)));
            }
            return;
        }
        let unmerged = self.git_ok(&dir, &["diff", "--name-only", "--diff-filter=U"]);
        for path in unmerged.lines() {
            self.log
                .push(format!("[{actor}] git checkout --theirs {path}"));
            self.git_ok(&dir, &["checkout", "--theirs", "--", path]);
        }
        let out = self.qs(actor, &["update", "--continue"]);
        if out.status.code() != Some(0) {
            self.fail(&format!("update --continue failed:\n{}", describe(&out)));
        }
    }

    /// Pull (merge or rebase), push and sync with the remote.
    fn exchange(&mut self, actor: usize, rng: &mut Rng) {
        let dir = self.actors[actor].clone();
        let rebase = rng.chance(40);
        let mode = if rebase { "--rebase" } else { "--no-rebase" };
        // Without notes.rewrite, rebased tool commits lose their notes.
        let notes = if rebase && rng.chance(50) {
            "false"
        } else {
            "true"
        };
        self.log.push(format!(
            "[{actor}] git -c notes.rewrite.rebase={notes} pull {mode} origin main"
        ));
        let rewrite = format!("notes.rewrite.rebase={notes}");
        let out = self.git(
            &dir,
            &[
                "-c",
                &rewrite,
                "pull",
                "-q",
                mode,
                "--no-edit",
                "origin",
                "main",
            ],
        );
        *self
            .stats
            .entry(format!("pull {mode} ok={}", out.status.success()))
            .or_default() += 1;
        if !out.status.success() {
            // The user gives up a conflicted pull.
            self.log.push(format!("[{actor}] (pull failed) abort it"));
            let _ = self.git(&dir, &["rebase", "--abort"]);
            let _ = self.git(&dir, &["merge", "--abort"]);
            return;
        }
        if actor != 2 {
            self.log.push(format!("[{actor}] git push origin main"));
            let _ = self.git(&dir, &["push", "-q", "origin", "HEAD:main"]);
        }
        self.qs(actor, &["sync", "origin"]);
    }

    /// SIGKILL of an apply at a random point, some git use, then recover.
    fn kill(&mut self, actor: usize, rng: &mut Rng) {
        let dir = self.actors[actor].clone();
        let to = VERSIONS[rng.below(VERSIONS.len())].to_owned();
        let command: Vec<String> = match rng.below(3) {
            0 => vec![
                "update".into(),
                "crm".into(),
                "--to".into(),
                to,
                "--yes".into(),
            ],
            1 => vec!["undo".into()],
            _ => {
                let size = 60 + self.counter;
                self.counter += 1;
                let out = self.qs(
                    actor,
                    &[
                        "plan",
                        "--reconfigure",
                        "--set",
                        &format!("a.page_size={size}"),
                        "--yes",
                    ],
                );
                if !out.status.success() {
                    return;
                }
                vec!["apply".into(), "--yes".into()]
            }
        };
        let command: Vec<&str> = command.iter().map(String::as_str).collect();
        let point = KILL_POINTS[rng.below(KILL_POINTS.len())];
        self.log.push(format!(
            "[{actor}] git quickscale {}, killed at {point}",
            command.join(" ")
        ));
        let before = user_files(&dir);
        let Some(child) = self.start_paused(actor, &command, point) else {
            *self
                .stats
                .entry(format!("{} ended before {point} (no kill)", command[0]))
                .or_default() += 1;
            return;
        };
        // The main worktree and the linked one share the repository: a
        // writer in the other one must wait for this one's lock.
        if actor != 1 && rng.chance(50) {
            let other = 2 - actor;
            let out = self.qs(other, &["remove", "a", "--yes"]);
            *self
                .stats
                .entry("concurrent writer in the other worktree".into())
                .or_default() += 1;
            if out.status.code() != Some(1) || !stderr(&out).contains("another git quickscale") {
                self.fail(&format!(
                    "a writer in the other worktree ran during a locked apply:\n{}",
                    describe(&out)
                ));
            }
        }
        kill(child);
        if rng.chance(50) {
            self.log
                .push(format!("[{actor}] touch README.md; git status"));
            if let Ok(text) = std::fs::read(dir.join("README.md")) {
                std::thread::sleep(std::time::Duration::from_millis(5));
                std::fs::write(dir.join("README.md"), text).expect("touch");
            }
            self.git_ok(&dir, &["status", "--porcelain"]);
        }
        *self
            .stats
            .entry(format!("{} killed at {point}", command[0]))
            .or_default() += 1;
        let out = self.qs(actor, &["recover"]);
        if out.status.code() != Some(0) {
            self.fail(&format!("recover after a kill failed:\n{}", describe(&out)));
        }
        if user_files(&dir) != before {
            self.fail("the kill and recovery changed the user's files");
        }
    }

    /// `apply --yes` paused at `point` (alive, to be killed); `None` when
    /// it ended before (checked like any tool command).
    fn start_paused(
        &self,
        actor: usize,
        command: &[&str],
        point: &str,
    ) -> Option<std::process::Child> {
        use std::process::Stdio;
        let dir = &self.actors[actor];
        let git_dir = self.git_dir(actor);
        let marker = git_dir.join(format!("quickscale/paused-at-{point}"));
        let bin = std::env::var("QUICKSCALE_FUZZ_BIN").unwrap_or_else(|_| BIN.to_owned());
        let mut cmd = std::process::Command::new(bin);
        self.env.env(&mut cmd);
        let mut child = cmd
            .current_dir(dir)
            .env("QUICKSCALE_TEST_PAUSE_AT", point)
            .args(command)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let started = std::time::Instant::now();
        while !marker.exists() {
            if let Ok(Some(status)) = child.try_wait() {
                let out = child.wait_with_output().expect("output");
                if !matches!(status.code(), Some(0..=2)) || stderr(&out).contains("panicked") {
                    self.fail(&format!(
                        "apply exited {status}:
{}",
                        describe(&out)
                    ));
                }
                return None;
            }
            if started.elapsed() > std::time::Duration::from_secs(60) {
                let _ = child.kill();
                let _ = child.wait();
                self.fail(&format!("{command:?} never reached {point}"));
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let _ = std::fs::remove_file(&marker);
        Some(child)
    }

    /// Invariant 1, for commits: every user commit is still there.
    fn commits_kept(&self) {
        for (actor, commits) in self.user_commits.iter().enumerate() {
            for c in commits {
                let out = self.git(&self.actors[actor], &["cat-file", "-e", c]);
                if !out.status.success() {
                    self.fail(&format!("the user's commit {c} is gone in actor {actor}"));
                }
            }
        }
    }
}

/// The user's own files (README.md and `user/`): path → bytes.
fn user_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    if let Ok(b) = std::fs::read(dir.join("README.md")) {
        out.insert("README.md".into(), b);
    }
    for e in std::fs::read_dir(dir.join("user"))
        .into_iter()
        .flatten()
        .flatten()
    {
        if let Ok(b) = std::fs::read(e.path()) {
            out.insert(format!("user/{}", e.file_name().to_string_lossy()), b);
        }
    }
    out
}

/// Every file under `dir` (none when it does not exist).
fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk_files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn lock_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(lock_files(&p));
        } else if p.extension().is_some_and(|x| x == "lock") {
            out.push(p);
        }
    }
    out
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// The world every sequence starts from, built once per run and copied
/// back into the same directory before each sequence (every path in it,
/// the remote's, the linked worktree's and the modules' sources, stays valid).
struct Template {
    env: TestEnv,
    copy: tempfile::TempDir,
}

impl Template {
    fn new() -> Self {
        let env = TestEnv::new();
        World::build(&env);
        let copy = tempfile::tempdir().expect("tempdir");
        copy_dir(env.root(), copy.path());
        Template { env, copy }
    }

    /// The world as built, in `self.env`'s root.
    fn restore(&self) {
        for e in std::fs::read_dir(self.env.root()).expect("read root") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                std::fs::remove_dir_all(&p).expect("remove");
            } else {
                std::fs::remove_file(&p).expect("remove");
            }
        }
        copy_dir(self.copy.path(), self.env.root());
    }
}

/// `cp -a FROM/. TO` (modes, symlinks and mtimes kept).
fn copy_dir(from: &Path, to: &Path) {
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(from.join("."))
        .arg(to)
        .status()
        .expect("cp");
    assert!(
        status.success(),
        "cp -a {} {}",
        from.display(),
        to.display()
    );
}

/// One sequence from `seed`; what it did and where the time went.
fn run_sequence(template: &Template, seed: u64, steps: u64) -> (BTreeMap<String, usize>, Profile) {
    let started = std::time::Instant::now();
    template.restore();
    let mut world = World::open(&template.env, seed);
    world.spent("setup (restore the world)", started);
    let mut rng = Rng(seed);
    for i in 0..steps {
        let started = std::time::Instant::now();
        world.step(&mut rng);
        world.spent("step", started);
        let actor = rng.below(world.actors.len());
        world.no_leftovers(actor, &["(after the step)"]);
        let started = std::time::Instant::now();
        world.agreement(actor, i % 4 == 3);
        world.spent("invariant: agreement", started);
        let started = std::time::Instant::now();
        world.commits_kept();
        world.spent("invariant: commits kept", started);
    }
    (world.stats, world.profile.into_inner())
}

type Profile = BTreeMap<String, std::time::Duration>;

#[test]
fn workflow_fuzzer_bounded_run() {
    let sequences = env_number("QUICKSCALE_FUZZ_SEQUENCES", 1);
    let steps = env_number("QUICKSCALE_FUZZ_STEPS", 10);
    let first = env_number("QUICKSCALE_FUZZ_SEED", 20);
    let started = std::time::Instant::now();
    let mut total: BTreeMap<String, usize> = BTreeMap::new();
    let mut profile = Profile::new();
    let template = Template::new();
    profile.insert("setup (build the world once)".into(), started.elapsed());
    for i in 0..sequences {
        let seed = first.wrapping_add(i);
        eprintln!(
            "fuzz-workflows: sequence {} of {sequences}, seed {seed}",
            i + 1
        );
        let (stats, spent) = run_sequence(&template, seed, steps);
        for (k, v) in stats {
            *total.entry(k).or_default() += v;
        }
        for (k, v) in spent {
            *profile.entry(k).or_default() += v;
        }
    }
    if std::env::var_os("QUICKSCALE_FUZZ_PROFILE").is_some() {
        eprintln!("fuzz-workflows: where the time went (overlapping totals):");
        let mut rows: Vec<_> = profile.iter().collect();
        rows.sort_by_key(|(_, d)| std::cmp::Reverse(**d));
        for (k, d) in rows {
            eprintln!("  {:>8.1} s  {k}", d.as_secs_f64());
        }
    }
    eprintln!("fuzz-workflows: what the sequences did:");
    for (k, v) in &total {
        eprintln!("  {k}: {v}");
    }
    // A binary without the pause points (a plain release build) ends every
    // command before its kill point: the run would test no kill at all.
    let killed: usize = total
        .iter()
        .filter(|(k, _)| k.contains(" killed at "))
        .map(|(_, v)| v)
        .sum();
    let missed: usize = total
        .iter()
        .filter(|(k, _)| k.contains("(no kill)"))
        .map(|(_, v)| v)
        .sum();
    assert!(
        killed > 0 || missed < 20,
        "{missed} kills were asked for and none happened: is the binary under test built without debug assertions (the pause points)? Use the `fuzz` profile."
    );
    eprintln!(
        "fuzz-workflows: {sequences} sequence(s) of {steps} steps passed in {} s (first seed {first})",
        started.elapsed().as_secs()
    );
}
