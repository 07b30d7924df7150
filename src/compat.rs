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
    // Only [project] and [tool.poetry] are kept: a project's pyproject.toml
    // is mostly [tool.ruff], [tool.mypy] and the like, and building them as
    // tables was most of this function's time (`status` reads it each run).
    #[derive(serde::Deserialize)]
    struct Sections {
        project: Option<toml::Value>,
        tool: Option<Tools>,
    }
    #[derive(serde::Deserialize)]
    struct Tools {
        poetry: Option<toml::Value>,
    }
    let (project, poetry) = match toml::from_str::<Sections>(pyproject) {
        Ok(s) => (s.project, s.tool.and_then(|t| t.poetry)),
        // `tool` that is not a table: read as before, whatever it holds.
        Err(_) => match pyproject.parse::<toml::Table>() {
            Ok(mut doc) => (
                doc.remove("project"),
                doc.remove("tool").and_then(|t| t.get("poetry").cloned()),
            ),
            Err(_) => return Needs::default(),
        },
    };
    let mut out = Needs::default();
    let project = project.as_ref().and_then(|p| p.as_table());
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
    let poetry = poetry
        .as_ref()
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

/// A declared range as a PEP 440 specifier (`^6.0` → `>=6.0,<7`), for
/// tools that only speak PEP 440; `None` for `||` alternatives or text
/// that is not a range. `*` is the empty specifier.
pub fn to_pep440(range: &str) -> Option<String> {
    if range.contains("||") {
        return None;
    }
    let parts: Vec<String> = range
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty() && *p != "*")
        .map(poetry_to_pep440)
        .collect::<Option<_>>()?;
    Some(parts.join(","))
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

/// The Python a project runs on: the oldest release every embedded module
/// allows (and the project's own `requires-python`). One value, carried
/// into `.python-version`, the README, the CI workflow, the Dockerfile and
/// apply's next steps, so that nothing leads to a Python pip cannot serve.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProjectPython {
    /// `3.14`.
    pub version: String,
    /// Why it is not the project's own minimum, e.g.
    /// `auth: Python ^3.14 ([tool.poetry.dependencies] python)`; empty
    /// when no module asks for more.
    pub reasons: Vec<String>,
}

impl ProjectPython {
    /// The project's own minimum, for a project without modules.
    pub fn baseline() -> Self {
        ProjectPython {
            version: PROJECT_PYTHONS[0].to_owned(),
            reasons: Vec::new(),
        }
    }

    /// `uv`/`pyenv` commands that install this Python.
    pub fn install_hint(&self) -> String {
        let v = &self.version;
        format!("`uv python install {v}` (https://docs.astral.sh/uv/) or `pyenv install {v}`")
    }
}

/// What the embedded modules need together: `modules` is (name, needs) for
/// each, from its pyproject.toml and its manifest's `requires:`.
pub fn project_python(modules: &[(String, Needs)]) -> ProjectPython {
    let mut reasons = Vec::new();
    let mut floor = 0;
    for (name, needs) in modules {
        let mut own = 0;
        if let Some(d) = &needs.python {
            // The oldest supported release the range allows (unreadable: none).
            own = PROJECT_PYTHONS
                .iter()
                .position(|v| allows(&d.text, v) == Some(true))
                .unwrap_or(0);
            if own > 0 {
                reasons.push(format!("{name}: Python {} ({})", d.text, d.field));
            }
        }
        if let Some(d) = &needs.django {
            // Only Django releases that need Python 3.12 remain.
            let older_ok = PROJECT_DJANGOS
                .iter()
                .filter(|v| allows(&format!("<{DJANGO_NEEDS_PY312}"), v) == Some(true))
                .any(|v| allows(&d.text, v) != Some(false));
            let py312 = PROJECT_PYTHONS
                .iter()
                .position(|v| *v == "3.12")
                .unwrap_or(0);
            if !older_ok && own < py312 {
                own = py312;
                reasons.push(format!(
                    "{name}: Django {} ({}), which needs Python 3.12",
                    d.text, d.field
                ));
            }
        }
        floor = floor.max(own);
    }
    ProjectPython {
        version: PROJECT_PYTHONS[floor].to_owned(),
        reasons,
    }
}

/// Merges what a module's manifest `requires:` says into what its
/// pyproject.toml says (the pyproject wins where both declare).
pub fn with_manifest(mut needs: Needs, python: Option<&str>, django: Option<&str>) -> Needs {
    if needs.python.is_none() {
        needs.python = python.map(|t| Declared {
            text: t.to_owned(),
            field: "module.yml requires.python".into(),
        });
    }
    if needs.django.is_none() {
        needs.django = django.map(|t| Declared {
            text: t.to_owned(),
            field: "module.yml requires.django".into(),
        });
    }
    needs
}

/// A line of a project file that names an older Python than the project needs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StalePython {
    pub path: String,
    /// 1-based.
    pub line: usize,
    /// The version the line names.
    pub found: String,
}

/// The lines of `text` (the file at `path`) that pin a Python older than
/// `required`: `.python-version`, a Dockerfile's `FROM python:X`, a
/// workflow's `python-version: X`, a README's `Python X or newer`.
pub fn stale_python(path: &str, text: &str, required: &str) -> Vec<StalePython> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let mut out = Vec::new();
    for (i, line) in candidate_lines(name, text) {
        let trimmed = line.trim();
        let found = if name == ".python-version" {
            (!trimmed.is_empty() && !trimmed.starts_with('#')).then(|| trimmed.to_owned())
        } else if name == "Dockerfile" || name.starts_with("Dockerfile.") {
            trimmed
                .strip_prefix("FROM ")
                .map(str::trim)
                .and_then(|img| img.strip_prefix("python:"))
                .map(leading_version)
        } else if name.ends_with(".yml") || name.ends_with(".yaml") {
            trimmed
                .strip_prefix("python-version:")
                .map(|v| leading_version(v.trim().trim_matches(|c| c == '"' || c == '\'')))
        } else if name.ends_with(".md") {
            trimmed
                .find("Python ")
                .map(|at| &trimmed[at + "Python ".len()..])
                .filter(|rest| {
                    let v = leading_version(rest);
                    rest[v.len()..].starts_with(" or newer")
                })
                .map(leading_version)
        } else {
            None
        };
        let Some(found) = found.filter(|f| !f.is_empty()) else {
            continue;
        };
        if allows(&format!(">={required}"), &found) == Some(false) {
            out.push(StalePython {
                path: path.to_owned(),
                line: i + 1,
                found,
            });
        }
    }
    out
}

/// The lines of `text` (index from 0, text) that can name a Python: every
/// line [`stale_python`] finds holds a marker of its file's kind, so only
/// lines around a marker are looked at (status reads these files on every
/// run; going line by line through a README was most of that).
fn candidate_lines<'a>(name: &str, text: &'a str) -> Vec<(usize, &'a str)> {
    let needle = if name == "Dockerfile" || name.starts_with("Dockerfile.") {
        "python:"
    } else if name.ends_with(".yml") || name.ends_with(".yaml") {
        "python-version:"
    } else if name.ends_with(".md") {
        "Python "
    } else {
        return text.lines().enumerate().collect();
    };
    let mut out: Vec<(usize, &str)> = Vec::new();
    let (mut counted_to, mut line_no) = (0, 0);
    for (at, _) in text.match_indices(needle) {
        let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        if out.last().is_some_and(|(n, _)| *n == line_no) && start <= counted_to {
            continue; // another marker on the same line
        }
        line_no += text.as_bytes()[counted_to..start]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        counted_to = start;
        let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
        let line = &text[start..end];
        out.push((line_no, line.strip_suffix('\r').unwrap_or(line)));
    }
    out
}

/// `3.12` of `3.12-slim`, `3.12.1 …`.
fn leading_version(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect::<String>()
        .trim_end_matches('.')
        .to_owned()
}

/// A Python interpreter found on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundPython {
    /// The command to run it (`python3.14`, `python3`).
    pub command: String,
    /// `3.14.0`.
    pub version: String,
}

/// The first of `python3`, `python<version>` on PATH that is at least
/// `version`.
pub fn find_python(version: &str) -> Option<FoundPython> {
    let candidates = ["python3".to_owned(), format!("python{version}")];
    candidates.into_iter().find_map(|command| {
        let out = std::process::Command::new(&command)
            .args(["-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())?;
        let found = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        (allows(&format!(">={version}"), &found) == Some(true)).then_some(FoundPython {
            command,
            version: found,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_reads_only_its_sections_whatever_else_the_file_holds() {
        let python = |n: &Needs| n.python.as_ref().map(|d| d.text.clone());
        let django = |n: &Needs| n.django.as_ref().map(|d| d.text.clone());
        let full = needs(
            "[project]\nrequires-python = \">=3.12\"\ndependencies = [\"Django>=6.0\"]\n\
             [tool.ruff]\nline-length = 120\n[tool.ruff.lint]\nselect = [\"E\"]\n\
             [tool.poetry.dependencies]\npython = \"^3.13\"\n",
        );
        assert_eq!(python(&full).as_deref(), Some(">=3.12"));
        assert_eq!(django(&full).as_deref(), Some(">=6.0"));
        // `tool` not a table: [project] is still read.
        let odd = needs("tool = 5\n[project]\nrequires-python = \">=3.13\"\n");
        assert_eq!(python(&odd).as_deref(), Some(">=3.13"));
        // `project` not a table, or not TOML at all: nothing.
        assert_eq!(needs("project = 5\n"), Needs::default());
        assert_eq!(needs("[project\n"), Needs::default());
        // A requires-python that is not a string is ignored, not fatal.
        let n = needs(
            "[project]\nrequires-python = 3\n[tool.poetry.dependencies]\ndjango = \"^6.0\"\n",
        );
        assert_eq!((python(&n), django(&n).as_deref()), (None, Some("^6.0")));
    }

    #[test]
    fn the_project_python_is_the_oldest_every_module_allows() {
        assert_eq!(project_python(&[]), ProjectPython::baseline());
        assert_eq!(ProjectPython::baseline().version, "3.11");
        let upstream = needs("[tool.poetry.dependencies]\npython = \"^3.14\"\ndjango = \"^6.0\"\n");
        let first_party =
            needs("[project]\nrequires-python = \">=3.11\"\ndependencies = [\"Django>=5.2,<7\"]\n");
        let p = project_python(&[("teams".into(), first_party.clone())]);
        assert_eq!(p, ProjectPython::baseline());
        let p = project_python(&[("teams".into(), first_party), ("auth".into(), upstream)]);
        assert_eq!(p.version, "3.14");
        assert_eq!(
            p.reasons,
            ["auth: Python ^3.14 ([tool.poetry.dependencies] python)"]
        );
        // Django 6 only: Python 3.12.
        let dj6 = needs("[project]\ndependencies = [\"django>=6.0\"]\n");
        let p = project_python(&[("x".into(), dj6)]);
        assert_eq!(p.version, "3.12");
        assert!(p.reasons[0].contains("Django >=6.0"), "{p:?}");
        // A manifest's requires: counts where the pyproject is silent.
        let n = with_manifest(Needs::default(), Some(">=3.13"), None);
        assert_eq!(project_python(&[("m".into(), n)]).version, "3.13");
        assert!(
            ProjectPython::baseline()
                .install_hint()
                .contains("uv python install 3.11")
        );
    }

    #[test]
    fn stale_python_lines_are_found_in_each_kind_of_file() {
        let docker = "# x\nFROM node:22 AS f\nFROM python:3.12-slim\n";
        assert_eq!(
            stale_python("Dockerfile", docker, "3.14"),
            [StalePython {
                path: "Dockerfile".into(),
                line: 3,
                found: "3.12".into()
            }]
        );
        assert!(stale_python("Dockerfile", docker, "3.12").is_empty());
        let ci = "      - uses: actions/setup-python@v6\n        with:\n          python-version: \"3.12\"\n";
        assert_eq!(
            stale_python(".github/workflows/ci.yml", ci, "3.14")[0].line,
            3
        );
        let file = "        with:\n          python-version-file: .python-version\n";
        assert!(stale_python(".github/workflows/ci.yml", file, "3.14").is_empty());
        assert_eq!(
            stale_python(".python-version", "3.11\n", "3.14")[0].found,
            "3.11"
        );
        assert!(stale_python(".python-version", "3.14\n", "3.14").is_empty());
        let readme = "Requirements: Python 3.11 or newer, Node.js 20.19 or newer.\n";
        assert_eq!(stale_python("README.md", readme, "3.14")[0].found, "3.11");
        assert!(stale_python("README.md", "Python 3.14 or newer\n", "3.14").is_empty());
        assert!(stale_python("README.md", "Python is nice\n", "3.14").is_empty());
    }

    /// Only lines holding a marker are read, each once, with the line
    /// numbers and CRLF handling of reading every line.
    #[test]
    fn stale_lines_are_numbered_as_in_the_file() {
        let readme =
            "# App\r\nPython 3.10 or newer; Python 3.10 or newer\r\n\nno\nPython 3.9 or newer\n";
        let found: Vec<(usize, String)> = stale_python("README.md", readme, "3.14")
            .into_iter()
            .map(|s| (s.line, s.found))
            .collect();
        assert_eq!(found, [(2, "3.10".to_owned()), (5, "3.9".to_owned())]);
        let naive: Vec<(usize, &str)> = readme
            .lines()
            .enumerate()
            .filter(|(_, l)| l.contains("Python "))
            .collect();
        assert_eq!(candidate_lines("README.md", readme), naive);
        let docker = "FROM python:3.11-slim\nRUN echo python:3.11\n";
        assert_eq!(
            candidate_lines("Dockerfile", docker),
            docker.lines().enumerate().collect::<Vec<_>>()
        );
    }

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
        assert_eq!(to_pep440("^6.0").as_deref(), Some(">=6.0,<7"));
        assert_eq!(to_pep440(">=3.15, <4").as_deref(), Some(">=3.15,<4"));
        assert_eq!(to_pep440("*").as_deref(), Some(""));
        assert_eq!(to_pep440("^5.2 || ^6.0"), None);
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
