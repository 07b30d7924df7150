//! Compatibility of a module with the project's stack, checked before pip:
//! a module that declares Python or Django ranges the generated project
//! cannot meet makes pip search for minutes and fail; we say so at once.
//!
//! Read from the module's `pyproject.toml`: PEP 621 (`requires-python`,
//! `dependencies`) or Poetry (`[tool.poetry.dependencies]` `python` and
//! `django`, with `^`/`~` constraints).

use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};

/// The Python versions a generated project supports (its pyproject's
/// `requires-python = ">=3.11"`), as the releases to check.
pub const PROJECT_PYTHONS: &[&str] = &["3.11", "3.12", "3.13", "3.14"];
/// The project's `requires-python`, as written in templates/skeleton/pyproject.toml.liquid.
pub const PROJECT_PYTHON_RANGE: &str = ">=3.11";
/// The Django releases the generated requirements allow (`Django>=5.2,<7`).
pub const PROJECT_DJANGOS: &[&str] = &["5.2", "6.0", "6.1"];
/// The project's Django requirement, as written in templates/skeleton/requirements.txt.liquid.
pub const PROJECT_DJANGO_RANGE: &str = ">=5.2,<7";
/// The first Django release that needs Python 3.12.
const DJANGO_NEEDS_PY312: &str = "6.0";

/// A range a module declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// As written (e.g. `^3.14`).
    pub text: String,
    /// Where (e.g. `[tool.poetry.dependencies] python`).
    pub field: String,
}

/// What a module needs, as its pyproject.toml declares it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needs {
    pub python: Option<Declared>,
    pub django: Option<Declared>,
}

/// A mismatch between a module and the project's stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub module: String,
    pub message: String,
}

/// Reads what a module's pyproject.toml declares; nothing when it is not TOML.
pub fn needs(pyproject: &str) -> Needs {
    let Ok(doc) = pyproject.parse::<toml::Table>() else {
        return Needs::default();
    };
    let mut out = Needs::default();
    let project = doc.get("project").and_then(|p| p.as_table());
    if let Some(rp) = project
        .and_then(|p| p.get("requires-python"))
        .and_then(|v| v.as_str())
    {
        out.python = Some(Declared {
            text: rp.to_owned(),
            field: "[project] requires-python".into(),
        });
    }
    if let Some(deps) = project
        .and_then(|p| p.get("dependencies"))
        .and_then(|v| v.as_array())
    {
        for dep in deps.iter().filter_map(|d| d.as_str()) {
            if let Some(spec) = pep508_spec(dep, "django") {
                out.django = Some(Declared {
                    text: spec,
                    field: "[project] dependencies".into(),
                });
            }
        }
    }
    let poetry = doc
        .get("tool")
        .and_then(|t| t.get("poetry"))
        .and_then(|p| p.get("dependencies"))
        .and_then(|d| d.as_table());
    if let Some(deps) = poetry {
        for (key, value) in deps {
            let text = match value {
                toml::Value::String(s) => Some(s.clone()),
                toml::Value::Table(t) => {
                    t.get("version").and_then(|v| v.as_str()).map(str::to_owned)
                }
                _ => None,
            };
            let Some(text) = text else { continue };
            let declared = Declared {
                text,
                field: format!("[tool.poetry.dependencies] {key}"),
            };
            match normalize(key).as_str() {
                "python" if out.python.is_none() => out.python = Some(declared),
                "django" if out.django.is_none() => out.django = Some(declared),
                _ => {}
            }
        }
    }
    out
}

/// The version specifier of `name` in a PEP 508 requirement string.
fn pep508_spec(requirement: &str, name: &str) -> Option<String> {
    let req = requirement.split(';').next()?.trim();
    let end = req
        .find(|c: char| !(c.is_ascii_alphanumeric() || "._-".contains(c)))
        .unwrap_or(req.len());
    if normalize(&req[..end]) != name {
        return None;
    }
    let mut rest = req[end..].trim();
    if rest.starts_with('[') {
        rest = rest.split_once(']').map_or("", |(_, r)| r).trim();
    }
    let rest = rest.trim_start_matches('(').trim_end_matches(')').trim();
    Some(if rest.is_empty() {
        "*".into()
    } else {
        rest.to_owned()
    })
}

fn normalize(name: &str) -> String {
    name.to_ascii_lowercase().replace(['_', '.'], "-")
}

/// Whether `version` satisfies a declared range (PEP 440, or Poetry's `^`,
/// `~`, `*` and `||`). `None` when the range cannot be read.
pub fn allows(range: &str, version: &str) -> Option<bool> {
    let version = Version::from_str(version).ok()?;
    let mut any = false;
    for alternative in range.split("||") {
        let mut specs = Vec::new();
        for part in alternative.split(',') {
            let part = part.trim();
            if part.is_empty() || part == "*" {
                continue;
            }
            specs.push(poetry_to_pep440(part)?);
        }
        let joined = specs.join(",");
        let allowed = joined.is_empty()
            || VersionSpecifiers::from_str(&joined)
                .ok()?
                .contains(&version);
        any |= allowed;
    }
    Some(any)
}

/// `^1.2` → `>=1.2,<2.0`; `~1.2` → `>=1.2,<1.3`; a bare version → `==`.
fn poetry_to_pep440(part: &str) -> Option<String> {
    let bump = |v: &str, caret: bool| -> Option<String> {
        let nums: Vec<u64> = v
            .split('.')
            .map(|n| n.trim_end_matches('*').parse().ok())
            .collect::<Option<_>>()?;
        let upper = if caret {
            match nums.iter().position(|n| *n != 0) {
                Some(i) => {
                    let mut u: Vec<u64> = nums[..=i].to_vec();
                    u[i] += 1;
                    u
                }
                None => vec![0, 1],
            }
        } else if nums.len() >= 2 {
            vec![nums[0], nums[1] + 1]
        } else {
            vec![nums[0] + 1]
        };
        let upper: Vec<String> = upper.iter().map(u64::to_string).collect();
        Some(format!(">={v},<{}", upper.join(".")))
    };
    if let Some(v) = part.strip_prefix('^') {
        bump(v.trim(), true)
    } else if let Some(v) = part.strip_prefix("~=") {
        Some(format!("~={}", v.trim()))
    } else if let Some(v) = part.strip_prefix('~') {
        bump(v.trim(), false)
    } else if part.starts_with(|c: char| c.is_ascii_digit()) {
        Some(format!("=={part}"))
    } else {
        Some(part.to_owned())
    }
}

/// Compares what `module` needs with the project's stack.
pub fn check(module: &str, needs: &Needs) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let pythons: Vec<&str> = match &needs.python {
        Some(d) => PROJECT_PYTHONS
            .iter()
            .copied()
            .filter(|v| allows(&d.text, v) != Some(false))
            .collect(),
        None => PROJECT_PYTHONS.to_vec(),
    };
    let djangos: Vec<&str> = match &needs.django {
        Some(d) => PROJECT_DJANGOS
            .iter()
            .copied()
            .filter(|v| allows(&d.text, v) != Some(false))
            .collect(),
        None => PROJECT_DJANGOS.to_vec(),
    };
    if let Some(d) = &needs.python
        && pythons.len() < PROJECT_PYTHONS.len()
    {
        out.push(Mismatch {
            module: module.to_owned(),
            message: if pythons.is_empty() {
                format!(
                    "module {module} needs Python {} ({}), which no Python the project supports ({PROJECT_PYTHON_RANGE}) meets",
                    d.text, d.field
                )
            } else {
                format!(
                    "module {module} needs Python {} ({}); the project supports {PROJECT_PYTHON_RANGE}: install it on Python {}+, pip on an older Python fails after a long search",
                    d.text,
                    d.field,
                    pythons[0]
                )
            },
        });
    }
    if let Some(d) = &needs.django
        && djangos.len() < PROJECT_DJANGOS.len()
    {
        let py312 = djangos
            .iter()
            .all(|v| allows(&format!(">={DJANGO_NEEDS_PY312}"), v) == Some(true));
        out.push(Mismatch {
            module: module.to_owned(),
            message: if djangos.is_empty() {
                format!(
                    "module {module} needs Django {} ({}), which the project's Django {PROJECT_DJANGO_RANGE} excludes",
                    d.text, d.field
                )
            } else {
                format!(
                    "module {module} needs Django {} ({}); the project allows Django {PROJECT_DJANGO_RANGE}, so pip can only install Django {}{}",
                    d.text,
                    d.field,
                    djangos.join(" or "),
                    if py312 {
                        ", which needs Python 3.12 or newer"
                    } else {
                        ""
                    }
                )
            },
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poetry_and_pep440_ranges() {
        assert_eq!(allows("^3.14", "3.11"), Some(false));
        assert_eq!(allows("^3.14", "3.14"), Some(true));
        assert_eq!(allows("^3.14", "4.0"), Some(false));
        assert_eq!(allows("^6.0", "5.2"), Some(false));
        assert_eq!(allows("^6.0", "6.1"), Some(true));
        assert_eq!(allows("^0.3", "0.4"), Some(false));
        assert_eq!(allows("~5.2", "5.2"), Some(true));
        assert_eq!(allows("~5.2", "5.3"), Some(false));
        assert_eq!(allows(">=3.11", "3.13"), Some(true));
        assert_eq!(allows(">=5.2,<7", "6.1"), Some(true));
        assert_eq!(allows("^5.2 || ^6.0", "6.0"), Some(true));
        assert_eq!(allows("*", "6.0"), Some(true));
        assert_eq!(allows("not a range", "6.0"), None);
    }

    #[test]
    fn reads_pep621_and_poetry() {
        let pep621 = "[project]\nname = \"x\"\nrequires-python = \">=3.12\"\ndependencies = [\"Django>=6.0,<7\", \"requests\"]\n";
        let n = needs(pep621);
        assert_eq!(n.python.as_ref().map(|d| d.text.as_str()), Some(">=3.12"));
        assert_eq!(n.django.as_ref().map(|d| d.text.as_str()), Some(">=6.0,<7"));
        let poetry =
            "[tool.poetry.dependencies]\npython = \"^3.14\"\ndjango = {version = \"^6.0\"}\n";
        let n = needs(poetry);
        assert_eq!(n.python.as_ref().map(|d| d.text.as_str()), Some("^3.14"));
        assert_eq!(n.django.as_ref().map(|d| d.text.as_str()), Some("^6.0"));
        assert_eq!(needs("not toml ["), Needs::default());
    }

    #[test]
    fn upstream_like_module_is_reported_with_both_ranges() {
        let n = needs("[tool.poetry.dependencies]\npython = \"^3.14\"\ndjango = \"^6.0\"\n");
        let m = check("crm", &n);
        assert_eq!(m.len(), 2, "{m:?}");
        assert!(m[0].message.contains("Python ^3.14") && m[0].message.contains(">=3.11"));
        assert!(m[1].message.contains("Django ^6.0") && m[1].message.contains("Python 3.12"));
        // A module within the stack says nothing.
        let ok =
            needs("[project]\nrequires-python = \">=3.10\"\ndependencies = [\"django>=4.2\"]\n");
        assert!(check("ok", &ok).is_empty());
    }

    #[test]
    fn the_stack_constants_match_the_templates() {
        let pyproject = include_str!("../templates/skeleton/pyproject.toml.liquid");
        assert!(pyproject.contains(&format!("requires-python = \"{PROJECT_PYTHON_RANGE}\"")));
        let requirements = include_str!("../templates/skeleton/requirements.txt.liquid");
        assert!(requirements.contains(&format!("Django{PROJECT_DJANGO_RANGE}")));
    }
}
