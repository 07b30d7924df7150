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
    /// Who may open the pages of the module's URL includes.
    pub access: Option<AccessSpec>,
    /// Links the theme's navigation shows for the module.
    pub nav: Option<Vec<NavEntry>>,
}

/// The setting that carries every module's navigation links to the theme
/// (its context processor resolves and filters them per request).
pub const NAV_SETTING: &str = "QUICKSCALE_NAV";

/// One link in the theme's navigation: `{label, url, show}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NavEntry {
    pub label: String,
    /// A URL name for `reverse()`, e.g. `quickscale_billing:pricing`.
    pub url: String,
    /// Who sees it: `always`, `signed_in`, `signed_out` or `staff`.
    pub show: String,
}

const NAV_SHOW: &[&str] = &["always", "signed_in", "signed_out", "staff"];

impl NavEntry {
    /// Reads a list of `{label, url, show}` mappings (`show` defaults to `always`).
    pub fn list_from_value(v: &Value) -> Result<Vec<NavEntry>, String> {
        let Value::List(items) = v else {
            return Err(format!(
                "must be a list of {{label, url, show}} mappings, found {}",
                v.type_name()
            ));
        };
        let mut out = Vec::new();
        for item in items {
            let Value::Map(map) = item else {
                return Err(format!(
                    "each entry must be a {{label, url, show}} mapping, found {}",
                    item.type_name()
                ));
            };
            if let Some(k) = map
                .keys()
                .find(|k| !["label", "url", "show"].contains(&k.as_str()))
            {
                return Err(format!(
                    "unknown key `{}` (expected label, url, show)",
                    k.escape_debug()
                ));
            }
            let text = |key: &str| match map.get(key) {
                Some(Value::Str(s)) => Ok(Some(s.clone())),
                None => Ok(None),
                Some(other) => Err(format!(
                    "`{key}` must be a string, found {}",
                    other.type_name()
                )),
            };
            let label = text("label")?.ok_or("each entry needs a `label`")?;
            if label.trim().is_empty()
                || label.chars().count() > 40
                || label.chars().any(char::is_control)
            {
                return Err(format!(
                    "label `{}`: must be 1 to 40 characters without control characters",
                    label.escape_debug()
                ));
            }
            let url =
                text("url")?.ok_or("each entry needs a `url` (a URL name such as `app:view`)")?;
            let url_ok = !url.is_empty()
                && url.len() <= 200
                && url
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '.'));
            if !url_ok {
                return Err(format!(
                    "url `{}`: must be a URL name such as `quickscale_billing:pricing`",
                    url.escape_debug()
                ));
            }
            let show = text("show")?.unwrap_or_else(|| "always".into());
            if !NAV_SHOW.contains(&show.as_str()) {
                return Err(format!(
                    "show `{}`: expected one of {}",
                    show.escape_debug(),
                    NAV_SHOW.join(", ")
                ));
            }
            out.push(NavEntry { label, url, show });
        }
        Ok(out)
    }

    /// The entry as the value written into the settings.
    pub fn to_value(&self) -> Value {
        Value::Map(BTreeMap::from([
            ("label".to_owned(), Value::Str(self.label.clone())),
            ("url".to_owned(), Value::Str(self.url.clone())),
            ("show".to_owned(), Value::Str(self.show.clone())),
        ]))
    }
}

/// Who may open the views of a module's URL include. The project wraps every
/// view of a non-public include (Django REST framework views keep their own
/// permission classes, which default to signed-in users).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Access {
    /// Anyone, signed in or not (sign-in pages, webhooks, public content).
    Public,
    /// Signed-in users; visitors are sent to the sign-in page.
    Login,
    /// Signed-in staff users (`is_staff`).
    Staff,
    /// Signed-in users with this Django permission (`app_label.codename`).
    Permission(String),
}

impl Access {
    /// What an include gets when neither quickscale.yml, the manifest nor the
    /// catalog says: a module's pages show its data, so only to signed-in users.
    pub const DEFAULT: Access = Access::Login;

    /// Reads `public`, `login`, `staff` or `permission:<app_label.codename>`.
    pub fn parse(text: &str) -> Result<Access, String> {
        match text {
            "public" => Ok(Access::Public),
            "login" => Ok(Access::Login),
            "staff" => Ok(Access::Staff),
            _ => match text.strip_prefix("permission:") {
                Some(perm) if is_permission(perm) => Ok(Access::Permission(perm.to_owned())),
                _ => Err(format!(
                    "`{}` is not an access level; expected public, login, staff or permission:<app_label.codename>",
                    text.escape_debug()
                )),
            },
        }
    }

    /// The word written in quickscale.yml and in urls_modules.py.
    pub fn label(&self) -> String {
        match self {
            Access::Public => "public".into(),
            Access::Login => "login".into(),
            Access::Staff => "staff".into(),
            Access::Permission(p) => format!("permission:{p}"),
        }
    }
}

/// `app_label.codename`: two identifiers joined by one dot.
fn is_permission(perm: &str) -> bool {
    let mut parts = perm.split('.');
    let ident = |s: Option<&str>| {
        s.is_some_and(|s| {
            !s.is_empty()
                && s.len() <= 100
                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
    };
    ident(parts.next()) && ident(parts.next()) && parts.next().is_none()
}

/// Access declared for a module: one level for all its includes and/or a
/// level per include (keyed by the include's dotted module name).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AccessSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub all: Option<Access>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub includes: BTreeMap<String, Access>,
}

impl AccessSpec {
    /// Reads `access: login` or `access: {"*": login, allauth.urls: public}`.
    pub fn from_value(v: &Value) -> Result<AccessSpec, String> {
        match v {
            Value::Str(s) => Ok(AccessSpec {
                all: Some(Access::parse(s)?),
                includes: BTreeMap::new(),
            }),
            Value::Map(map) => {
                let mut spec = AccessSpec::default();
                for (key, level) in map {
                    let Value::Str(level) = level else {
                        return Err(format!(
                            "`{}`: the access level must be a string, found {}",
                            key.escape_debug(),
                            level.type_name()
                        ));
                    };
                    let level = Access::parse(level).map_err(|e| format!("`{key}`: {e}"))?;
                    if key == "*" {
                        spec.all = Some(level);
                    } else {
                        check_dotted_name(key).map_err(|e| {
                            format!("`{}`: {e} (or `*` for every include)", key.escape_debug())
                        })?;
                        spec.includes.insert(key.clone(), level);
                    }
                }
                Ok(spec)
            }
            other => Err(format!(
                "must be an access level (public, login, staff, permission:<app_label.codename>) or a mapping from URL include to level, found {}",
                other.type_name()
            )),
        }
    }

    /// The level this spec gives `include`, if it gives one.
    pub fn for_include(&self, include: &str) -> Option<&Access> {
        self.includes.get(include).or(self.all.as_ref())
    }
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
        if other.access.is_some() {
            self.access = other.access;
        }
        if other.nav.is_some() {
            self.nav = other.nav;
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

    #[test]
    fn access_levels_and_specs() {
        assert_eq!(Access::parse("login"), Ok(Access::Login));
        assert_eq!(
            Access::parse("permission:crm.view_deal"),
            Ok(Access::Permission("crm.view_deal".into()))
        );
        for bad in [
            "Login",
            "permission:",
            "permission:crm",
            "permission:a.b.c",
            "permission:a\".b",
        ] {
            assert!(Access::parse(bad).is_err(), "{bad}");
        }
        let spec = AccessSpec::from_value(&Value::Map(BTreeMap::from([
            ("*".to_owned(), Value::Str("staff".into())),
            ("allauth.urls".to_owned(), Value::Str("public".into())),
        ])))
        .expect("spec");
        assert_eq!(spec.for_include("allauth.urls"), Some(&Access::Public));
        assert_eq!(spec.for_include("crm.urls"), Some(&Access::Staff));
        assert!(AccessSpec::from_value(&Value::Int(1)).is_err());
        assert!(
            AccessSpec::from_value(&Value::Map(BTreeMap::from([(
                "os\");x".to_owned(),
                Value::Str("public".into())
            )])))
            .is_err()
        );
        assert_eq!(Access::DEFAULT, Access::Login);
    }

    #[test]
    fn nav_entries() {
        let entry = |pairs: &[(&str, &str)]| {
            Value::List(vec![Value::Map(
                pairs
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), Value::Str((*v).to_owned())))
                    .collect(),
            )])
        };
        let ok = NavEntry::list_from_value(&entry(&[
            ("label", "Pricing"),
            ("url", "quickscale_billing:pricing"),
        ]))
        .expect("nav");
        assert_eq!(ok[0].show, "always");
        for bad in [
            entry(&[("label", "X"), ("url", "a b")]),
            entry(&[("label", "X"), ("url", "a"), ("show", "everyone")]),
            entry(&[("label", ""), ("url", "a")]),
            entry(&[("url", "a")]),
            entry(&[("label", "X"), ("url", "a"), ("href", "/")]),
        ] {
            assert!(NavEntry::list_from_value(&bad).is_err(), "{bad:?}");
        }
    }
}
