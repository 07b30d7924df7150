//! git-quickscale: generate Django projects and keep their modules, embedded
//! as git subtrees, up to date without touching the code the user wrote.
//!
//! Domain modules never print or read the terminal; `cli` and `ui` do.

pub mod catalog;
pub mod cli;
pub mod compat;
pub mod config;
pub mod diag;
pub mod engine;
pub mod error;
pub mod escape;
pub mod fsutil;
pub mod git;
pub mod hooks;
pub mod identity;
pub mod layout;
pub mod manifest;
pub mod markdown;
pub mod ownership;
pub mod policy;
pub mod project;
pub mod pyliteral;
pub mod refs;
pub mod render;
pub mod report;
pub mod secrets;
pub mod source;
pub mod spec;
pub mod state;
pub mod suggest;
pub mod txn;
pub mod ui;
pub mod upstream;
pub mod value;
pub mod wiring;
pub mod yaml;

#[cfg(test)]
mod unwinding {
    //! build.rs links the unwinder in statically (no libgcc_s): a panic must
    //! still unwind and run `Drop`, which cleans up locks and scratch refs.
    #[test]
    fn a_panic_unwinds_and_runs_drop() {
        struct Flag<'a>(&'a std::cell::Cell<bool>);
        impl Drop for Flag<'_> {
            fn drop(&mut self) {
                self.0.set(true);
            }
        }
        let dropped = std::cell::Cell::new(false);
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _flag = Flag(&dropped);
            panic!("unwind test");
        }));
        assert!(caught.is_err());
        assert!(dropped.get());
    }
}
