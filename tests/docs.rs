//! Generated documentation stays in sync with the code.

use std::path::PathBuf;

fn check_or_update(relative: &str, generated: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative);
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, generated).expect("write doc");
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == generated,
        "{relative} is out of date; run `UPDATE_DOCS=1 cargo test --test docs`"
    );
}

#[test]
fn cli_reference_is_generated_from_clap() {
    check_or_update(
        "docs/cli-reference.md",
        &git_quickscale::cli::markdown_reference(),
    );
}
