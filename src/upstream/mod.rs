//! Upstream QuickScale (the Python CLI this tool succeeds): what its
//! projects and modules contain, read as data. Nothing here runs upstream
//! code; its files are parsed, checked and translated.
//!
//! - [`derivation`]: the `derivation:` rules of 0.88 manifests;
//! - [`files`]: `.quickscale/state.yml`, `config.yml` and `file_hashes.yml`
//!   in every format upstream wrote, with their known bugs;
//! - [`kept`]: upstream's wiring that adopt keeps in a user-owned file.

pub mod derivation;
pub mod files;
pub mod pyliteral;
