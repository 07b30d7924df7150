//! The one integration-test binary: real binary, real git, temp repos.
//!
//! libtest starts tests in name order on a few threads (scripts/test.sh:
//! one per core), so the long end-to-end suites are named to start first:
//! `e2e_1_*` (the README's first command, a whole `cargo install`), then
//! `e2e_2_*` (Python and npm installs of generated projects) and `e2e_3_*`
//! (a property test over real repositories), then the many quick `test_*`.
//! Started last, any of them would be the run's tail on an idle core.

#![allow(clippy::print_stderr, clippy::print_stdout)]

mod common;
mod e2e_1_readme;
mod e2e_2_billing_module;
mod e2e_2_crm_theme;
mod e2e_2_matrix;
mod e2e_2_teams_module;
mod e2e_2_upstream_modules;
mod e2e_3_update_properties;
mod test_adopt;
mod test_apply;
mod test_bad_inputs;
mod test_check;
mod test_crash;
mod test_extract;
mod test_failures;
mod test_first_hour;
mod test_generated_project;
mod test_guard;
mod test_hooks;
mod test_interop;
mod test_layout;
mod test_manifest_rules;
mod test_nested_project;
mod test_plan;
mod test_process;
mod test_push;
mod test_python;
pub mod test_real_refs;
mod test_safety;
mod test_split;
mod test_status_cache;
mod test_sync;
mod test_team;
mod test_untrusted;
mod test_update;
mod test_update_prs;
mod test_wheel;
mod test_workflow_fuzz;
mod test_workflows;
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
        if let Some(module) = name.strip_suffix(".rs")
            && (module.starts_with("test_") || module.starts_with("e2e_"))
        {
            assert!(
                main.contains(&format!("mod {module};")),
                "tests/integration/{name} is not listed in main.rs"
            );
        }
    }
}
