//! Wiring data: what a module contributes to the Django project, and the
//! checks that keep anything from a manifest or the catalog from becoming code.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::value::Value;

/// A URL include: `path(route, include(target))`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UrlInclude {
    pub route: String,
    pub include: String,
}

/// Wiring fields that a catalog entry may supply when a manifest lacks them.
/// `None` means "not given", so a later override can leave a field alone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WiringHints {
    pub django_apps: Option<Vec<String>>,
    pub middleware: Option<Vec<String>>,
    pub urls: Option<Vec<UrlInclude>>,
    pub settings: Option<BTreeMap<String, Value>>,
    pub dependencies: Option<Vec<String>>,
}

impl WiringHints {
    /// Takes every field `other` sets.
    pub fn merge_from(&mut self, other: WiringHints) {
        if other.django_apps.is_some() {
            self.django_apps = other.django_apps;
        }
        if other.middleware.is_some() {
            self.middleware = other.middleware;
        }
        if other.urls.is_some() {
            self.urls = other.urls;
        }
        if other.settings.is_some() {
            self.settings = other.settings;
        }
        if other.dependencies.is_some() {
            self.dependencies = other.dependencies;
        }
    }

    /// Checks every name and value that would be written into Python or pip files.
    pub fn validate(&self) -> Result<(), String> {
        for app in self.django_apps.iter().flatten() {
            check_dotted_name(app).map_err(|e| format!("django_apps: `{app}`: {e}"))?;
        }
        for m in self.middleware.iter().flatten() {
            check_dotted_name(m).map_err(|e| format!("middleware: `{m}`: {e}"))?;
        }
        for u in self.urls.iter().flatten() {
            check_route(&u.route).map_err(|e| format!("urls: route `{}`: {e}", u.route))?;
            check_dotted_name(&u.include)
                .map_err(|e| format!("urls: include `{}`: {e}", u.include))?;
        }
        for name in self.settings.iter().flat_map(|s| s.keys()) {
            check_setting_name(name).map_err(|e| format!("settings: `{name}`: {e}"))?;
        }
        for d in self.dependencies.iter().flatten() {
            check_requirement(d).map_err(|e| format!("dependencies: `{d}`: {e}"))?;
        }
        Ok(())
    }
}

const PY_KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// Checks a Django setting name: `^[A-Z][A-Z0-9_]*$`.
pub fn check_setting_name(name: &str) -> Result<(), String> {
    let ok = name.len() <= 100
        && name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err("must match ^[A-Z][A-Z0-9_]*$".into())
    }
}

/// Checks a dotted Python name such as `allauth.account` (apps, middleware, URL modules).
pub fn check_dotted_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 200 {
        return Err("must be a dotted Python name such as `myapp.urls`".into());
    }
    for part in name.split('.') {
        let ok = part
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !PY_KEYWORDS.contains(&part);
        if !ok {
            return Err(format!(
                "`{part}` is not a Python identifier; expected a dotted name such as `myapp.urls`"
            ));
        }
    }
    Ok(())
}

/// Checks a URL route prefix: empty, or relative path segments ending in `/`.
pub fn check_route(route: &str) -> Result<(), String> {
    if route.is_empty() {
        return Ok(());
    }
    let ok = route.len() <= 200
        && route.ends_with('/')
        && !route.starts_with('/')
        && route
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.'))
        && !route.split('/').any(|s| s == "..");
    if ok {
        Ok(())
    } else {
        Err("must be empty or a relative path such as `crm/` (letters, digits, `-`, `_`, `.`, `/`; ends with `/`)".into())
    }
}

/// Checks a pip requirement such as `django-filter>=24.0`; options like
/// `--index-url` or `-e` are refused, since they would change where pip looks.
pub fn check_requirement(req: &str) -> Result<(), String> {
    let name_end = req
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .unwrap_or(req.len());
    let name = &req[..name_end];
    let rest = &req[name_end..];
    let name_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = rest.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                '[' | ']'
                    | ','
                    | '<'
                    | '>'
                    | '='
                    | '!'
                    | '~'
                    | '.'
                    | '*'
                    | ' '
                    | ';'
                    | '\''
                    | '"'
                    | '_'
                    | '-'
                    | '('
                    | ')'
            )
    });
    if name_ok && rest_ok && req.len() <= 200 {
        Ok(())
    } else {
        Err("must be a PEP 508 requirement such as `django-filter>=24.0` (no pip options, URLs or newlines)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_checks() {
        assert!(check_setting_name("CRM_DEALS_PER_PAGE").is_ok());
        assert!(check_setting_name("crm").is_err());
        assert!(check_setting_name("X; import os").is_err());
        assert!(check_dotted_name("allauth.account").is_ok());
        assert!(check_dotted_name("a.class").is_err());
        assert!(check_dotted_name("a..b").is_err());
        assert!(check_dotted_name("os\");print(1").is_err());
        assert!(check_route("crm/").is_ok());
        assert!(check_route("").is_ok());
        assert!(check_route("\")").is_err());
        assert!(check_route("../x/").is_err());
        assert!(check_requirement("django-filter>=24.0").is_ok());
        assert!(check_requirement("requests[socks]>=2; python_version >= '3.11'").is_ok());
        assert!(check_requirement("--index-url=http://evil").is_err());
        assert!(check_requirement("-e ./x").is_err());
        assert!(check_requirement("x\n-e y").is_err());
        assert!(check_requirement("pkg @ https://evil/x.whl").is_err());
    }
}
