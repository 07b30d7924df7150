//! Where things live in a project: the file and directory names every layer
//! agrees on. A leaf (no crate imports), so the modules that only need a name
//! do not import each other for it.

/// The file name of the desired state.
pub const CONFIG_FILE: &str = "quickscale.yml";

/// The manifest's file name inside a module.
pub const MANIFEST_FILE: &str = "module.yml";

/// The directory holding module prefixes.
pub const MODULES_DIR: &str = "modules";

/// The managed requirements file, included by the user-owned requirements.txt.
pub const REQUIREMENTS_FILE: &str = "requirements-modules.txt";

/// Paths of the managed files for a package, relative to the project root.
pub fn managed_paths(package: &str) -> [String; 3] {
    [
        format!("{package}/settings/modules.py"),
        format!("{package}/urls_modules.py"),
        REQUIREMENTS_FILE.to_owned(),
    ]
}

/// The prefix a module is embedded at (`modules/<name>`).
pub fn prefix_of(name: &str) -> String {
    format!("{MODULES_DIR}/{name}")
}
