//! Helpers for validating a YAML tree against a fixed schema while
//! collecting every problem with its position.

use crate::diag::Diagnostic;
use crate::suggest;
use crate::value::Value;
use crate::yaml::{Node, NodeKind};

/// Collects diagnostics for one file.
pub struct Checker {
    pub file: String,
    pub problems: Vec<Diagnostic>,
    /// What is accepted but deserves a word (older manifests' looseness).
    pub warnings: Vec<Diagnostic>,
}

impl Checker {
    pub fn new(file: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            problems: Vec::new(),
            warnings: Vec::new(),
        }
    }

    pub fn error(&mut self, node: &Node, message: impl Into<String>) {
        self.problems
            .push(Diagnostic::new(&self.file, Some(node.start), message));
    }

    pub fn warn(&mut self, node: &Node, message: impl Into<String>) {
        self.warnings
            .push(Diagnostic::new(&self.file, Some(node.start), message));
    }

    pub fn error_help(&mut self, node: &Node, message: impl Into<String>, help: String) {
        self.problems
            .push(Diagnostic::new(&self.file, Some(node.start), message).with_help(help));
    }

    /// Returns the entries of a mapping, or records "`what` must be a mapping".
    /// `null` is accepted as an empty mapping when `null_ok`.
    pub fn map<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        null_ok: bool,
    ) -> Option<&'n [(Node, Node)]> {
        match &node.kind {
            NodeKind::Map(entries, _) => Some(entries),
            _ if null_ok && node.is_null() => Some(&[]),
            _ => {
                self.error(
                    node,
                    format!("{what} must be a mapping, found {}", node.type_name()),
                );
                None
            }
        }
    }

    /// Records an error for every key not in `allowed`, as
    /// "unknown key `k` in {what}".
    pub fn known_keys(&mut self, entries: &[(Node, Node)], allowed: &[&str], what: &str) {
        self.unknown_keys(entries, allowed, |key| {
            format!("unknown key `{key}` in {what}")
        });
    }

    /// Like [`Checker::known_keys`], as "{prefix}: unknown key `k`".
    pub fn known_keys_prefixed(
        &mut self,
        entries: &[(Node, Node)],
        allowed: &[&str],
        prefix: &str,
    ) {
        self.unknown_keys(entries, allowed, |key| {
            format!("{prefix}: unknown key `{key}`")
        });
    }

    fn unknown_keys(
        &mut self,
        entries: &[(Node, Node)],
        allowed: &[&str],
        message: impl Fn(&str) -> String,
    ) {
        for (k, _) in entries {
            let key = k.key_str().unwrap_or_default();
            if !allowed.contains(&key) {
                let help = suggest::help_line(key, allowed.iter().copied(), "keys");
                self.error_help(k, message(key), help);
            }
        }
    }

    /// Returns a non-empty string scalar, or records an error.
    pub fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        match Value::from_node(node) {
            Value::Str(s) if !s.trim().is_empty() => Some(s),
            Value::Str(_) => {
                self.error(node, format!("{what} cannot be empty"));
                None
            }
            other => {
                let hint = if matches!(other, Value::Int(_) | Value::Float(_) | Value::Bool(_)) {
                    " (quote it to make it a string)"
                } else {
                    ""
                };
                self.error(
                    node,
                    format!("{what} must be a string, found {}{hint}", other.type_name()),
                );
                None
            }
        }
    }

    /// Returns a boolean scalar, or records an error.
    pub fn boolean(&mut self, node: &Node, what: &str) -> Option<bool> {
        match Value::from_node(node) {
            Value::Bool(b) => Some(b),
            other => {
                self.error(
                    node,
                    format!("{what} must be true or false, found {}", other.type_name()),
                );
                None
            }
        }
    }

    /// Returns a list of non-empty strings, or records an error.
    pub fn string_list(&mut self, node: &Node, what: &str) -> Option<Vec<String>> {
        if node.is_null() {
            return Some(Vec::new());
        }
        let NodeKind::Seq(items, _) = &node.kind else {
            self.error(
                node,
                format!("{what} must be a list, found {}", node.type_name()),
            );
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for item in items {
            match self.string(item, &format!("each entry of {what}")) {
                Some(s) => out.push(s),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    pub fn finish(self) -> Vec<Diagnostic> {
        self.problems
    }
}
