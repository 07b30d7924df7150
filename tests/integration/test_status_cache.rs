//! The status cache (src/engine/status_cache.rs) keeps the committed half of
//! the last report. After each kind of change, `status` (which may use it)
//! must print exactly what `QUICKSCALE_STATUS_CACHE=0 status` (which cannot)
//! prints, in both forms, and a repeated run must be served from the cache.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::{BIN, TestEnv, append, describe};

const CACHE: &str = ".git/quickscale/status-cache.json";

fn status(env: &TestEnv, dir: &Path, json: bool, cache: bool) -> Output {
    let mut cmd = Command::new(BIN);
    env.env(&mut cmd);
    if !cache {
        cmd.env("QUICKSCALE_STATUS_CACHE", "0");
    }
    cmd.current_dir(dir).arg("status");
    if json {
        cmd.arg("--json");
    }
    let out = cmd.output().expect("run status");
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    out
}

/// Cached and uncached runs agree, in JSON and as text; returns the JSON.
fn agree(env: &TestEnv, dir: &Path, step: &str) -> serde_json::Value {
    for json in [true, false] {
        let fresh = status(env, dir, json, false);
        let first = status(env, dir, json, true);
        let again = status(env, dir, json, true);
        for (what, out) in [("first", &first), ("repeated", &again)] {
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&fresh.stdout),
                "{step}: the {what} cached run (json={json}) differs from the uncached one"
            );
            assert_eq!(
                out.stderr, fresh.stderr,
                "{step}: {what} stderr (json={json})"
            );
        }
    }
    serde_json::from_slice(&status(env, dir, true, false).stdout).expect("status JSON")
}

#[test]
fn cached_status_says_what_a_fresh_one_says_after_every_kind_of_change() {
    let env = TestEnv::new();
    let (dir, _) = crate::test_split::project_with_a(&env);
    let cache = dir.join(CACHE);

    let r = agree(&env, &dir, "after apply");
    assert_eq!(r["state"]["origin"], "note");
    assert_eq!(r["in_sync"], true);
    // Served from the cache: a hit does not write it again.
    let kept = std::fs::read(&cache).expect("the report was kept");
    let before = std::fs::metadata(&cache).and_then(|m| m.modified()).ok();
    status(&env, &dir, false, true);
    assert_eq!(
        std::fs::metadata(&cache).and_then(|m| m.modified()).ok(),
        before
    );
    assert_eq!(std::fs::read(&cache).expect("cache"), kept);

    // The worktree half: an unstaged, then a staged edit inside the module.
    append(&dir, "modules/a/README.md", "local\n");
    let r = agree(&env, &dir, "unstaged module edit");
    assert_eq!(
        r["modules"][0]["uncommitted_changes"][0],
        "modules/a/README.md"
    );
    env.git(&dir, &["add", "modules/a/README.md"]);
    agree(&env, &dir, "staged module edit");
    // Committed: HEAD moves, so the committed half is made again.
    env.git(&dir, &["commit", "-qm", "patch a"]);
    let r = agree(&env, &dir, "committed module edit");
    assert_eq!(
        r["modules"][0]["committed_changes"][0],
        "modules/a/README.md"
    );

    // An untracked file in the prefix, then a managed file edited in the
    // worktree, then committed by hand.
    std::fs::write(dir.join("modules/a/new.py"), "x = 1\n").expect("write");
    agree(&env, &dir, "untracked file in the prefix");
    std::fs::remove_file(dir.join("modules/a/new.py")).expect("rm");
    append(&dir, "shop/urls_modules.py", "# hand edit\n");
    let r = agree(&env, &dir, "managed file modified");
    assert!(r["managed"].to_string().contains("modified"), "{r}");
    env.git(&dir, &["commit", "-qam", "hand edit"]);
    let r = agree(&env, &dir, "managed file edited in a commit");
    assert!(r["managed"].to_string().contains("edited"), "{r}");
    env.git(&dir, &["revert", "--no-edit", "HEAD"]);
    // Each change below comes after a run that kept the report it changes.
    agree(&env, &dir, "reverted");

    // quickscale.yml asks for another option value, uncommitted.
    let yml = std::fs::read_to_string(dir.join("quickscale.yml")).expect("yml");
    assert!(yml.contains("a:"), "{yml}");
    env.qs_ok(
        &dir,
        &["plan", "--reconfigure", "--set", "a.greeting=hi", "--yes"],
    );
    let r = agree(&env, &dir, "option changed in quickscale.yml");
    assert_eq!(r["modules"][0]["desired"], "changes_pending");
    env.qs_ok(&dir, &["apply", "--yes"]);
    agree(&env, &dir, "applied");

    // What the last update saw upstream (the upstream cache file).
    // (exit 2: updates are available)
    let check = env.qs(&dir, &["update", "--check"]);
    assert_eq!(check.status.code(), Some(2), "{}", describe(&check));
    let r = agree(&env, &dir, "after update --check");
    assert!(!r["modules"][0]["available"].is_null(), "{r}");

    // The note gone: a derived state, which is never kept.
    env.git(&dir, &["update-ref", "-d", "refs/notes/quickscale"]);
    let r = agree(&env, &dir, "no note");
    assert_eq!(r["state"]["origin"], "derived");

    // A cache file that is not ours is ignored and replaced.
    env.git(&dir, &["reset", "-q", "--hard"]);
    env.qs_ok(&dir, &["status", "--repair-state"]);
    std::fs::write(&cache, b"{ not json").expect("corrupt");
    agree(&env, &dir, "corrupt cache file");
    assert!(
        std::fs::read(&cache)
            .expect("cache")
            .starts_with(b"{\"key\"")
    );
}
