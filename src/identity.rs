//! Names and identity: the leaf every other module builds on (no crate
//! imports). Module and ref names, the theme, and the project identity
//! rules: the slug (directory and service name) and the
//! Python package. Upstream's rules (reference §7.4) with its gaps closed:
//! reserved names apply to the package too, and suggestions are deterministic.

use std::fmt;

use serde::Serialize;

/// The themes a project can be generated with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    ShowcaseHtml,
    ShowcaseHtmx,
    ShowcaseReact,
    CrmReact,
}

impl Theme {
    pub const ALL: [Theme; 4] = [
        Theme::ShowcaseHtml,
        Theme::ShowcaseHtmx,
        Theme::ShowcaseReact,
        Theme::CrmReact,
    ];
    /// Upstream's default.
    pub const DEFAULT: Theme = Theme::ShowcaseReact;

    pub fn name(self) -> &'static str {
        match self {
            Theme::ShowcaseHtml => "showcase_html",
            Theme::ShowcaseHtmx => "showcase_htmx",
            Theme::ShowcaseReact => "showcase_react",
            Theme::CrmReact => "crm_react",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Theme::ShowcaseHtml => "server-rendered Django templates, plain HTML and CSS",
            Theme::ShowcaseHtmx => "Django templates with HTMX and Alpine.js",
            Theme::ShowcaseReact => "React + TypeScript + Vite single-page app",
            Theme::CrmReact => {
                "CRM app (pipeline board, contacts, deals) in React + Vite; adds crm and auth"
            }
        }
    }

    /// Modules the theme's pages are built on: `plan` adds the missing
    /// ones to a new project, since the theme does nothing without them.
    pub fn required_modules(self) -> &'static [&'static str] {
        match self {
            Theme::CrmReact => &["crm", "auth"],
            _ => &[],
        }
    }

    pub fn from_name(name: &str) -> Option<Theme> {
        Theme::ALL.into_iter().find(|t| t.name() == name)
    }

    pub fn names() -> impl Iterator<Item = &'static str> + Clone {
        Theme::ALL.into_iter().map(Theme::name)
    }
}

impl fmt::Display for Theme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `project.*`: who the project is. Fixed after generation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Identity {
    pub slug: String,
    pub package: String,
    pub theme: Theme,
    /// `project.name`: the display name in page titles and the brand (the
    /// slug when absent). Free text, always written as an escaped literal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Identity {
    /// The name people see: `project.name`, else the slug.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.slug)
    }
}

/// Checks `project.name`: 1 to 80 characters, no control characters.
pub fn validate_display_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
        Err("must be 1 to 80 characters without control characters (line breaks, tabs)".into())
    } else {
        Ok(())
    }
}

/// Longest module name: it names a directory, a ref component and a Python label.
pub const MAX_MODULE_NAME: usize = 64;

/// Whether `name` can name a module (a directory and a ref component).
pub fn is_module_name(name: &str) -> bool {
    module_name_problem(name).is_none()
}

/// Why `name` cannot name a module, as a predicate ("is too long (…)"), so
/// callers can write "`{name}` {problem}"; `None` when it can.
pub fn module_name_problem(name: &str) -> Option<String> {
    let chars_ok = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !chars_ok {
        Some(
            "is not a module name (it must start with a lowercase letter and use only lowercase letters, digits and `_`)"
                .into(),
        )
    } else if name.len() > MAX_MODULE_NAME {
        Some(format!(
            "is too long ({} characters; at most {MAX_MODULE_NAME})",
            name.len()
        ))
    } else {
        None
    }
}

/// Checks a branch, tag or commit name given by the user (git's ref-format
/// rules, so it can never be mistaken for an option or a range).
pub fn check_ref_name(r: &str) -> Result<(), String> {
    let bad = r.is_empty()
        || r.len() > 200
        || r.starts_with(['-', '/'])
        || r.ends_with(['/', '.'])
        || r.ends_with(".lock")
        || r.contains("..")
        || r.contains("//")
        || r.contains("@{")
        || r.chars().any(|c| {
            c.is_control()
                || c.is_whitespace()
                || matches!(c, '~' | '^' | ':' | '?' | '*' | '[' | '\\')
        });
    if bad {
        Err(format!(
            "`{}` is not a valid branch, tag or commit name",
            r.escape_debug()
        ))
    } else {
        Ok(())
    }
}

/// Names that break a Django project when used as the package (upstream's
/// list, plus directories of the generated project and key dependencies).
const RESERVED: &[&str] = &[
    "test",
    "tests",
    "django",
    "site",
    "utils",
    "common",
    "core",
    "modules",
    "templates",
    "static",
    "staticfiles",
    "media",
    "frontend",
    "scripts",
    "docs",
    "config",
    "pytest",
    "whitenoise",
    "gunicorn",
    "psycopg",
    "dj_database_url",
    "rest_framework",
    "allauth",
    "quickscale",
];

/// Python's hard keywords: none of them can name a package.
const PYTHON_KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// Standard-library modules a project package would shadow (Python 3.11).
const STDLIB: &[&str] = &[
    "abc",
    "aifc",
    "argparse",
    "array",
    "ast",
    "asynchat",
    "asyncio",
    "asyncore",
    "atexit",
    "audioop",
    "base64",
    "bdb",
    "binascii",
    "bisect",
    "builtins",
    "bz2",
    "calendar",
    "cgi",
    "cgitb",
    "chunk",
    "cmath",
    "cmd",
    "code",
    "codecs",
    "codeop",
    "collections",
    "colorsys",
    "compileall",
    "concurrent",
    "configparser",
    "contextlib",
    "contextvars",
    "copy",
    "copyreg",
    "crypt",
    "csv",
    "ctypes",
    "curses",
    "dataclasses",
    "datetime",
    "dbm",
    "decimal",
    "difflib",
    "dis",
    "distutils",
    "doctest",
    "email",
    "encodings",
    "ensurepip",
    "enum",
    "errno",
    "faulthandler",
    "fcntl",
    "filecmp",
    "fileinput",
    "fnmatch",
    "fractions",
    "ftplib",
    "functools",
    "gc",
    "getopt",
    "getpass",
    "gettext",
    "glob",
    "graphlib",
    "grp",
    "gzip",
    "hashlib",
    "heapq",
    "hmac",
    "html",
    "http",
    "imaplib",
    "imghdr",
    "imp",
    "importlib",
    "inspect",
    "io",
    "ipaddress",
    "itertools",
    "json",
    "keyword",
    "linecache",
    "locale",
    "logging",
    "lzma",
    "mailbox",
    "mailcap",
    "marshal",
    "math",
    "mimetypes",
    "mmap",
    "modulefinder",
    "msilib",
    "multiprocessing",
    "netrc",
    "nis",
    "nntplib",
    "numbers",
    "opcode",
    "operator",
    "optparse",
    "os",
    "pathlib",
    "pdb",
    "pickle",
    "pickletools",
    "pipes",
    "pkgutil",
    "platform",
    "plistlib",
    "poplib",
    "posix",
    "pprint",
    "profile",
    "pstats",
    "pty",
    "pwd",
    "py_compile",
    "pyclbr",
    "pydoc",
    "queue",
    "quopri",
    "random",
    "re",
    "readline",
    "reprlib",
    "resource",
    "rlcompleter",
    "runpy",
    "sched",
    "secrets",
    "select",
    "selectors",
    "shelve",
    "shlex",
    "shutil",
    "signal",
    "smtpd",
    "smtplib",
    "sndhdr",
    "socket",
    "socketserver",
    "spwd",
    "sqlite3",
    "ssl",
    "stat",
    "statistics",
    "string",
    "stringprep",
    "struct",
    "subprocess",
    "sunau",
    "symtable",
    "sys",
    "sysconfig",
    "syslog",
    "tabnanny",
    "tarfile",
    "telnetlib",
    "tempfile",
    "termios",
    "textwrap",
    "this",
    "threading",
    "time",
    "timeit",
    "tkinter",
    "token",
    "tokenize",
    "tomllib",
    "trace",
    "traceback",
    "tracemalloc",
    "tty",
    "turtle",
    "types",
    "typing",
    "unicodedata",
    "unittest",
    "urllib",
    "uu",
    "uuid",
    "venv",
    "warnings",
    "wave",
    "weakref",
    "webbrowser",
    "wsgiref",
    "xdrlib",
    "xml",
    "xmlrpc",
    "zipapp",
    "zipfile",
    "zipimport",
    "zlib",
    "zoneinfo",
];

/// Longest accepted slug or package; longer names make awkward paths and services.
pub const MAX_NAME_LEN: usize = 64;

/// A rejected slug or package, with the reason and a suggested valid name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityProblem {
    pub reason: String,
    pub suggestion: Option<String>,
}

impl IdentityProblem {
    fn new(reason: impl Into<String>, suggestion: Option<String>) -> Self {
        Self {
            reason: reason.into(),
            suggestion,
        }
    }
}

/// Checks a project slug such as `my-shop`.
pub fn validate_slug(slug: &str) -> Result<(), IdentityProblem> {
    if slug.is_empty() {
        return Err(IdentityProblem::new(
            "the project slug cannot be empty",
            None,
        ));
    }
    if slug.len() > MAX_NAME_LEN {
        return Err(IdentityProblem::new(
            format!("the project slug is longer than {MAX_NAME_LEN} characters"),
            Some(sanitize(slug, '-')),
        ));
    }
    if slug.starts_with(['_', '-']) {
        return Err(IdentityProblem::new(
            "the project slug cannot start with an underscore or hyphen",
            Some(sanitize(slug, '-')),
        ));
    }
    let valid_chars = slug.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid_chars {
        return Err(IdentityProblem::new(
            "the project slug must start with a lowercase letter and use only lowercase letters, digits, `-` and `_`",
            Some(sanitize(slug, '-')),
        ));
    }
    let package = package_from_slug(slug);
    if PYTHON_KEYWORDS.contains(&package.as_str()) {
        return Err(IdentityProblem::new(
            format!("`{package}` is a Python keyword"),
            Some(format!("{slug}-project")),
        ));
    }
    if RESERVED.contains(&package.as_str()) {
        return Err(IdentityProblem::new(
            format!("`{slug}` results in the reserved name `{package}`"),
            Some(format!("{slug}-project")),
        ));
    }
    Ok(())
}

/// Checks a Python package name such as `my_shop`.
pub fn validate_package(package: &str) -> Result<(), IdentityProblem> {
    let suggestion = || Some(sanitize(package, '_'));
    if package.is_empty() {
        return Err(IdentityProblem::new(
            "the package name cannot be empty",
            None,
        ));
    }
    if package.len() > MAX_NAME_LEN {
        return Err(IdentityProblem::new(
            format!("the package name is longer than {MAX_NAME_LEN} characters"),
            suggestion(),
        ));
    }
    let valid_chars = package
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase())
        && package
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid_chars {
        return Err(IdentityProblem::new(
            "the package name must start with a lowercase letter and use only lowercase letters, digits and `_`",
            suggestion(),
        ));
    }
    if PYTHON_KEYWORDS.contains(&package) {
        return Err(IdentityProblem::new(
            format!("`{package}` is a Python keyword"),
            Some(format!("{package}_project")),
        ));
    }
    if RESERVED.contains(&package) {
        return Err(IdentityProblem::new(
            format!("`{package}` is a reserved name"),
            Some(format!("{package}_project")),
        ));
    }
    if STDLIB.contains(&package) {
        return Err(IdentityProblem::new(
            format!("`{package}` would shadow the Python standard library module of that name"),
            Some(format!("{package}_project")),
        ));
    }
    Ok(())
}

/// The package a slug implies: `-` becomes `_` (upstream's derivation).
pub fn package_from_slug(slug: &str) -> String {
    slug.replace('-', "_")
}

/// Makes a best-effort valid name from arbitrary text, deterministically.
fn sanitize(text: &str, separator: char) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with(separator) {
            out.push(separator);
        }
    }
    let trimmed = out
        .trim_start_matches(|c: char| !c.is_ascii_lowercase())
        .trim_end_matches(separator);
    let mut name: String = trimmed.chars().take(MAX_NAME_LEN).collect();
    if name.is_empty() {
        name = "project".into();
    }
    name.trim_end_matches(separator).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_rules() {
        assert!(validate_slug("my-shop").is_ok());
        assert!(validate_slug("myapp-").is_ok());
        assert!(validate_slug("my--app").is_ok());
        let p = validate_slug("My Shop").expect_err("caps");
        assert_eq!(p.suggestion.as_deref(), Some("my-shop"));
        assert!(validate_slug("-x").is_err());
        assert!(validate_slug("class").is_err());
        let p = validate_slug("django").expect_err("reserved");
        assert!(p.reason.contains("reserved"));
        assert!(validate_slug("a\"b").is_err());
        assert!(validate_slug("").is_err());
    }

    #[test]
    fn package_rules_include_reserved_and_stdlib() {
        assert!(validate_package("my_shop").is_ok());
        assert!(validate_package("django").is_err());
        assert!(validate_package("json").is_err());
        assert!(validate_package("my-shop").is_err());
        assert_eq!(
            validate_package("My Shop!")
                .expect_err("bad")
                .suggestion
                .as_deref(),
            Some("my_shop")
        );
        assert!(validate_package("import").is_err());
    }
}
