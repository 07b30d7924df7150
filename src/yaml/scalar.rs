//! Scalar resolution with the rules PyYAML (YAML 1.1) applies, because
//! upstream QuickScale reads quickscale.yml with PyYAML: `yes`/`on` are
//! booleans there, and a file must mean the same thing to both tools.

use crate::value::Value;

/// A scalar as written: its text and whether it was quoted or block style.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    pub text: String,
    /// Quoted and block scalars are always strings.
    pub quoted: bool,
    /// A `|` or `>` block scalar: its indicator sits before the node's start,
    /// so editors must not take the node's range for the whole value.
    pub block: bool,
}

impl Scalar {
    pub fn new(text: String, quoted: bool) -> Self {
        Self {
            text,
            quoted,
            block: false,
        }
    }

    /// A plain scalar with no text: an omitted value (`key:`), whose
    /// reported position is not where a value could be written.
    pub fn is_omitted(&self) -> bool {
        !self.quoted && !self.block && self.text.is_empty()
    }

    pub fn is_null(&self) -> bool {
        !self.quoted && matches!(self.resolve(), Value::Null)
    }

    /// Resolves the scalar to a typed value.
    pub fn resolve(&self) -> Value {
        if self.quoted {
            Value::Str(self.text.clone())
        } else {
            parse_scalar_text(&self.text)
        }
    }

    pub fn type_name(&self) -> &'static str {
        self.resolve().type_name()
    }
}

/// Resolves unquoted scalar text the way PyYAML's implicit resolver does.
pub fn parse_scalar_text(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Value::Bool(true);
        }
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Value::Bool(false);
        }
        _ => {}
    }
    if let Some(i) = parse_int(text) {
        return Value::Int(i);
    }
    if let Some(f) = parse_float(text) {
        return Value::Float(f);
    }
    Value::Str(text.to_owned())
}

fn parse_int(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || digits.starts_with('_') {
        return None;
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    // i128, so that -9223372036854775808 (i64::MIN) is an integer too.
    let magnitude = if let Some(hex) = clean.strip_prefix("0x") {
        i128::from_str_radix(hex, 16).ok()?
    } else if let Some(bin) = clean.strip_prefix("0b") {
        i128::from_str_radix(bin, 2).ok()?
    } else if let Some(oct) = clean.strip_prefix('0').filter(|o| !o.is_empty()) {
        i128::from_str_radix(oct, 8).ok()?
    } else if clean.bytes().all(|b| b.is_ascii_digit()) {
        clean.parse::<i128>().ok()?
    } else {
        return None;
    };
    i64::try_from(if negative { -magnitude } else { magnitude }).ok()
}

fn parse_float(text: &str) -> Option<f64> {
    let body = text.trim_start_matches(['-', '+']);
    match body {
        ".inf" | ".Inf" | ".INF" => {
            return Some(if text.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            });
        }
        ".nan" | ".NaN" | ".NAN" if body.len() == text.len() => return Some(f64::NAN),
        _ => {}
    }
    // PyYAML's float: `[-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)?` or
    // `\.[0-9][0-9_]*([eE][-+][0-9]+)?`. A dot is needed (`1e3` stays a
    // string), and so is the exponent's sign (`1.0e3` too).
    let signed = body.len() != text.len();
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (body.get(..i)?, Some(body.get(i + 1..)?)),
        None => (body, None),
    };
    let (int_part, frac) = mantissa.split_once('.')?;
    let digits_ = |s: &str| s.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    let int_ok = if int_part.is_empty() {
        !signed && frac.starts_with(|c: char| c.is_ascii_digit())
    } else {
        int_part.starts_with(|c: char| c.is_ascii_digit()) && digits_(int_part)
    };
    let exponent_ok = exponent.is_none_or(|e| {
        e.len() > 1 && e.starts_with(['-', '+']) && e.bytes().skip(1).all(|b| b.is_ascii_digit())
    });
    if !int_ok || !digits_(frac) || !exponent_ok {
        return None;
    }
    let clean: String = text.chars().filter(|c| *c != '_').collect();
    clean.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_like_pyyaml() {
        assert_eq!(parse_scalar_text("yes"), Value::Bool(true));
        assert_eq!(parse_scalar_text("Off"), Value::Bool(false));
        assert_eq!(parse_scalar_text("~"), Value::Null);
        assert_eq!(parse_scalar_text("50"), Value::Int(50));
        assert_eq!(parse_scalar_text("-1_000"), Value::Int(-1000));
        assert_eq!(parse_scalar_text("0x1f"), Value::Int(31));
        assert_eq!(parse_scalar_text("1.5"), Value::Float(1.5));
        assert_eq!(parse_scalar_text("1e3"), Value::Str("1e3".into()));
        assert_eq!(parse_scalar_text("5/hour"), Value::Str("5/hour".into()));
        assert_eq!(parse_scalar_text("v0.63.0"), Value::Str("v0.63.0".into()));
        assert_eq!(parse_scalar_text("1.2.3"), Value::Str("1.2.3".into()));
        assert_eq!(
            parse_scalar_text("-9223372036854775808"),
            Value::Int(i64::MIN)
        );
        assert_eq!(
            parse_scalar_text("9223372036854775808"),
            Value::Str("9223372036854775808".into())
        );
        assert_eq!(parse_scalar_text("1.0e+3"), Value::Float(1000.0));
        assert_eq!(parse_scalar_text("1.5E-3"), Value::Float(0.0015));
        assert_eq!(parse_scalar_text("1.0e3"), Value::Str("1.0e3".into()));
        assert_eq!(parse_scalar_text(".5"), Value::Float(0.5));
        assert_eq!(parse_scalar_text("-.5"), Value::Str("-.5".into()));
        assert_eq!(parse_scalar_text("1."), Value::Float(1.0));
        assert_eq!(parse_scalar_text("1_000.5"), Value::Float(1000.5));
    }
}
