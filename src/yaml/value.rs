//! Values to and from YAML: reading a node as a [`Value`], and writing a
//! value as inline YAML that PyYAML (and this parser) read back the same.

use std::fmt;

use super::{Node, NodeKind, parse_scalar_text};
use crate::value::{Value, is_invisible};

impl Value {
    /// Converts a YAML node into a value (mapping keys are kept as text).
    pub fn from_node(node: &Node) -> Value {
        match &node.kind {
            NodeKind::Scalar(s) => s.resolve(),
            NodeKind::Seq(items, _) => Value::List(items.iter().map(Value::from_node).collect()),
            NodeKind::Map(entries, _) => Value::Map(
                entries
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.key_str().unwrap_or_default().to_owned(),
                            Value::from_node(v),
                        )
                    })
                    .collect(),
            ),
        }
    }

    /// Renders the value as inline YAML that reads back as the same value.
    pub fn to_yaml(&self) -> String {
        let mut out = String::new();
        self.write_yaml(&mut out);
        out
    }

    fn write_yaml(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => out.push_str(&i.to_string()),
            Value::Float(f) => out.push_str(&yaml_float(*f)),
            Value::Str(s) => out.push_str(&yaml_string(s)),
            Value::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write_yaml(out);
                }
                out.push(']');
            }
            Value::Map(map) => {
                out.push('{');
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&yaml_string(k));
                    out.push_str(": ");
                    v.write_yaml(out);
                }
                out.push('}');
            }
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_yaml())
    }
}

fn yaml_float(f: f64) -> String {
    if f.is_nan() {
        ".nan".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        }
    } else {
        // PyYAML reads a float only with a `.` and a signed exponent
        // (`1.0e+300`); Rust writes `1e300`.
        let s = format!("{f:?}");
        let (mantissa, exponent) = match s.split_once('e') {
            Some((m, e)) => (m, Some(e)),
            None => (s.as_str(), None),
        };
        let dot = if mantissa.contains('.') { "" } else { ".0" };
        match exponent {
            None => format!("{mantissa}{dot}"),
            Some(e) if e.starts_with('-') => format!("{mantissa}{dot}e{e}"),
            Some(e) => format!("{mantissa}{dot}e+{e}"),
        }
    }
}

/// Writes a string plain when that is unambiguous, double-quoted otherwise.
pub fn yaml_string(s: &str) -> String {
    let plain_ok = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-' | '+' | '@'))
        && !s.starts_with(['-', '@'])
        && parse_scalar_text(s) == Value::Str(s.to_owned());
    if plain_ok {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || is_invisible(c) => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use crate::value::Value;
    use crate::yaml;

    fn round_trip(v: &Value) -> Value {
        let text = format!("k: {}\n", v.to_yaml());
        let node = yaml::parse(&text).expect("parses").expect("doc");
        Value::from_node(node.get("k").expect("k"))
    }

    #[test]
    fn yaml_rendering_round_trips() {
        let values = [
            Value::Str("yes".into()),
            Value::Str("50".into()),
            Value::Str("a \"b\" \\ c\nd # e: f".into()),
            Value::Str("".into()),
            Value::Str("{{ x }}".into()),
            Value::Str("ünïcode".into()),
            Value::Str("rtl\u{202E}override".into()),
            Value::Int(-3),
            Value::Float(2.0),
            Value::Bool(false),
            Value::Null,
            Value::List(vec![Value::Str("a".into()), Value::Int(1)]),
        ];
        for v in values {
            assert_eq!(round_trip(&v), v, "{}", v.to_yaml());
        }
        assert!(
            !Value::Str("a\u{202E}b".into())
                .to_yaml()
                .contains('\u{202E}')
        );
    }
}
