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
    // The module pages and the overrides of upstream pages
    // (tests/integration/test_layout.rs takes them).
    for page in [
        "billing-pricing",
        "billing-dashboard",
        "teams-dashboard",
        "teams-invitation",
        "auth-profile",
        "crm-dashboard",
    ] {
        assert!(
            images.iter().any(|i| i.ends_with(&format!("-{page}.png"))),
            "docs/gallery.md shows no {page} screenshot: {images:?}"
        );
    }
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

/// The man pages the wheel installs (packaging/pypi/wheel-data) are what
/// `git quickscale man --dir` writes now.
#[test]
fn the_wheels_man_pages_are_generated_from_clap() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let committed = root.join("packaging/pypi/wheel-data/data/share/man/man1");
    let fresh = tempfile::tempdir().expect("tempdir");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_git-quickscale"))
        .args(["man", "--dir"])
        .arg(fresh.path())
        .output()
        .expect("git-quickscale man");
    assert!(out.status.success(), "{out:?}");
    let list = |dir: &std::path::Path| -> std::collections::BTreeMap<String, Vec<u8>> {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| {
                        let name = e.file_name().to_string_lossy().into_owned();
                        (name, std::fs::read(e.path()).expect("read page"))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let generated = list(fresh.path());
    if std::env::var_os("UPDATE_DOCS").is_some() {
        let _ = std::fs::remove_dir_all(&committed);
        std::fs::create_dir_all(&committed).expect("mkdir");
        for (name, page) in &generated {
            std::fs::write(committed.join(name), page).expect("write page");
        }
        return;
    }
    assert!(
        list(&committed) == generated,
        "packaging/pypi/wheel-data/data/share/man/man1 is out of date; run `UPDATE_DOCS=1 cargo test --test docs`"
    );
}

/// The pre-commit shim (the root pyproject.toml) pins the wheel of this
/// very version, and the wheel takes its version from Cargo.toml.
#[test]
fn the_pre_commit_shim_pins_this_version() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shim: toml::Table = std::fs::read_to_string(root.join("pyproject.toml"))
        .expect("pyproject.toml")
        .parse()
        .expect("TOML");
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(shim["project"]["version"].as_str(), Some(version));
    assert_eq!(
        shim["project"]["dependencies"]
            .as_array()
            .map(|d| d.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>()),
        Some(vec![format!("git-quickscale=={version}").as_str()])
    );
    let wheel: toml::Table = std::fs::read_to_string(root.join("packaging/pypi/pyproject.toml"))
        .expect("packaging/pypi/pyproject.toml")
        .parse()
        .expect("TOML");
    assert_eq!(wheel["project"]["name"].as_str(), Some("git-quickscale"));
    assert_eq!(wheel["project"]["dynamic"][0].as_str(), Some("version"));
    assert_eq!(wheel["tool"]["maturin"]["bindings"].as_str(), Some("bin"));
    let hooks = std::fs::read_to_string(root.join(".pre-commit-hooks.yaml")).expect("hooks");
    assert!(hooks.contains("\n  language: python\n"), "{hooks}");
}
