//! What the entry point (src/main.rs) keeps of Rust's own start-up, which
//! it skips on Linux with glibc: SIGPIPE ignored (here) and closed standard
//! descriptors reopened on /dev/null (test_hooks, through a hook).

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

use crate::common::{BIN, TestEnv, describe, stderr};

/// A reader that goes away (`| head`) makes writes fail; it must not kill
/// the process, which may be in the middle of a transaction.
#[test]
fn a_reader_that_goes_away_is_an_error_not_a_kill() {
    let env = TestEnv::new();
    let mut cmd = Command::new(BIN);
    env.env(&mut cmd);
    let mut child = cmd
        .current_dir(env.root())
        .arg("man")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Closed before the child has started writing (it takes a millisecond
    // to start), so its first write meets a pipe without a reader.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    assert_eq!(
        out.status.signal(),
        None,
        "killed by a signal: {}",
        describe(&out)
    );
    assert!(!stderr(&out).contains("panicked"), "{}", describe(&out));
}

/// The binary defines the two maths functions it calls (src/main.rs), so
/// the dynamic loader maps libc alone: libm.so.6, loaded and relocated
/// before `main` on every run, hook runs included, stays out. A dependency
/// that starts calling another maths function brings it back, and this
/// says so.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_loader_maps_libc_and_no_maths_library() {
    let out = Command::new(BIN)
        .arg("--version")
        .env("LD_DEBUG", "libs")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", describe(&out));
    let loaded = stderr(&out);
    assert!(
        loaded.contains("libc.so.6"),
        "LD_DEBUG=libs lists what is loaded: {loaded}"
    );
    assert!(!loaded.contains("libm.so"), "libm is loaded: {loaded}");
}
