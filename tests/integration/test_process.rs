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
