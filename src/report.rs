//! Rendering helpers that produce data for the UI (never print).

use similar::{ChangeTag, TextDiff};

/// One line of a unified diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffLine {
    Header(String),
    Context(String),
    Added(String),
    Removed(String),
}

/// A unified diff of two texts with 2 lines of context.
pub fn unified_diff(old: &str, new: &str, label: &str) -> Vec<DiffLine> {
    let diff = TextDiff::from_lines(old, new);
    let mut out = Vec::new();
    for hunk in diff.unified_diff().context_radius(2).iter_hunks() {
        out.push(DiffLine::Header(format!("{label}: {}", hunk.header())));
        for change in hunk.iter_changes() {
            let text = change.value().trim_end_matches('\n').to_owned();
            out.push(match change.tag() {
                ChangeTag::Equal => DiffLine::Context(format!(" {text}")),
                ChangeTag::Insert => DiffLine::Added(format!("+{text}")),
                ChangeTag::Delete => DiffLine::Removed(format!("-{text}")),
            });
        }
    }
    out
}
