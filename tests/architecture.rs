//! The code's shape, measured from the source (docs/architecture.md, "Layers"):
//! no import cycles between the top-level modules of src/ or between the
//! modules of src/engine/, gix named only inside src/git/, src/cli/ naming
//! neither src/txn.rs nor src/state/, and no function over 100 lines beyond
//! the ones still listed to be split.
//!
//! Reads the files only (no build, no subprocess): milliseconds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, with its path relative to src/ ("engine/plan.rs").
fn rust_files(dir: &Path) -> Vec<(String, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("read src")
            .map(|e| e.expect("dir entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path
                    .strip_prefix(root)
                    .expect("under src")
                    .to_string_lossy()
                    .replace('\\', "/");
                let text = std::fs::read_to_string(&path).expect("read source");
                out.push((rel, text));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

/// The source with comments removed and string and char literals emptied, so
/// only code is searched (a doc comment or a message may say `crate::x`).
/// Line breaks are kept, so line numbers stay true.
fn code_only(src: &str) -> String {
    let b: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '\n' {
                    out.push('\n');
                }
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && !b
                .get(i.wrapping_sub(1))
                .is_some_and(|p| p.is_alphanumeric() || *p == '_')
        {
            // A raw string: r"…", r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            'scan: while j < b.len() {
                if b[j] == '"' && (0..hashes).all(|h| b.get(j + 1 + h) == Some(&'#')) {
                    j += 1 + hashes;
                    break 'scan;
                }
                if b[j] == '\n' {
                    out.push('\n');
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    i += 1;
                }
                if b.get(i) == Some(&'\n') {
                    out.push('\n');
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{1F600}') or a lifetime ('a).
            if next == Some('\\') {
                let mut j = i + 2;
                while j < b.len() && b[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
                out.push_str("' '");
            } else if b.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push_str("' '");
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident_at(s: &str) -> Option<&str> {
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    (end > 0).then(|| &s[..end])
}

/// The first path segment after each `prefix` in `code`: `prefix name` or,
/// for a group, each `name` of `prefix{name::…, other, …}`.
fn segments_after(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let trimmed = rest.trim_start();
        if let Some(group) = trimmed.strip_prefix('{') {
            let mut depth = 1;
            let mut item = String::new();
            let mut items = Vec::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 1 => items.push(std::mem::take(&mut item)),
                    _ if depth == 1 => item.push(c),
                    _ => {}
                }
                if depth == 0 {
                    items.push(item);
                    break;
                }
            }
            for item in items {
                if let Some(name) = ident_at(item.trim_start()) {
                    out.insert(name.to_owned());
                }
            }
        } else if let Some(name) = ident_at(trimmed) {
            out.insert(name.to_owned());
        }
    }
    out
}

type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

/// Strongly connected components with more than one node (Tarjan).
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    struct State<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        if let Some(edges) = s.graph.get(v) {
            for w in edges.keys() {
                let w = w.as_str();
                if !s.index.contains_key(w) {
                    visit(s, w);
                    let low = s.low[v].min(s.low[w]);
                    s.low.insert(v, low);
                } else if s.on_stack.contains(w) {
                    let low = s.low[v].min(s.index[w]);
                    s.low.insert(v, low);
                }
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.out.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    let nodes: BTreeSet<&str> = graph
        .iter()
        .flat_map(|(k, v)| std::iter::once(k.as_str()).chain(v.keys().map(|s| s.as_str())))
        .collect();
    for v in nodes {
        if !state.index.contains_key(v) {
            visit(&mut state, v);
        }
    }
    state.out
}

fn describe(graph: &Graph, components: &[Vec<String>]) -> String {
    let mut out = String::new();
    for component in components {
        out.push_str(&format!("cycle: {}\n", component.join(", ")));
        for a in component {
            for (b, files) in &graph[a] {
                if component.contains(b) {
                    let files: Vec<&str> = files.iter().map(String::as_str).collect();
                    out.push_str(&format!("  {a} -> {b}  ({})\n", files.join(", ")));
                }
            }
        }
    }
    out
}

/// The module a file belongs to, one level below `under` ("" for src/):
/// `engine/adopt/mod.rs` → `adopt` under `engine/`.
fn node_of(rel: &str, under: &str) -> Option<String> {
    let rest = rel.strip_prefix(under)?;
    let first = rest.split('/').next()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (name != "mod" && name != "lib" && name != "main").then(|| name.to_owned())
}

/// The top-level modules of src/ and what each imports through `crate::`.
fn top_level_graph(files: &[(String, String)]) -> Graph {
    let modules: BTreeSet<String> = files
        .iter()
        .filter_map(|(rel, _)| node_of(rel, ""))
        .collect();
    let mut graph = Graph::new();
    for (rel, text) in files {
        let Some(from) = node_of(rel, "") else {
            continue;
        };
        let entry = graph.entry(from.clone()).or_default();
        for to in segments_after(&code_only(text), "crate::") {
            if to != from && modules.contains(&to) {
                entry.entry(to).or_default().insert(rel.clone());
            }
        }
    }
    graph
}

/// The modules of src/engine/ and what each imports of the others, through
/// `crate::engine::` or `super::` (items of engine/mod.rs itself — the
/// workspace, the error, the events — are not a module and not counted).
fn engine_graph(files: &[(String, String)]) -> Graph {
    let modules: BTreeSet<String> = files
        .iter()
        .filter_map(|(rel, _)| node_of(rel, "engine/"))
        .collect();
    let mut graph = Graph::new();
    for (rel, text) in files {
        let Some(from) = node_of(rel, "engine/") else {
            continue;
        };
        let code = code_only(text);
        let mut to = segments_after(&code, "crate::engine::");
        // `super::` names engine/ from engine/x.rs and engine/x/mod.rs.
        let depth = rel.matches('/').count();
        if depth == 1 || rel.ends_with("/mod.rs") && depth == 2 {
            to.extend(segments_after(&code, "super::"));
        }
        let entry = graph.entry(from.clone()).or_default();
        for to in to {
            if to != from && modules.contains(&to) {
                entry.entry(to).or_default().insert(rel.clone());
            }
        }
    }
    graph
}

#[test]
fn no_import_cycles_between_top_level_modules() {
    let files = rust_files(&src_dir());
    let graph = top_level_graph(&files);
    assert!(graph.len() > 20, "too few modules found: {graph:?}");
    let found = cycles(&graph);
    assert!(
        found.is_empty(),
        "top-level modules of src/ import each other in a cycle; move what both need into a leaf \
         (src/layout.rs, src/spec.rs) or beside the code that computes it:\n{}",
        describe(&graph, &found)
    );
}

#[test]
fn no_import_cycles_inside_the_engine() {
    let files = rust_files(&src_dir());
    let graph = engine_graph(&files);
    assert!(
        graph.contains_key("execute"),
        "engine modules not found: {graph:?}"
    );
    let found = cycles(&graph);
    assert!(
        found.is_empty(),
        "modules of src/engine/ import each other in a cycle (shared reads go to engine/modules.rs):\n{}",
        describe(&graph, &found)
    );
}

#[test]
fn the_cycle_finder_finds_cycles() {
    // The measuring code must be able to fail: a hand-made source tree with
    // a cycle through a `use crate::{…}` group, a nested group and `super::`.
    let files = vec![
        ("a.rs".to_owned(), "use crate::{b::X, c};".to_owned()),
        (
            "b/mod.rs".to_owned(),
            "use crate::{d::{self, Y}};".to_owned(),
        ),
        (
            "c.rs".to_owned(),
            "// use crate::a;\nfn f() { let s = \"crate::a\"; }".to_owned(),
        ),
        (
            "d.rs".to_owned(),
            "fn g() -> crate::a::Z { todo!() }".to_owned(),
        ),
        ("engine/x.rs".to_owned(), "use super::y::{A, B};".to_owned()),
        (
            "engine/y/mod.rs".to_owned(),
            "use super::{EngineError, x};".to_owned(),
        ),
        (
            "engine/z.rs".to_owned(),
            "use super::x; let c = '\"'; use crate::engine::y;".to_owned(),
        ),
    ];
    let top = cycles(&top_level_graph(&files));
    assert_eq!(
        top,
        vec![vec!["a".to_owned(), "b".to_owned(), "d".to_owned()]]
    );
    let engine = cycles(&engine_graph(&files));
    assert_eq!(engine, vec![vec!["x".to_owned(), "y".to_owned()]]);
}

/// Files outside src/git/ whose code (comments and strings aside) names gix.
fn files_naming_gix(files: &[(String, String)]) -> Vec<String> {
    files
        .iter()
        .filter(|(rel, _)| !rel.starts_with("git/"))
        .filter(|(_, text)| {
            let code = code_only(text);
            code.match_indices("gix").any(|(at, _)| {
                let before = code[..at].chars().next_back();
                let after = code[at + 3..].chars().next();
                let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
                !word(before) && !word(after)
            })
        })
        .map(|(rel, _)| rel.clone())
        .collect()
}

#[test]
fn gix_is_named_only_inside_src_git() {
    let files = rust_files(&src_dir());
    let naming = files_naming_gix(&files);
    assert!(
        naming.is_empty(),
        "these files name gix; ask `Git` instead (src/git/query.rs holds what callers need, in the project's own types):\n  {}",
        naming.join("\n  ")
    );
    // The check itself can fail.
    let sample = vec![
        ("engine/x.rs".to_owned(), "use gix::ObjectId;".to_owned()),
        (
            "engine/y.rs".to_owned(),
            "// gix is behind git/\nlet s = \"gix\"; let gixy = 1;".to_owned(),
        ),
        ("git/z.rs".to_owned(), "use gix::ObjectId;".to_owned()),
    ];
    assert_eq!(files_naming_gix(&sample), vec!["engine/x.rs".to_owned()]);
}

/// What src/cli/ names past the engine: the transaction (src/txn.rs) and
/// the applied state (src/state/) are the engine's to use; the command line
/// parses, calls one engine entry point and renders (issue 22).
fn cli_past_the_engine(files: &[(String, String)]) -> Vec<String> {
    let graph = top_level_graph(files);
    graph
        .get("cli")
        .into_iter()
        .flatten()
        .filter(|(to, _)| to.as_str() == "txn" || to.as_str() == "state")
        .flat_map(|(to, by)| by.iter().map(move |f| format!("{f} names crate::{to}")))
        .collect()
}

#[test]
fn the_cli_names_neither_txn_nor_state() {
    let found = cli_past_the_engine(&rust_files(&src_dir()));
    assert!(
        found.is_empty(),
        "the command line reaches past the engine; give the engine an entry point that returns plain data:\n  {}",
        found.join("\n  ")
    );
    // The check itself can fail.
    let sample = vec![
        (
            "cli/a.rs".to_owned(),
            "use crate::{engine, txn};".to_owned(),
        ),
        (
            "cli/b.rs".to_owned(),
            "fn f() { crate::state::load(); }".to_owned(),
        ),
        (
            "cli/c.rs".to_owned(),
            "// crate::txn is not named in code\nuse crate::engine::recover;".to_owned(),
        ),
        ("engine/mod.rs".to_owned(), "use crate::txn;".to_owned()),
        ("txn.rs".to_owned(), String::new()),
        ("state/mod.rs".to_owned(), String::new()),
    ];
    assert_eq!(
        cli_past_the_engine(&sample),
        vec![
            "cli/b.rs names crate::state".to_owned(),
            "cli/a.rs names crate::txn".to_owned(),
        ]
    );
}

/// The longest a function may be: it should read top to bottom on a screen or two.
const MAX_FN_LINES: usize = 100;

/// Functions longer than [`MAX_FN_LINES`] that are still to be split along
/// their steps (issue 22). A function may leave this list, never join it.
const STILL_TOO_LONG: &[(&str, &str)] = &[];

/// Every function with a body in `text`: (name, first line, lines from its
/// `fn` line to its closing brace).
fn functions(text: &str) -> Vec<(String, usize, usize)> {
    let code: Vec<char> = code_only(text).chars().collect();
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    // line_at[i]: the line of code[i] (1-based).
    let mut line_at = Vec::with_capacity(code.len());
    let mut line = 1;
    for c in &code {
        line_at.push(line);
        if *c == '\n' {
            line += 1;
        }
    }
    let line_of = |at: usize| line_at[at];
    let mut out = Vec::new();
    let mut i = 0;
    while i + 2 < code.len() {
        let starts_fn = code[i] == 'f'
            && code[i + 1] == 'n'
            && code[i + 2].is_whitespace()
            && (i == 0 || !is_word(code[i - 1]));
        if !starts_fn {
            i += 1;
            continue;
        }
        let mut j = i + 2;
        while j < code.len() && code[j].is_whitespace() {
            j += 1;
        }
        let name: String = code[j..].iter().take_while(|c| is_word(**c)).collect();
        // The body's `{` (or a `;` for a declaration) outside the signature's brackets.
        let mut depth = 0i32;
        let mut body = None;
        while j < code.len() {
            match code[j] {
                '-' | '=' if code.get(j + 1) == Some(&'>') => j += 1,
                '(' | '<' | '[' => depth += 1,
                ')' | '>' | ']' => depth -= 1,
                ';' if depth <= 0 => break,
                '{' if depth <= 0 => {
                    body = Some(j);
                    break;
                }
                _ => {}
            }
            j += 1;
        }
        let Some(open) = body else {
            i = j;
            continue;
        };
        let mut braces = 0;
        let mut close = open;
        for (k, c) in code.iter().enumerate().skip(open) {
            match c {
                '{' => braces += 1,
                '}' => {
                    braces -= 1;
                    if braces == 0 {
                        close = k;
                        break;
                    }
                }
                _ => {}
            }
        }
        let first = line_of(i);
        out.push((name, first, line_of(close) - first + 1));
        // Nested functions are measured too.
        i = open + 1;
    }
    out
}

#[test]
fn no_function_grows_past_a_hundred_lines() {
    let files = rust_files(&src_dir());
    let mut too_long = Vec::new();
    let mut listed_and_short = Vec::new();
    let mut measured = Vec::new();
    for (rel, text) in &files {
        for (name, line, lines) in functions(text) {
            let listed = STILL_TOO_LONG.contains(&(rel.as_str(), name.as_str()));
            if lines > MAX_FN_LINES && !listed {
                too_long.push(format!("src/{rel}:{line} fn {name}: {lines} lines"));
            }
            if listed {
                measured.push((rel.clone(), name.clone(), lines));
            }
        }
    }
    for (rel, name) in STILL_TOO_LONG {
        let longest = measured
            .iter()
            .filter(|(r, n, _)| r == rel && n == name)
            .map(|(_, _, l)| *l)
            .max();
        if longest.is_none_or(|l| l <= MAX_FN_LINES) {
            listed_and_short.push(format!("src/{rel} fn {name}"));
        }
    }
    assert!(
        too_long.is_empty(),
        "functions over {MAX_FN_LINES} lines; split them along their steps, each named for its step:\n  {}",
        too_long.join("\n  ")
    );
    assert!(
        listed_and_short.is_empty(),
        "these are no longer over {MAX_FN_LINES} lines (or gone): take them off STILL_TOO_LONG:\n  {}",
        listed_and_short.join("\n  ")
    );
}

#[test]
fn function_lengths_count_from_fn_to_its_closing_brace() {
    let text = "fn a() -> Result<(), String> {\n    let s = \"}\";\n    // }\n    Ok(())\n}\n\
                pub(crate) fn b<T: Into<String>>(t: T)\nwhere\n    T: Clone,\n{\n    let c = '}';\n    /* {\n */\n}\n\
                fn c(f: impl Fn(u8) -> u8) -> u8 { f(1) }\ntrait X { fn d(&self); }\n";
    let found = functions(text);
    assert_eq!(
        found,
        vec![
            ("a".to_owned(), 1, 5),
            ("b".to_owned(), 6, 8),
            ("c".to_owned(), 14, 1)
        ]
    );
}
