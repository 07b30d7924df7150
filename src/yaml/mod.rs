//! A small YAML document model with source positions, built on `saphyr-parser`.
//!
//! serde-based YAML crates drop positions and comments. We need both: every
//! validation error names `file:line:column`, and `plan` edits files in place,
//! so the model keeps byte offsets of every node. Anchors/aliases are refused
//! outright (no "billion laughs"), nesting and size are bounded.
//!
//! saphyr reports positions as *character* indexes; Rust strings are sliced
//! by *byte*. Every position is converted once, here ([`CharOffsets`]), so
//! every `offset` in a [`Pos`] is a byte offset on a char boundary.

mod check;
mod scalar;
mod value;

pub use check::Checker;

pub use scalar::{Scalar, parse_scalar_text};
pub use value::yaml_string;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// Files larger than this are refused before parsing.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;
/// Collections nested deeper than this are refused.
pub const MAX_DEPTH: usize = 32;
/// Documents with more nodes than this are refused.
pub const MAX_NODES: usize = 100_000;

pub use crate::diag::Pos;

/// Whether a collection was written in block or flow (`{}`/`[]`) style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Block,
    Flow,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Scalar(Scalar),
    Seq(Vec<Node>, Style),
    Map(Vec<(Node, Node)>, Style),
}

/// One YAML node with the byte range it covers in the source.
///
/// Block scalars start at their first content character (after the `|`/`>`
/// header) and end after their last non-blank character; block collections
/// start at their first key or item (not at a `-`); flow collections cover
/// their brackets exactly. An omitted value (`key:`) has an empty range at a
/// place that is not meaningful (see [`Scalar::is_omitted`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub start: Pos,
    /// Position just after the node's last character.
    pub end: Pos,
}

impl Node {
    /// Returns the mapping entries, or `None` when the node is not a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            NodeKind::Map(entries, _) => Some(entries),
            _ => None,
        }
    }

    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.kind {
            NodeKind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// Returns the value for `key` in a mapping node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// Returns the key and value nodes for `key` in a mapping node.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.key_str() == Some(key))
            .map(|(k, v)| (k, v))
    }

    /// Returns the text of a scalar used as a mapping key.
    pub fn key_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar(s) => Some(s.text.as_str()),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar(s) if s.is_null())
    }

    /// Human name of the node's type, for "expected X, found Y" messages.
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar(s) => s.type_name(),
            NodeKind::Seq(..) => "a list",
            NodeKind::Map(..) => "a mapping",
        }
    }
}

/// Why a YAML text could not be turned into a [`Node`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    pub message: String,
    pub pos: Option<Pos>,
}

impl YamlError {
    fn at(pos: Pos, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            pos: Some(pos),
        }
    }
}

/// Parses one YAML document. An empty document (only comments) yields `Ok(None)`.
pub fn parse(text: &str) -> Result<Option<Node>, YamlError> {
    if text.len() > MAX_FILE_BYTES {
        return Err(YamlError {
            message: format!(
                "file is {} bytes; the limit is {MAX_FILE_BYTES} bytes",
                text.len()
            ),
            pos: None,
        });
    }
    let offsets = CharOffsets::new(text);
    let mut builder = Builder {
        text,
        offsets: &offsets,
        stack: Vec::new(),
        root: None,
        nodes: 0,
        documents: 0,
    };
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| {
            let m = e.marker();
            YamlError::at(
                offsets.pos(m.index(), m.line(), m.col()),
                format!("invalid YAML: {}", e.info()),
            )
        })?;
        builder.push(event, span)?;
    }
    Ok(builder.root)
}

/// Maps the parser's character indexes to byte offsets.
struct CharOffsets {
    /// Byte offset of each char index; only built when the text is not ASCII.
    table: Option<Vec<usize>>,
    len: usize,
}

impl CharOffsets {
    fn new(text: &str) -> Self {
        let table = if text.is_ascii() {
            None
        } else {
            Some(text.char_indices().map(|(i, _)| i).collect())
        };
        Self {
            table,
            len: text.len(),
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.table {
            None => char_index.min(self.len),
            Some(t) => t.get(char_index).copied().unwrap_or(self.len),
        }
    }

    fn pos(&self, index: usize, line: usize, col: usize) -> Pos {
        Pos {
            offset: self.byte(index),
            line,
            column: col + 1,
        }
    }
}

/// The position after the last non-blank character of `text[start..end]`,
/// or `start` when there is none. Works on chars, so it stays on boundaries.
fn trim_blank_end(text: &str, start: Pos, end: Pos) -> Pos {
    let Some(slice) = text.get(start.offset..end.offset) else {
        return end;
    };
    let trimmed = slice.trim_end_matches([' ', '\t', '\r', '\n']);
    if trimmed.len() == slice.len() {
        return end;
    }
    advance(text, start, start.offset + trimmed.len()).unwrap_or(end)
}

/// The end of the `count`-th blank line after `from` (before its line
/// break), staying before `limit`; `from` when that cannot be found.
fn over_blank_lines(text: &str, from: Pos, count: usize, limit: Pos) -> Pos {
    let mut at = from.offset;
    for _ in 0..count {
        match text.get(at..limit.offset).and_then(|t| t.find('\n')) {
            Some(i) => at += i + 1,
            None => return from,
        }
    }
    let rest = text.get(at..limit.offset).unwrap_or_default();
    let blank = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    advance(text, from, at + blank).unwrap_or(from)
}

/// The position of byte `offset`, counted from `start`.
fn advance(text: &str, start: Pos, offset: usize) -> Option<Pos> {
    let slice = text.get(start.offset..offset)?;
    let line_breaks = slice.matches('\n').count();
    let last_line = slice.rsplit('\n').next().unwrap_or_default();
    let column = if line_breaks == 0 {
        start.column + last_line.chars().count()
    } else {
        last_line.chars().count() + 1
    };
    Some(Pos {
        offset,
        line: start.line + line_breaks,
        column,
    })
}

/// The position just after the `closer` that ends a flow collection whose
/// last child ends at `from`: only blanks, line breaks, comments, `,` and
/// `:` (of an omitted value) can come between. saphyr's end event points at
/// a trailing comma, or runs over the comment after the bracket.
fn flow_end(text: &str, from: Pos, closer: u8) -> Option<Pos> {
    let bytes = text.as_bytes();
    let mut i = from.offset;
    while let Some(b) = bytes.get(i) {
        match *b {
            b' ' | b'\t' | b'\r' | b'\n' | b',' | b':' => i += 1,
            b'#' => i += text.get(i..)?.find('\n')?,
            b if b == closer => return advance(text, from, i + 1),
            _ => return None,
        }
    }
    None
}

/// The position just after the closing quote of the quoted scalar at
/// `start`. saphyr's span for a quoted scalar at the end of a line runs over
/// the blanks and the comment after it, so it is found here instead.
fn quoted_end(text: &str, start: Pos) -> Option<Pos> {
    let body = text.get(start.offset..)?;
    let mut chars = body.char_indices();
    let (_, quote) = chars.next()?;
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            ('"', '\\') => {
                chars.next();
            }
            ('"', '"') => return advance(text, start, start.offset + i + 1),
            ('\'', '\'') => {
                if body.get(i + 1..)?.starts_with('\'') {
                    chars.next();
                } else {
                    return advance(text, start, start.offset + i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

enum Frame {
    Seq {
        items: Vec<Node>,
        start: Pos,
        flow: bool,
    },
    Map {
        entries: Vec<(Node, Node)>,
        pending_key: Option<Node>,
        start: Pos,
        flow: bool,
    },
}

struct Builder<'a> {
    text: &'a str,
    offsets: &'a CharOffsets,
    stack: Vec<Frame>,
    root: Option<Node>,
    nodes: usize,
    documents: usize,
}

impl Builder<'_> {
    fn start(&self, span: &Span) -> Pos {
        self.offsets
            .pos(span.start.index(), span.start.line(), span.start.col())
    }

    fn end(&self, span: &Span) -> Pos {
        self.offsets
            .pos(span.end.index(), span.end.line(), span.end.col())
    }

    fn count(&mut self, at: Pos) -> Result<(), YamlError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(YamlError::at(
                at,
                format!("document has more than {MAX_NODES} nodes"),
            ));
        }
        Ok(())
    }

    fn push(&mut self, event: Event<'_>, span: Span) -> Result<(), YamlError> {
        let start = self.start(&span);
        match event {
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(YamlError::at(
                        start,
                        "the file holds more than one YAML document (`---`); keep one",
                    ));
                }
            }
            Event::Alias(_) => {
                return Err(YamlError::at(
                    start,
                    "YAML aliases (`*name`) are not supported here; write the value out",
                ));
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.count(start)?;
                if anchor != 0 {
                    return Err(YamlError::at(
                        start,
                        "YAML anchors (`&name`) are not supported here; write the value out",
                    ));
                }
                if let Some(tag) = tag {
                    return Err(YamlError::at(
                        start,
                        format!(
                            "YAML tags (`{}{}`) are not supported here",
                            tag.handle, tag.suffix
                        ),
                    ));
                }
                let node = self.scalar_node(text.into_owned(), style, start, &span);
                self.attach(node)?;
            }
            Event::SequenceStart(anchor, ref tag) | Event::MappingStart(anchor, ref tag) => {
                let anchored = anchor != 0 || tag.is_some();
                let seq = matches!(event, Event::SequenceStart(..));
                self.open_collection(seq, anchored, start, &span)?;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let node = self.close_collection(start, &span)?;
                self.attach(node)?;
            }
        }
        Ok(())
    }

    /// A scalar's node, ending where its text does.
    fn scalar_node(&self, text: String, style: ScalarStyle, start: Pos, span: &Span) -> Node {
        let block = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
        // A block scalar's span runs over its trailing line breaks
        // and into the next line's indentation.
        let end = match style {
            _ if block => {
                let end = trim_blank_end(self.text, start, self.end(span));
                // `|+` keeps its trailing blank lines: they are content.
                let breaks = text.len() - text.trim_end_matches('\n').len();
                if breaks > 1 {
                    over_blank_lines(self.text, end, breaks - 1, self.end(span))
                } else {
                    end
                }
            }
            ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
                quoted_end(self.text, start).unwrap_or_else(|| self.end(span))
            }
            _ => self.end(span),
        };
        let quoted = !matches!(style, ScalarStyle::Plain);
        let mut scalar = Scalar::new(text, quoted);
        scalar.block = block;
        Node {
            kind: NodeKind::Scalar(scalar),
            start,
            end,
        }
    }

    /// A sequence or mapping starts: refused with an anchor or tag, or
    /// nested too deep.
    fn open_collection(
        &mut self,
        seq: bool,
        anchored: bool,
        start: Pos,
        span: &Span,
    ) -> Result<(), YamlError> {
        self.count(start)?;
        if anchored {
            return Err(YamlError::at(
                start,
                "YAML anchors and tags are not supported here; write the value out",
            ));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(YamlError::at(
                start,
                format!("nesting is deeper than {MAX_DEPTH} levels"),
            ));
        }
        // A flow collection's start span covers its `[` or `{`.
        let flow = span.end.index() > span.start.index();
        let frame = if seq {
            Frame::Seq {
                items: Vec::new(),
                start,
                flow,
            }
        } else {
            Frame::Map {
                entries: Vec::new(),
                pending_key: None,
                start,
                flow,
            }
        };
        self.stack.push(frame);
        Ok(())
    }

    /// The open sequence or mapping ends: its node.
    fn close_collection(&mut self, at: Pos, span: &Span) -> Result<Node, YamlError> {
        // A flow end's span runs over the whitespace and comment that
        // follow the bracket; the node ends just after the bracket.
        let end_of_event = self.offsets.pos(
            span.start.index() + 1,
            span.start.line(),
            span.start.col() + 1,
        );
        let Some(frame) = self.stack.pop() else {
            return Err(YamlError::at(at, "unbalanced collection end"));
        };
        // Where a flow collection's closing bracket is looked for from when it is empty.
        let after_open = |start: Pos| Pos {
            offset: start.offset + 1,
            column: start.column + 1,
            ..start
        };
        Ok(match frame {
            Frame::Seq { items, start, flow } => {
                let end = if flow {
                    let from = items.last().map_or(after_open(start), |n| n.end);
                    flow_end(self.text, from, b']').unwrap_or(end_of_event)
                } else {
                    items.last().map_or(start, |n| n.end)
                };
                let style = if flow { Style::Flow } else { Style::Block };
                Node {
                    kind: NodeKind::Seq(items, style),
                    start,
                    end,
                }
            }
            Frame::Map {
                entries,
                start,
                flow,
                ..
            } => {
                let end = if flow {
                    let from = entries
                        .last()
                        .map_or(after_open(start), |(k, v)| match &v.kind {
                            NodeKind::Scalar(s) if s.is_omitted() => k.end,
                            _ if v.end.offset < k.end.offset => k.end,
                            _ => v.end,
                        });
                    flow_end(self.text, from, b'}').unwrap_or(end_of_event)
                } else {
                    entries.last().map_or(start, |(k, v)| {
                        if v.end.offset < k.end.offset {
                            k.end
                        } else {
                            v.end
                        }
                    })
                };
                let style = if flow { Style::Flow } else { Style::Block };
                Node {
                    kind: NodeKind::Map(entries, style),
                    start,
                    end,
                }
            }
        })
    }

    fn attach(&mut self, node: Node) -> Result<(), YamlError> {
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                pending_key,
                ..
            }) => match pending_key.take() {
                None => {
                    let Some(key_text) = node.key_str() else {
                        return Err(YamlError::at(
                            node.start,
                            "mapping keys must be plain text, not lists or mappings",
                        ));
                    };
                    if let Some((first, _)) =
                        entries.iter().find(|(k, _)| k.key_str() == Some(key_text))
                    {
                        return Err(YamlError::at(
                            node.start,
                            format!(
                                "duplicate key `{key_text}` (first defined at line {})",
                                first.start.line
                            ),
                        ));
                    }
                    *pending_key = Some(node);
                }
                Some(key) => entries.push((key, node)),
            },
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(text: &str) -> Node {
        parse(text).expect("valid yaml").expect("non-empty")
    }

    #[test]
    fn records_positions_and_ranges() {
        let text = "a: 1\nb:\n  c: [x, y]\n  d: 'q'\n";
        let r = root(text);
        let b = r.get("b").expect("b");
        assert_eq!(b.start.line, 3);
        assert_eq!(&text[b.start.offset..b.end.offset], "c: [x, y]\n  d: 'q'");
        let c = b.get("c").expect("c");
        assert_eq!(&text[c.start.offset..c.end.offset], "[x, y]");
        assert_eq!(c.start.column, 6);
    }

    #[test]
    fn refuses_duplicates_aliases_and_depth() {
        let e = parse("a: 1\nb: 2\na: 3\n").expect_err("dup");
        assert!(e.message.contains("duplicate key `a`"), "{e:?}");
        assert_eq!(e.pos.map(|p| p.line), Some(3));
        let e = parse("a: &x [1]\nb: *x\n").expect_err("anchor");
        assert!(e.message.contains("anchors"));
        let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
        let e = parse(&deep).expect_err("deep");
        assert!(e.message.contains("nesting"));
    }

    #[test]
    fn empty_and_comment_only_documents_are_none() {
        assert_eq!(parse("").expect("ok"), None);
        assert_eq!(parse("# only a comment\n").expect("ok"), None);
    }

    #[test]
    fn quoted_scalars_end_at_their_closing_quote() {
        let text = "a: \"x\\\"y\" \t # c\nb: 'it''s é'  # d\nc: [\"m\n  n\" , 'o']\n";
        let r = root(text);
        let span = |n: &Node| &text[n.start.offset..n.end.offset];
        assert_eq!(span(r.get("a").expect("a")), "\"x\\\"y\"");
        let b = r.get("b").expect("b");
        assert_eq!(span(b), "'it''s é'");
        assert_eq!((b.end.line, b.end.column), (2, 13));
        let NodeKind::Seq(items, _) = &r.get("c").expect("c").kind else {
            panic!("list")
        };
        assert_eq!(span(&items[0]), "\"m\n  n\"");
        assert_eq!((items[0].end.line, items[0].end.column), (4, 5));
    }

    #[test]
    fn flow_collections_end_at_their_bracket() {
        let text = "a: {b: [1, 2]}   # c\nd: [x]\t# e\nf: {\n  g,  # h\n  }\ni: [j, ]\nk: {l: }\n";
        let r = root(text);
        let span = |n: &Node| &text[n.start.offset..n.end.offset];
        assert_eq!(span(r.get("f").expect("f")), "{\n  g,  # h\n  }");
        assert_eq!(span(r.get("i").expect("i")), "[j, ]");
        assert_eq!(span(r.get("k").expect("k")), "{l: }");
        let a = r.get("a").expect("a");
        assert_eq!(&text[a.start.offset..a.end.offset], "{b: [1, 2]}");
        let d = r.get("d").expect("d");
        assert_eq!(&text[d.start.offset..d.end.offset], "[x]");
    }

    #[test]
    fn block_scalars_end_at_their_last_character() {
        let text = "a: |\n  x é\n\n  # not a comment\n\nb: >-\n  y\n";
        let r = root(text);
        let a = r.get("a").expect("a");
        assert_eq!(
            &text[a.start.offset..a.end.offset],
            "x é\n\n  # not a comment"
        );
        assert_eq!(a.as_scalar().map(|s| s.block), Some(true));
        let text = "a: |+\n  x\n\n  \nb: 1\n";
        let a = root(text).get("a").cloned().expect("a");
        assert_eq!(&text[a.start.offset..a.end.offset], "x\n\n  ");
    }

    #[test]
    fn non_ascii_offsets_are_bytes() {
        let text = "é: ü\nk: v\n";
        let r = root(text);
        let k = r.get("k").expect("k");
        assert_eq!(&text[k.start.offset..k.end.offset], "v");
    }
}
