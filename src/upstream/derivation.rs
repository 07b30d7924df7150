//! Upstream QuickScale 0.88's `derivation:` rules in module.yml, read as
//! data and evaluated here: the tool never imports a module's Python.
//!
//! Two lists matter for wiring: `wiring_projections` (Django apps,
//! middleware and URL includes, module-wide or under an option in
//! `option_derivations`) and `derived_settings` (a Django setting computed
//! from options). Each rule is `static` (a constant), `direct` (an option's
//! value), `conditional` (a branch chosen by an option's value) or
//! `computed` (`{option}` placeholders in a template). Upstream's
//! `normalization_rules`, `validation_rules` and `legacy_aliases` are
//! accepted and not applied (they concern option input, not wiring).
//!
//! Static projections are folded into the manifest's own `django_apps`,
//! `middleware` and `urls` by the manifest parser, so the project rules see
//! them with their lines; what depends on options is evaluated per project.

use std::collections::BTreeMap;

use crate::spec::{UrlInclude, check_dotted_name, check_route, check_setting_name};
use crate::value::Value;
use crate::yaml::{Checker, Node, NodeKind, Pos};

/// The Django wiring a projection contributes to (upstream's `wiring_field`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WiringField {
    Apps,
    Middleware,
    /// URL includes mounted after the project's home page.
    UrlIncludes,
    /// URL includes mounted before the home page (upstream 0.88 projects
    /// import them as `PRE_HOME_MODULE_URLPATTERNS`).
    PreHomeUrlIncludes,
}

impl WiringField {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "apps" => Self::Apps,
            "middleware" => Self::Middleware,
            "url_includes" => Self::UrlIncludes,
            "pre_home_url_includes" => Self::PreHomeUrlIncludes,
            _ => return None,
        })
    }

    fn is_url(self) -> bool {
        matches!(self, Self::UrlIncludes | Self::PreHomeUrlIncludes)
    }
}

/// How a value is computed from the module's resolved options.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// `expression.value`.
    Static(Value),
    /// The option named by `expression.option`.
    Direct(String),
    /// `expression.branches[<value of the first source option that is set>]`.
    Conditional {
        sources: Vec<String>,
        branches: Vec<(String, Value)>,
    },
    /// `expression.template` (settings) or `expression.values` (wiring),
    /// with `{option}` replaced by the option's value.
    Computed(Vec<String>),
}

/// One `wiring_projections` entry that depends on options (static ones are
/// folded into the manifest), or a static pre-home URL include.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    pub field: WiringField,
    pub rule: Rule,
    /// What the projection gives when its rule gives nothing.
    pub default: Value,
    pub pos: Pos,
}

/// One `derived_settings` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct DerivedSetting {
    pub key: String,
    pub rule: Rule,
    pub default: Value,
    /// The option this setting is derived from, for the comment beside it.
    pub option: Option<String>,
    pub pos: Pos,
}

/// The rules of one manifest that are evaluated per project.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Derivation {
    pub projections: Vec<Projection>,
    pub settings: Vec<DerivedSetting>,
}

/// The static wiring of `derivation:`, for the manifest's own fields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StaticWiring {
    pub apps: Vec<(String, Pos)>,
    pub middleware: Vec<String>,
    pub urls: Vec<(UrlInclude, Pos)>,
}

/// What a derivation gives for one set of options.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Derived {
    pub apps: Vec<String>,
    pub middleware: Vec<String>,
    pub urls: Vec<UrlInclude>,
    pub pre_home_urls: Vec<UrlInclude>,
    /// (setting, value, option it came from).
    pub settings: Vec<(String, Value, Option<String>)>,
}

impl Derivation {
    pub fn is_empty(&self) -> bool {
        self.projections.is_empty() && self.settings.is_empty()
    }

    /// Evaluates every rule with the module's resolved options. Values that
    /// cannot be wiring (a number where a URL include belongs) are left out,
    /// as upstream does; names are checked where they are written.
    pub fn evaluate(&self, options: &BTreeMap<String, Value>) -> Derived {
        let mut out = Derived::default();
        for p in &self.projections {
            let value = eval(&p.rule, options, WiringShape::List).unwrap_or(Value::Null);
            let value = if is_empty(&value) {
                p.default.clone()
            } else {
                value
            };
            if p.field.is_url() {
                let urls = url_items(&value);
                match p.field {
                    WiringField::PreHomeUrlIncludes => out.pre_home_urls.extend(urls),
                    _ => out.urls.extend(urls),
                }
            } else {
                let names = string_items(&value);
                match p.field {
                    WiringField::Middleware => out.middleware.extend(names),
                    _ => out.apps.extend(names),
                }
            }
        }
        for s in &self.settings {
            let value = eval(&s.rule, options, WiringShape::Scalar)
                .filter(|v| *v != Value::Null)
                .unwrap_or_else(|| s.default.clone());
            out.settings.push((s.key.clone(), value, s.option.clone()));
        }
        out
    }

    /// The setting names this derivation may set, with where they are written.
    pub fn setting_names(&self) -> impl Iterator<Item = (&str, Pos)> {
        self.settings.iter().map(|s| (s.key.as_str(), s.pos))
    }
}

#[derive(Clone, Copy, PartialEq)]
enum WiringShape {
    List,
    Scalar,
}

fn is_empty(v: &Value) -> bool {
    matches!(v, Value::Null) || matches!(v, Value::List(l) if l.is_empty())
}

fn eval(rule: &Rule, options: &BTreeMap<String, Value>, shape: WiringShape) -> Option<Value> {
    match rule {
        Rule::Static(v) => Some(v.clone()),
        Rule::Direct(option) => {
            let v = options.get(option)?.clone();
            Some(match (shape, v) {
                (WiringShape::List, Value::List(items)) => Value::List(items),
                (WiringShape::List, Value::Null) => Value::Null,
                (WiringShape::List, other) => Value::List(vec![other]),
                (WiringShape::Scalar, other) => other,
            })
        }
        Rule::Conditional { sources, branches } => {
            let selector = sources.iter().find_map(|s| options.get(s))?;
            let key = branch_key(selector)?;
            branches
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
        }
        Rule::Computed(templates) => {
            let rendered: Option<Vec<String>> = templates
                .iter()
                .map(|t| format_template(t, options))
                .collect();
            let rendered = rendered?;
            Some(match shape {
                WiringShape::Scalar => Value::Str(rendered.into_iter().next()?),
                WiringShape::List => Value::List(rendered.into_iter().map(Value::Str).collect()),
            })
        }
    }
}

/// A selector value as a branch key is written (`true`, `s3`, `3`).
fn branch_key(v: &Value) -> Option<String> {
    Some(match v {
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Str(s) => s.clone(),
        Value::Float(f) => f.to_string(),
        Value::Null | Value::List(_) | Value::Map(_) => return None,
    })
}

/// An option value as Python's `str()` writes it, for templates.
fn python_str(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Str(s) => s.clone(),
        other => crate::pyliteral::literal(other),
    }
}

/// Python's `str.format` with named fields only: `{name}` is the option's
/// value, `{{`/`}}` are braces; anything else (an unknown name, a format
/// spec, an index) fails the template, as it fails upstream.
fn format_template(template: &str, options: &BTreeMap<String, Value>) -> Option<String> {
    let mut out = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next()? {
                        '}' => break,
                        c if c.is_ascii_alphanumeric() || c == '_' => name.push(c),
                        _ => return None,
                    }
                }
                out.push_str(&python_str(options.get(&name)?));
            }
            '}' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

fn string_items(v: &Value) -> Vec<String> {
    match v {
        Value::List(items) => items
            .iter()
            .filter(|i| **i != Value::Null)
            .map(python_str)
            .collect(),
        Value::Null => Vec::new(),
        other => vec![python_str(other)],
    }
}

fn url_items(v: &Value) -> Vec<UrlInclude> {
    let Value::List(items) = v else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| match item {
            Value::List(pair) if pair.len() >= 2 => Some(UrlInclude {
                route: python_str(&pair[0]),
                include: python_str(&pair[1]),
            }),
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

const SECTION_KEYS: &[&str] = &[
    "wiring_projections",
    "derived_settings",
    "option_derivations",
    "normalization_rules",
    "validation_rules",
    "legacy_aliases",
];
const OPTION_KEYS: &[&str] = &[
    "wiring_projections",
    "derived_settings",
    "normalization_rules",
    "validation_rules",
    "legacy_aliases",
];
const PROJECTION_KEYS: &[&str] = &[
    "wiring_field",
    "source_options",
    "derivation_type",
    "expression",
    "default",
    "description",
];
const SETTING_KEYS: &[&str] = &[
    "setting_key",
    "source_options",
    "derivation_type",
    "expression",
    "default",
    "description",
];
const TYPES: &str = "static, direct, conditional, computed";

/// Parses `derivation:`; static projections go to the returned
/// [`StaticWiring`], everything else to the [`Derivation`].
pub fn parse(c: &mut Checker, ctx: &str, node: &Node) -> (Derivation, StaticWiring) {
    let mut out = Derivation::default();
    let mut fixed = StaticWiring::default();
    let what = format!("{ctx}: `derivation`");
    let Some(entries) = c.map(node, &what, true) else {
        return (out, fixed);
    };
    c.known_keys_prefixed(entries, SECTION_KEYS, &what);
    if let Some(list) = node.get("wiring_projections") {
        parse_projections(
            c,
            &format!("{what}.wiring_projections"),
            list,
            &mut out,
            &mut fixed,
        );
    }
    if let Some(list) = node.get("derived_settings") {
        parse_settings(c, &format!("{what}.derived_settings"), list, &mut out);
    }
    for key in ["normalization_rules", "validation_rules", "legacy_aliases"] {
        if let Some(list) = node.get(key) {
            mappings(c, &format!("{what}.{key}"), list);
        }
    }
    if let Some(options) = node.get("option_derivations")
        && let Some(opts) = c.map(options, &format!("{what}.option_derivations"), true)
    {
        for (k, v) in opts {
            let option = k.key_str().unwrap_or_default();
            let owhat = format!("{what}.option_derivations.{option}");
            let Some(fields) = c.map(v, &owhat, true) else {
                continue;
            };
            c.known_keys_prefixed(fields, OPTION_KEYS, &owhat);
            if let Some(list) = v.get("wiring_projections") {
                parse_projections(
                    c,
                    &format!("{owhat}.wiring_projections"),
                    list,
                    &mut out,
                    &mut fixed,
                );
            }
            if let Some(list) = v.get("derived_settings") {
                parse_settings(c, &format!("{owhat}.derived_settings"), list, &mut out);
            }
            for key in ["normalization_rules", "validation_rules", "legacy_aliases"] {
                if let Some(list) = v.get(key) {
                    mappings(c, &format!("{owhat}.{key}"), list);
                }
            }
        }
    }
    (out, fixed)
}

/// The items of a list of mappings (`null` is an empty list).
fn mappings<'n>(c: &mut Checker, what: &str, node: &'n Node) -> Vec<&'n Node> {
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
    items
        .iter()
        .filter(|item| {
            c.map(item, &format!("each entry of {what}"), false)
                .is_some()
        })
        .collect()
}

/// `derivation_type` and `expression` of one entry as a [`Rule`].
fn parse_rule(
    c: &mut Checker,
    what: &str,
    item: &Node,
    default_type: &str,
    wiring: bool,
) -> Option<Rule> {
    let kind = match item.get("derivation_type") {
        Some(n) => c.string(n, &format!("{what}: `derivation_type`"))?,
        None => default_type.to_owned(),
    };
    let expression = item.get("expression");
    let expr = |c: &mut Checker, key: &str| -> Option<&Node> {
        let found = expression.and_then(|e| e.get(key));
        if found.is_none() {
            c.error(
                expression.unwrap_or(item),
                format!("{what}: a `{kind}` rule needs `expression.{key}`"),
            );
        }
        found
    };
    if let Some(e) = expression {
        c.map(e, &format!("{what}: `expression`"), true)?;
    }
    let sources = match item.get("source_options") {
        Some(n) => c.string_list(n, &format!("{what}: `source_options`"))?,
        None => Vec::new(),
    };
    Some(match kind.as_str() {
        "static" => match expression.and_then(|e| e.get("value")) {
            Some(v) => Rule::Static(Value::from_node(v)),
            None => Rule::Static(Value::Null),
        },
        "direct" => {
            let n = expr(c, "option")?;
            Rule::Direct(c.string(n, &format!("{what}: `expression.option`"))?)
        }
        "conditional" => {
            let n = expr(c, "branches")?;
            let entries = c.map(n, &format!("{what}: `expression.branches`"), true)?;
            if sources.is_empty() {
                c.error(item, format!("{what}: a `conditional` rule needs `source_options` (the option whose value picks the branch)"));
                return None;
            }
            Rule::Conditional {
                sources,
                branches: entries
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.key_str().unwrap_or_default().to_owned(),
                            Value::from_node(v),
                        )
                    })
                    .collect(),
            }
        }
        "computed" => {
            let key = if wiring { "values" } else { "template" };
            let n = expr(c, key)?;
            let templates = if wiring {
                c.string_list(n, &format!("{what}: `expression.values`"))?
            } else {
                vec![c.string(n, &format!("{what}: `expression.template`"))?]
            };
            Rule::Computed(templates)
        }
        other => {
            let at = item.get("derivation_type").unwrap_or(item);
            c.error_help(
                at,
                format!("{what}: unknown derivation_type `{other}`"),
                format!("valid types: {TYPES}"),
            );
            return None;
        }
    })
}

fn parse_projections(
    c: &mut Checker,
    what: &str,
    list: &Node,
    out: &mut Derivation,
    fixed: &mut StaticWiring,
) {
    for item in mappings(c, what, list) {
        if let Some(entries) = item.as_map() {
            c.known_keys_prefixed(entries, PROJECTION_KEYS, what);
        }
        let Some(field_node) = item.get("wiring_field") else {
            c.error(
                item,
                format!("{what}: each projection needs `wiring_field`"),
            );
            continue;
        };
        let Some(field_name) = c.string(field_node, &format!("{what}: `wiring_field`")) else {
            continue;
        };
        let Some(field) = WiringField::parse(&field_name) else {
            c.error_help(
                field_node,
                format!("{what}: unknown wiring_field `{field_name}`"),
                "valid fields: apps, middleware, url_includes, pre_home_url_includes".into(),
            );
            continue;
        };
        let Some(rule) = parse_rule(c, what, item, "static", true) else {
            continue;
        };
        let default = item
            .get("default")
            .map(Value::from_node)
            .unwrap_or(Value::Null);
        let value_node = item
            .get("expression")
            .and_then(|e| e.get("value"))
            .unwrap_or(item);
        if !check_shape(c, what, field, value_node, &rule, &default) {
            continue;
        }
        match (&rule, field) {
            (Rule::Static(v), WiringField::Apps) => {
                let v = if is_empty(v) { &default } else { v };
                fixed
                    .apps
                    .extend(string_items(v).into_iter().map(|a| (a, value_node.start)));
            }
            (Rule::Static(v), WiringField::Middleware) => {
                let v = if is_empty(v) { &default } else { v };
                fixed.middleware.extend(string_items(v));
            }
            (Rule::Static(v), WiringField::UrlIncludes) => {
                let v = if is_empty(v) { &default } else { v };
                fixed
                    .urls
                    .extend(url_items(v).into_iter().map(|u| (u, value_node.start)));
            }
            _ => out.projections.push(Projection {
                field,
                rule,
                default,
                pos: item.start,
            }),
        }
    }
}

/// Checks the constant parts of a projection (its static value, its
/// default, its branches): names that would be written into Python.
fn check_shape(
    c: &mut Checker,
    what: &str,
    field: WiringField,
    at: &Node,
    rule: &Rule,
    default: &Value,
) -> bool {
    let mut constants = vec![default];
    match rule {
        Rule::Static(v) => constants.push(v),
        Rule::Conditional { branches, .. } => constants.extend(branches.iter().map(|(_, v)| v)),
        Rule::Direct(_) | Rule::Computed(_) => {}
    }
    let mut ok = true;
    for v in constants {
        if field.is_url() {
            let Value::List(items) = v else {
                if *v != Value::Null {
                    c.error(
                        at,
                        format!("{what}: URL includes must be a list of [route, include] pairs"),
                    );
                    ok = false;
                }
                continue;
            };
            for item in items {
                let problem = match item {
                    Value::List(pair) if pair.len() == 2 => {
                        let (route, include) = (python_str(&pair[0]), python_str(&pair[1]));
                        check_route(&route)
                            .map_err(|e| format!("route `{route}`: {e}"))
                            .and_then(|()| {
                                check_dotted_name(&include)
                                    .map_err(|e| format!("include `{include}`: {e}"))
                            })
                            .err()
                    }
                    _ => Some("each URL include is a [route, include] pair".into()),
                };
                if let Some(p) = problem {
                    c.error(at, format!("{what}: {p}"));
                    ok = false;
                }
            }
        } else {
            for name in string_items(v) {
                if let Err(e) = check_dotted_name(&name) {
                    c.error(at, format!("{what}: `{name}`: {e}"));
                    ok = false;
                }
            }
        }
    }
    ok
}

fn parse_settings(c: &mut Checker, what: &str, list: &Node, out: &mut Derivation) {
    for item in mappings(c, what, list) {
        if let Some(entries) = item.as_map() {
            c.known_keys_prefixed(entries, SETTING_KEYS, what);
        }
        let Some(key_node) = item.get("setting_key") else {
            c.error(
                item,
                format!("{what}: each derived setting needs `setting_key`"),
            );
            continue;
        };
        let Some(key) = c.string(key_node, &format!("{what}: `setting_key`")) else {
            continue;
        };
        if let Err(e) = check_setting_name(&key) {
            c.error(key_node, format!("{what}: setting_key `{key}` {e}"));
            continue;
        }
        let Some(rule) = parse_rule(c, what, item, "direct", false) else {
            continue;
        };
        let option = match &rule {
            Rule::Direct(o) => Some(o.clone()),
            _ => item
                .get("source_options")
                .map(Value::from_node)
                .and_then(|v| match v {
                    Value::List(items) => items.into_iter().next().and_then(|i| match i {
                        Value::Str(s) => Some(s),
                        _ => None,
                    }),
                    _ => None,
                }),
        };
        out.settings.push(DerivedSetting {
            key,
            rule,
            default: item
                .get("default")
                .map(Value::from_node)
                .unwrap_or(Value::Null),
            option,
            pos: key_node.start,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<(Derivation, StaticWiring), Vec<String>> {
        let root = crate::yaml::parse(text).expect("yaml").expect("doc");
        let mut c = Checker::new("module.yml");
        let out = parse(
            &mut c,
            "module m",
            root.get("derivation").expect("derivation"),
        );
        let problems = c.finish();
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(problems.iter().map(ToString::to_string).collect())
        }
    }

    fn opts(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn static_projections_fold_and_the_rest_evaluates() {
        let (d, fixed) = parse_text(
            r#"derivation:
  wiring_projections:
    - wiring_field: apps
      derivation_type: static
      expression: {value: [rest_framework, quickscale_modules_crm]}
    - wiring_field: url_includes
      derivation_type: static
      expression:
        value:
          - - ""
            - quickscale_modules_crm.urls
    - wiring_field: middleware
      derivation_type: conditional
      source_options: [backend]
      expression:
        branches:
          s3: [crm.middleware.S3Middleware]
          local: []
    - wiring_field: pre_home_url_includes
      expression:
        value: [["pricing/", crm.pricing_urls]]
  option_derivations:
    page_size:
      derived_settings:
        - setting_key: CRM_PAGE_SIZE
          source_options: [page_size]
          derivation_type: direct
          expression: {option: page_size}
          default: 25
        - setting_key: CRM_TITLE
          derivation_type: computed
          expression: {template: "Deals ({page_size} per page, api={enable_api})"}
        - setting_key: CRM_STORAGE
          derivation_type: conditional
          source_options: [backend]
          expression: {branches: {s3: remote, local: disk}}
          default: unknown
  normalization_rules: []
"#,
        )
        .expect("valid");
        assert_eq!(
            fixed
                .apps
                .iter()
                .map(|(a, _)| a.as_str())
                .collect::<Vec<_>>(),
            ["rest_framework", "quickscale_modules_crm"]
        );
        assert_eq!(fixed.urls[0].0.include, "quickscale_modules_crm.urls");
        assert_eq!(fixed.urls[0].0.route, "");
        let o = opts(&[
            ("page_size", Value::Int(50)),
            ("enable_api", Value::Bool(true)),
            ("backend", Value::Str("s3".into())),
        ]);
        let got = d.evaluate(&o);
        assert_eq!(got.middleware, ["crm.middleware.S3Middleware"]);
        assert_eq!(got.pre_home_urls[0].route, "pricing/");
        assert_eq!(
            got.settings,
            vec![
                (
                    "CRM_PAGE_SIZE".into(),
                    Value::Int(50),
                    Some("page_size".into())
                ),
                (
                    "CRM_TITLE".into(),
                    Value::Str("Deals (50 per page, api=True)".into()),
                    None
                ),
                (
                    "CRM_STORAGE".into(),
                    Value::Str("remote".into()),
                    Some("backend".into())
                ),
            ]
        );
        let local = d.evaluate(&opts(&[("backend", Value::Str("other".into()))]));
        assert!(local.middleware.is_empty());
        // Unset option: the default; an unknown template field: the default (null).
        assert_eq!(local.settings[0].1, Value::Int(25));
        assert_eq!(local.settings[1].1, Value::Null);
        assert_eq!(local.settings[2].1, Value::Str("unknown".into()));
    }

    #[test]
    fn names_written_into_python_are_checked_where_they_are_written() {
        let err = parse_text(
            "derivation:\n  wiring_projections:\n    - wiring_field: apps\n      expression: {value: [\"os; import sys\"]}\n    - wiring_field: url_includes\n      expression: {value: [[\"/abs/\", x.urls]]}\n    - wiring_field: templates\n  derived_settings:\n    - setting_key: lower\n    - setting_key: X\n      derivation_type: magic\n",
        )
        .expect_err("invalid");
        let text = err.join("\n");
        assert!(text.contains("module.yml:4:"), "{text}");
        assert!(text.contains("`os; import sys`"), "{text}");
        assert!(text.contains("route `/abs/`"), "{text}");
        assert!(text.contains("unknown wiring_field `templates`"), "{text}");
        assert!(text.contains("setting_key `lower`"), "{text}");
        assert!(text.contains("unknown derivation_type `magic`"), "{text}");
    }

    #[test]
    fn templates_are_python_format_with_names_only() {
        let o = opts(&[("a", Value::Str("x".into())), ("n", Value::Int(3))]);
        assert_eq!(format_template("{a}-{n}", &o).as_deref(), Some("x-3"));
        assert_eq!(format_template("{{a}}", &o).as_deref(), Some("{a}"));
        assert_eq!(format_template("{missing}", &o), None);
        assert_eq!(format_template("{a:>4}", &o), None);
        assert_eq!(format_template("{0}", &o), None);
        assert_eq!(format_template("}", &o), None);
    }
}
