//! The one integration-test binary: real binary, real git, temp repos.

#![allow(clippy::print_stderr, clippy::print_stdout)]

mod common;
mod test_adopt;
mod test_apply;
mod test_bad_inputs;
mod test_check;
mod test_billing_module;
mod test_crash;
mod test_crm_theme;
mod test_extract;
mod test_failures;
mod test_first_hour;
mod test_generated_project;
mod test_hooks;
mod test_interop;
mod test_manifest_rules;
mod test_nested_project;
mod test_plan;
mod test_push;
mod test_readme;
mod test_safety;
mod test_split;
mod test_sync;
mod test_teams_module;
mod test_untrusted;
mod test_update;
mod test_update_properties;
mod test_upstream_modules;
mod test_yaml_edit;

#[test]
fn no_forgotten_test_files() {
    let dir = common::repo_root().join("tests/integration");
    let main = std::fs::read_to_string(dir.join("main.rs")).expect("main.rs");
    for entry in std::fs::read_dir(&dir).expect("dir") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if let Some(module) = name
            .strip_prefix("test_")
            .and_then(|n| n.strip_suffix(".rs"))
        {
            assert!(
                main.contains(&format!("mod test_{module};")),
                "tests/integration/{name} is not listed in main.rs"
            );
        }
    }
}
