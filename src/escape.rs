//! Untrusted text made safe to print: the one escaper every output goes
//! through (docs/user-guide.md, "Output and untrusted names").
//!
//! Paths, refs, module names, manifest strings and commit subjects come from
//! other people's repositories. Printed raw, a newline in a file name starts
//! a new line, and a line starting with `::` is executed by GitHub Actions as
//! a workflow command (`::add-mask::`, `::stop-commands::`, …); escape bytes
//! drive the terminal. Two layers:
//!
//! - [`quote`] renders one untrusted value the way git's `core.quotePath`
//!   does: unchanged when harmless, else in double quotes with C-style
//!   escapes (`"a\nb"`, `"\033[31m"`). A value starting with `::` is quoted
//!   too, so it cannot begin a line.
//! - [`safe_text`] is applied by `Ui` to every line it writes, whatever the
//!   format: control characters escaped, and a line whose first non-blank
//!   characters are `::` gets a `\` in front of them. Only `Ui::workflow_command`
//!   (the `github` format) may write a line starting with `::`, and only a
//!   well-formed annotation of ours.
//!
//! JSON goes through [`json`]: serde escapes C0 controls; DEL, C1 controls
//! and the Unicode line separators are escaped as `\uXXXX` too, so no raw
//! control character reaches the terminal and the document still parses.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Characters that are not control characters but still break lines or
/// reorder text on screen: Unicode line/paragraph separators and the bidi
/// overrides and isolates ("Trojan Source").
fn is_invisible_hazard(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn needs_escape(c: char) -> bool {
    c.is_control() || is_invisible_hazard(c)
}

/// Whether `s`, at the start of a line, would be read as a workflow command
/// (the runner trims whitespace before looking for `::`).
pub fn starts_like_command(s: &str) -> bool {
    s.trim_start().starts_with("::")
}

/// git's escape of one character inside a quoted path: the C escapes git
/// uses, octal bytes for the rest.
fn push_escaped(out: &mut String, c: char) {
    match c {
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\t' => out.push_str("\\t"),
        '\n' => out.push_str("\\n"),
        '\u{B}' => out.push_str("\\v"),
        '\u{C}' => out.push_str("\\f"),
        '\r' => out.push_str("\\r"),
        _ => {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "\\{b:03o}");
            }
        }
    }
}

/// One untrusted value (a path, ref, module name, commit subject) as it may
/// be printed: itself when harmless, else quoted like git's
/// `core.quotePath` (`"evil\n::error"`).
pub fn quote(s: &str) -> Cow<'_, str> {
    // A `"` or `\` alone is harmless to print; escaped only inside a value
    // that is quoted anyway, so the quoted form reads back unambiguously.
    if !starts_like_command(s) && !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if needs_escape(c) => push_escaped(&mut out, c),
            c => out.push(c),
        }
    }
    out.push('"');
    Cow::Owned(out)
}

/// `word` quoted for a POSIX shell command line the user may copy: bare when
/// it only has safe characters, in single quotes otherwise, and as bash's
/// `$'…'` with C escapes when it holds control characters (which single
/// quotes would print raw).
pub fn shell_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-:@+=~,".contains(c))
        && !starts_like_command(word)
    {
        return word.to_owned();
    }
    if !word.chars().any(needs_escape) {
        return format!("'{}'", word.replace('\'', "'\\''"));
    }
    let mut out = String::from("$'");
    for c in word.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            c if needs_escape(c) => push_escaped(&mut out, c),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// One line of output made safe: control characters escaped, and a leading
/// `::` (after blanks) defused with a backslash.
pub fn safe_line(line: &str) -> Cow<'_, str> {
    let controls = line.chars().any(|c| c != '\t' && needs_escape(c));
    if !controls && !starts_like_command(line) {
        return Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len() + 8);
    for c in line.chars() {
        if c != '\t' && needs_escape(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    if starts_like_command(&out) {
        let blank = out.len() - out.trim_start().len();
        out.insert(blank, '\\');
    }
    Cow::Owned(out)
}

/// Text of one or more lines (split on `\n`) made safe line by line.
pub fn safe_text(text: &str) -> Cow<'_, str> {
    if !text.contains('\n') {
        return safe_line(text);
    }
    let lines: Vec<Cow<'_, str>> = text.split('\n').map(safe_line).collect();
    if lines.iter().all(|l| matches!(l, Cow::Borrowed(_))) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(lines.join("\n"))
}

/// Whether `line` is a GitHub workflow command of the kinds `check --format
/// github` writes (`::error …::`, `::warning …::`, `::notice …::`) with its
/// data already escaped (no raw control character).
pub fn is_annotation(line: &str) -> bool {
    let Some(rest) = ["::error", "::warning", "::notice"]
        .iter()
        .find_map(|p| line.strip_prefix(p))
    else {
        return false;
    };
    (rest.starts_with(' ') || rest.starts_with("::"))
        && rest.contains("::")
        && !line.chars().any(|c| c != '\t' && needs_escape(c))
}

/// `value` as pretty JSON with every control character (and the Unicode line
/// separators) inside strings escaped as `\uXXXX`: it parses as before and
/// prints nothing raw.
pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    let text = serde_json::to_string_pretty(value)?;
    Ok(escape_json_text(text))
}

/// Escapes what serde_json leaves raw inside strings. The only raw control
/// character outside strings in pretty JSON is the `\n` between lines, and
/// serde already escapes `\n` inside strings, so every other one is in a
/// string, where `\uXXXX` means the same character.
fn escape_json_text(text: String) -> String {
    if !text.chars().any(|c| c != '\n' && needs_escape(c)) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if c != '\n' && needs_escape(c) {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn values_are_quoted_like_git_quote_path() {
        assert_eq!(quote("modules/crm/x.py"), "modules/crm/x.py");
        assert_eq!(quote("a \"b\"\\c"), "a \"b\"\\c");
        assert_eq!(
            quote("evil\n::error file=x::INJECTED"),
            "\"evil\\n::error file=x::INJECTED\""
        );
        assert_eq!(quote("tab\there"), "\"tab\\there\"");
        assert_eq!(quote("\u{1b}[31mred"), "\"\\033[31mred\"");
        assert_eq!(quote("q\"\n"), "\"q\\\"\\n\"");
        assert_eq!(quote("::add-mask::x"), "\"::add-mask::x\"");
        assert_eq!(quote("  ::x"), "\"  ::x\"");
        assert_eq!(quote("a::b"), "a::b");
        assert_eq!(quote("\u{2028}"), "\"\\342\\200\\250\"");
    }

    #[test]
    fn shell_words_stay_on_one_line() {
        assert_eq!(shell_word("modules/a.py"), "modules/a.py");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word("a\nb'c"), "$'a\\nb\\'c'");
        assert_eq!(shell_word("::x"), "'::x'");
    }

    #[test]
    fn lines_never_start_a_workflow_command() {
        assert_eq!(safe_line("  a file"), "  a file");
        assert_eq!(safe_line("::error::x"), "\\::error::x");
        assert_eq!(safe_line("  \t::warning::x"), "  \t\\::warning::x");
        assert_eq!(safe_line("a\rb"), "a\\rb");
        assert_eq!(
            safe_text("ok\n::stop-commands::t\nok"),
            "ok\n\\::stop-commands::t\nok"
        );
        assert!(is_annotation("::error file=a,title=t::msg"));
        assert!(is_annotation("::warning::msg"));
        assert!(!is_annotation("::add-mask::secret"));
        assert!(!is_annotation("::error::a\rb"));
    }

    #[test]
    fn json_keeps_parsing_with_raw_controls_escaped() {
        let value = serde_json::json!({"p": "a\u{85}b\u{7f}c\u{2028}\n\u{1b}"});
        let text = json(&value).expect("json");
        assert!(
            !text.chars().any(|c| c != '\n' && needs_escape(c)),
            "{text}"
        );
        let back: serde_json::Value = serde_json::from_str(&text).expect("parses");
        assert_eq!(back, value);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn any_text_is_safe_on_every_line(s in ".*", prefix in "[ \t:]{0,4}") {
            let text = format!("{prefix}{s}");
            let quoted = quote(&text);
            prop_assert!(!quoted.contains('\n') && !quoted.contains('\r'));
            prop_assert!(!starts_like_command(&quoted));
            for line in safe_text(&format!("x {text}\n{text}")).split('\n') {
                prop_assert!(!starts_like_command(line), "{line:?}");
                prop_assert!(!line.chars().any(|c| c != '\t' && needs_escape(c)));
            }
            let value = serde_json::json!({"s": text});
            let back: serde_json::Value = serde_json::from_str(&json(&value).expect("json")).expect("parses");
            prop_assert_eq!(back, value);
        }
    }
}
