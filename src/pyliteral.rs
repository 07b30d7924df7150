//! Python literals: every value from quickscale.yml, a manifest or the
//! catalog is written through here, so it can only ever be data.

use crate::value::Value;

/// A Python string literal. Everything outside printable ASCII is escaped,
/// so no quote, newline, bidi control or lookalike character can change
/// what the surrounding code means.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ' '..='~' => out.push(c),
            c if (c as u32) <= 0xFFFF => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// A list of Python string literals, one per line (`[]` when empty): the
/// shape of the app and middleware lists in the settings files we write.
pub fn string_list(items: &[String]) -> String {
    if items.is_empty() {
        return "[]".into();
    }
    let mut s = "[\n".to_owned();
    for i in items {
        s.push_str(&format!("    {},\n", string(i)));
    }
    s.push(']');
    s
}

/// A Python literal for any value.
pub fn literal(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) if f.is_nan() => "float(\"nan\")".into(),
        Value::Float(f) if f.is_infinite() && *f > 0.0 => "float(\"inf\")".into(),
        Value::Float(f) if f.is_infinite() => "float(\"-inf\")".into(),
        Value::Float(f) => {
            let s = format!("{f:?}");
            if s.contains(['.', 'e', 'E']) {
                s
            } else {
                format!("{s}.0")
            }
        }
        Value::Str(s) => string(s),
        Value::List(items) => {
            let inner: Vec<String> = items.iter().map(literal).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Map(map) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", string(k), literal(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_inert() {
        assert_eq!(string("a\"b"), "\"a\\\"b\"");
        assert_eq!(string("x\ny"), "\"x\\ny\"");
        assert_eq!(string("\"\"\""), "\"\\\"\\\"\\\"\"");
        assert_eq!(string("é\u{202e}"), "\"\\u00e9\\u202e\"");
        assert_eq!(string("🦀"), "\"\\U0001f980\"");
        assert_eq!(
            literal(&Value::List(vec![Value::Int(1), Value::Null])),
            "[1, None]"
        );
    }
}
