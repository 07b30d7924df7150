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

/// The gallery is linked from the README and every screenshot it shows is
/// in the repository, a PNG, and small (the clone stays light).
#[test]
fn the_gallery_is_linked_and_its_screenshots_exist_and_are_small() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    assert!(
        readme.contains("(docs/gallery.md)"),
        "README.md does not link the gallery"
    );
    let gallery = std::fs::read_to_string(root.join("docs/gallery.md")).expect("docs/gallery.md");
    let images: Vec<&str> = gallery
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .filter(|target| target.ends_with(".png"))
        .collect();
    assert!(images.len() >= 5, "{images:?}");
    for image in images {
        let bytes = std::fs::read(root.join("docs").join(image))
            .unwrap_or_else(|e| panic!("docs/gallery.md shows {image}, which is missing: {e}"));
        assert!(
            bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{image} is not a PNG"
        );
        assert!(bytes.len() < 150_000, "{image} has {} bytes", bytes.len());
    }
}
