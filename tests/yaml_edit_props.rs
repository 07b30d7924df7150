//! Property test of the in-place quickscale.yml editor (src/config/edit.rs).
//!
//! It generates quickscale.yml documents from a model — random module keys,
//! option values (non-ASCII included), comments (with tabs), block and flow
//! styles mixed, LF or CRLF, a BOM, `---`/`...` markers, with or without a
//! final newline — applies random edits (add module, remove module, set or
//! reconfigure an option, set a source) and checks that:
//! - nothing panics and the edit succeeds;
//! - the result parses with the project's own YAML parser;
//! - its data equals the data computed from the model, not from the parser;
//! - every line outside the edited entry is byte-identical (line endings are
//!   checked separately), every comment is still there exactly once, and the
//!   BOM, the line-ending style and the final newline (or its absence) stay.
//!
//! Cases: `YAML_FUZZ_CASES` (default 2000, a few seconds); scripts/fuzz-yaml.sh
//! runs 100,000 or more.

use std::collections::BTreeMap;

use git_quickscale::config::edit;
use git_quickscale::value::Value;
use git_quickscale::yaml;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};

// ---------------------------------------------------------------- the model

/// Lines before an entry: blank lines and full-line comments (any indent).
#[derive(Debug, Clone)]
enum Pre {
    Blank,
    Comment(usize, String),
}

/// An end-of-line comment and the blanks before its `#`.
#[derive(Debug, Clone)]
struct Cmt {
    sep: &'static str,
    text: String,
}

#[derive(Debug, Clone)]
enum Key {
    Plain(String),
    Double(String),
}

#[derive(Debug, Clone)]
enum Scal {
    Plain(String),
    Int(i64),
    Bool(bool),
    Double(String),
    Single(String),
    FlowList(Vec<String>),
    /// `- item` lines; `true`: indented under the key, else at its column.
    BlockList(Vec<String>, bool),
    /// `|-` with these lines.
    Literal(Vec<String>),
}

#[derive(Debug, Clone)]
struct Opt {
    key: Key,
    val: Scal,
    cmt: Option<Cmt>,
    before: Vec<Pre>,
}

#[derive(Debug, Clone)]
enum ModVal {
    /// `name:` (or bare `name` in a flow mapping).
    Null,
    Tilde,
    Empty,
    Block {
        opts: Vec<Opt>,
        after: Vec<Pre>,
    },
    Flow(Vec<Opt>),
}

#[derive(Debug, Clone)]
struct Module {
    name: String,
    val: ModVal,
    cmt: Option<Cmt>,
    before: Vec<Pre>,
}

#[derive(Debug, Clone)]
struct Source {
    name: String,
    url: Option<Scal>,
    git_ref: Option<Scal>,
    flow: bool,
    cmt: Option<Cmt>,
}

#[derive(Debug, Clone)]
enum Section<T> {
    Absent,
    Null,
    Tilde,
    Empty,
    Block {
        items: Vec<T>,
        after: Vec<Pre>,
    },
    /// One line: `key: {a: …, b: …}`.
    Flow(Vec<T>),
    /// `key: {` then one item per line, then `}`.
    FlowLines {
        items: Vec<(T, Option<Cmt>)>,
        trailing_comma: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Top {
    Version,
    Project,
    Modules,
    Docker,
    Sources,
}

#[derive(Debug, Clone)]
struct Doc {
    bom: bool,
    crlf: bool,
    final_newline: bool,
    step: usize,
    start_marker: Option<Option<Cmt>>,
    end_marker: Option<Option<String>>,
    header: Vec<Pre>,
    order: Vec<Top>,
    before_top: Vec<Vec<Pre>>,
    top_cmts: Vec<Option<Cmt>>,
    project_flow: bool,
    modules: Section<Module>,
    docker: Option<bool>,
    sources: Section<Source>,
    tail: Vec<Pre>,
}

#[derive(Debug, Clone)]
enum Edit {
    AddModule(String),
    RemoveModule(String),
    SetOption(String, String, Value),
    SetSource(String, Option<String>, Option<String>),
}

// ------------------------------------------------------------ strategies

const LETTERS: &[char] = &[
    'a', 'b', 'c', 'd', 'e', 'k', 'm', 'r', 's', 'x', 'z', 'A', 'Q', 'á', 'é', 'í', 'ó', 'ú', 'ñ',
    'ü', 'ç', 'ã', 'õ', 'ø', 'ß', 'ж', 'я', '日', '本', 'λ', '🙂',
];
const REST: &[char] = &['0', '7', '_', '-', '.'];
const TEXT: &[char] = &[
    ' ', '#', ':', ',', '{', '}', '[', ']', '\'', '"', '\\', '&', '*', '!', '|', '>', '%', '@',
    '`', '?', '-', '/', '=',
];
const RESERVED: &[&str] = &["null", "true", "false", "yes", "no", "on", "off"];

fn pick(set: &'static [char]) -> impl Strategy<Value = char> {
    prop::sample::select(set)
}

/// A plain scalar that reads back as the same string.
fn word() -> impl Strategy<Value = String> {
    (
        pick(LETTERS),
        vec(prop_oneof![3 => pick(LETTERS), 1 => pick(REST)], 0..6),
    )
        .prop_map(|(first, rest)| {
            let mut w: String = std::iter::once(first).chain(rest).collect();
            // A plain scalar may not end with `:`, and `-`/`.` at the end is fine.
            if RESERVED.contains(&w.to_lowercase().as_str()) {
                w.push('x');
            }
            w
        })
}

/// Free text for quoted scalars and comments (no line breaks).
fn text(with_tab: bool) -> impl Strategy<Value = String> {
    let tab: &'static [char] = if with_tab { &['\t'] } else { &['a'] };
    vec(
        prop_oneof![4 => pick(LETTERS), 2 => pick(TEXT), 1 => pick(REST), 1 => pick(tab)],
        0..12,
    )
    .prop_map(|cs| cs.into_iter().collect())
}

fn cmt() -> impl Strategy<Value = Cmt> {
    (
        prop::sample::select(&[" ", "  ", "\t", " \t "][..]),
        text(true),
    )
        .prop_map(|(sep, text)| Cmt { sep, text })
}

fn opt_cmt() -> impl Strategy<Value = Option<Cmt>> {
    prop::option::weighted(0.3, cmt())
}

fn pres() -> impl Strategy<Value = Vec<Pre>> {
    prop_oneof![
        3 => Just(Vec::new()),
        1 => vec(
            prop_oneof![
                1 => Just(Pre::Blank),
                3 => (0usize..7, text(true)).prop_map(|(i, t)| Pre::Comment(i, t)),
            ],
            1..3,
        ),
    ]
}

fn key() -> impl Strategy<Value = Key> {
    prop_oneof![
        4 => word().prop_map(Key::Plain),
        1 => text(false).prop_map(Key::Double),
    ]
}

fn flow_scal() -> impl Strategy<Value = Scal> {
    prop_oneof![
        3 => word().prop_map(Scal::Plain),
        2 => (-1_000_000_000_000_000i64..1_000_000_000_000_000).prop_map(Scal::Int),
        1 => any::<bool>().prop_map(Scal::Bool),
        2 => text(true).prop_map(Scal::Double),
        2 => text(false).prop_map(Scal::Single),
        1 => vec(word(), 0..3).prop_map(Scal::FlowList),
    ]
}

fn block_scal() -> impl Strategy<Value = Scal> {
    prop_oneof![
        6 => flow_scal(),
        1 => (vec(word(), 1..3), any::<bool>()).prop_map(|(w, deeper)| Scal::BlockList(w, deeper)),
        1 => vec(
            (word(), text(false)).prop_map(|(w, t)| format!("{w}{}", t.trim_end())),
            1..3,
        )
        .prop_map(Scal::Literal),
    ]
}

fn opt(block: bool) -> impl Strategy<Value = Opt> {
    let val = if block {
        block_scal().boxed()
    } else {
        flow_scal().boxed()
    };
    (key(), val, opt_cmt(), pres()).prop_map(|(key, val, cmt, before)| Opt {
        key,
        val,
        cmt,
        before,
    })
}

fn mod_val(in_flow: bool) -> impl Strategy<Value = ModVal> {
    let flow = vec(opt(false), 1..4).prop_map(ModVal::Flow);
    if in_flow {
        prop_oneof![
            1 => Just(ModVal::Null),
            1 => Just(ModVal::Tilde),
            2 => Just(ModVal::Empty),
            3 => flow,
        ]
        .boxed()
    } else {
        prop_oneof![
            1 => Just(ModVal::Null),
            1 => Just(ModVal::Tilde),
            2 => Just(ModVal::Empty),
            2 => flow,
            4 => (vec(opt(true), 1..4), pres()).prop_map(|(opts, after)| ModVal::Block { opts, after }),
        ]
        .boxed()
    }
}

fn module(in_flow: bool) -> impl Strategy<Value = Module> {
    (mod_val(in_flow), opt_cmt(), pres()).prop_map(|(val, cmt, before)| Module {
        name: String::new(),
        val,
        cmt,
        before,
    })
}

fn source() -> impl Strategy<Value = Source> {
    let url = prop_oneof![
        word().prop_map(|w| Scal::Plain(format!("../{w}"))),
        text(false).prop_map(Scal::Single),
        text(true).prop_map(Scal::Double),
    ];
    (
        prop::option::of(url),
        prop::option::of(word().prop_map(Scal::Plain)),
        any::<bool>(),
        opt_cmt(),
    )
        .prop_map(|(url, git_ref, flow, cmt)| Source {
            name: String::new(),
            url: url.or_else(|| Some(Scal::Plain("../x".into()))),
            git_ref,
            flow,
            cmt,
        })
}

fn section<T: std::fmt::Debug + Clone + 'static>(
    block_item: BoxedStrategy<T>,
    flow_item: BoxedStrategy<T>,
) -> impl Strategy<Value = Section<T>> {
    prop_oneof![
        1 => Just(Section::Absent),
        1 => Just(Section::Null),
        1 => Just(Section::Tilde),
        1 => Just(Section::Empty),
        6 => (vec(block_item, 1..4), pres()).prop_map(|(items, after)| Section::Block { items, after }),
        2 => vec(flow_item.clone(), 1..4).prop_map(Section::Flow),
        1 => (vec((flow_item, opt_cmt()), 1..4), any::<bool>())
            .prop_map(|(items, trailing_comma)| Section::FlowLines { items, trailing_comma }),
    ]
}

fn doc() -> impl Strategy<Value = Doc> {
    let layout = (
        any::<bool>(),
        any::<bool>(),
        prop::bool::weighted(0.7),
        prop::sample::select(&[2usize, 4][..]),
        prop::option::weighted(0.2, prop::option::of(cmt())),
        prop::option::weighted(0.2, prop::option::of(text(true))),
        pres(),
        pres(),
    );
    let content = (
        Just(vec![
            Top::Version,
            Top::Project,
            Top::Modules,
            Top::Docker,
            Top::Sources,
        ])
        .prop_shuffle(),
        vec(pres(), 5),
        vec(opt_cmt(), 5),
        any::<bool>(),
        section(module(false).boxed(), module(true).boxed()),
        prop::option::of(any::<bool>()),
        section(
            source().boxed(),
            source().prop_map(|s| Source { flow: true, ..s }).boxed(),
        ),
    );
    (layout, content).prop_map(
        |(
            (bom, crlf, final_newline, step, start_marker, end_marker, header, tail),
            (order, before_top, top_cmts, project_flow, mut modules, docker, mut sources),
        )| {
            name_modules(&mut modules);
            name_sources(&mut sources, &modules);
            Doc {
                bom,
                crlf,
                final_newline,
                step,
                start_marker,
                end_marker,
                header,
                order,
                before_top,
                top_cmts,
                project_flow,
                modules,
                docker,
                sources,
                tail,
            }
        },
    )
}

fn section_items_mut<T>(s: &mut Section<T>) -> Vec<&mut T> {
    match s {
        Section::Block { items, .. } | Section::Flow(items) => items.iter_mut().collect(),
        Section::FlowLines { items, .. } => items.iter_mut().map(|(t, _)| t).collect(),
        _ => Vec::new(),
    }
}

fn section_items<T>(s: &Section<T>) -> Vec<&T> {
    match s {
        Section::Block { items, .. } | Section::Flow(items) => items.iter().collect(),
        Section::FlowLines { items, .. } => items.iter().map(|(t, _)| t).collect(),
        _ => Vec::new(),
    }
}

/// Unique names: modules `m0`…, options suffixed with their position, so
/// no two entries share a key (and lines rarely repeat).
fn name_modules(modules: &mut Section<Module>) {
    for (i, m) in section_items_mut(modules).into_iter().enumerate() {
        m.name = format!("m{i}");
        let opts = match &mut m.val {
            ModVal::Block { opts, .. } | ModVal::Flow(opts) => opts,
            _ => continue,
        };
        for (j, o) in opts.iter_mut().enumerate() {
            match &mut o.key {
                Key::Plain(k) | Key::Double(k) => k.push_str(&format!("_{i}_{j}")),
            }
        }
    }
}

fn name_sources(sources: &mut Section<Source>, modules: &Section<Module>) {
    let names: Vec<String> = section_items(modules)
        .iter()
        .map(|m| m.name.clone())
        .collect();
    for (i, s) in section_items_mut(sources).into_iter().enumerate() {
        s.name = names.get(i).cloned().unwrap_or_else(|| format!("s{i}"));
    }
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        prop_oneof![
            (-1000i64..1000, 1u32..4).prop_map(|(m, e)| m as f64 / 10f64.powi(e as i32)),
            any::<f64>(),
        ]
        .prop_map(Value::Float),
        any::<String>().prop_map(Value::Str),
        text(true).prop_map(Value::Str),
        word().prop_map(Value::Str),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..3).prop_map(Value::List),
            vec((word(), inner), 0..3).prop_map(|kv| Value::Map(kv.into_iter().collect())),
        ]
    })
}

fn option_names(doc: &Doc) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for m in section_items(&doc.modules) {
        if let ModVal::Block { opts, .. } | ModVal::Flow(opts) = &m.val {
            for o in opts {
                let (Key::Plain(k) | Key::Double(k)) = &o.key;
                out.push((m.name.clone(), k.clone()));
            }
        }
    }
    out
}

fn edit_for(doc: &Doc) -> BoxedStrategy<Edit> {
    let mut names: Vec<String> = section_items(&doc.modules)
        .iter()
        .map(|m| m.name.clone())
        .collect();
    names.push("fresh".into());
    names.push("m9".into());
    let opts = option_names(doc);
    let module = prop::sample::select(names);
    let new_opt = (module.clone(), word(), value())
        .prop_map(|(m, o, v)| Edit::SetOption(m, format!("{o}_new"), v))
        .boxed();
    let reconfigure = if opts.is_empty() {
        new_opt.clone().boxed()
    } else {
        (prop::sample::select(opts), value())
            .prop_map(|((m, o), v)| Edit::SetOption(m, o, v))
            .boxed()
    };
    let strs = prop::option::of(prop_oneof![any::<String>(), text(true), word()]);
    prop_oneof![
        2 => module.clone().prop_map(Edit::AddModule),
        2 => module.clone().prop_map(Edit::RemoveModule),
        2 => new_opt,
        2 => reconfigure,
        1 => (module, strs.clone(), strs).prop_map(|(m, u, r)| Edit::SetSource(m, u, r)),
    ]
    .boxed()
}

// ------------------------------------------------------------ rendering

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Content,
    Comment,
    Blank,
    Marker,
}

/// Where things landed: line indexes (0-based) of the rendered document.
#[derive(Debug, Default, Clone)]
struct Layout {
    /// `modules` and `sources`: key line and last line of the section.
    modules: Option<(usize, usize)>,
    sources: Option<(usize, usize)>,
    /// Per module / source name: first and last line of its entry.
    module_lines: BTreeMap<String, (usize, usize)>,
    source_lines: BTreeMap<String, (usize, usize)>,
    /// Per (module, option): first and last line of the option entry.
    option_lines: BTreeMap<(String, String), (usize, usize)>,
    /// Last content line of the last top-level entry.
    root_last: usize,
}

struct Out {
    /// After a `|-` scalar: its content indent (a comment line indented as
    /// deep would be content).
    literal_body: Option<usize>,
    lines: Vec<String>,
    kinds: Vec<Kind>,
    comments: Vec<String>,
    layout: Layout,
}

impl Out {
    fn push(&mut self, line: String, kind: Kind) -> usize {
        if kind == Kind::Content {
            self.literal_body = None;
        }
        self.lines.push(line);
        self.kinds.push(kind);
        self.lines.len() - 1
    }

    fn last(&self) -> usize {
        self.lines.len().saturating_sub(1)
    }

    /// `# text ~N`: every comment is unique, so it can be counted.
    fn comment(&mut self, text: &str) -> String {
        let c = format!("#{text} ~{}~", self.comments.len());
        self.comments.push(c.clone());
        c
    }

    fn eol(&mut self, line: String, c: &Option<Cmt>) -> String {
        match c {
            None => line,
            Some(c) => {
                let text = self.comment(&c.text);
                format!("{line}{}{text}", c.sep)
            }
        }
    }

    fn pres(&mut self, pres: &[Pre]) {
        for p in pres {
            match p {
                Pre::Blank => {
                    self.push(String::new(), Kind::Blank);
                }
                Pre::Comment(indent, t) => {
                    let c = self.comment(t);
                    let indent = match self.literal_body {
                        Some(body) => (*indent).min(body.saturating_sub(1)),
                        None => *indent,
                    };
                    self.push(format!("{}{c}", " ".repeat(indent)), Kind::Comment);
                }
            }
        }
    }
}

fn dq(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn sq(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn key_text(k: &Key) -> String {
    match k {
        Key::Plain(s) => s.clone(),
        Key::Double(s) => dq(s),
    }
}

fn inline(s: &Scal) -> Option<String> {
    Some(match s {
        Scal::Plain(w) => w.clone(),
        Scal::Int(i) => i.to_string(),
        Scal::Bool(b) => b.to_string(),
        Scal::Double(t) => dq(t),
        Scal::Single(t) => sq(t),
        Scal::FlowList(ws) => format!("[{}]", ws.join(", ")),
        Scal::BlockList(..) | Scal::Literal(..) => return None,
    })
}

fn flow_opts(opts: &[Opt]) -> String {
    let inner: Vec<String> = opts
        .iter()
        .map(|o| {
            format!(
                "{}: {}",
                key_text(&o.key),
                inline(&o.val).unwrap_or_default()
            )
        })
        .collect();
    format!("{{{}}}", inner.join(", "))
}

fn flow_module(m: &Module) -> String {
    match &m.val {
        ModVal::Null => m.name.clone(),
        ModVal::Tilde => format!("{}: ~", m.name),
        ModVal::Empty => format!("{}: {{}}", m.name),
        ModVal::Flow(opts) | ModVal::Block { opts, .. } => {
            format!("{}: {}", m.name, flow_opts(opts))
        }
    }
}

fn flow_source(s: &Source) -> String {
    let mut fields = Vec::new();
    if let Some(u) = &s.url {
        fields.push(format!("url: {}", inline(u).unwrap_or_default()));
    }
    if let Some(r) = &s.git_ref {
        fields.push(format!("ref: {}", inline(r).unwrap_or_default()));
    }
    format!("{}: {{{}}}", s.name, fields.join(", "))
}

/// Renders `key: value` for a block option at `indent`.
fn render_opt(out: &mut Out, o: &Opt, indent: usize, step: usize) -> (usize, usize) {
    out.pres(&o.before);
    let pad = " ".repeat(indent);
    let k = key_text(&o.key);
    let first;
    match &o.val {
        Scal::BlockList(items, deeper) => {
            let line = out.eol(format!("{pad}{k}:"), &o.cmt);
            first = out.push(line, Kind::Content);
            let item_pad = " ".repeat(if *deeper { indent + step } else { indent });
            for w in items {
                out.push(format!("{item_pad}- {w}"), Kind::Content);
            }
        }
        Scal::Literal(lines) => {
            let line = out.eol(format!("{pad}{k}: |-"), &o.cmt);
            first = out.push(line, Kind::Content);
            let body = " ".repeat(indent + step);
            for l in lines {
                out.push(format!("{body}{l}"), Kind::Content);
            }
            out.literal_body = Some(indent + step);
        }
        v => {
            let line = out.eol(
                format!("{pad}{k}: {}", inline(v).unwrap_or_default()),
                &o.cmt,
            );
            first = out.push(line, Kind::Content);
        }
    }
    (first, out.last())
}

fn render_module(out: &mut Out, m: &Module, indent: usize, step: usize) -> (usize, usize) {
    out.pres(&m.before);
    let pad = " ".repeat(indent);
    let head = match &m.val {
        ModVal::Null | ModVal::Block { .. } => format!("{pad}{}:", m.name),
        ModVal::Tilde => format!("{pad}{}: ~", m.name),
        ModVal::Empty => format!("{pad}{}: {{}}", m.name),
        ModVal::Flow(opts) => format!("{pad}{}: {}", m.name, flow_opts(opts)),
    };
    let line = out.eol(head, &m.cmt);
    let first = out.push(line, Kind::Content);
    let mut last = first;
    if let ModVal::Flow(opts) = &m.val {
        for o in opts {
            let (Key::Plain(k) | Key::Double(k)) = &o.key;
            out.layout
                .option_lines
                .insert((m.name.clone(), k.clone()), (first, first));
        }
    }
    if let ModVal::Block { opts, after } = &m.val {
        for o in opts {
            let lines = render_opt(out, o, indent + step, step);
            let (Key::Plain(k) | Key::Double(k)) = &o.key;
            out.layout
                .option_lines
                .insert((m.name.clone(), k.clone()), lines);
            last = lines.1;
        }
        out.pres(after);
    }
    (first, last)
}

fn render_source(out: &mut Out, s: &Source, indent: usize, step: usize) -> (usize, usize) {
    let pad = " ".repeat(indent);
    if s.flow {
        let line = out.eol(format!("{pad}{}", flow_source(s)), &s.cmt);
        let first = out.push(line, Kind::Content);
        return (first, first);
    }
    let line = out.eol(format!("{pad}{}:", s.name), &s.cmt);
    let first = out.push(line, Kind::Content);
    let inner = " ".repeat(indent + step);
    for (k, v) in [("url", &s.url), ("ref", &s.git_ref)] {
        if let Some(v) = v {
            out.push(
                format!("{inner}{k}: {}", inline(v).unwrap_or_default()),
                Kind::Content,
            );
        }
    }
    (first, out.last())
}

/// An entry's name and its first and last line.
type Named = (String, (usize, usize));

/// Renders a section; returns its key line, its last line and its entries.
fn render_section<T>(
    out: &mut Out,
    key: &str,
    section: &Section<T>,
    c: &Option<Cmt>,
    step: usize,
    block_item: &dyn Fn(&mut Out, &T) -> Named,
    flow_item: &dyn Fn(&T) -> (String, String),
) -> (usize, usize, Vec<Named>) {
    let mut lines = Vec::new();
    let head = match section {
        Section::Absent => unreachable!("absent sections are not rendered"),
        Section::Null | Section::Block { .. } => format!("{key}:"),
        Section::Tilde => format!("{key}: ~"),
        Section::Empty => format!("{key}: {{}}"),
        Section::Flow(items) => {
            let inner: Vec<String> = items.iter().map(|t| flow_item(t).1).collect();
            format!("{key}: {{{}}}", inner.join(", "))
        }
        Section::FlowLines { .. } => format!("{key}: {{"),
    };
    let line = out.eol(head, c);
    let key_line = out.push(line, Kind::Content);
    let mut last = key_line;
    match section {
        Section::Block { items, after } => {
            for t in items {
                let (name, span) = block_item(out, t);
                last = span.1;
                lines.push((name, span));
            }
            out.pres(after);
        }
        Section::Flow(items) => {
            for t in items {
                lines.push((flow_item(t).0, (key_line, key_line)));
            }
        }
        Section::FlowLines {
            items,
            trailing_comma,
        } => {
            let pad = " ".repeat(step);
            for (i, (t, ic)) in items.iter().enumerate() {
                let (name, text) = flow_item(t);
                let comma = if i + 1 < items.len() || *trailing_comma {
                    ","
                } else {
                    ""
                };
                let line = out.eol(format!("{pad}{text}{comma}"), ic);
                let n = out.push(line, Kind::Content);
                lines.push((name, (n, n)));
            }
            last = out.push(format!("{pad}}}"), Kind::Content);
        }
        _ => {}
    }
    (key_line, last, lines)
}

fn render(doc: &Doc) -> (String, Out) {
    let mut out = Out {
        literal_body: None,
        lines: Vec::new(),
        kinds: Vec::new(),
        comments: Vec::new(),
        layout: Layout::default(),
    };
    let step = doc.step;
    if let Some(c) = &doc.start_marker {
        let line = out.eol("---".into(), c);
        out.push(line, Kind::Marker);
    }
    out.pres(&doc.header);
    let pad = " ".repeat(step);
    for (i, top) in doc.order.iter().enumerate() {
        let c = &doc.top_cmts[i];
        match top {
            Top::Version => {
                out.pres(&doc.before_top[i]);
                let line = out.eol("version: \"1\"".into(), c);
                out.layout.root_last = out.push(line, Kind::Content);
            }
            Top::Project => {
                out.pres(&doc.before_top[i]);
                if doc.project_flow {
                    let line = out.eol("project: {slug: shop, package: shop}".into(), c);
                    out.layout.root_last = out.push(line, Kind::Content);
                } else {
                    let line = out.eol("project:".into(), c);
                    out.push(line, Kind::Content);
                    out.push(format!("{pad}slug: shop"), Kind::Content);
                    out.layout.root_last = out.push(format!("{pad}package: shop"), Kind::Content);
                }
            }
            Top::Docker => {
                let Some(flow) = doc.docker else { continue };
                out.pres(&doc.before_top[i]);
                if flow {
                    let line = out.eol("docker: {start: false}".into(), c);
                    out.layout.root_last = out.push(line, Kind::Content);
                } else {
                    let line = out.eol("docker:".into(), c);
                    out.push(line, Kind::Content);
                    out.layout.root_last = out.push(format!("{pad}start: false"), Kind::Content);
                }
            }
            Top::Modules => {
                if matches!(doc.modules, Section::Absent) {
                    continue;
                }
                out.pres(&doc.before_top[i]);
                let (k, last, items) = render_section(
                    &mut out,
                    "modules",
                    &doc.modules,
                    c,
                    step,
                    &|out, m: &Module| (m.name.clone(), render_module(out, m, step, step)),
                    &|m: &Module| (m.name.clone(), flow_module(m)),
                );
                out.layout.modules = Some((k, last));
                out.layout.module_lines.extend(items);
                out.layout.root_last = last;
            }
            Top::Sources => {
                if matches!(doc.sources, Section::Absent) {
                    continue;
                }
                out.pres(&doc.before_top[i]);
                let (k, last, items) = render_section(
                    &mut out,
                    "sources",
                    &doc.sources,
                    c,
                    step,
                    &|out, s: &Source| (s.name.clone(), render_source(out, s, step, step)),
                    &|s: &Source| (s.name.clone(), flow_source(s)),
                );
                out.layout.sources = Some((k, last));
                out.layout.source_lines.extend(items);
                out.layout.root_last = last;
            }
        }
    }
    out.pres(&doc.tail);
    if let Some(after) = &doc.end_marker {
        out.push("...".into(), Kind::Marker);
        if let Some(t) = after {
            let c = out.comment(t);
            out.push(c, Kind::Comment);
        }
    }
    let nl = if doc.crlf { "\r\n" } else { "\n" };
    let mut text = String::new();
    if doc.bom {
        text.push('\u{feff}');
    }
    text.push_str(&out.lines.join(nl));
    if doc.final_newline {
        text.push_str(nl);
    }
    (text, out)
}

// ------------------------------------------------------- expected data

fn scal_value(s: &Scal) -> Value {
    match s {
        Scal::Plain(w) | Scal::Double(w) | Scal::Single(w) => Value::Str(w.clone()),
        Scal::Int(i) => Value::Int(*i),
        Scal::Bool(b) => Value::Bool(*b),
        Scal::FlowList(ws) | Scal::BlockList(ws, _) => {
            Value::List(ws.iter().map(|w| Value::Str(w.clone())).collect())
        }
        Scal::Literal(lines) => Value::Str(lines.join("\n")),
    }
}

fn section_value<T>(s: &Section<T>, item: impl Fn(&T) -> (String, Value)) -> Option<Value> {
    match s {
        Section::Absent => None,
        Section::Null | Section::Tilde => Some(Value::Null),
        _ => Some(Value::Map(section_items(s).into_iter().map(item).collect())),
    }
}

fn model_value(doc: &Doc) -> Value {
    let mut root = BTreeMap::new();
    root.insert("version".to_owned(), Value::Str("1".into()));
    root.insert(
        "project".to_owned(),
        Value::Map(BTreeMap::from([
            ("slug".to_owned(), Value::Str("shop".into())),
            ("package".to_owned(), Value::Str("shop".into())),
        ])),
    );
    if doc.docker.is_some() {
        root.insert(
            "docker".to_owned(),
            Value::Map(BTreeMap::from([("start".to_owned(), Value::Bool(false))])),
        );
    }
    let modules = section_value(&doc.modules, |m| {
        let v = match &m.val {
            ModVal::Null | ModVal::Tilde => Value::Null,
            ModVal::Empty => Value::Map(BTreeMap::new()),
            ModVal::Block { opts, .. } | ModVal::Flow(opts) => Value::Map(
                opts.iter()
                    .map(|o| {
                        let (Key::Plain(k) | Key::Double(k)) = &o.key;
                        (k.clone(), scal_value(&o.val))
                    })
                    .collect(),
            ),
        };
        (m.name.clone(), v)
    });
    if let Some(m) = modules {
        root.insert("modules".to_owned(), m);
    }
    let sources = section_value(&doc.sources, |s| {
        let mut fields = BTreeMap::new();
        if let Some(u) = &s.url {
            fields.insert("url".to_owned(), scal_value(u));
        }
        if let Some(r) = &s.git_ref {
            fields.insert("ref".to_owned(), scal_value(r));
        }
        (s.name.clone(), Value::Map(fields))
    });
    if let Some(s) = sources {
        root.insert("sources".to_owned(), s);
    }
    Value::Map(root)
}

fn map_at<'v>(root: &'v mut Value, key: &str) -> &'v mut BTreeMap<String, Value> {
    let Value::Map(m) = root else {
        unreachable!("the root is a mapping")
    };
    let slot = m.entry(key.to_owned()).or_insert(Value::Null);
    if !matches!(slot, Value::Map(_)) {
        *slot = Value::Map(BTreeMap::new());
    }
    let Value::Map(inner) = slot else {
        unreachable!()
    };
    inner
}

/// The data after `edit`, from the model's data.
fn expected(mut data: Value, edit: &Edit) -> Value {
    match edit {
        Edit::AddModule(name) => {
            map_at(&mut data, "modules")
                .entry(name.clone())
                .or_insert(Value::Map(BTreeMap::new()));
        }
        Edit::RemoveModule(name) => {
            let Value::Map(root) = &mut data else {
                unreachable!()
            };
            if let Some(Value::Map(m)) = root.get_mut("modules") {
                m.remove(name);
            }
            if let Some(Value::Map(s)) = root.get_mut("sources") {
                s.remove(name);
            }
            if matches!(root.get("sources"), Some(Value::Null))
                || matches!(root.get("sources"), Some(Value::Map(s)) if s.is_empty())
            {
                root.remove("sources");
            }
        }
        Edit::SetOption(module, option, value) => {
            let modules = map_at(&mut data, "modules");
            let slot = modules.entry(module.clone()).or_insert(Value::Null);
            if !matches!(slot, Value::Map(_)) {
                *slot = Value::Map(BTreeMap::new());
            }
            if let Value::Map(opts) = slot {
                opts.insert(option.clone(), value.clone());
            }
        }
        Edit::SetSource(module, url, git_ref) => {
            if url.is_none() && git_ref.is_none() {
                return data;
            }
            let sources = map_at(&mut data, "sources");
            let slot = sources.entry(module.clone()).or_insert(Value::Null);
            if !matches!(slot, Value::Map(_)) {
                *slot = Value::Map(BTreeMap::new());
            }
            if let Value::Map(fields) = slot {
                if let Some(u) = url {
                    fields.insert("url".into(), Value::Str(u.clone()));
                }
                if let Some(r) = git_ref {
                    fields.insert("ref".into(), Value::Str(r.clone()));
                }
            }
        }
    }
    data
}

fn apply(text: &str, edit: &Edit) -> Result<String, edit::EditError> {
    match edit {
        Edit::AddModule(m) => edit::add_module(text, m),
        Edit::RemoveModule(m) => edit::remove_module(text, m),
        Edit::SetOption(m, o, v) => edit::set_option(text, m, o, v),
        Edit::SetSource(m, u, r) => edit::set_source(text, m, u.as_deref(), r.as_deref()),
    }
}

/// Data equality where NaN equals NaN.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x == y || x.is_nan() && y.is_nan(),
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
        }
        _ => a == b,
    }
}

// ------------------------------------------------- allowed line changes

/// The first line at or after `from` that is not blank or a comment.
fn next_content(out: &Out, from: usize) -> usize {
    (from..out.kinds.len())
        .find(|&i| matches!(out.kinds[i], Kind::Content | Kind::Marker))
        .unwrap_or(out.kinds.len())
}

/// Old lines (as half-open ranges) an edit may change; an empty range
/// allows an insertion there. Everything else must stay byte-identical.
fn allowed(doc: &Doc, out: &Out, edit: &Edit) -> Vec<(usize, usize)> {
    let l = &out.layout;
    // New entries go after the last entry of a mapping, among the comments
    // and blank lines that follow it.
    let after = |last: usize| (last + 1, next_content(out, last + 1));
    let whole = |(a, b): (usize, usize)| (a, b + 1);
    let insert_into =
        |section_is_block: bool, span: Option<(usize, usize)>, root_last: usize| match span {
            None => after(root_last),
            Some((k, last)) if section_is_block => {
                let (a, b) = after(last);
                (k.min(a), b.max(k + 1))
            }
            Some(s) => whole(s),
        };
    let module_block = |name: &str| {
        section_items(&doc.modules)
            .into_iter()
            .find(|m| m.name == name)
            .map(|m| matches!(m.val, ModVal::Block { .. }))
    };
    match edit {
        Edit::AddModule(name) | Edit::SetOption(name, ..) if module_block(name).is_none() => {
            let block = matches!(doc.modules, Section::Block { .. });
            let span = l.modules;
            match span {
                Some((_, last)) if block => vec![after(last)],
                _ => vec![insert_into(false, span, l.root_last)],
            }
        }
        Edit::AddModule(_) => Vec::new(),
        Edit::SetOption(name, option, _) => {
            let span = l.module_lines[name];
            match l.option_lines.get(&(name.clone(), option.clone())) {
                Some(o) if module_block(name) == Some(true) => vec![whole(*o)],
                Some(_) => vec![whole(span)],
                None if module_block(name) == Some(true) => vec![after(span.1)],
                None => vec![whole(span), after(span.1)],
            }
        }
        Edit::RemoveModule(name) => {
            // A removed entry takes the comment lines indented under it
            // (they stay, as comments, but may be re-indented).
            let own = |(a, mut b): (usize, usize), block: bool| {
                while block
                    && out.kinds.get(b + 1) == Some(&Kind::Comment)
                    && out.lines[b + 1].len()
                        - out.lines[b + 1].trim_start_matches([' ', '\t']).len()
                        > doc.step
                {
                    b += 1;
                }
                (a, b + 1)
            };
            let own_top = |(a, mut b): (usize, usize)| {
                while out.kinds.get(b + 1) == Some(&Kind::Comment)
                    && out.lines[b + 1].starts_with([' ', '\t'])
                {
                    b += 1;
                }
                (a, b + 1)
            };
            let mut out_regions = Vec::new();
            if let Some(span) = l.module_lines.get(name) {
                out_regions.push(own(*span, matches!(doc.modules, Section::Block { .. })));
                out_regions.extend(l.modules.map(|(k, last)| {
                    if matches!(doc.modules, Section::Block { .. }) {
                        (k, k + 1)
                    } else {
                        (k, last + 1)
                    }
                }));
            }
            if let Some(span) = l.source_lines.get(name) {
                out_regions.push(own(*span, matches!(doc.sources, Section::Block { .. })));
                out_regions.extend(l.sources.map(|(k, last)| {
                    let all_gone = section_items(&doc.sources).len() == 1;
                    if all_gone {
                        // `sources` goes, with the comments indented under it.
                        own_top((k, last))
                    } else if !matches!(doc.sources, Section::Block { .. }) {
                        (k, last + 1)
                    } else {
                        (k, k + 1)
                    }
                }));
            }
            if matches!(doc.sources, Section::Null | Section::Tilde | Section::Empty) {
                out_regions.extend(l.sources.map(own_top));
            }
            out_regions
        }
        Edit::SetSource(name, url, git_ref) => {
            if url.is_none() && git_ref.is_none() {
                return Vec::new();
            }
            match l.source_lines.get(name) {
                Some(span) => {
                    let block = section_items(&doc.sources)
                        .into_iter()
                        .find(|s| &s.name == name)
                        .is_some_and(|s| !s.flow)
                        && matches!(doc.sources, Section::Block { .. });
                    if block {
                        vec![whole(*span), after(span.1)]
                    } else {
                        vec![whole(*span)]
                    }
                }
                None => {
                    let block = matches!(doc.sources, Section::Block { .. });
                    match l.sources {
                        Some((_, last)) if block => vec![after(last)],
                        span => vec![insert_into(false, span, l.root_last)],
                    }
                }
            }
        }
    }
}

/// Checks that every old line outside `regions` is in `new`, unchanged, in
/// order, and that runs of such lines stay together.
fn check_lines(old: &str, new: &str, mut regions: Vec<(usize, usize)>) -> Result<(), String> {
    // The BOM is checked on its own; lines are compared without it.
    let strip = |s: &str| -> Vec<String> {
        let s = s.strip_prefix('\u{feff}').unwrap_or(s);
        s.split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l).to_owned())
            .collect()
    };
    let (old_lines, new_lines) = (strip(old), strip(new));
    regions.sort_unstable();
    // Runs of old lines outside every region.
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut at = 0;
    for (a, b) in &regions {
        if *a > at {
            runs.push((at, *a));
        }
        at = at.max(*b);
    }
    if at < old_lines.len() {
        runs.push((at, old_lines.len()));
    }
    let mut cursor = 0;
    let n_runs = runs.len();
    for (i, (a, b)) in runs.into_iter().enumerate() {
        let run = &old_lines[a..b];
        let found = if a == 0 {
            (new_lines.len() >= run.len() && new_lines[..run.len()] == *run).then_some(0)
        } else if b == old_lines.len() && i + 1 == n_runs {
            let start = new_lines.len().checked_sub(run.len());
            start.filter(|s| *s >= cursor && new_lines[*s..] == *run)
        } else {
            (cursor..=new_lines.len().saturating_sub(run.len()))
                .find(|s| new_lines[*s..*s + run.len()] == *run)
        };
        match found {
            Some(s) => cursor = s + run.len(),
            None => {
                return Err(format!(
                    "old lines {}..{} ({:?}…) changed or moved",
                    a + 1,
                    b,
                    run.first()
                ));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- the test

fn cases() -> u32 {
    std::env::var("YAML_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000)
}

fn check_case(doc: &Doc, edit: &Edit, second: &Edit) -> Result<(), TestCaseError> {
    let (text, out) = render(doc);
    let data = model_value(doc);
    // The generator itself: the rendered text means what the model says.
    let root = yaml::parse(&text)
        .map_err(|e| TestCaseError::fail(format!("generated text does not parse: {e:?}\n{text}")))?
        .ok_or_else(|| TestCaseError::fail("generated text is empty"))?;
    prop_assert!(
        same(&Value::from_node(&root), &data),
        "generated text does not hold the model's data:\n{text}"
    );

    let new = apply(&text, edit)
        .map_err(|e| TestCaseError::fail(format!("{edit:?} failed: {e}\n--- text\n{text}")))?;
    let want = expected(data, edit);
    let report = || format!("{edit:?}\n--- before\n{text}\n--- after\n{new}");
    let parsed = yaml::parse(&new)
        .map_err(|e| TestCaseError::fail(format!("result does not parse: {e:?}\n{}", report())))?
        .ok_or_else(|| TestCaseError::fail(format!("result is empty\n{}", report())))?;
    prop_assert!(
        same(&Value::from_node(&parsed), &want),
        "data differs: got {:?}\nwant {:?}\n{}",
        Value::from_node(&parsed),
        want,
        report()
    );
    let regions = allowed(doc, &out, edit);
    if regions.is_empty() {
        prop_assert_eq!(&new, &text, "a no-op edit changed the text\n{}", report());
    }
    if let Err(why) = check_lines(&text, &new, regions.clone()) {
        return Err(TestCaseError::fail(format!(
            "{why}; allowed regions (0-based, half-open) {regions:?}\n{}",
            report()
        )));
    }
    for c in &out.comments {
        prop_assert_eq!(
            new.matches(c.as_str()).count(),
            1,
            "comment {:?}\n{}",
            c,
            report()
        );
    }
    prop_assert_eq!(new.starts_with('\u{feff}'), doc.bom, "BOM\n{}", report());
    // The final line break stays as it was; the one exception: removing the
    // last line of a file without one, right after a blank line, keeps the
    // blank line (and so its line break).
    let blank_kept =
        matches!(edit, Edit::RemoveModule(_)) && (text.contains("\n\n") || text.contains("\n\r\n"));
    prop_assert!(
        new.ends_with('\n') == text.ends_with('\n') || blank_kept && new.ends_with('\n'),
        "final newline\n{}",
        report()
    );
    let crlf = new.matches("\r\n").count();
    if doc.crlf {
        prop_assert_eq!(
            crlf,
            new.matches('\n').count(),
            "LF in a CRLF file\n{}",
            report()
        );
    } else {
        prop_assert!(!new.contains('\r'), "CR in an LF file\n{}", report());
    }

    // A second edit on the result: still no panic, still the right data.
    let third = apply(&new, second).map_err(|e| {
        TestCaseError::fail(format!("second edit {second:?} failed: {e}\n{}", report()))
    })?;
    let want = expected(want, second);
    let parsed = yaml::parse(&third)
        .ok()
        .flatten()
        .ok_or_else(|| TestCaseError::fail(format!("second result does not parse\n{third}")))?;
    prop_assert!(
        same(&Value::from_node(&parsed), &want),
        "second edit {:?}: data differs\n{}\n--- after second\n{}",
        second,
        report(),
        third
    );
    Ok(())
}

proptest! {
    #![proptest_config(Config {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..Config::default()
    })]

    #[test]
    fn edits_keep_everything_else(
        (doc, edit, second) in doc().prop_flat_map(|d| {
            let e = edit_for(&d);
            (Just(d), e.clone(), e)
        })
    ) {
        check_case(&doc, &edit, &second)?;
    }
}
