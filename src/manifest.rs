//! Module manifests (`module.yml`): options, defaults, validation and wiring.
//!
//! The schema is upstream's (reference §3.5). Unlike upstream, `type` and
//! `validation` are enforced, and defaults come only from here.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::diag::{Diagnostic, Diagnostics};
use crate::spec::{
    AccessSpec, NavEntry, UrlInclude, WiringHints, check_dotted_name, check_requirement,
    check_route, check_setting_name,
};
use crate::suggest;
use crate::upstream::derivation::{self, Derivation};
use crate::value::Value;
use crate::yaml::{self, Checker, Node, NodeKind, Pos};

pub use crate::layout::MANIFEST_FILE;

const TOP_KEYS: &[&str] = &[
    "name",
    "version",
    "description",
    "config",
    "dependencies",
    "django_apps",
    "middleware",
    "urls",
    "access",
    "nav",
    "settings",
    "requires",
    "upgrade_notes",
    // Upstream 0.88's fields (docs/user-guide.md, "Upstream 0.88 manifests").
    "required_modules",
    "implies",
    "derivation",
    "contract_vintage",
    "managed_files",
];
const REQUIRES_KEYS: &[&str] = &["quickscale", "python", "django", "modules"];
const OPTION_KEYS: &[&str] = &[
    "type",
    "default",
    "django_setting",
    "description",
    "validation",
];
const VALIDATION_KEYS: &[&str] = &["choices", "allowed_values", "min", "max"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OptionType {
    Boolean,
    String,
    Integer,
    List,
}

impl OptionType {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "boolean" | "bool" => Self::Boolean,
            "string" | "str" => Self::String,
            "integer" | "int" => Self::Integer,
            "list" => Self::List,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Boolean => "boolean",
            Self::String => "string",
            Self::Integer => "integer",
            Self::List => "list",
        }
    }

    fn accepts(self, v: &Value) -> bool {
        matches!(
            (self, v),
            (Self::Boolean, Value::Bool(_))
                | (Self::String, Value::Str(_))
                | (Self::Integer, Value::Int(_))
                | (Self::List, Value::List(_))
        )
    }
}

/// One declared option.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OptionSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: OptionType,
    pub default: Value,
    pub mutable: bool,
    pub django_setting: Option<String>,
    pub description: Option<String>,
    /// Allowed values (for a list: allowed elements).
    pub choices: Option<Vec<Value>>,
    pub min: Option<i64>,
    pub max: Option<i64>,
}

impl OptionSpec {
    /// Checks a value against the option's type and validation rules.
    pub fn check(&self, value: &Value) -> Result<(), String> {
        if !self.ty.accepts(value) {
            let quote_hint = match (self.ty, value) {
                (OptionType::String, Value::Int(_) | Value::Float(_) | Value::Bool(_)) => {
                    " (quote it to make it a string)"
                }
                _ => "",
            };
            return Err(format!(
                "expected {}, found {} `{value}`{quote_hint}",
                article(self.ty),
                value.type_name()
            ));
        }
        if let Some(choices) = &self.choices {
            let list = || {
                choices
                    .iter()
                    .map(Value::to_yaml)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let items: Vec<&Value> = match value {
                Value::List(items) => items.iter().collect(),
                other => vec![other],
            };
            for item in items {
                if !choices.contains(item) {
                    return Err(format!("`{item}` is not allowed; choose from: {}", list()));
                }
            }
        }
        if let Value::Int(i) = value {
            if let Some(min) = self.min
                && *i < min
            {
                return Err(format!("{i} is below the minimum {min}"));
            }
            if let Some(max) = self.max
                && *i > max
            {
                return Err(format!("{i} is above the maximum {max}"));
            }
        }
        Ok(())
    }

    /// Converts text given on the command line to this option's type.
    pub fn coerce_cli_value(&self, raw: &str, parsed: Value) -> Value {
        match (self.ty, &parsed) {
            (
                OptionType::String,
                Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::Null,
            ) => Value::Str(raw.to_owned()),
            (OptionType::List, Value::Str(s)) => Value::List(
                s.split(',')
                    .map(|p| Value::Str(p.trim().to_owned()))
                    .filter(|v| v != &Value::Str(String::new()))
                    .collect(),
            ),
            _ => parsed,
        }
    }
}

fn article(ty: OptionType) -> &'static str {
    match ty {
        OptionType::Integer => "an integer",
        OptionType::Boolean => "a boolean",
        OptionType::String => "a string",
        OptionType::List => "a list",
    }
}

/// A parsed, validated `module.yml`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    pub description: Option<String>,
    /// Mutable options first, then immutable, each in file order.
    pub options: Vec<OptionSpec>,
    pub dependencies: Vec<String>,
    pub django_apps: Vec<String>,
    /// What the module needs (docs/safe-updates.md); empty when not declared.
    #[serde(skip_serializing_if = "Requires::is_empty")]
    pub requires: Requires,
    /// Notes for users upgrading to a version: (version, text), in file order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub upgrade_notes: Vec<(String, String)>,
    /// Modules upstream's `plan` adds along with this one (`implies`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub implies: Vec<String>,
    /// Upstream's `contract_vintage`: the steps an existing project takes by hand.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract_vintage: Option<ContractVintage>,
    /// Files upstream renders with the module's Python (`managed_files`):
    /// never generated here.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub python_files: Vec<PythonFile>,
    /// `derivation:` rules that depend on options (static ones are folded
    /// into `django_apps`, `middleware` and `urls`).
    #[serde(skip)]
    pub derivation: Derivation,
    /// Extension fields (documented in docs/user-guide.md); `None` when absent.
    #[serde(skip)]
    pub wiring: WiringHints,
    /// Where the wiring values are written, for messages about them.
    #[serde(skip)]
    pub spans: Spans,
    /// What upstream's own CLI accepted and this tool accepts too, with its
    /// consequence (`file:line:col: message`), for commands to show.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// Upstream's `contract_vintage`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContractVintage {
    pub minimum: String,
    pub manual_adoption_steps: Vec<String>,
}

/// One `managed_files` entry: a file upstream's CLI renders by calling the
/// module's Python renderer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PythonFile {
    pub key: String,
    pub renderer: String,
    pub output_path: String,
}

/// What a module declares it needs (`requires:`), each a version range
/// (PEP 440, or Poetry's `^`/`~`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Requires {
    /// git-quickscale's own version.
    pub quickscale: Option<String>,
    pub python: Option<String>,
    pub django: Option<String>,
    /// Other modules (by name) and their manifest versions.
    pub modules: BTreeMap<String, String>,
}

impl Requires {
    pub fn is_empty(&self) -> bool {
        self.quickscale.is_none()
            && self.python.is_none()
            && self.django.is_none()
            && self.modules.is_empty()
    }
}

/// Where a manifest's wiring values sit in its file, so that checks made
/// later against the whole project (see `wiring::rules`) point at the line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Spans {
    /// The manifest as named in messages.
    pub file: String,
    /// Each entry of `django_apps`, in order.
    pub django_apps: Vec<Pos>,
    /// Each entry of `urls` (its `route` when given), in order.
    pub urls: Vec<Pos>,
    /// Each key of `settings`.
    pub settings: BTreeMap<String, Pos>,
    /// Each option's `django_setting` value, by option name.
    pub django_settings: BTreeMap<String, Pos>,
}

impl Manifest {
    /// Parses manifest text; `file` names it in messages, `module` is the
    /// module it belongs to.
    pub fn parse(text: &str, file: &str, module: &str) -> Result<Manifest, Diagnostics> {
        let root = match yaml::parse(text) {
            Ok(Some(root)) => root,
            Ok(None) => {
                return Err(Diagnostics(vec![Diagnostic::new(
                    file,
                    None,
                    format!(
                        "module {module}: the manifest is empty; it needs at least `name` and `version`"
                    ),
                )]));
            }
            Err(e) => {
                return Err(Diagnostics(vec![Diagnostic::new(
                    file,
                    e.pos,
                    format!("module {module}: {}", e.message),
                )]));
            }
        };
        let mut c = Checker::new(file);
        let mut manifest = parse_root(&mut c, &root, module).map(|mut m| {
            m.spans.file = file.to_owned();
            m
        });
        if let Some(m) = manifest.as_mut() {
            m.warnings = c.warnings.drain(..).map(|d| d.to_string()).collect();
        }
        let problems = c.finish();
        match manifest {
            Some(m) if problems.is_empty() => Ok(m),
            _ => Err(Diagnostics::sorted(problems)),
        }
    }

    pub fn option(&self, name: &str) -> Option<&OptionSpec> {
        self.options.iter().find(|o| o.name == name)
    }

    /// Checks the options given in quickscale.yml and fills in defaults.
    /// Explicit `null` means "use the default".
    pub fn resolve_options(
        &self,
        module: &str,
        given: &BTreeMap<String, Value>,
    ) -> Result<BTreeMap<String, Value>, Vec<String>> {
        let mut problems = Vec::new();
        for (name, value) in given {
            match self.option(name) {
                None => {
                    let names: Vec<&str> = self.options.iter().map(|o| o.name.as_str()).collect();
                    let help = if names.is_empty() {
                        "this module declares no options".to_owned()
                    } else {
                        suggest::help_line(name, names.iter().copied(), "options")
                    };
                    problems.push(format!(
                        "module {module}: option {name}: unknown option; {help}"
                    ));
                }
                Some(spec) if value != &Value::Null => {
                    if let Err(why) = spec.check(value) {
                        problems.push(format!("module {module}: option {name}: {why}"));
                    }
                }
                Some(_) => {}
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(self
            .options
            .iter()
            .map(|spec| {
                let value = match given.get(&spec.name) {
                    Some(v) if v != &Value::Null => v.clone(),
                    _ => spec.default.clone(),
                };
                (spec.name.clone(), value)
            })
            .collect())
    }
}

fn parse_root(c: &mut Checker, root: &Node, module: &str) -> Option<Manifest> {
    let ctx = format!("module {module}");
    let entries = c.map(root, &format!("{ctx}: the manifest"), false)?;
    c.known_keys_prefixed(entries, TOP_KEYS, &ctx);
    let name = required_string(c, root, &ctx, "name");
    let version = required_string(c, root, &ctx, "version");
    let description = root
        .get("description")
        .filter(|n| !n.is_null())
        .and_then(|n| c.string(n, &format!("{ctx}: `description`")));
    let mut spans = Spans::default();
    let options = root
        .get("config")
        .map(|config| parse_config(c, &ctx, config, &mut spans))
        .unwrap_or_default();
    let dependencies = checked_list(c, root, &ctx, "dependencies", check_requirement)
        .map(|(items, _)| items)
        .unwrap_or_default();
    let (mut django_apps, app_spans) =
        checked_list(c, root, &ctx, "django_apps", check_dotted_name).unwrap_or_default();
    spans.django_apps = app_spans;
    let mut middleware =
        checked_list(c, root, &ctx, "middleware", check_dotted_name).map(|(items, _)| items);
    let mut urls = root
        .get("urls")
        .and_then(|n| parse_urls(c, &ctx, n, &mut spans));
    let settings = root
        .get("settings")
        .and_then(|n| parse_settings(c, &ctx, n, &mut spans));
    let mut requires = root
        .get("requires")
        .map(|n| parse_requires(c, &ctx, n))
        .unwrap_or_default();
    if let Some(n) = root.get("required_modules") {
        parse_required_modules(c, &ctx, n, &mut requires);
    }
    let implies = root
        .get("implies")
        .map(|n| parse_implies(c, &ctx, n))
        .unwrap_or_default();
    let contract_vintage = root
        .get("contract_vintage")
        .and_then(|n| parse_vintage(c, &ctx, n));
    let python_files = root
        .get("managed_files")
        .map(|n| parse_managed_files(c, &ctx, n))
        .unwrap_or_default();
    let derivation = match root.get("derivation") {
        Some(n) => {
            let (rules, fixed) = derivation::parse(c, &ctx, n);
            let wiring = (&mut django_apps, &mut middleware, &mut urls);
            fold_static_wiring(fixed, wiring, &mut spans);
            rules
        }
        None => Derivation::default(),
    };
    let upgrade_notes = root
        .get("upgrade_notes")
        .map(|n| parse_upgrade_notes(c, &ctx, n))
        .unwrap_or_default();
    let (access, nav) = parse_access_and_nav(c, root, &ctx);
    let wiring = WiringHints {
        django_apps: None,
        middleware,
        urls,
        settings,
        dependencies: None,
        access,
        nav,
    };
    Some(Manifest {
        name: name?,
        version: version?,
        description,
        options,
        dependencies,
        django_apps,
        requires,
        upgrade_notes,
        implies,
        contract_vintage,
        python_files,
        derivation,
        wiring,
        spans,
        warnings: Vec::new(),
    })
}

/// `access:` (who may open the module's views) and `nav:` (its menu links).
fn parse_access_and_nav(
    c: &mut Checker,
    root: &Node,
    ctx: &str,
) -> (Option<AccessSpec>, Option<Vec<NavEntry>>) {
    let access = root.get("access").and_then(|n| {
        AccessSpec::from_value(&Value::from_node(n))
            .map_err(|why| c.error(n, format!("{ctx}: access: {why}")))
            .ok()
    });
    let nav = root.get("nav").and_then(|n| {
        NavEntry::list_from_value(&Value::from_node(n))
            .map_err(|why| c.error(n, format!("{ctx}: nav: {why}")))
            .ok()
    });
    (access, nav)
}

/// A key every manifest has (`name`, `version`): a string.
fn required_string(c: &mut Checker, root: &Node, ctx: &str, key: &str) -> Option<String> {
    match root.get(key) {
        Some(n) => c.string(n, &format!("{ctx}: `{key}`")),
        None => {
            c.error(root, format!("{ctx}: missing required key `{key}`"));
            None
        }
    }
}

/// `config: {mutable: {...}, immutable: {...}}`: the options, each declared once.
fn parse_config(c: &mut Checker, ctx: &str, config: &Node, spans: &mut Spans) -> Vec<OptionSpec> {
    let mut options: Vec<OptionSpec> = Vec::new();
    let Some(sections) = c.map(config, &format!("{ctx}: `config`"), true) else {
        return options;
    };
    c.known_keys_prefixed(
        sections,
        &["mutable", "immutable"],
        &format!("{ctx}: `config`"),
    );
    for (mutable, section) in [(true, "mutable"), (false, "immutable")] {
        let Some(node) = config.get(section) else {
            continue;
        };
        let Some(opts) = c.map(node, &format!("{ctx}: `config.{section}`"), true) else {
            continue;
        };
        for (key, spec) in opts {
            let opt_name = key.key_str().unwrap_or_default().to_owned();
            if options.iter().any(|o| o.name == opt_name) {
                c.error(
                    key,
                    format!("{ctx}: option {opt_name}: declared as both mutable and immutable"),
                );
                continue;
            }
            if let Some(o) = parse_option(c, ctx, &opt_name, spec, mutable) {
                if let Some(n) = spec.get("django_setting") {
                    spans.django_settings.insert(opt_name.clone(), n.start);
                }
                options.push(o);
            }
        }
    }
    options
}

/// `settings:`: Django setting names and their values.
fn parse_settings(
    c: &mut Checker,
    ctx: &str,
    node: &Node,
    spans: &mut Spans,
) -> Option<BTreeMap<String, Value>> {
    let entries = c.map(node, &format!("{ctx}: `settings`"), true)?;
    let mut out = BTreeMap::new();
    for (k, v) in entries {
        let key = k.key_str().unwrap_or_default().to_owned();
        if let Err(why) = check_setting_name(&key) {
            c.error(k, format!("{ctx}: settings: `{key}`: {why}"));
            continue;
        }
        spans.settings.insert(key.clone(), k.start);
        out.insert(key, Value::from_node(v));
    }
    Some(out)
}

/// A derivation's static projections are the manifest's own wiring: its
/// apps, middleware and URLs join those the manifest lists (once each).
fn fold_static_wiring(
    fixed: derivation::StaticWiring,
    (django_apps, middleware, urls): (
        &mut Vec<String>,
        &mut Option<Vec<String>>,
        &mut Option<Vec<UrlInclude>>,
    ),
    spans: &mut Spans,
) {
    for (app, pos) in fixed.apps {
        if !django_apps.contains(&app) {
            django_apps.push(app);
            spans.django_apps.push(pos);
        }
    }
    if !fixed.middleware.is_empty() {
        let list = middleware.get_or_insert_with(Vec::new);
        for m in fixed.middleware {
            if !list.contains(&m) {
                list.push(m);
            }
        }
    }
    if !fixed.urls.is_empty() {
        let list = urls.get_or_insert_with(Vec::new);
        for (u, pos) in fixed.urls {
            if !list.contains(&u) {
                list.push(u);
                spans.urls.push(pos);
            }
        }
    }
}

/// `required_modules: ["orgs>=0.86.0", "auth"]` (upstream 0.88): each a
/// module name and an optional version range, folded into `requires.modules`.
fn parse_required_modules(c: &mut Checker, ctx: &str, node: &Node, requires: &mut Requires) {
    let what = format!("{ctx}: `required_modules`");
    let Some(items) = c.string_list(node, &what) else {
        return;
    };
    let NodeKind::Seq(nodes, _) = &node.kind else {
        return;
    };
    for (text, at) in items.iter().zip(nodes) {
        let split = text
            .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
            .unwrap_or(text.len());
        let (name, range) = (text[..split].trim(), text[split..].trim());
        if !crate::identity::is_module_name(name) {
            c.error(
                at,
                format!("{what}: `{text}` does not start with a module name"),
            );
            continue;
        }
        let range = if range.is_empty() { "*" } else { range };
        if crate::compat::allows(range, "1.0").is_none() {
            c.error(
                at,
                format!("{what}: `{text}`: `{range}` is not a version range (e.g. `orgs>=0.86.0`)"),
            );
            continue;
        }
        if requires.modules.contains_key(name) {
            c.error(
                at,
                format!("{what}: module {name} is also under `requires.modules`; keep one"),
            );
            continue;
        }
        requires.modules.insert(name.to_owned(), range.to_owned());
    }
}

/// `implies: [{name: orgs, default_config: {...}}]`.
fn parse_implies(c: &mut Checker, ctx: &str, node: &Node) -> Vec<String> {
    let what = format!("{ctx}: `implies`");
    if node.is_null() {
        return Vec::new();
    }
    let NodeKind::Seq(items, _) = &node.kind else {
        c.error(
            node,
            format!("{what} must be a list, found {}", node.type_name()),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        let Some(entries) = c.map(
            item,
            &format!("each entry of {what} (`- name: <module>`)"),
            false,
        ) else {
            continue;
        };
        c.known_keys_prefixed(entries, &["name", "default_config"], &what);
        if let Some(cfg) = item.get("default_config") {
            c.map(cfg, &format!("{what}: `default_config`"), true);
        }
        match item
            .get("name")
            .and_then(|n| c.string(n, &format!("{what}: `name`")))
        {
            Some(name) if crate::identity::is_module_name(&name) => out.push(name),
            Some(name) => c.error(item, format!("{what}: `{name}` is not a module name")),
            None if item.get("name").is_none() => {
                c.error(item, format!("{what}: each entry needs `name`"))
            }
            None => {}
        }
    }
    out
}

fn parse_vintage(c: &mut Checker, ctx: &str, node: &Node) -> Option<ContractVintage> {
    let what = format!("{ctx}: `contract_vintage`");
    let entries = c.map(node, &what, false)?;
    c.known_keys_prefixed(entries, &["minimum", "manual_adoption_steps"], &what);
    let minimum = match node.get("minimum") {
        Some(n) => c.string(n, &format!("{what}.minimum"))?,
        None => {
            c.error(node, format!("{what}: missing `minimum`"));
            return None;
        }
    };
    let manual_adoption_steps = match node.get("manual_adoption_steps") {
        Some(n) => c.string_list(n, &format!("{what}.manual_adoption_steps"))?,
        None => Vec::new(),
    };
    Some(ContractVintage {
        minimum,
        manual_adoption_steps,
    })
}

fn parse_managed_files(c: &mut Checker, ctx: &str, node: &Node) -> Vec<PythonFile> {
    let what = format!("{ctx}: `managed_files`");
    let Some(entries) = c.map(node, &what, true) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in entries {
        let key = k.key_str().unwrap_or_default().to_owned();
        let ewhat = format!("{what}.{key}");
        let Some(fields) = c.map(v, &ewhat, false) else {
            continue;
        };
        c.known_keys_prefixed(fields, &["renderer", "output_path"], &ewhat);
        let field = |c: &mut Checker, name: &str| match v.get(name) {
            Some(n) => c.string(n, &format!("{ewhat}.{name}")),
            None => {
                c.error(v, format!("{ewhat}: missing `{name}`"));
                None
            }
        };
        if let (Some(renderer), Some(output_path)) = (field(c, "renderer"), field(c, "output_path"))
        {
            out.push(PythonFile {
                key,
                renderer,
                output_path,
            });
        }
    }
    out
}

/// A version range as `requires:` takes it; an error when it cannot be read.
fn range(c: &mut Checker, node: &Node, what: &str) -> Option<String> {
    let text = c.string(node, what)?;
    if crate::compat::allows(&text, "1.0").is_none() {
        c.error(
            node,
            format!("{what}: `{text}` is not a version range (e.g. `>=1.2`, `^1.2`, `>=5.2,<7`)"),
        );
        return None;
    }
    Some(text)
}

fn parse_requires(c: &mut Checker, ctx: &str, node: &Node) -> Requires {
    let mut out = Requires::default();
    let what = format!("{ctx}: `requires`");
    let Some(entries) = c.map(node, &what, true) else {
        return out;
    };
    c.known_keys_prefixed(entries, REQUIRES_KEYS, &what);
    let field = |c: &mut Checker, key: &str| {
        node.get(key)
            .and_then(|n| range(c, n, &format!("{ctx}: `requires.{key}`")))
    };
    out.quickscale = field(c, "quickscale");
    out.python = field(c, "python");
    out.django = field(c, "django");
    if let Some(modules) = node.get("modules")
        && let Some(entries) = c.map(modules, &format!("{ctx}: `requires.modules`"), true)
    {
        for (k, v) in entries {
            let name = k.key_str().unwrap_or_default().to_owned();
            if !crate::identity::is_module_name(&name) {
                c.error(
                    k,
                    format!("{ctx}: requires.modules: `{name}` is not a module name"),
                );
                continue;
            }
            if let Some(r) = range(c, v, &format!("{ctx}: `requires.modules.{name}`")) {
                out.modules.insert(name, r);
            }
        }
    }
    out
}

fn parse_upgrade_notes(c: &mut Checker, ctx: &str, node: &Node) -> Vec<(String, String)> {
    let what = format!("{ctx}: `upgrade_notes`");
    let Some(entries) = c.map(node, &what, true) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in entries {
        let version = match Value::from_node(k) {
            Value::Str(s) => s,
            Value::Float(f) => f.to_string(),
            Value::Int(i) => i.to_string(),
            _ => {
                c.error(k, format!("{what}: each key is a version, e.g. \"1.2.0\""));
                continue;
            }
        };
        if let Some(text) = c.string(v, &format!("{what}: the note for {version}")) {
            out.push((version, text));
        }
    }
    out
}

/// A list of strings each of which must pass `check`; every problem points
/// at its entry. Returns the entries and their positions.
fn checked_list(
    c: &mut Checker,
    root: &Node,
    ctx: &str,
    key: &str,
    check: fn(&str) -> Result<(), String>,
) -> Option<(Vec<String>, Vec<Pos>)> {
    let node = root.get(key)?;
    if node.is_null() {
        return Some((Vec::new(), Vec::new()));
    }
    let NodeKind::Seq(items, _) = &node.kind else {
        c.error(
            node,
            format!("{ctx}: `{key}` must be a list, found {}", node.type_name()),
        );
        return None;
    };
    let mut out = Vec::new();
    let mut positions = Vec::new();
    let mut ok = true;
    for item in items {
        let Some(text) = c.string(item, &format!("{ctx}: each entry of `{key}`")) else {
            ok = false;
            continue;
        };
        match check(&text) {
            Ok(()) => {
                out.push(text);
                positions.push(item.start);
            }
            Err(why) => {
                c.error(item, format!("{ctx}: {key}: `{text}`: {why}"));
                ok = false;
            }
        }
    }
    ok.then_some((out, positions))
}

fn parse_urls(
    c: &mut Checker,
    ctx: &str,
    node: &Node,
    spans: &mut Spans,
) -> Option<Vec<UrlInclude>> {
    let NodeKind::Seq(items, _) = &node.kind else {
        c.error(
            node,
            format!("{ctx}: `urls` must be a list of {{route, include}} mappings"),
        );
        return None;
    };
    let mut out = Vec::new();
    for item in items {
        let entries = c.map(item, &format!("{ctx}: each entry of `urls`"), false)?;
        c.known_keys_prefixed(entries, &["route", "include"], &format!("{ctx}: `urls`"));
        let route = match item.get("route") {
            Some(r) => match Value::from_node(r) {
                Value::Str(s) => {
                    if let Err(why) = check_route(&s) {
                        c.error(r, format!("{ctx}: urls: route `{s}`: {why}"));
                        continue;
                    }
                    s
                }
                Value::Null => String::new(),
                other => {
                    c.error(
                        r,
                        format!(
                            "{ctx}: url route must be a string, found {}",
                            other.type_name()
                        ),
                    );
                    continue;
                }
            },
            None => String::new(),
        };
        let Some(include) = item
            .get("include")
            .and_then(|n| c.string(n, &format!("{ctx}: url `include`")))
        else {
            if item.get("include").is_none() {
                c.error(item, format!("{ctx}: each url needs `include`"));
            }
            continue;
        };
        if let Err(why) = check_dotted_name(&include) {
            let at = item.get("include").unwrap_or(item);
            c.error(at, format!("{ctx}: urls: include `{include}`: {why}"));
            continue;
        }
        spans.urls.push(item.get("route").unwrap_or(item).start);
        out.push(UrlInclude { route, include });
    }
    Some(out)
}

fn parse_option(
    c: &mut Checker,
    ctx: &str,
    name: &str,
    node: &Node,
    mutable: bool,
) -> Option<OptionSpec> {
    let octx = format!("{ctx}: option {name}");
    if !crate::identity::is_module_name(name) {
        c.error(
            node,
            format!("{octx}: option names must be lowercase identifiers (letters, digits, `_`)"),
        );
    }
    let entries = c.map(node, &octx, true)?;
    c.known_keys_prefixed(entries, OPTION_KEYS, &octx);
    let ty = match node.get("type") {
        None => OptionType::String,
        Some(t) => parse_option_type(c, &octx, t)?,
    };
    let django_setting = match node.get("django_setting") {
        Some(n) if !n.is_null() => Some(parse_django_setting(c, &octx, n)?),
        _ => None,
    };
    // Upstream's CLI accepted this (crm before 0.73 had `enable_api`
    // without one); the option is kept, but nothing carries it to Django.
    if mutable && django_setting.is_none() {
        c.warn(
            node,
            format!(
                "{octx}: a mutable option without `django_setting` reaches no Django setting: its value is recorded but changing it changes nothing the project runs (upstream's manifest should name one)"
            ),
        );
    }
    let description = node
        .get("description")
        .filter(|n| !n.is_null())
        .and_then(|n| c.string(n, &format!("{octx}: `description`")));
    let mut spec = OptionSpec {
        name: name.to_owned(),
        ty,
        default: Value::Null,
        mutable,
        django_setting,
        description,
        choices: None,
        min: None,
        max: None,
    };
    if let Some(v) = node.get("validation") {
        parse_validation(c, &octx, v, &mut spec)?;
    }
    if let Some(d) = node.get("default") {
        let value = Value::from_node(d);
        if value != Value::Null
            && let Err(why) = spec.check(&value)
        {
            c.error(d, format!("{octx}: default: {why}"));
            return None;
        }
        spec.default = value;
    }
    Some(spec)
}

/// An option's `type:` (a known type name).
fn parse_option_type(c: &mut Checker, octx: &str, t: &Node) -> Option<OptionType> {
    match Value::from_node(t) {
        Value::Str(s) => {
            let ty = OptionType::parse(&s);
            if ty.is_none() {
                c.error_help(
                    t,
                    format!("{octx}: unknown type `{s}`"),
                    "valid types: boolean, string, integer, list".into(),
                );
            }
            ty
        }
        other => {
            c.error(
                t,
                format!(
                    "{octx}: `type` must be a string, found {}",
                    other.type_name()
                ),
            );
            None
        }
    }
}

/// An option's `django_setting:` (a valid Django setting name).
fn parse_django_setting(c: &mut Checker, octx: &str, n: &Node) -> Option<String> {
    let s = c.string(n, &format!("{octx}: `django_setting`"))?;
    if let Err(why) = check_setting_name(&s) {
        c.error(n, format!("{octx}: django_setting `{s}` {why}"));
        return None;
    }
    Some(s)
}

/// An option's `validation:` (`choices`/`allowed_values`, `min`, `max`)
/// into `spec`; `None` when it is not a map.
fn parse_validation(c: &mut Checker, octx: &str, v: &Node, spec: &mut OptionSpec) -> Option<()> {
    let entries = c.map(v, &format!("{octx}: `validation`"), true)?;
    c.known_keys_prefixed(entries, VALIDATION_KEYS, &format!("{octx}: `validation`"));
    for key in ["choices", "allowed_values"] {
        if let Some(list) = v.get(key) {
            match Value::from_node(list) {
                Value::List(items) if !items.is_empty() => spec.choices = Some(items),
                _ => c.error(
                    list,
                    format!("{octx}: `validation.{key}` must be a non-empty list"),
                ),
            }
        }
    }
    for key in ["min", "max"] {
        if let Some(n) = v.get(key) {
            match Value::from_node(n) {
                Value::Int(i) if key == "min" => spec.min = Some(i),
                Value::Int(i) => spec.max = Some(i),
                _ => c.error(n, format!("{octx}: `validation.{key}` must be an integer")),
            }
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CRM: &str = r#"
name: crm
version: "0.73.0"
config:
  mutable:
    enable_api: {type: boolean, default: true, django_setting: CRM_ENABLE_API}
    deals_per_page:
      type: integer
      default: 25
      django_setting: CRM_DEALS_PER_PAGE
      validation: {min: 1}
    mode:
      default: fast
      django_setting: CRM_MODE
      validation:
        choices: [fast, slow]
  immutable:
    stages: {type: list, default: [a, b], validation: {allowed_values: [a, b, c]}}
dependencies: ["djangorestframework>=3.15.0"]
django_apps: [rest_framework, quickscale_modules_crm]
"#;

    fn crm() -> Manifest {
        Manifest::parse(CRM, "module.yml", "crm").expect("valid manifest")
    }

    #[test]
    fn reads_requirements_and_upgrade_notes() {
        let text = format!(
            "{CRM}requires:\n  quickscale: \">=0.1\"\n  django: \">=5.2,<7\"\n  modules:\n    auth: \"^1.0\"\nupgrade_notes:\n  \"1.2.0\": Lists show cards now.\n"
        );
        let m = Manifest::parse(&text, "module.yml", "crm").expect("valid");
        assert_eq!(m.requires.quickscale.as_deref(), Some(">=0.1"));
        assert_eq!(m.requires.django.as_deref(), Some(">=5.2,<7"));
        assert_eq!(m.requires.modules["auth"], "^1.0");
        assert_eq!(
            m.upgrade_notes,
            vec![("1.2.0".into(), "Lists show cards now.".into())]
        );
        let bad = format!("{CRM}requires:\n  python: soon\n  nodejs: \"18\"\n");
        let err = Manifest::parse(&bad, "module.yml", "crm")
            .expect_err("invalid")
            .to_string();
        assert!(
            err.contains("not a version range") && err.contains("nodejs"),
            "{err}"
        );
        // Upstream manifests without the fields are unchanged.
        assert!(crm().requires.is_empty() && crm().upgrade_notes.is_empty());
    }

    /// Modelled on upstream 0.88's manifests (quickscale-core 0.88.0 wheel).
    const CRM_088: &str = r#"
name: crm
version: "0.88.0"
description: "Lightweight CRM module"
config:
  mutable:
    enable_api:
      type: boolean
      default: true
      django_setting: CRM_ENABLE_API
    deals_per_page:
      type: integer
      default: 25
      django_setting: CRM_DEALS_PER_PAGE
  immutable: {}
required_modules:
  - orgs>=0.86.0
  - auth
implies:
  - name: orgs
  - name: notifications
    default_config: {sender_name: Shop}
dependencies:
  - djangorestframework>=3.17.2
middleware:
  - quickscale_modules_crm.middleware.CrmMiddleware
contract_vintage:
  minimum: "0.87.0"
  manual_adoption_steps:
    - "Existing projects must add the CRM page to the theme by hand."
managed_files:
  crm_views:
    renderer: crm.managed_views
    output_path: quickscale_managed/crm_views.py
derivation:
  wiring_projections:
    - wiring_field: apps
      derivation_type: static
      expression:
        value:
          - rest_framework
          - quickscale_modules_crm
      description: "CRM Django app labels"
    - wiring_field: url_includes
      derivation_type: static
      expression:
        value:
          - - ""
            - quickscale_modules_crm.urls
  option_derivations:
    deals_per_page:
      derived_settings:
        - setting_key: CRM_DEALS_PER_PAGE
          source_options: [deals_per_page]
          derivation_type: direct
          expression:
            option: deals_per_page
          default: 25
"#;

    #[test]
    fn reads_upstream_088_manifests() {
        let m = Manifest::parse(CRM_088, "module.yml", "crm").expect("valid 0.88 manifest");
        assert_eq!(m.version, "0.88.0");
        // Static derivation projections are the manifest's own wiring.
        assert_eq!(m.django_apps, ["rest_framework", "quickscale_modules_crm"]);
        let urls = m.wiring.urls.clone().expect("urls");
        assert_eq!(
            (urls[0].route.as_str(), urls[0].include.as_str()),
            ("", "quickscale_modules_crm.urls")
        );
        assert_eq!(
            m.wiring.middleware.as_deref(),
            Some(&["quickscale_modules_crm.middleware.CrmMiddleware".to_owned()][..])
        );
        // required_modules are requirements: a floor, or any version.
        assert_eq!(m.requires.modules["orgs"], ">=0.86.0");
        assert_eq!(m.requires.modules["auth"], "*");
        assert_eq!(m.implies, ["orgs", "notifications"]);
        let vintage = m.contract_vintage.as_ref().expect("vintage");
        assert_eq!(vintage.minimum, "0.87.0");
        assert_eq!(vintage.manual_adoption_steps.len(), 1);
        assert_eq!(
            m.python_files[0].output_path,
            "quickscale_managed/crm_views.py"
        );
        assert_eq!(m.python_files[0].renderer, "crm.managed_views");
        let derived = m.derivation.evaluate(&BTreeMap::from([(
            "deals_per_page".to_owned(),
            Value::Int(40),
        )]));
        assert_eq!(
            derived.settings,
            vec![(
                "CRM_DEALS_PER_PAGE".to_owned(),
                Value::Int(40),
                Some("deals_per_page".to_owned())
            )]
        );
        // Mistakes in the new fields point at their line.
        let bad = CRM_088
            .replace("  - orgs>=0.86.0", "  - \"orgs>=soon\"")
            .replace("  - name: orgs", "  - orgs");
        let err = Manifest::parse(&bad, "module.yml", "crm")
            .expect_err("invalid")
            .to_string();
        assert!(
            err.contains("module.yml:17:") && err.contains("required_modules"),
            "{err}"
        );
        assert!(
            err.contains("module.yml:20:") && err.contains("implies"),
            "{err}"
        );
    }

    #[test]
    fn parses_and_resolves_defaults() {
        let m = crm();
        assert_eq!(m.options.len(), 4);
        assert!(m.option("deals_per_page").expect("opt").mutable);
        assert!(!m.option("stages").expect("opt").mutable);
        let given = BTreeMap::from([("deals_per_page".to_owned(), Value::Int(50))]);
        let resolved = m.resolve_options("crm", &given).expect("valid");
        assert_eq!(resolved["deals_per_page"], Value::Int(50));
        assert_eq!(resolved["enable_api"], Value::Bool(true));
        assert_eq!(resolved["mode"], Value::Str("fast".into()));
    }

    #[test]
    fn checks_types_choices_and_names() {
        let m = crm();
        let bad = |k: &str, v: Value| {
            m.resolve_options("crm", &BTreeMap::from([(k.to_owned(), v)]))
                .expect_err("invalid")
                .join("\n")
        };
        assert!(
            bad("deals_per_page", Value::Str("x".into()))
                .contains("module crm: option deals_per_page: expected an integer")
        );
        assert!(bad("deals_per_page", Value::Int(0)).contains("below the minimum"));
        assert!(bad("mode", Value::Str("medium".into())).contains("choose from: fast, slow"));
        assert!(
            bad("stages", Value::List(vec![Value::Str("z".into())])).contains("`z` is not allowed")
        );
        assert!(bad("deals_per_pag", Value::Int(1)).contains("did you mean `deals_per_page`?"));
    }

    #[test]
    fn wiring_errors_and_spans_point_at_their_values() {
        let text = "name: x\nversion: \"1\"\ndjango_apps:\n  - ok_app\n  - \"bad app\"\nurls:\n  - {route: \"/abs/\", include: x.urls}\nsettings:\n  GOOD: 1\n  bad: 2\n";
        let err = Manifest::parse(text, "m.yml", "x").expect_err("bad wiring");
        let at: Vec<(Option<usize>, Option<usize>)> =
            err.0.iter().map(|d| (d.line, d.column)).collect();
        assert_eq!(
            at,
            [(Some(5), Some(5)), (Some(7), Some(13)), (Some(10), Some(3))],
            "{err}"
        );
        let ok = "name: x\nversion: \"1\"\nconfig:\n  mutable:\n    a: {django_setting: X_A}\ndjango_apps: [one, two]\nurls:\n  - route: x/\n    include: x.urls\nsettings: {X_B: 1}\n";
        let m = Manifest::parse(ok, "m.yml", "x").expect("valid");
        let line = |p: &Pos| (p.line, p.column);
        assert_eq!(m.spans.file, "m.yml");
        assert_eq!(
            m.spans.django_apps.iter().map(line).collect::<Vec<_>>(),
            [(6, 15), (6, 20)]
        );
        assert_eq!(m.spans.urls.iter().map(line).collect::<Vec<_>>(), [(8, 12)]);
        assert_eq!(line(&m.spans.settings["X_B"]), (10, 12));
        assert_eq!(line(&m.spans.django_settings["a"]), (5, 25));
    }

    #[test]
    fn rejects_bad_manifests_with_positions() {
        // Accepted as upstream's CLI did, with a warning naming the line
        // and the consequence.
        let m = Manifest::parse(
            "name: x\nversion: \"1\"\nconfig:\n  mutable:\n    a: {type: integer}\n",
            "m.yml",
            "x",
        )
        .expect("a mutable option without django_setting is accepted");
        assert_eq!(m.warnings.len(), 1, "{:?}", m.warnings);
        assert!(m.warnings[0].starts_with("m.yml:5:"), "{:?}", m.warnings);
        assert!(
            m.warnings[0].contains(
                "option a: a mutable option without `django_setting` reaches no Django setting"
            ),
            "{:?}",
            m.warnings
        );
        let err =
            Manifest::parse("name: x\nversion: 1.0\n", "m.yml", "x").expect_err("number version");
        assert!(err.to_string().contains("quote it"));
        let err = Manifest::parse(
            "name: x\nversion: \"1\"\nconfig:\n  mutable:\n    a: {django_setting: lower}\n",
            "m.yml",
            "x",
        )
        .expect_err("bad setting");
        assert!(err.to_string().contains("must match ^[A-Z][A-Z0-9_]*$"));
        let err = Manifest::parse(
            "name: x\nversion: \"1\"\ndjango_apps: [\"a.b; import os\"]\n",
            "m.yml",
            "x",
        )
        .expect_err("bad app");
        assert!(err.to_string().contains("django_apps"));
    }
}
