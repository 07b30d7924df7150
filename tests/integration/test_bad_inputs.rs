//! The bad-input corpus (tests/cmd/bad-input): every case exits 1 quickly,
//! writes nothing and never panics. trycmd snapshots the messages; this
//! test checks the filesystem and the exit status.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{TestEnv, copy_tree, describe, repo_root, snapshot, stderr};

fn run_case(env: &TestEnv, dir: &Path, args: &[String]) {
    let before = snapshot(dir);
    let started = Instant::now();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = env.qs(dir, &refs);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{args:?}:\n{}", describe(&out));
    let err = stderr(&out);
    assert!(err.starts_with("error: "), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    assert!(
        err.contains("\nhint: "),
        "every error gives a next step: {err}"
    );
    assert_eq!(before, snapshot(dir), "{args:?} changed files");
    // A hang guard, not a speed check (speed is for benches/): a parser
    // that loops on a hostile file would otherwise stall the whole suite.
    assert!(took < Duration::from_secs(60), "{args:?} hung: {took:?}");
}

#[test]
fn corpus_cases_write_nothing() {
    let corpus = repo_root().join("tests/cmd/bad-input");
    let mut count = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&corpus)
        .expect("corpus")
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let case: toml::Table =
            toml::from_str(&std::fs::read_to_string(&path).expect("case")).expect("toml");
        let args: Vec<String> = case["args"]
            .as_array()
            .expect("args")
            .iter()
            .map(|a| a.as_str().expect("str").to_owned())
            .collect();
        let env = TestEnv::new();
        let dir = env.root().join("case");
        copy_tree(&path.with_extension("in"), &dir);
        run_case(&env, &dir, &args);
        count += 1;
    }
    assert!(count >= 30, "only {count} bad-input cases");
}

#[test]
fn huge_and_node_heavy_files_are_refused() {
    let env = TestEnv::new();
    let dir = env.root().join("p");
    std::fs::create_dir_all(&dir).expect("dir");
    let head = "version: \"1\"\nproject: {slug: shop, package: shop}\n";
    // More than 1 MiB.
    let huge = format!("{head}# {}\n", "x".repeat(2 * 1024 * 1024));
    std::fs::write(dir.join("quickscale.yml"), huge).expect("write");
    run_case(&env, &dir, &["plan".into(), "--add".into(), "blog".into()]);
    let out = env.qs(&dir, &["list-modules"]);
    assert!(
        stderr(&out).contains("the limit is 1048576 bytes"),
        "{}",
        describe(&out)
    );
    // Under 1 MiB but with more nodes than allowed.
    let many = format!("{head}modules:\n  crm: {{x: [{}]}}\n", "1,".repeat(150_000));
    std::fs::write(dir.join("quickscale.yml"), many).expect("write");
    run_case(&env, &dir, &["plan".into(), "--add".into(), "blog".into()]);
    assert!(stderr(&env.qs(&dir, &["list-modules"])).contains("more than 100000 nodes"));
}
