//! In-place edits of quickscale.yml through the real binary, on documents
//! with the constructs users actually write: non-ASCII text, CRLF, a BOM,
//! flow and block styles, document markers, comments after the last entry.
//! (The property test in tests/yaml_edit_props.rs covers the combinations.)

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::fixtures::module_repo;
use crate::common::{BIN, TestEnv, describe, stderr};

const HEAD: &str = "version: \"1\"\nproject:\n  slug: shop\n  package: shop\n";

/// A project directory holding only `text` as quickscale.yml, committed.
fn project_with(env: &TestEnv, text: &[u8]) -> PathBuf {
    let dir = env.root().join("shop");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("quickscale.yml"), text).expect("write");
    env.git(&dir, &["init", "-q"]);
    env.git(&dir, &["add", "quickscale.yml"]);
    env.git(&dir, &["commit", "-qm", "hand-written"]);
    dir
}

fn yml(dir: &Path) -> String {
    String::from_utf8(std::fs::read(dir.join("quickscale.yml")).expect("read")).expect("utf-8")
}

fn set_yml(dir: &Path, text: &str) {
    std::fs::write(dir.join("quickscale.yml"), text).expect("write");
}

/// Runs `plan ARGS --yes` on `before` and returns the file afterwards.
fn plan_edit(env: &TestEnv, dir: &Path, before: &str, args: &[&str]) -> String {
    set_yml(dir, before);
    let mut all = vec!["plan"];
    all.extend_from_slice(args);
    all.push("--yes");
    let out = env.qs(dir, &all);
    assert!(
        out.status.success(),
        "plan {args:?} on\n{before}\nfailed:\n{}",
        describe(&out)
    );
    yml(dir)
}

#[test]
fn non_ascii_last_entry_can_be_added_after_removed_and_reconfigured() {
    let env = TestEnv::new();
    for newline in ["\n", ""] {
        let before = format!("{HEAD}modules:\n  crm:\n    greeting: olá{newline}");
        let dir = project_with(&env, before.as_bytes());
        assert_eq!(
            plan_edit(&env, &dir, &before, &["--add", "blog"]),
            format!("{HEAD}modules:\n  crm:\n    greeting: olá\n  blog: {{}}{newline}")
        );
        assert_eq!(
            plan_edit(&env, &dir, &before, &["--remove", "crm"]),
            format!("{HEAD}modules: {{}}{newline}")
        );
        assert_eq!(
            plan_edit(
                &env,
                &dir,
                &before,
                &["--reconfigure", "--set", "crm.greeting=adiós"]
            ),
            format!("{HEAD}modules:\n  crm:\n    greeting: \"adiós\"{newline}")
        );
        assert_eq!(
            plan_edit(
                &env,
                &dir,
                &before,
                &["--reconfigure", "--set", "crm.saludo=¿qué tal?"]
            ),
            format!(
                "{HEAD}modules:\n  crm:\n    greeting: olá\n    saludo: \"¿qué tal?\"{newline}"
            )
        );
        std::fs::remove_dir_all(&dir).expect("clean");
    }
}

#[test]
fn crlf_bom_and_tabbed_comments_are_kept() {
    let env = TestEnv::new();
    let before = "\u{feff}# Proyecto — configuración\r\nversion: \"1\"\r\nproject:\r\n  slug: shop\r\n  package: shop\r\nmodules:\r\n  crm:\r\n    greeting: olá\t# saludo\r\n";
    let dir = project_with(&env, before.as_bytes());
    assert_eq!(
        plan_edit(&env, &dir, before, &["--add", "blog"]),
        format!("{before}  blog: {{}}\r\n")
    );
    assert_eq!(
        plan_edit(&env, &dir, before, &["--add", "blog@v1.0.0"]),
        format!("{before}  blog: {{}}\r\nsources:\r\n  blog:\r\n    ref: v1.0.0\r\n")
    );
    assert_eq!(
        plan_edit(&env, &dir, before, &["--remove", "crm"]),
        "\u{feff}# Proyecto — configuración\r\nversion: \"1\"\r\nproject:\r\n  slug: shop\r\n  package: shop\r\nmodules: {}\r\n  # saludo\r\n"
    );
    assert_eq!(
        plan_edit(
            &env,
            &dir,
            before,
            &["--reconfigure", "--set", "crm.greeting=hola"]
        ),
        before.replace("olá\t", "hola\t")
    );
}

#[test]
fn flow_mappings_are_edited_in_flow_style() {
    let env = TestEnv::new();
    let before = "version: \"1\"\nproject: {slug: shop, package: shop}\nmodules: {crm: {greeting: olá}}  # módulos\n";
    let dir = project_with(&env, before.as_bytes());
    assert_eq!(
        plan_edit(&env, &dir, before, &["--add", "blog"]),
        "version: \"1\"\nproject: {slug: shop, package: shop}\nmodules: {crm: {greeting: olá}, blog: {}}  # módulos\n"
    );
    assert_eq!(
        plan_edit(&env, &dir, before, &["--remove", "crm"]),
        "version: \"1\"\nproject: {slug: shop, package: shop}\nmodules: {}  # módulos\n"
    );
    assert_eq!(
        plan_edit(
            &env,
            &dir,
            before,
            &["--reconfigure", "--set", "crm.page_size=5"]
        ),
        "version: \"1\"\nproject: {slug: shop, package: shop}\nmodules: {crm: {greeting: olá, page_size: 5}}  # módulos\n"
    );
    // Block `modules:` holding flow mappings.
    let before = format!("{HEAD}modules:\n  crm: {{greeting: olá}}   # ventas\n  auth: {{}}\n");
    assert_eq!(
        plan_edit(&env, &dir, &before, &["--remove", "auth"]),
        format!("{HEAD}modules:\n  crm: {{greeting: olá}}   # ventas\n")
    );
    assert_eq!(
        plan_edit(
            &env,
            &dir,
            &before,
            &["--reconfigure", "--set", "auth.registration_enabled=false"]
        ),
        // An empty `{}` becomes a block mapping, as `plan` writes them.
        format!(
            "{HEAD}modules:\n  crm: {{greeting: olá}}   # ventas\n  auth:\n    registration_enabled: false\n"
        )
    );
}

#[test]
fn document_markers_and_comments_after_the_last_entry_stay_in_place() {
    let env = TestEnv::new();
    let before = format!(
        "---\n# Proyecto\n{HEAD}modules:\n  crm:\n    greeting: olá\n    # página: 2\n  # blog: {{}}  (más tarde)\n...\n# fin\n"
    );
    let dir = project_with(&env, before.as_bytes());
    assert_eq!(
        plan_edit(&env, &dir, &before, &["--add", "forms"]),
        before.replace("    # página: 2\n", "    # página: 2\n  forms: {}\n")
    );
    assert_eq!(
        plan_edit(&env, &dir, &before, &["--add", "forms@v2"]),
        before
            .replace(
                "  # blog: {}  (más tarde)\n",
                "  # blog: {}  (más tarde)\nsources:\n  forms:\n    ref: v2\n"
            )
            .replace("    # página: 2\n", "    # página: 2\n  forms: {}\n")
    );
    assert_eq!(
        plan_edit(&env, &dir, &before, &["--remove", "crm"]),
        format!(
            "---\n# Proyecto\n{HEAD}modules: {{}}\n    # página: 2\n  # blog: {{}}  (más tarde)\n...\n# fin\n"
        )
    );
}

#[test]
fn anchors_and_lone_carriage_returns_are_refused_with_the_line_and_nothing_is_written() {
    let env = TestEnv::new();
    let anchored = format!("{HEAD}modules:\n  crm: &c {{greeting: olá}}\n  auth: {{}}\n");
    let dir = project_with(&env, anchored.as_bytes());
    let out = env.qs(&dir, &["plan", "--add", "blog", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    assert!(
        err.contains("quickscale.yml:6:8") && err.contains("anchors"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(yml(&dir), anchored);

    let old_mac = format!("{HEAD}modules:\n  crm:\r    greeting: olá\r").replace('\n', "\r");
    set_yml(&dir, &old_mac);
    let out = env.qs(&dir, &["plan", "--add", "blog", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    assert!(
        err.contains("line 1") && err.contains("carriage return") && err.contains("LF"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(yml(&dir), old_mac);
}

#[test]
fn remove_command_edits_a_file_with_non_ascii_last_entry() {
    let env = TestEnv::new();
    let a = module_repo(&env, "a");
    let b = module_repo(&env, "b");
    let text = format!(
        "# Tienda — configuración\n{HEAD}modules:\n  b: {{}}\n  a:\n    greeting: olá  # ¡hola!\nsources:\n  a: {{url: '{}'}}\n  b: {{url: '{}'}}",
        a.display(),
        b.display()
    )
    .replace('\n', "\r\n");
    let dir = project_with(&env, text.as_bytes());
    env.qs_ok(&dir, &["apply", "--yes"]);
    env.qs_ok(&dir, &["remove", "a", "--yes"]);
    assert_eq!(
        yml(&dir),
        format!(
            "# Tienda — configuración\n{HEAD}modules:\n  b: {{}}\n  # ¡hola!\nsources:\n  b: {{url: '{}'}}",
            b.display()
        )
        .replace('\n', "\r\n")
    );
    assert!(!dir.join("modules/a").exists());
    assert_eq!(env.git(&dir, &["status", "--porcelain"]), "");
}

#[test]
fn a_quickscale_yml_that_is_not_utf8_names_the_line_and_byte() {
    let env = TestEnv::new();
    let mut bytes = format!("{HEAD}modules:\n  crm:\n    greeting: ol").into_bytes();
    let offset = bytes.len();
    bytes.extend_from_slice(b"\xe1\n");
    let dir = project_with(&env, &bytes);
    for args in [
        &["plan", "--add", "blog", "--yes"][..],
        &["status"][..],
        &["apply", "--dry-run"][..],
    ] {
        let out = env.qs(&dir, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", describe(&out));
        let err = stderr(&out);
        assert!(
            err.contains("quickscale.yml")
                && err.contains("not UTF-8")
                && err.contains(&format!("byte {offset}"))
                && err.contains("line 7, column 17")
                && err.contains("0xe1"),
            "{args:?}: {err}"
        );
        assert!(err.contains("save it as UTF-8"), "{args:?}: {err}");
        assert!(!err.contains("plan <slug>"), "{args:?}: {err}");
    }
    assert_eq!(
        std::fs::read(dir.join("quickscale.yml")).expect("read"),
        bytes
    );
}

/// Runs the binary under `umask`.
fn qs_with_umask(env: &TestEnv, dir: &Path, umask: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new("sh");
    env.env(&mut cmd);
    cmd.current_dir(dir)
        .arg("-c")
        .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
        .arg(BIN)
        .args(args);
    let out = cmd.output().expect("run sh");
    assert!(out.status.success(), "{args:?}: {}", describe(&out));
    out
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("meta").permissions().mode() & 0o7777
}

#[test]
fn quickscale_yml_gets_the_normal_mode_and_keeps_it_on_edits() {
    let env = TestEnv::new();
    qs_with_umask(&env, env.root(), "022", &["plan", "shop", "--yes"]);
    let file = env.root().join("shop/quickscale.yml");
    assert_eq!(mode(&file), 0o644, "a new file is 0666 minus the umask");
    qs_with_umask(&env, env.root(), "027", &["plan", "other", "--yes"]);
    assert_eq!(mode(&env.root().join("other/quickscale.yml")), 0o640);

    let dir = env.root().join("shop");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o604)).expect("chmod");
    qs_with_umask(&env, &dir, "077", &["plan", "--add", "blog", "--yes"]);
    assert!(yml(&dir).contains("blog: {}"));
    assert_eq!(mode(&file), 0o604, "an edit keeps the file's mode");
}
