//! Upstream QuickScale (the Python CLI this tool succeeds): what its
//! projects and modules contain, read as data. Nothing here runs upstream
//! code; its files are parsed, checked and translated.
//!
//! - [`derivation`]: the `derivation:` rules of 0.88 manifests;
//! - [`files`]: `.quickscale/state.yml`, `config.yml` and `file_hashes.yml`
//!   in every format upstream wrote, with their known bugs.

pub mod derivation;
pub mod files;
