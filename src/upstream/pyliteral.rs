//! Reading the literals of a wiring file upstream QuickScale generated
//! (`settings/modules.py`: `MODULE_SETTINGS: dict[str, object] = {...}` as
//! `pprint.pformat` wrote it, and ours): the top-level entries with the
//! source text of each value, never evaluated.

/// The source text of the literal assigned to `name` at the start of a
/// line (`NAME = …` or `NAME: type = …`), up to its closing bracket.
pub fn assignment<'t>(text: &'t str, name: &str) -> Option<&'t str> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix(name)
            && (rest.starts_with(' ') || rest.starts_with(':') || rest.starts_with('='))
            && let Some(eq) = rest.find('=')
        {
            let start = offset + name.len() + eq + 1;
            let body = &text[start..];
            let open = body.find(|c: char| !c.is_whitespace())?;
            let end = matching_end(&body[open..])?;
            return Some(&body[open..open + end]);
        }
        offset += line.len();
    }
    None
}

/// The length of the bracketed literal at the start of `s` (through its
/// closing bracket), skipping strings and comments.
fn matching_end(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' | '"' => skip_string(&mut chars, c),
            '#' => {
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '[' | '{' | '(' => depth += 1,
            ']' | '}' | ')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

fn skip_string(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>, quote: char) {
    while let Some((_, c)) = chars.next() {
        if c == '\\' {
            chars.next();
        } else if c == quote {
            return;
        }
    }
}

/// The top-level items of a bracketed literal, each trimmed, comments dropped.
pub fn items(literal: &str) -> Vec<String> {
    let inner = literal
        .get(1..literal.len().saturating_sub(1))
        .unwrap_or_default();
    let mut out = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut chars = inner.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' | '"' => {
                let start = i;
                skip_string(&mut chars, c);
                let end = chars.peek().map_or(inner.len(), |(j, _)| *j);
                current.push_str(&inner[start..end]);
            }
            '#' => {
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        current.push('\n');
                        break;
                    }
                }
            }
            '[' | '{' | '(' => {
                depth += 1;
                current.push(c);
            }
            ']' | '}' | ')' => {
                depth = depth.saturating_sub(1);
                current.push(c);
            }
            ',' if depth == 0 => {
                let item = current.trim().to_owned();
                if !item.is_empty() {
                    out.push(item);
                }
                current.clear();
            }
            _ => current.push(c),
        }
    }
    let item = current.trim().to_owned();
    if !item.is_empty() {
        out.push(item);
    }
    out
}

/// The value of a simple string literal (`'x'` or `"x"`, no escapes beyond `\\`, `\'`, `\"`).
pub fn string(item: &str) -> Option<String> {
    let q = item.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let body = item.strip_prefix(q)?.strip_suffix(q)?;
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.push(chars.next()?);
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// `(key, value source)` of each entry of a dict literal with string keys.
pub fn dict_entries(literal: &str) -> Vec<(String, String)> {
    items(literal)
        .into_iter()
        .filter_map(|item| {
            let colon = top_level_colon(&item)?;
            let key = string(item[..colon].trim())?;
            Some((key, item[colon + 1..].trim().to_owned()))
        })
        .collect()
}

fn top_level_colon(item: &str) -> Option<usize> {
    let mut chars = item.char_indices().peekable();
    let mut depth = 0usize;
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' | '"' => skip_string(&mut chars, c),
            '[' | '{' | '(' => depth += 1,
            ']' | '}' | ')' => depth = depth.saturating_sub(1),
            ':' if depth == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

/// A value's source with insignificant differences removed (whitespace
/// outside strings, the quote style of strings, trailing commas), to tell
/// whether two renderings are the same literal.
pub fn normalized(src: &str) -> String {
    let mut out = String::new();
    let mut chars = src.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' | '"' => {
                let start = i;
                skip_string(&mut chars, c);
                let end = chars.peek().map_or(src.len(), |(j, _)| *j);
                match string(&src[start..end]) {
                    Some(s) => out.push_str(&format!("{s:?}")),
                    None => out.push_str(&src[start..end]),
                }
            }
            '#' => {
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            c if c.is_whitespace() => {}
            _ => out.push(c),
        }
    }
    out.replace(",]", "]").replace(",}", "}").replace(",)", ")")
}

#[cfg(test)]
mod tests {
    use super::*;

    const UPSTREAM: &str = "\"\"\"Header.\"\"\"\n\nMODULE_INSTALLED_APPS: list[str] = ['anymail', 'quickscale_modules_notifications']\n\nMODULE_MIDDLEWARE: list[str] = []\n\nMODULE_SETTINGS: dict[str, object] = {'ACCOUNT_LOGIN_METHODS': {'email'},\n 'EMAIL_BACKEND': 'anymail.backends.resend.EmailBackend',\n 'REST_FRAMEWORK': {'DEFAULT_PERMISSION_CLASSES': ['rest_framework.permissions.IsAuthenticated'],\n                    'PAGE_SIZE': 25},\n 'X': 'a: b, c # not a comment'}\n";
    const OURS: &str = "MODULE_SETTINGS: dict[str, object] = {\n    \"EMAIL_BACKEND\": \"anymail.backends.resend.EmailBackend\",  # notifications\n    \"PAGE\": 3,  # crm.page\n}\n";

    #[test]
    fn reads_upstreams_and_our_renderings() {
        let apps = assignment(UPSTREAM, "MODULE_INSTALLED_APPS").expect("apps");
        let apps: Vec<String> = items(apps).iter().filter_map(|i| string(i)).collect();
        assert_eq!(apps, ["anymail", "quickscale_modules_notifications"]);
        assert_eq!(
            items(assignment(UPSTREAM, "MODULE_MIDDLEWARE").expect("mw")),
            Vec::<String>::new()
        );
        let settings = dict_entries(assignment(UPSTREAM, "MODULE_SETTINGS").expect("settings"));
        let keys: Vec<&str> = settings.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "ACCOUNT_LOGIN_METHODS",
                "EMAIL_BACKEND",
                "REST_FRAMEWORK",
                "X"
            ]
        );
        assert_eq!(settings[0].1, "{'email'}");
        assert_eq!(settings[3].1, "'a: b, c # not a comment'");
        let ours = dict_entries(assignment(OURS, "MODULE_SETTINGS").expect("ours"));
        assert_eq!(ours[1], ("PAGE".to_owned(), "3".to_owned()));
        assert_eq!(normalized(&settings[1].1), normalized(&ours[0].1));
        assert_ne!(normalized("{'a': 1}"), normalized("{'a': 2}"));
        assert_eq!(normalized("['x',\n 'y',]"), normalized("[\"x\", \"y\"]"));
    }
}
