//! In-place edits of quickscale.yml that keep every other byte as it was.
//!
//! Each edit locates the nodes it touches by their source ranges and splices
//! text; the user's comments, key order, quoting and indentation outside the
//! changed lines are untouched. Comments on removed lines are kept as
//! comment lines, so nothing the user wrote disappears.

use crate::value::{Value, yaml_string};
use crate::yaml::{self, Node, NodeKind, Style};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EditError {
    #[error("the file is not valid YAML: {0}")]
    Invalid(String),
    #[error("`{0}` is not a mapping, so it cannot be edited automatically")]
    NotAMapping(String),
    #[error("the layout around `{0}` is too unusual to edit automatically")]
    Unusual(String),
}

/// A value to insert: a scalar text, or a mapping of already-rendered values.
#[derive(Debug, Clone, PartialEq)]
pub enum NewValue {
    Inline(String),
    Map(Vec<(String, String)>),
}

/// Sets `modules.<module>.<option>` (creating the module entry if needed).
pub fn set_option(
    text: &str,
    module: &str,
    option: &str,
    value: &Value,
) -> Result<String, EditError> {
    let text = ensure_entry(text, &[], "modules", NewValue::Map(Vec::new()))?;
    let text = ensure_entry(&text, &["modules"], module, NewValue::Map(Vec::new()))?;
    set_entry(
        &text,
        &["modules", module],
        option,
        NewValue::Inline(value.to_yaml()),
    )
}

/// Adds `modules.<module>: {}` unless present.
pub fn add_module(text: &str, module: &str) -> Result<String, EditError> {
    let text = ensure_entry(text, &[], "modules", NewValue::Map(Vec::new()))?;
    ensure_entry(&text, &["modules"], module, NewValue::Map(Vec::new()))
}

/// Removes `modules.<module>` and `sources.<module>`.
pub fn remove_module(text: &str, module: &str) -> Result<String, EditError> {
    let text = remove_entry(text, &["modules"], module)?;
    let text = remove_entry(&text, &["sources"], module)?;
    // A `sources:` left empty would read as null; make it explicit or drop it.
    let root = parse(&text)?;
    match root.get("sources") {
        Some(s) if s.as_map().is_some_and(<[_]>::is_empty) || s.is_null() => {
            remove_entry(&text, &[], "sources")
        }
        _ => Ok(text),
    }
}

/// Sets `sources.<module>.url` and/or `.ref`.
pub fn set_source(
    text: &str,
    module: &str,
    url: Option<&str>,
    git_ref: Option<&str>,
) -> Result<String, EditError> {
    let mut fields = Vec::new();
    if let Some(u) = url {
        fields.push(("url".to_owned(), yaml_string(u)));
    }
    if let Some(r) = git_ref {
        fields.push(("ref".to_owned(), yaml_string(r)));
    }
    if fields.is_empty() {
        return Ok(text.to_owned());
    }
    let mut text = ensure_entry(text, &[], "sources", NewValue::Map(Vec::new()))?;
    let root = parse(&text)?;
    let exists = root.get("sources").and_then(|s| s.get(module)).is_some();
    if !exists {
        return ensure_entry(&text, &["sources"], module, NewValue::Map(fields));
    }
    for (k, v) in fields {
        text = set_entry(&text, &["sources", module], &k, NewValue::Inline(v))?;
    }
    Ok(text)
}

fn parse(text: &str) -> Result<Node, EditError> {
    match yaml::parse(text) {
        Ok(Some(root)) => Ok(root),
        Ok(None) => Err(EditError::Invalid("the file is empty".into())),
        Err(e) => Err(EditError::Invalid(e.message)),
    }
}

fn lookup<'n>(root: &'n Node, path: &[&str]) -> Option<&'n Node> {
    path.iter().try_fold(root, |node, key| node.get(key))
}

/// Inserts `key: value` into the mapping at `path` unless `key` exists.
fn ensure_entry(
    text: &str,
    path: &[&str],
    key: &str,
    value: NewValue,
) -> Result<String, EditError> {
    let root = parse(text)?;
    let map = lookup(&root, path).ok_or_else(|| EditError::NotAMapping(path.join(".")))?;
    if map.get(key).is_some() {
        return Ok(text.to_owned());
    }
    insert_entry(text, &root, path, key, &value)
}

/// Sets `key` in the mapping at `path`, replacing only the value's text.
fn set_entry(text: &str, path: &[&str], key: &str, value: NewValue) -> Result<String, EditError> {
    let root = parse(text)?;
    let map = lookup(&root, path).ok_or_else(|| EditError::NotAMapping(path.join(".")))?;
    let Some((k, v)) = map.entry(key) else {
        return insert_entry(text, &root, path, key, &value);
    };
    let NewValue::Inline(new) = value else {
        return Err(EditError::Unusual(key.into()));
    };
    let src = Source::new(text, &root);
    let (start, end) = if v.start.offset == v.end.offset {
        // An empty value sits at the key's end; write after the colon.
        let colon = src
            .colon_after(k.end.offset)
            .ok_or_else(|| EditError::Unusual(key.into()))?;
        (colon + 1, colon + 1)
    } else if matches!(v.kind, NodeKind::Scalar(_)) || is_flow(v) {
        (v.start.offset, v.end.offset)
    } else {
        let colon = src
            .colon_after(k.end.offset)
            .ok_or_else(|| EditError::Unusual(key.into()))?;
        (colon + 1, v.end.offset)
    };
    let kept = src.comments_between(start, end);
    let mut replacement = String::new();
    if start == end || !matches!(v.kind, NodeKind::Scalar(_)) && !is_flow(v) {
        replacement.push(' ');
    }
    replacement.push_str(&new);
    let mut out = splice(text, start, end, &replacement);
    if !kept.is_empty() {
        let indent = " ".repeat(k.start.column - 1);
        let at = line_end(&out, start + replacement.len());
        let block: String = kept.iter().map(|c| format!("\n{indent}{c}")).collect();
        out = splice(&out, at, at, &block);
    }
    check(out)
}

fn is_flow(n: &Node) -> bool {
    matches!(
        n.kind,
        NodeKind::Map(_, Style::Flow) | NodeKind::Seq(_, Style::Flow)
    )
}

fn insert_entry(
    text: &str,
    root: &Node,
    path: &[&str],
    key: &str,
    value: &NewValue,
) -> Result<String, EditError> {
    let src = Source::new(text, root);
    let step = src.indent_step();
    let map = lookup(root, path).ok_or_else(|| EditError::NotAMapping(path.join(".")))?;
    let key_text = yaml_string(key);
    match &map.kind {
        NodeKind::Map(entries, Style::Flow) if !entries.is_empty() => {
            let (_, last) = entries
                .last()
                .ok_or_else(|| EditError::Unusual(key.into()))?;
            let at = last.end.offset;
            check(splice(
                text,
                at,
                at,
                &format!(", {key_text}: {}", render_flow(value)),
            ))
        }
        NodeKind::Map(entries, Style::Block) if !entries.is_empty() => {
            let (first_key, _) = &entries[0];
            let indent = first_key.start.column - 1;
            if path.is_empty() {
                // Top level: append at the end of the file.
                let mut out = text.to_owned();
                if !out.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str(&render_block_entry(&key_text, value, indent, step));
                out.push('\n');
                return check(out);
            }
            let (_, last_value) = entries
                .last()
                .ok_or_else(|| EditError::Unusual(key.into()))?;
            let at = line_end(
                text,
                last_value
                    .end
                    .offset
                    .saturating_sub(1)
                    .max(last_value.start.offset),
            );
            let entry = render_block_entry(&key_text, value, indent, step);
            check(splice(text, at, at, &format!("\n{entry}")))
        }
        // An empty mapping or a null: the parent key gets a block below it.
        _ if map.is_null() || map.as_map().is_some_and(<[_]>::is_empty) => {
            let parent_path = &path[..path.len().saturating_sub(1)];
            let Some(parent_key) = path.last() else {
                return Err(EditError::NotAMapping("the top level".into()));
            };
            let parent = lookup(root, parent_path)
                .ok_or_else(|| EditError::NotAMapping(parent_path.join(".")))?;
            let (pk, pv) = parent
                .entry(parent_key)
                .ok_or_else(|| EditError::Unusual((*parent_key).into()))?;
            if matches!(parent.kind, NodeKind::Map(_, Style::Flow)) {
                let rendered = format!("{{{key_text}: {}}}", render_flow(value));
                let (start, end) = if pv.start.offset == pv.end.offset {
                    let colon = src
                        .colon_after(pk.end.offset)
                        .ok_or_else(|| EditError::Unusual(key.into()))?;
                    (colon + 1, colon + 1)
                } else {
                    (pv.start.offset, pv.end.offset)
                };
                let pad = if start == end { " " } else { "" };
                return check(splice(text, start, end, &format!("{pad}{rendered}")));
            }
            let colon = src
                .colon_after(pk.end.offset)
                .ok_or_else(|| EditError::Unusual((*parent_key).into()))?;
            // Drop an explicit `null`/`~`/`{}` after the colon, keep any comment.
            let (rm_start, rm_end) = if pv.start.offset == pv.end.offset {
                (colon + 1, colon + 1)
            } else {
                (colon + 1, pv.end.offset)
            };
            let out = splice(text, rm_start, rm_end, "");
            let at = line_end(&out, rm_start);
            let indent = pk.start.column - 1 + step;
            let entry = render_block_entry(&key_text, value, indent, step);
            check(splice(&out, at, at, &format!("\n{entry}")))
        }
        _ => Err(EditError::NotAMapping(path.join("."))),
    }
}

/// Removes `key` from the mapping at `path`; absent keys are fine.
fn remove_entry(text: &str, path: &[&str], key: &str) -> Result<String, EditError> {
    let root = parse(text)?;
    let Some(map) = lookup(&root, path) else {
        return Ok(text.to_owned());
    };
    let Some(entries) = map.as_map() else {
        return Ok(text.to_owned());
    };
    let Some(index) = entries.iter().position(|(k, _)| k.key_str() == Some(key)) else {
        return Ok(text.to_owned());
    };
    let src = Source::new(text, &root);
    let (k, v) = &entries[index];
    if matches!(map.kind, NodeKind::Map(_, Style::Flow)) {
        let (start, end) = if index + 1 < entries.len() {
            (k.start.offset, entries[index + 1].0.start.offset)
        } else if index > 0 {
            (entries[index - 1].1.end.offset, v.end.offset)
        } else {
            (k.start.offset, v.end.offset)
        };
        return check(splice(text, start, end, ""));
    }
    let start = line_start(text, k.start.offset);
    if !text[start..k.start.offset].trim().is_empty() {
        return Err(EditError::Unusual(key.into()));
    }
    let value_end = v.end.offset.max(k.end.offset);
    let mut end = line_end(text, value_end.saturating_sub(1).max(k.start.offset));
    if end < text.len() {
        end += 1;
    }
    // Keep full-line comments inside the block as they are; move inline
    // comments of removed lines onto lines of their own.
    let indent = " ".repeat(k.start.column - 1);
    let mut kept = String::new();
    let mut line_begin = start;
    while line_begin < end {
        let le = line_end(text, line_begin);
        let line = &text[line_begin..le];
        if line.trim_start().starts_with('#') {
            kept.push_str(line);
            kept.push('\n');
        } else if let Some(c) = src.comment_in_line(line_begin, le) {
            kept.push_str(&format!("{indent}{c}\n"));
        }
        line_begin = le + 1;
    }
    let mut out = splice(text, start, end, &kept);
    if entries.len() == 1 && !path.is_empty() {
        // The mapping is now empty: say so explicitly (upstream rejects a bare key).
        let reparsed = parse(&out)?;
        let parent = lookup(&reparsed, &path[..path.len() - 1])
            .ok_or_else(|| EditError::Unusual(key.into()))?;
        let last = path[path.len() - 1];
        if let Some((pk, _)) = parent.entry(last) {
            let colon = Source::new(&out, &reparsed)
                .colon_after(pk.end.offset)
                .ok_or_else(|| EditError::Unusual(last.into()))?;
            out = splice(&out, colon + 1, colon + 1, " {}");
        }
    }
    check(out)
}

fn render_flow(value: &NewValue) -> String {
    match value {
        NewValue::Inline(s) => s.clone(),
        NewValue::Map(fields) => {
            let inner: Vec<String> = fields.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

fn render_block_entry(key: &str, value: &NewValue, indent: usize, step: usize) -> String {
    let pad = " ".repeat(indent);
    match value {
        NewValue::Inline(s) => format!("{pad}{key}: {s}"),
        NewValue::Map(fields) if fields.is_empty() => format!("{pad}{key}: {{}}"),
        NewValue::Map(fields) => {
            let inner = " ".repeat(indent + step);
            let mut out = format!("{pad}{key}:");
            for (k, v) in fields {
                out.push_str(&format!("\n{inner}{k}: {v}"));
            }
            out
        }
    }
}

fn splice(text: &str, start: usize, end: usize, with: &str) -> String {
    let mut out = String::with_capacity(text.len() + with.len());
    out.push_str(&text[..start]);
    out.push_str(with);
    out.push_str(&text[end..]);
    out
}

fn check(out: String) -> Result<String, EditError> {
    parse(&out)?;
    Ok(out)
}

fn line_start(text: &str, offset: usize) -> usize {
    text[..offset].rfind('\n').map_or(0, |i| i + 1)
}

fn line_end(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text[offset..].find('\n').map_or(text.len(), |i| offset + i)
}

/// The text plus the byte ranges of every scalar, to tell comments from data.
struct Source<'a> {
    text: &'a str,
    scalars: Vec<(usize, usize)>,
    root: &'a Node,
}

impl<'a> Source<'a> {
    fn new(text: &'a str, root: &'a Node) -> Self {
        let mut scalars = Vec::new();
        collect_scalars(root, &mut scalars);
        Self {
            text,
            scalars,
            root,
        }
    }

    fn in_scalar(&self, offset: usize) -> bool {
        self.scalars
            .iter()
            .any(|(s, e)| *s <= offset && offset < *e)
    }

    /// The first `:` after `from` that is not inside a scalar.
    fn colon_after(&self, from: usize) -> Option<usize> {
        self.text[from..]
            .char_indices()
            .map(|(i, c)| (from + i, c))
            .find(|(i, c)| *c == ':' && !self.in_scalar(*i))
            .map(|(i, _)| i)
    }

    /// The comment text (from `#`) on the line `[start, end)`, if any.
    fn comment_in_line(&self, start: usize, end: usize) -> Option<&'a str> {
        let line = &self.text[start..end];
        for (i, c) in line.char_indices() {
            let at = start + i;
            if c == '#' && !self.in_scalar(at) && (i == 0 || line[..i].ends_with([' ', '\t'])) {
                return Some(line[i..].trim_end());
            }
        }
        None
    }

    /// Every comment in `[start, end)`.
    fn comments_between(&self, start: usize, end: usize) -> Vec<&'a str> {
        let mut out = Vec::new();
        let mut at = line_start(self.text, start);
        while at < end && at < self.text.len() {
            let le = line_end(self.text, at);
            if let Some(c) = self.comment_in_line(at.max(start), le.min(end.max(at))) {
                out.push(c);
            }
            at = le + 1;
        }
        out
    }

    /// The indentation step the file uses (2 when it cannot tell).
    fn indent_step(&self) -> usize {
        fn find(node: &Node, parent_col: Option<usize>) -> Option<usize> {
            if let NodeKind::Map(entries, Style::Block) = &node.kind {
                let col = entries.first()?.0.start.column;
                if let Some(p) = parent_col
                    && col > p
                {
                    return Some(col - p);
                }
                for (k, v) in entries {
                    if let Some(s) = find(v, Some(k.start.column)) {
                        return Some(s);
                    }
                }
            }
            None
        }
        find(self.root, None).unwrap_or(2)
    }
}

fn collect_scalars(node: &Node, out: &mut Vec<(usize, usize)>) {
    match &node.kind {
        NodeKind::Scalar(_) => out.push((node.start.offset, node.end.offset)),
        NodeKind::Seq(items, _) => items.iter().for_each(|i| collect_scalars(i, out)),
        NodeKind::Map(entries, _) => entries.iter().for_each(|(k, v)| {
            collect_scalars(k, out);
            collect_scalars(v, out);
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
# My project, hand-written.
version: '1'   # quoted differently
project:
    slug: shop       # the slug
    package: shop
    theme: showcase_html

# Modules we want
modules:
    crm:   # CRM first
        deals_per_page: 50  # more deals
        # contacts_per_page: 10
    auth:
    forms: {forms_per_page: 5}

docker: {start: false}
# trailing comment
";

    #[test]
    fn add_module_touches_one_line() {
        let out = add_module(FILE, "blog").expect("edit");
        let diff = changed_lines(FILE, &out);
        assert_eq!(diff, vec!["+    blog: {}"]);
    }

    #[test]
    fn remove_module_keeps_comments() {
        let out = remove_module(FILE, "crm").expect("edit");
        assert!(!out.contains("deals_per_page"));
        for comment in [
            "# CRM first",
            "# more deals",
            "# contacts_per_page: 10",
            "# Modules we want",
        ] {
            assert!(out.contains(comment), "{comment} lost:\n{out}");
        }
        assert!(out.contains("    auth:\n    forms: {forms_per_page: 5}"));
    }

    #[test]
    fn set_option_in_null_module() {
        let out =
            set_option(FILE, "auth", "registration_enabled", &Value::Bool(false)).expect("edit");
        assert_eq!(
            changed_lines(FILE, &out),
            vec!["+        registration_enabled: false"]
        );
        let out = set_option(FILE, "crm", "deals_per_page", &Value::Int(75)).expect("edit");
        assert!(out.contains("deals_per_page: 75  # more deals"));
        let out = set_option(FILE, "forms", "x", &Value::Str("a b".into())).expect("edit");
        assert!(out.contains("forms: {forms_per_page: 5, x: \"a b\"}"));
    }

    #[test]
    fn sources_are_appended_and_updated() {
        let out = set_source(FILE, "auth", None, Some("v0.63.0")).expect("edit");
        assert!(
            out.ends_with("# trailing comment\nsources:\n    auth:\n        ref: v0.63.0\n"),
            "{out}"
        );
        let out = set_source(&out, "auth", Some("../auth"), Some("v1")).expect("edit");
        assert!(
            out.contains("        ref: v1\n        url: ../auth\n"),
            "{out}"
        );
        let out = remove_module(&out, "auth").expect("edit");
        assert!(!out.contains("sources"), "{out}");
    }

    #[test]
    fn removing_the_last_module_leaves_an_empty_mapping() {
        let text = "version: \"1\"\nmodules:\n  crm: {}\n";
        let out = remove_module(text, "crm").expect("edit");
        assert_eq!(out, "version: \"1\"\nmodules: {}\n");
        let out = add_module(&out, "blog").expect("edit");
        assert_eq!(out, "version: \"1\"\nmodules:\n  blog: {}\n");
    }

    fn changed_lines(a: &str, b: &str) -> Vec<String> {
        similar::TextDiff::from_lines(a, b)
            .iter_all_changes()
            .filter(|c| c.tag() != similar::ChangeTag::Equal)
            .map(|c| {
                format!(
                    "{}{}",
                    if c.tag() == similar::ChangeTag::Insert {
                        "+"
                    } else {
                        "-"
                    },
                    c.value().trim_end()
                )
            })
            .collect()
    }
}
