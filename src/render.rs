//! Renders the project skeleton and a theme from `templates/`, which is
//! compiled into the binary.
//!
//! Rules: `templates/skeleton/**` plus `templates/themes/<theme>/**` on top
//! (same output path: the theme wins); a path segment `__package__` becomes
//! the package name; only `*.liquid` files are rendered (suffix dropped),
//! everything else is copied byte-for-byte; an unknown variable is an error.

use std::collections::BTreeMap;

use include_dir::{Dir, DirEntry, include_dir};

use crate::identity::{Identity, Theme};

static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

const PACKAGE_PLACEHOLDER: &str = "__package__";
const LIQUID_SUFFIX: &str = ".liquid";

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    pub contents: Vec<u8>,
    pub executable: bool,
}

/// Generated files by project-relative path (`/`-separated).
pub type FileMap = BTreeMap<String, GeneratedFile>;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template `{path}` is not valid UTF-8")]
    NotUtf8 { path: String },
    #[error("template `{path}` cannot be rendered: {message}")]
    Liquid { path: String, message: String },
    #[error("theme `{0}` has no templates in this build")]
    MissingTheme(String),
}

/// Renders every file of a new project for `project`, on the project's own
/// minimum Python (no modules yet).
pub fn render_project(project: &Identity) -> Result<FileMap, RenderError> {
    render_project_for(project, &crate::compat::ProjectPython::baseline())
}

/// Renders every file of a new project for `project` on `python`: the
/// Python its first modules need, written into `.python-version`, the
/// README, the CI workflow and the Dockerfile.
pub fn render_project_for(
    project: &Identity,
    python: &crate::compat::ProjectPython,
) -> Result<FileMap, RenderError> {
    let globals = liquid::object!({
        "python": {
            "version": python.version.clone(),
            "reasons": python.reasons.join("; "),
        },
        "project": {
            "slug": project.slug.clone(),
            "package": project.package.clone(),
            "theme": project.theme.name(),
            // The display name, and the same as a Python string literal.
            "name": project.display_name(),
            "name_literal": crate::pyliteral::string(project.display_name()),
        },
        "quickscale": {
            "version": env!("CARGO_PKG_VERSION"),
        },
    });
    let parser = liquid::ParserBuilder::with_stdlib()
        .build()
        .map_err(|e| RenderError::Liquid {
            path: String::new(),
            message: e.to_string(),
        })?;
    let mut files = FileMap::new();
    let skeleton = TEMPLATES
        .get_dir("skeleton")
        .ok_or_else(|| RenderError::MissingTheme("skeleton".into()))?;
    let theme_dir = format!("themes/{}", project.theme.name());
    let theme = TEMPLATES
        .get_dir(&theme_dir)
        .ok_or_else(|| RenderError::MissingTheme(project.theme.name().into()))?;
    for (root, dir) in [("skeleton", skeleton), (theme_dir.as_str(), theme)] {
        for file in all_files(dir) {
            let template_path = file.path().to_string_lossy().replace('\\', "/");
            let relative = template_path
                .strip_prefix(root)
                .unwrap_or(&template_path)
                .trim_start_matches('/');
            let mut out_path = relative
                .split('/')
                .map(|seg| {
                    if seg == PACKAGE_PLACEHOLDER {
                        project.package.as_str()
                    } else {
                        seg
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let contents = if let Some(stripped) = out_path.strip_suffix(LIQUID_SUFFIX) {
                let source =
                    std::str::from_utf8(file.contents()).map_err(|_| RenderError::NotUtf8 {
                        path: template_path.clone(),
                    })?;
                let template = parser.parse(source).map_err(|e| RenderError::Liquid {
                    path: template_path.clone(),
                    message: e.to_string(),
                })?;
                let rendered = template.render(&globals).map_err(|e| RenderError::Liquid {
                    path: template_path.clone(),
                    message: e.to_string(),
                })?;
                out_path = stripped.to_owned();
                rendered.into_bytes()
            } else {
                file.contents().to_vec()
            };
            let executable = is_executable(&out_path);
            files.insert(
                out_path,
                GeneratedFile {
                    contents,
                    executable,
                },
            );
        }
    }
    Ok(files)
}

/// `manage.py` and shell scripts are executable; everything else is not.
fn is_executable(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name == "manage.py" || name.ends_with(".sh")
}

fn all_files<'a>(dir: &'a Dir<'a>) -> Vec<&'a include_dir::File<'a>> {
    let mut out = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for entry in d.entries() {
            match entry {
                DirEntry::Dir(sub) => stack.push(sub),
                DirEntry::File(f) => out.push(f),
            }
        }
    }
    out
}

/// The themes compiled into this build (for tests and docs).
pub fn available_themes() -> Vec<Theme> {
    Theme::ALL
        .into_iter()
        .filter(|t| TEMPLATES.get_dir(format!("themes/{}", t.name())).is_some())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(theme: Theme) -> Identity {
        Identity {
            slug: "my-shop".into(),
            package: "my_shop".into(),
            theme,
            name: None,
        }
    }

    #[test]
    fn every_theme_renders_without_unknown_variables() {
        for theme in Theme::ALL {
            let files = render_project(&identity(theme)).unwrap_or_else(|e| panic!("{theme}: {e}"));
            assert!(files.contains_key("manage.py"), "{theme}");
            assert!(files["manage.py"].executable);
            assert!(files.contains_key("my_shop/settings/base.py"), "{theme}");
            assert!(
                !files
                    .keys()
                    .any(|p| p.contains(PACKAGE_PLACEHOLDER) || p.ends_with(LIQUID_SUFFIX))
            );
            let manage = String::from_utf8(files["manage.py"].contents.clone()).expect("utf8");
            assert!(manage.contains("my_shop.settings"), "{theme}");
        }
    }

    #[test]
    fn the_display_name_is_project_name_else_the_slug_as_an_inert_literal() {
        let base = |id: &Identity| {
            let files = render_project(id).expect("render");
            String::from_utf8(files["my_shop/settings/base.py"].contents.clone()).expect("utf8")
        };
        let plain = identity(Theme::ShowcaseHtml);
        assert!(base(&plain).contains("\nPROJECT_NAME = \"my-shop\"\n"));
        let named = Identity {
            name: Some("Acme \"HQ\" \\ Café".into()),
            ..identity(Theme::ShowcaseHtml)
        };
        let text = base(&named);
        assert!(
            text.contains("\nPROJECT_NAME = \"Acme \\\"HQ\\\" \\\\ Caf\\u00e9\"\n"),
            "{text}"
        );
    }

    #[test]
    fn unknown_variables_are_errors() {
        let parser = liquid::ParserBuilder::with_stdlib()
            .build()
            .expect("parser");
        let t = parser.parse("{{ project.sluggg }}").expect("parses");
        let globals = liquid::object!({"project": {"slug": "x"}});
        assert!(t.render(&globals).is_err());
    }

    #[test]
    fn output_is_deterministic() {
        let a = render_project(&identity(Theme::ShowcaseHtml)).expect("render");
        let b = render_project(&identity(Theme::ShowcaseHtml)).expect("render");
        assert_eq!(a, b);
    }
}
