//! In-place edits of quickscale.yml that keep every other line as it was.
//!
//! Each edit locates the nodes it touches by their source ranges and splices
//! text; the user's comments, key order, quoting, indentation, line endings
//! (LF or CRLF), byte-order mark and document markers outside the changed
//! entry are untouched. Comments on removed lines are kept as comment lines,
//! so nothing the user wrote disappears.
//!
//! Safety: every position comes from the parser as a byte offset on a char
//! boundary (see `crate::yaml`), every slice goes through `str::get`, and
//! every edit is checked before it is returned: the result must parse and
//! hold exactly the data asked for. A layout this module does not handle is
//! an [`EditError`] naming the line, never a panic or a damaged file.

use std::collections::BTreeMap;

use crate::value::Value;
use crate::yaml::yaml_string;
use crate::yaml::{self, Node, NodeKind, Style};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EditError {
    #[error("the file is not valid YAML{}: {message}", at_line(*.line))]
    Invalid {
        message: String,
        line: Option<usize>,
    },
    #[error("line {line}: {path} is not a mapping, so `{key}` cannot be set in it")]
    NotAMapping {
        path: String,
        key: String,
        line: usize,
    },
    #[error("line {line}: {what}; this layout cannot be edited automatically")]
    Unsupported { what: String, line: usize },
    #[error(
        "line {line} ends with a lone carriage return (classic Mac line endings); only files with LF or CRLF line endings are edited"
    )]
    LoneCarriageReturn { line: usize },
    #[error("line {line}: editing {path} did not give the expected result, so nothing was changed")]
    Unverified { path: String, line: usize },
}

fn at_line(line: Option<usize>) -> String {
    line.map(|l| format!(" (line {l})")).unwrap_or_default()
}

impl EditError {
    /// The line of quickscale.yml the problem is on.
    pub fn line(&self) -> Option<usize> {
        match self {
            EditError::Invalid { line, .. } => *line,
            EditError::NotAMapping { line, .. }
            | EditError::Unsupported { line, .. }
            | EditError::LoneCarriageReturn { line }
            | EditError::Unverified { line, .. } => Some(*line),
        }
    }

    pub fn hint(&self) -> String {
        match self {
            EditError::LoneCarriageReturn { .. } => {
                "re-save quickscale.yml with LF (or CRLF) line endings, then run the command again"
                    .into()
            }
            EditError::Invalid { .. } => {
                "fix the YAML error in quickscale.yml, then run the command again".into()
            }
            _ => format!(
                "make this change by hand in quickscale.yml{}, then run `git quickscale apply` (docs/user-guide.md lists the layouts `plan` edits)",
                self.line()
                    .map(|l| format!(" around line {l}"))
                    .unwrap_or_default()
            ),
        }
    }
}

/// A value to write: any value, or a mapping whose fields keep their order.
#[derive(Debug, Clone, PartialEq)]
pub enum NewValue {
    Value(Value),
    Fields(Vec<(String, Value)>),
}

impl NewValue {
    fn empty_map() -> Self {
        NewValue::Fields(Vec::new())
    }

    fn to_value(&self) -> Value {
        match self {
            NewValue::Value(v) => v.clone(),
            NewValue::Fields(f) => Value::Map(f.iter().cloned().collect()),
        }
    }

    fn render_flow(&self) -> String {
        match self {
            NewValue::Value(v) => v.to_yaml(),
            NewValue::Fields(fields) => {
                let inner: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{}: {}", yaml_string(k), v.to_yaml()))
                    .collect();
                format!("{{{}}}", inner.join(", "))
            }
        }
    }

    /// `key: value` as block lines, the first indented by `indent`.
    fn render_block(&self, key: &str, indent: usize, step: usize) -> Vec<String> {
        let pad = " ".repeat(indent);
        match self {
            NewValue::Fields(fields) if !fields.is_empty() => {
                let inner = " ".repeat(indent + step);
                let mut lines = vec![format!("{pad}{key}:")];
                lines.extend(
                    fields
                        .iter()
                        .map(|(k, v)| format!("{inner}{}: {}", yaml_string(k), v.to_yaml())),
                );
                lines
            }
            other => vec![format!("{pad}{key}: {}", other.render_flow())],
        }
    }
}

/// Sets `modules.<module>.<option>` (creating the module entry if needed).
pub fn set_option(
    text: &str,
    module: &str,
    option: &str,
    value: &Value,
) -> Result<String, EditError> {
    edit(text, |doc| {
        doc.ensure(&[], "modules", &NewValue::empty_map())?;
        doc.ensure(&["modules"], module, &NewValue::empty_map())?;
        doc.set(
            &["modules", module],
            option,
            &NewValue::Value(value.clone()),
        )
    })
}

/// Adds `modules.<module>: {}` unless present.
pub fn add_module(text: &str, module: &str) -> Result<String, EditError> {
    edit(text, |doc| {
        doc.ensure(&[], "modules", &NewValue::empty_map())?;
        doc.ensure(&["modules"], module, &NewValue::empty_map())
    })
}

/// Removes `modules.<module>` and `sources.<module>`.
pub fn remove_module(text: &str, module: &str) -> Result<String, EditError> {
    edit(text, |doc| {
        doc.remove(&["modules"], module)?;
        doc.remove(&["sources"], module)?;
        // A `sources:` left empty would read as null; drop it.
        let tree = Tree::parse(&doc.text)?;
        let empty = tree
            .root
            .get("sources")
            .is_some_and(|s| s.is_null() || s.as_map().is_some_and(<[_]>::is_empty));
        if empty {
            doc.remove(&[], "sources")?;
        }
        Ok(())
    })
}

/// Sets `project.<key>` for each `(key, value)` of `set`, then removes
/// the keys of `remove` (`adopt` turns upstream's old `project.name` into
/// `slug` and `package`).
pub fn set_project(text: &str, set: &[(&str, &str)], remove: &[&str]) -> Result<String, EditError> {
    edit(text, |doc| {
        for (key, value) in set {
            doc.set(
                &["project"],
                key,
                &NewValue::Value(Value::Str((*value).to_owned())),
            )?;
        }
        for key in remove {
            doc.remove(&["project"], key)?;
        }
        Ok(())
    })
}

/// Sets `modules.<module>` to these options (creating the entry).
pub fn add_module_with(
    text: &str,
    module: &str,
    options: &BTreeMap<String, Value>,
) -> Result<String, EditError> {
    let mut out = add_module(text, module)?;
    for (k, v) in options {
        out = set_option(&out, module, k, v)?;
    }
    Ok(out)
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
        fields.push(("url".to_owned(), Value::Str(u.to_owned())));
    }
    if let Some(r) = git_ref {
        fields.push(("ref".to_owned(), Value::Str(r.to_owned())));
    }
    set_source_fields(text, module, fields)
}

/// Sets `sources.<module>.access` (`adopt` records the access upstream's
/// project gave a module's pages).
pub fn set_source_access(text: &str, module: &str, access: Value) -> Result<String, EditError> {
    set_source_fields(text, module, vec![("access".to_owned(), access)])
}

/// Sets these fields of `sources.<module>` (creating the entry).
fn set_source_fields(
    text: &str,
    module: &str,
    fields: Vec<(String, Value)>,
) -> Result<String, EditError> {
    if fields.is_empty() {
        return Ok(text.to_owned());
    }
    edit(text, |doc| {
        doc.ensure(&[], "sources", &NewValue::empty_map())?;
        let tree = Tree::parse(&doc.text)?;
        let exists = tree
            .root
            .get("sources")
            .and_then(|s| s.get(module))
            .is_some();
        if !exists {
            return doc.ensure(&["sources"], module, &NewValue::Fields(fields));
        }
        for (k, v) in fields {
            doc.set(&["sources", module], &k, &NewValue::Value(v))?;
        }
        Ok(())
    })
}

const BOM: &str = "\u{feff}";

/// Runs `f` on the text without its byte-order mark, then puts the mark back.
fn edit(
    text: &str,
    f: impl FnOnce(&mut Doc) -> Result<(), EditError>,
) -> Result<String, EditError> {
    let (bom, body) = match text.strip_prefix(BOM) {
        Some(body) => (BOM, body),
        None => ("", text),
    };
    if let Some(line) = lone_carriage_return(body) {
        return Err(EditError::LoneCarriageReturn { line });
    }
    let mut doc = Doc {
        text: body.to_owned(),
    };
    f(&mut doc)?;
    Ok(format!("{bom}{}", doc.text))
}

/// The 1-based line of the first `\r` not followed by `\n`, if any.
fn lone_carriage_return(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut line = 1;
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'\n' => line += 1,
            b'\r' if bytes.get(i + 1) != Some(&b'\n') => return Some(line),
            _ => {}
        }
    }
    None
}

/// The document's line ending, from its first line break (LF when none).
fn line_ending(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes().get(i - 1) == Some(&b'\r') => "\r\n",
        _ => "\n",
    }
}

/// The text being edited (without its byte-order mark).
struct Doc {
    text: String,
}

impl Doc {
    /// Inserts `key: value` into the mapping at `path` unless `key` is there.
    fn ensure(&mut self, path: &[&str], key: &str, value: &NewValue) -> Result<(), EditError> {
        let tree = Tree::parse(&self.text)?;
        let map = tree.container(path, key)?;
        if map.get(key).is_some() {
            return Ok(());
        }
        let splices = tree.insert(path, key, value)?;
        let line = map.start.line;
        self.text = verified(&tree, splices, path, key, line, |data| {
            set_value(data, path, key, value.to_value())
        })?;
        Ok(())
    }

    /// Sets `key` in the mapping at `path`, replacing only the value's text.
    fn set(&mut self, path: &[&str], key: &str, value: &NewValue) -> Result<(), EditError> {
        let tree = Tree::parse(&self.text)?;
        let map = tree.container(path, key)?;
        let (splices, line) = match map.entry(key) {
            None => (tree.insert(path, key, value)?, map.start.line),
            Some((k, v)) => {
                let new = Rendered::Inline(value.render_flow());
                (tree.replace_value(k, v, &new)?, k.start.line)
            }
        };
        self.text = verified(&tree, splices, path, key, line, |data| {
            set_value(data, path, key, value.to_value())
        })?;
        Ok(())
    }

    /// Removes `key` from the mapping at `path`; absent keys are fine.
    fn remove(&mut self, path: &[&str], key: &str) -> Result<(), EditError> {
        let tree = Tree::parse(&self.text)?;
        let Some(map) = tree.find(path) else {
            return Ok(());
        };
        let Some(entries) = map.as_map() else {
            return Ok(());
        };
        let Some(index) = entries.iter().position(|(k, _)| k.key_str() == Some(key)) else {
            return Ok(());
        };
        let line = entries[index].0.start.line;
        let mut splices = match map.kind {
            NodeKind::Map(_, Style::Flow) => tree.remove_flow_entry(entries, index)?,
            _ => tree.remove_block_entry(entries, index)?,
        };
        let now_empty = entries.len() == 1;
        if now_empty && let Some((parent_key, parent_path)) = path.split_last() {
            // An empty mapping is written `{}`: a bare `key:` would read as null.
            if matches!(map.kind, NodeKind::Map(_, Style::Block)) {
                let parent = tree
                    .find(parent_path)
                    .ok_or_else(|| unsupported(line, path))?;
                let (pk, _) = parent
                    .entry(parent_key)
                    .ok_or_else(|| unsupported(line, path))?;
                let colon = tree
                    .colon_after(pk.end.offset)
                    .ok_or_else(|| unsupported(pk.start.line, path))?;
                splices.push(Splice::insert(colon + 1, " {}"));
            }
        }
        self.text = verified(&tree, splices, path, key, line, |data| {
            remove_value(data, path, key, now_empty);
        })?;
        Ok(())
    }
}

/// Applies `splices` to the tree's text, then checks the result parses and
/// holds the old data changed by `change`, and nothing else.
fn verified(
    tree: &Tree<'_>,
    splices: Vec<Splice>,
    path: &[&str],
    key: &str,
    line: usize,
    change: impl FnOnce(&mut Value),
) -> Result<String, EditError> {
    let unverified = || EditError::Unverified {
        path: describe(path, Some(key)),
        line,
    };
    let out = apply_splices(tree.text, splices).ok_or_else(unverified)?;
    let mut expected = Value::from_node(&tree.root);
    change(&mut expected);
    let root = match yaml::parse(&out) {
        Ok(Some(root)) => root,
        _ => return Err(unverified()),
    };
    if !same_data(&Value::from_node(&root), &expected) {
        return Err(unverified());
    }
    Ok(out)
}

/// Data equality, with NaN equal to NaN (an option may hold `.nan`).
fn same_data(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x == y || x.is_nan() && y.is_nan(),
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_data(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && same_data(va, vb))
        }
        _ => a == b,
    }
}

fn unsupported(line: usize, path: &[&str]) -> EditError {
    EditError::Unsupported {
        what: format!("the layout of {} is unusual", describe(path, None)),
        line,
    }
}

/// `modules.crm`, or "the top level".
fn describe(path: &[&str], key: Option<&str>) -> String {
    let parts: Vec<&str> = path.iter().copied().chain(key).collect();
    if parts.is_empty() {
        "the top level".into()
    } else {
        format!("`{}`", parts.join("."))
    }
}

fn set_value(data: &mut Value, path: &[&str], key: &str, value: Value) {
    let mut node = data;
    for p in path.iter().copied().chain([key]) {
        if !matches!(node, Value::Map(_)) {
            *node = Value::Map(BTreeMap::new());
        }
        let Value::Map(map) = node else { return };
        node = map.entry(p.to_owned()).or_insert(Value::Null);
    }
    *node = value;
}

fn remove_value(data: &mut Value, path: &[&str], key: &str, now_empty: bool) {
    let mut node = data;
    for p in path {
        let Value::Map(map) = node else { return };
        let Some(next) = map.get_mut(*p) else { return };
        node = next;
    }
    if let Value::Map(map) = node {
        map.remove(key);
        if now_empty {
            *node = Value::Map(BTreeMap::new());
        }
    }
}

/// Replace `text[start..end]` with `with`.
#[derive(Debug)]
struct Splice {
    start: usize,
    end: usize,
    with: String,
}

impl Splice {
    fn insert(at: usize, with: impl Into<String>) -> Self {
        Splice {
            start: at,
            end: at,
            with: with.into(),
        }
    }
}

/// Applies non-overlapping splices; `None` if one is out of range or not on
/// a char boundary (a bug this module reports instead of panicking).
fn apply_splices(text: &str, mut splices: Vec<Splice>) -> Option<String> {
    splices.sort_by_key(|s| (s.start, s.end));
    let mut out = String::with_capacity(text.len() + 64);
    let mut at = 0;
    for s in &splices {
        if s.start < at || s.end < s.start {
            return None;
        }
        out.push_str(text.get(at..s.start)?);
        out.push_str(&s.with);
        at = s.end;
    }
    out.push_str(text.get(at..)?);
    Some(out)
}

/// What replaces a value: inline text, or block lines under the key.
enum Rendered {
    Inline(String),
    Block(Vec<String>),
}

/// A parsed text plus the byte ranges of its scalars (to tell comments,
/// which are never inside a scalar, from data).
struct Tree<'a> {
    text: &'a str,
    /// The line ending new lines get.
    nl: &'static str,
    root: Node,
    /// Start, end, and for a `|`/`>` block scalar the indent of its text.
    scalars: Vec<(usize, usize, Option<usize>)>,
}

impl<'a> Tree<'a> {
    fn parse(text: &'a str) -> Result<Tree<'a>, EditError> {
        let root = match yaml::parse(text) {
            Ok(Some(root)) => root,
            Ok(None) => {
                return Err(EditError::Invalid {
                    message: "the file is empty".into(),
                    line: None,
                });
            }
            Err(e) => {
                return Err(EditError::Invalid {
                    message: e.message,
                    line: e.pos.map(|p| p.line),
                });
            }
        };
        let mut scalars = Vec::new();
        collect_scalars(&root, &mut scalars);
        scalars.sort_unstable();
        Ok(Tree {
            text,
            nl: line_ending(text),
            root,
            scalars,
        })
    }

    fn find(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(&self.root, |node, key| node.get(key))
    }

    /// The mapping (or null) at `path`, where `key` is to be set.
    fn container(&self, path: &[&str], key: &str) -> Result<&Node, EditError> {
        let mut node = &self.root;
        for (i, p) in path.iter().enumerate() {
            node = node.get(p).ok_or_else(|| EditError::NotAMapping {
                path: describe(&path[..i], None),
                key: (*p).to_owned(),
                line: node.start.line,
            })?;
        }
        if node.as_map().is_some() || node.is_null() {
            Ok(node)
        } else {
            Err(EditError::NotAMapping {
                path: describe(path, None),
                key: key.to_owned(),
                line: node.start.line,
            })
        }
    }

    fn in_scalar(&self, at: usize) -> bool {
        let i = self.scalars.partition_point(|(s, _, _)| *s <= at);
        i > 0 && at < self.scalars[i - 1].1
    }

    /// Whether a comment line indented by `depth`, put at `at`, would become
    /// text of a block scalar ending right before it.
    fn joins_block_scalar(&self, at: usize, depth: usize) -> bool {
        let i = self.scalars.partition_point(|(s, _, _)| *s < at);
        i > 0 && self.scalars[i - 1].2.is_some_and(|indent| depth >= indent)
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.text.as_bytes().get(at).copied()
    }

    /// Start of the line holding `at`.
    fn line_start(&self, at: usize) -> usize {
        self.text
            .get(..at)
            .and_then(|t| t.rfind('\n'))
            .map_or(0, |i| i + 1)
    }

    /// End of the line holding `at`, before its `\n` or `\r\n`.
    fn line_end(&self, at: usize) -> usize {
        let lf = self
            .text
            .get(at..)
            .and_then(|t| t.find('\n'))
            .map_or(self.text.len(), |i| at + i);
        if lf > at && lf < self.text.len() && self.byte(lf - 1) == Some(b'\r') {
            lf - 1
        } else {
            lf
        }
    }

    /// Start of the line after the one holding `at`, if there is one.
    fn next_line(&self, at: usize) -> Option<usize> {
        self.text.get(at..)?.find('\n').map(|i| at + i + 1)
    }

    /// The first `:` after `from`, skipping only blanks, line breaks and
    /// comments (as between a key and its colon); `None` if anything else
    /// comes first.
    fn colon_after(&self, from: usize) -> Option<usize> {
        let mut i = from;
        while let Some(b) = self.byte(i) {
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => i += 1,
                b'#' => i = self.next_line(i)?,
                b':' => return Some(i),
                _ => return None,
            }
        }
        None
    }

    /// Where a comment starts in `[from, to)`, if there is one.
    fn comment_in(&self, from: usize, to: usize) -> Option<usize> {
        let bytes = self.text.as_bytes();
        (from..to.min(bytes.len())).find(|&i| {
            bytes[i] == b'#'
                && (i == 0 || matches!(bytes[i - 1], b' ' | b'\t' | b'\n'))
                && !self.in_scalar(i)
        })
    }

    /// The end of an entry's last character (its value's, its colon's for
    /// an omitted value, or its key's).
    fn entry_end(&self, k: &Node, v: &Node) -> usize {
        match &v.kind {
            NodeKind::Scalar(s) if s.is_omitted() => self
                .colon_after(k.end.offset)
                .map_or(k.end.offset, |c| c + 1),
            _ => self.content_end(v).max(k.end.offset),
        }
    }

    fn content_end(&self, node: &Node) -> usize {
        match &node.kind {
            NodeKind::Scalar(s) if s.is_omitted() => node.start.offset,
            // An empty block scalar starts on the next line; its last
            // character is its `|`/`>` header.
            NodeKind::Scalar(s) if s.block && node.end.offset <= node.start.offset => self
                .text
                .get(..node.end.offset)
                .map_or(node.end.offset, |t| {
                    t.trim_end_matches([' ', '\t', '\r', '\n']).len()
                }),
            NodeKind::Scalar(_) | NodeKind::Map(_, Style::Flow) | NodeKind::Seq(_, Style::Flow) => {
                node.end.offset
            }
            NodeKind::Map(entries, Style::Block) => entries
                .last()
                .map_or(node.start.offset, |(k, v)| self.entry_end(k, v)),
            NodeKind::Seq(items, Style::Block) => items
                .last()
                .map_or(node.start.offset, |n| self.content_end(n))
                .max(node.start.offset),
        }
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
        find(&self.root, None).unwrap_or(2)
    }

    /// Splices that add `key: value` to the mapping (or null) at `path`.
    fn insert(&self, path: &[&str], key: &str, value: &NewValue) -> Result<Vec<Splice>, EditError> {
        let map = self.container(path, key)?;
        let nl = self.nl;
        let key_text = yaml_string(key);
        match &map.kind {
            NodeKind::Map(entries, Style::Block) if !entries.is_empty() => {
                let (first, _) = &entries[0];
                let indent = first.start.column.saturating_sub(1);
                let Some((last_k, last_v)) = entries.last() else {
                    return Err(unsupported(map.start.line, path));
                };
                let at = self.after_own_comments(self.entry_end(last_k, last_v), indent);
                let lines = value.render_block(&key_text, indent, self.indent_step());
                Ok(vec![Splice::insert(at, format!("{nl}{}", lines.join(nl)))])
            }
            NodeKind::Map(entries, Style::Flow) if !entries.is_empty() => {
                let Some((last_k, last_v)) = entries.last() else {
                    return Err(unsupported(map.start.line, path));
                };
                let at = self.entry_end(last_k, last_v);
                Ok(vec![Splice::insert(
                    at,
                    format!(", {key_text}: {}", value.render_flow()),
                )])
            }
            // An empty mapping or a null: the parent key gets the new mapping.
            _ => {
                let Some((parent_key, parent_path)) = path.split_last() else {
                    return Err(unsupported(map.start.line, path));
                };
                let parent = self
                    .find(parent_path)
                    .ok_or_else(|| unsupported(map.start.line, path))?;
                let (pk, pv) = parent
                    .entry(parent_key)
                    .ok_or_else(|| unsupported(map.start.line, path))?;
                let new = if matches!(parent.kind, NodeKind::Map(_, Style::Flow)) {
                    Rendered::Inline(format!("{{{key_text}: {}}}", value.render_flow()))
                } else {
                    let indent = pk.start.column.saturating_sub(1) + self.indent_step();
                    Rendered::Block(value.render_block(&key_text, indent, self.indent_step()))
                };
                self.replace_value(pk, pv, &new)
            }
        }
    }

    /// The end of the line holding `end`, moved past the comment lines right
    /// after it that are indented deeper than `indent` (they belong to the
    /// entry that ends there).
    fn after_own_comments(&self, end: usize, indent: usize) -> usize {
        let mut at = self.line_end(end);
        while let Some(next) = self.next_line(at) {
            let line_end = self.line_end(next);
            let Some(line) = self.text.get(next..line_end) else {
                break;
            };
            let body = line.trim_start_matches([' ', '\t']);
            let depth = line.len() - body.len();
            if body.starts_with('#') && depth > indent && !self.in_scalar(next + depth) {
                at = line_end;
            } else {
                break;
            }
        }
        at
    }

    /// Splices that replace the value of entry `k: v` with `new`, keeping
    /// every comment inside the old value.
    fn replace_value(&self, k: &Node, v: &Node, new: &Rendered) -> Result<Vec<Splice>, EditError> {
        let line = k.start.line;
        let what = |why: &str| EditError::Unsupported {
            what: format!("the value of `{}` {why}", k.key_str().unwrap_or_default()),
            line,
        };
        let colon = self.colon_after(k.end.offset);
        let indent = k.start.column.saturating_sub(1);
        let omitted = matches!(&v.kind, NodeKind::Scalar(s) if s.is_omitted());
        if omitted && colon.is_none() {
            // `{key}` in a flow mapping.
            return match new {
                Rendered::Inline(s) => Ok(vec![Splice::insert(k.end.offset, format!(": {s}"))]),
                Rendered::Block(_) => Err(what("has no `:`")),
            };
        }
        let colon = colon.ok_or_else(|| what("has no `:` after its key"))?;
        let block_value = match &v.kind {
            NodeKind::Scalar(s) => s.block,
            NodeKind::Map(_, style) | NodeKind::Seq(_, style) => *style == Style::Block,
        };
        let start = if omitted || block_value || matches!(new, Rendered::Block(_)) {
            colon + 1
        } else {
            v.start.offset
        };
        let end = if omitted {
            colon + 1
        } else {
            self.content_end(v)
        };
        if end < start {
            return Err(what("could not be located"));
        }
        if matches!(v.kind, NodeKind::Map(..) | NodeKind::Seq(..))
            && block_value
            && v.start.line <= self.line_of(colon)
        {
            return Err(what("starts on the line of its key"));
        }
        let (with, block) = match new {
            Rendered::Inline(s) if start == colon + 1 => (format!(" {s}"), None),
            Rendered::Inline(s) => (s.clone(), None),
            Rendered::Block(lines) => (String::new(), Some(lines)),
        };
        let mut splices = vec![self.replace_keeping_comments(start, end, with, indent)];
        if let Some(lines) = block {
            let at = self.line_end(end);
            let nl = self.nl;
            splices.push(Splice::insert(at, format!("{nl}{}", lines.join(nl))));
        }
        Ok(splices)
    }

    fn line_of(&self, at: usize) -> usize {
        self.text
            .get(..at)
            .map_or(0, |t| t.bytes().filter(|b| *b == b'\n').count())
            + 1
    }

    /// Replaces `[start, end)` with `with`, keeping the comments found in
    /// it: one on the first line stays on that line, later ones become
    /// comment lines (full-line comments verbatim, others at `indent`).
    fn replace_keeping_comments(
        &self,
        start: usize,
        end: usize,
        with: String,
        indent: usize,
    ) -> Splice {
        let mut out = with;
        let mut kept_any = false;
        let mut seg = start;
        let mut first = true;
        while seg < end {
            let seg_end = self.line_end(seg).min(end);
            if let Some(hash) = self.comment_in(seg, seg_end) {
                let comment = self
                    .text
                    .get(hash..self.line_end(hash))
                    .unwrap_or_default()
                    .trim_end();
                let before = self.text.get(seg..hash).unwrap_or_default();
                if first {
                    let ws = &before[before.trim_end().len()..];
                    out.push_str(if ws.is_empty() { " " } else { ws });
                } else {
                    out.push_str(self.nl);
                    if before.trim().is_empty() {
                        out.push_str(before);
                    } else {
                        out.push_str(&" ".repeat(indent));
                    }
                }
                out.push_str(comment);
                kept_any = true;
            }
            first = false;
            match self.next_line(seg_end) {
                Some(next) if next <= end => seg = next,
                _ => break,
            }
        }
        if kept_any {
            // Text after the range on its last line must not end up inside
            // a comment.
            let tail = self.text.get(end..self.line_end(end)).unwrap_or_default();
            let tail = tail.trim_start_matches([' ', '\t']);
            if !tail.is_empty() && !tail.starts_with('#') {
                let ls = self.line_start(end);
                let lead = self.text.get(ls..end).unwrap_or_default();
                let lead_len = lead.len() - lead.trim_start_matches([' ', '\t']).len();
                out.push_str(self.nl);
                out.push_str(lead.get(..lead_len).unwrap_or_default());
            }
        }
        Splice {
            start,
            end,
            with: out,
        }
    }

    /// Splices that remove entry `index` of a block mapping: its whole
    /// lines, with their comments kept as comment lines.
    fn remove_block_entry(
        &self,
        entries: &[(Node, Node)],
        index: usize,
    ) -> Result<Vec<Splice>, EditError> {
        let (k, v) = &entries[index];
        let start = self.line_start(k.start.offset);
        let lead = self.text.get(start..k.start.offset).unwrap_or("?");
        if !lead.bytes().all(|b| b == b' ') {
            return Err(EditError::Unsupported {
                what: format!(
                    "`{}` does not start its line",
                    k.key_str().unwrap_or_default()
                ),
                line: k.start.line,
            });
        }
        // The comment lines indented under the entry go with it (kept as
        // comments): left behind, they could join a block scalar above.
        let indent = k.start.column.saturating_sub(1);
        let last_end = self.after_own_comments(self.entry_end(k, v), indent);
        Ok(vec![self.remove_lines(start, last_end, indent)])
    }

    /// Removes the lines from the one starting at `start` to the one ending
    /// at `last_end` (content end), keeping their comments as comment lines.
    fn remove_lines(&self, start: usize, last_end: usize, indent: usize) -> Splice {
        let mut kept: Vec<(String, &str)> = Vec::new();
        let mut at = start;
        let end;
        loop {
            let le = self.line_end(at);
            let next = self.next_line(le);
            let terminator = self
                .text
                .get(le..next.unwrap_or(self.text.len()))
                .unwrap_or_default();
            if let Some(hash) = self.comment_in(at, le) {
                let comment = self.text.get(hash..le).unwrap_or_default().trim_end();
                let before = self.text.get(at..hash).unwrap_or_default();
                let verbatim = before.trim().is_empty()
                    && (before.len() <= indent || !self.joins_block_scalar(start, before.len()));
                let line = if verbatim {
                    format!("{before}{comment}")
                } else {
                    format!("{}{comment}", " ".repeat(indent))
                };
                kept.push((line, terminator));
            }
            match next {
                Some(n) if le < last_end => at = n,
                Some(n) => {
                    end = n;
                    break;
                }
                None => {
                    end = self.text.len();
                    break;
                }
            }
        }
        let at_eof_without_newline = end == self.text.len() && !self.text.ends_with('\n');
        let mut with: String = kept.iter().map(|(l, t)| format!("{l}{t}")).collect();
        let mut start = start;
        if at_eof_without_newline && kept.is_empty() && start > 0 {
            // Keep "no newline at end of file": drop the previous line's break.
            let before = self.text.get(..start).unwrap_or_default();
            start -= if before.ends_with("\r\n") { 2 } else { 1 };
        }
        if at_eof_without_newline {
            with.truncate(with.trim_end_matches(['\r', '\n']).len());
        }
        Splice { start, end, with }
    }

    /// Splices that remove entry `index` of a flow mapping with the comma
    /// that separates it, keeping comments.
    fn remove_flow_entry(
        &self,
        entries: &[(Node, Node)],
        index: usize,
    ) -> Result<Vec<Splice>, EditError> {
        let (k, v) = &entries[index];
        let indent = k.start.column.saturating_sub(1);
        let own_end = self.entry_end(k, v);
        let comma = self.comma_after(own_end);
        // An entry alone on its lines (in a mapping written over several
        // lines) goes with its lines, as in a block mapping.
        let ls = self.line_start(k.start.offset);
        let alone_before = self
            .text
            .get(ls..k.start.offset)
            .is_some_and(|t| t.trim().is_empty());
        let after = comma.map_or(own_end, |c| c + 1);
        let le = self.line_end(after);
        let alone_after = self
            .text
            .get(after..le)
            .map(|t| t.trim_start_matches([' ', '\t']))
            .is_some_and(|t| {
                t.is_empty() || t.starts_with('#') && self.comment_in(after, le).is_some()
            });
        let last = index + 1 == entries.len();
        if alone_before && alone_after && (comma.is_some() || last) {
            return Ok(vec![self.remove_lines(ls, le, indent)]);
        }
        let (start, end) = if let Some((next_k, _)) = entries.get(index + 1) {
            (k.start.offset, next_k.start.offset)
        } else if let Some((pk, pv)) = index.checked_sub(1).and_then(|i| entries.get(i)) {
            (self.entry_end(pk, pv), own_end)
        } else {
            (k.start.offset, after)
        };
        Ok(vec![self.replace_keeping_comments(
            start,
            end,
            String::new(),
            indent,
        )])
    }

    /// The `,` after `from` in a flow collection, skipping blanks and comments.
    fn comma_after(&self, from: usize) -> Option<usize> {
        let mut i = from;
        while let Some(b) = self.byte(i) {
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => i += 1,
                b'#' => i = self.next_line(i)?,
                b',' => return Some(i),
                _ => return None,
            }
        }
        None
    }
}

fn collect_scalars(node: &Node, out: &mut Vec<(usize, usize, Option<usize>)>) {
    match &node.kind {
        NodeKind::Scalar(s) if s.is_omitted() => {}
        NodeKind::Scalar(s) => out.push((
            node.start.offset,
            node.end.offset,
            s.block.then(|| node.start.column.saturating_sub(1)),
        )),
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
    fn project_keys_are_renamed_in_place() {
        let text = "version: '1'\nproject:\n  name: shop  # the old key\n  theme: showcase_html\nmodules:\n  crm: null\n";
        let out =
            set_project(text, &[("slug", "shop"), ("package", "shop")], &["name"]).expect("edit");
        let config = crate::config::parse(
            &out,
            "q.yml",
            &crate::catalog::Catalog::load(&[]).expect("c"),
        )
        .expect("valid");
        assert_eq!(config.project.slug, "shop");
        assert_eq!(config.project.package, "shop");
        assert!(
            out.ends_with("  package: shop\nmodules:\n  crm: null\n"),
            "{out}"
        );
        assert!(out.contains("# the old key"), "{out}");
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
    fn sources_are_added_after_the_last_entry_and_updated() {
        let out = set_source(FILE, "auth", None, Some("v0.63.0")).expect("edit");
        assert!(
            out.ends_with(
                "docker: {start: false}\nsources:\n    auth:\n        ref: v0.63.0\n# trailing comment\n"
            ),
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

    #[test]
    fn non_ascii_at_the_end_of_an_entry() {
        let text = "modules:\n  crm:\n    greeting: olá";
        assert_eq!(
            add_module(text, "blog").expect("add"),
            "modules:\n  crm:\n    greeting: olá\n  blog: {}"
        );
        assert_eq!(remove_module(text, "crm").expect("remove"), "modules: {}");
        let text = "modules: {crm: {greeting: \"ñ\"}}  # ü\n";
        assert_eq!(
            add_module(text, "blog").expect("add"),
            "modules: {crm: {greeting: \"ñ\"}, blog: {}}  # ü\n"
        );
    }

    #[test]
    fn block_scalars_and_block_lists_are_replaced_whole() {
        let text = "modules:\n  crm:\n    note: |  # keep\n      a\n      b\n\n    tags:\n    - x   # first\n    # second\n    - y\n    size: 1\n";
        let out = set_option(text, "crm", "note", &Value::Str("c".into())).expect("edit");
        assert_eq!(
            out,
            "modules:\n  crm:\n    note: c  # keep\n\n    tags:\n    - x   # first\n    # second\n    - y\n    size: 1\n"
        );
        let out = set_option(
            text,
            "crm",
            "tags",
            &Value::List(vec![Value::Str("z".into())]),
        )
        .expect("edit");
        assert!(
            out.ends_with("    tags: [z]\n    # first\n    # second\n    size: 1\n"),
            "{out}"
        );
        let out = remove_module(text, "crm").expect("edit");
        assert_eq!(out, "modules: {}\n  # keep\n  # first\n    # second\n");
    }

    #[test]
    fn kept_comments_do_not_join_a_block_scalar_above() {
        let text = "modules:\n  a:\n    x: |-\n      text\n  b:\n    y: 1\n      # deep\n";
        assert_eq!(
            remove_module(text, "b").expect("edit"),
            "modules:\n  a:\n    x: |-\n      text\n  # deep\n"
        );
        let text = "modules:\n  a:\n    x: |-\n      text\n  b:\n    y: 1\n     # five\n";
        assert_eq!(
            remove_module(text, "b").expect("edit"),
            "modules:\n  a:\n    x: |-\n      text\n     # five\n"
        );
        let text = "modules:\n  a:\n    x: 1\n  b:\n    y: 1\n      # deep\n";
        assert_eq!(
            remove_module(text, "b").expect("edit"),
            "modules:\n  a:\n    x: 1\n      # deep\n"
        );
    }

    #[test]
    fn multi_line_flow_mappings_keep_their_comments() {
        let text = "modules: {\n  crm: {a: 1},  # sales\n  blog: {}\n}\n";
        assert_eq!(
            remove_module(text, "crm").expect("edit"),
            "modules: {\n  # sales\n  blog: {}\n}\n"
        );
        assert_eq!(
            remove_module(text, "blog").expect("edit"),
            "modules: {\n  crm: {a: 1},  # sales\n}\n"
        );
        assert_eq!(
            add_module(text, "auth").expect("edit"),
            "modules: {\n  crm: {a: 1},  # sales\n  blog: {}, auth: {}\n}\n"
        );
    }

    #[test]
    fn refusals_name_the_line() {
        let e = add_module("a: 1\rb: 2\n", "x").expect_err("lone CR");
        assert_eq!(e, EditError::LoneCarriageReturn { line: 1 });
        let e = add_module("version: 1\nmodules: [crm]\n", "x").expect_err("list");
        assert_eq!(e.line(), Some(2), "{e}");
        assert!(e.hint().contains("line 2"), "{}", e.hint());
        let e = remove_module("modules:\n- crm: {}\n  blog: {}\n", "crm");
        assert!(e.is_ok() || e.as_ref().is_err_and(|e| e.line().is_some()));
    }

    #[test]
    fn written_values_read_back_the_same() {
        for v in [
            Value::Float(1e300),
            Value::Float(-2.5e-300),
            Value::Float(1e21),
            Value::Float(0.1),
            Value::Int(i64::MIN),
            Value::Int(i64::MAX),
            Value::Str("1.0e300".into()),
            Value::Str("1.0e+300".into()),
            Value::Str("-.5".into()),
            Value::Str("olá\u{85}\u{2028}\t\"'".into()),
        ] {
            let out = set_option("modules: {}\n", "crm", "x", &v)
                .unwrap_or_else(|e| panic!("{v:?}: {e}"));
            let root = yaml::parse(&out).expect("parses").expect("non-empty");
            let got = root
                .get("modules")
                .and_then(|m| m.get("crm"))
                .and_then(|c| c.get("x"));
            assert_eq!(got.map(Value::from_node), Some(v.clone()), "{out}");
        }
    }

    /// Odd but valid layouts: every edit either works (and the data is
    /// right, which `verified` checks) or says which line it cannot edit.
    #[test]
    fn odd_layouts_never_panic() {
        let docs = [
            "",
            "# only a comment\n",
            "--- {}\n",
            "{version: \"1\", modules: {crm: {}}}",
            "? modules\n: {crm: {}}\n",
            "modules:\n  ? crm\n  : {x: 1}\n",
            "modules:\n- crm: {}\n  blog: {}\n",
            "modules: [crm]\n",
            "modules: 5\n",
            "modules:\n  crm   : {x: 1}\n  blog :\n",
            "modules:\n  crm:\n    x: a\n      b\n    y: |\n\n  blog: |+\n    k\n\n\n",
            "modules:\n  crm:\n    x: \"a\n      b\"  # c\n",
            "modules:\r\n  crm: {}\n  blog: {}\r\n",
            "\u{feff}modules:\r\n  crm: {x: \"\u{2028}\u{85}\"}",
            "modules: {crm: {x: [1, {y: 2}]}, blog}\n",
            "modules: {\n  crm: {},\n  # c\n}\n",
            "modules:\n  crm:\n    x: 1\nsources: ~\n",
            "modules:\n  crm: !!map {}\n",
            "modules:\n  crm: &a {}\n",
            "a: 1\n...\n",
            "%YAML 1.2\n---\nmodules: {}\n...\n# end\n",
        ];
        for doc in docs {
            for m in ["crm", "blog", "new"] {
                let results = [
                    add_module(doc, m),
                    remove_module(doc, m),
                    set_option(doc, m, "x", &Value::Str("olá".into())),
                    set_option(doc, m, "z", &Value::List(vec![Value::Int(1)])),
                    set_source(doc, m, Some("../x"), Some("v1")),
                ];
                for r in results {
                    match r {
                        Ok(out) => {
                            assert!(out == doc || yaml::parse(&out).is_ok(), "{doc:?} → {out:?}")
                        }
                        Err(e) => assert!(
                            e.line().is_some() || matches!(e, EditError::Invalid { .. }),
                            "{doc:?}: {e}"
                        ),
                    }
                }
            }
        }
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
