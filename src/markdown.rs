//! An update preview as GitHub-flavoured Markdown: the body of the pull
//! request the update workflow opens (`update --dry-run --format markdown`).
//!
//! Everything that comes from a module's repository (commit subjects,
//! paths, upgrade notes, option values) is untrusted: it is escaped so it
//! cannot add HTML, links, @-mentions (which would notify people) or
//! issue references to this repository, and cannot break the table.

use crate::engine::execute::TextChange;
use crate::engine::update::{Preview, Unchanged};

/// The marker the update workflow finds its own pull requests by.
pub const PR_MARKER: &str = "<!-- git-quickscale:update-pr -->";

/// Markdown for untrusted inline text.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '!' | '|'
            | '~' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            // A zero-width joiner keeps `@name` from being a mention.
            '@' => out.push_str("@\u{2060}"),
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Untrusted text as inline code (paths, refs): backticks cannot end it.
fn code(text: &str) -> String {
    let clean: String = text
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| if c == '`' { '\'' } else { c })
        .collect();
    format!("`{clean}`")
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

fn version(v: &Option<String>) -> String {
    v.as_deref().map(escape).unwrap_or_else(|| "?".into())
}

/// The pull request's title for `previews`.
pub fn title(previews: &[&Preview]) -> String {
    let parts: Vec<String> = previews
        .iter()
        .map(|p| {
            format!(
                "{} {} → {}",
                p.module,
                p.from.version.as_deref().unwrap_or(&p.from.git_ref),
                p.to.version.as_deref().unwrap_or(&p.to.git_ref)
            )
        })
        .collect();
    let title = format!("Update {}", parts.join(", "));
    title.chars().filter(|c| !c.is_control()).collect()
}

/// The whole preview: a summary table, then each module's details.
pub fn update_preview(
    previews: &[&Preview],
    wiring: &[TextChange],
    unchanged: &[Unchanged],
) -> String {
    let mut out = String::new();
    out.push_str("## Module updates\n\n");
    out.push_str("| Module | From | To | Upstream commits | Files | Local patches kept | Conflicts | Migrations |\n");
    out.push_str("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for p in previews {
        let (ins, del) = totals(p);
        out.push_str(&format!(
            "| {} | {} ({}) | {} ({}) | {} | {} (+{ins} −{del}) | {} | {} | {} |\n",
            escape(&p.module),
            code(&p.from.git_ref),
            version(&p.from.version),
            code(&p.to.git_ref),
            version(&p.to.version),
            p.commits.len(),
            p.files.len(),
            p.local_changes.len(),
            if p.conflicts.is_empty() {
                "none".to_owned()
            } else {
                format!("**{}**", p.conflicts.len())
            },
            p.migrations.len(),
        ));
    }
    for p in previews {
        module_section(&mut out, p);
    }
    if !wiring.is_empty() {
        out.push_str("\n### Regenerated wiring\n\n");
        for w in wiring {
            out.push_str(&format!("- {}\n", code(&w.path)));
        }
    }
    if !unchanged.is_empty() {
        out.push_str("\n### Not in this update\n\n");
        for u in unchanged {
            out.push_str(&format!(
                "- {} {}: {}\n",
                escape(&u.module),
                code(&u.git_ref),
                escape(&u.why)
            ));
        }
    }
    out.push_str(&format!(
        "\n---\n{PR_MARKER}\nPrepared by git-quickscale {} (`git quickscale update --dry-run --format markdown`). The module files are merged three-way with your local patches; `git quickscale check` verifies the result.\n",
        env!("CARGO_PKG_VERSION")
    ));
    out
}

fn totals(p: &Preview) -> (usize, usize) {
    p.files
        .iter()
        .fold((0, 0), |(i, d), f| (i + f.insertions, d + f.deletions))
}

fn module_section(out: &mut String, p: &Preview) {
    out.push_str(&format!(
        "\n### {} {} → {}\n\nUpstream {} → {}\n",
        escape(&p.module),
        version(&p.from.version),
        version(&p.to.version),
        code(short(&p.from.commit)),
        code(short(&p.to.commit)),
    ));
    upstream_history(out, p);
    changed_files(out, p);
    local_side(out, p);
    options_and_notes(out, p);
}

/// A titled bullet list; nothing when there are no items.
fn list(out: &mut String, title: &str, items: Vec<String>) {
    if items.is_empty() {
        return;
    }
    out.push_str(&format!("\n**{title}**\n\n"));
    for i in items {
        out.push_str(&format!("- {i}\n"));
    }
}

/// The upstream commits the update brings (folded) or takes back.
fn upstream_history(out: &mut String, p: &Preview) {
    if !p.commits.is_empty() {
        out.push_str(&format!(
            "\n<details><summary>Upstream commits ({})</summary>\n\n",
            p.commits.len()
        ));
        for c in &p.commits {
            out.push_str(&format!(
                "- {} {}\n",
                code(short(&c.commit)),
                escape(&c.subject)
            ));
        }
        out.push_str("\n</details>\n");
    }
    list(
        out,
        "Upstream commits taken back (an older version)",
        p.reverted
            .iter()
            .map(|c| format!("{} {}", code(short(&c.commit)), escape(&c.subject)))
            .collect(),
    );
}

fn changed_files(out: &mut String, p: &Preview) {
    let (ins, del) = totals(p);
    list(
        out,
        &format!("Files changed upstream ({}, +{ins} −{del})", p.files.len()),
        p.files
            .iter()
            .map(|f| {
                let mark = match f.status {
                    "added" => "added",
                    "deleted" => "deleted",
                    _ => "modified",
                };
                format!(
                    "{} {mark} (+{} −{})",
                    code(&f.path),
                    f.insertions,
                    f.deletions
                )
            })
            .collect(),
    );
}

/// The project's own patches kept, and where they conflict.
fn local_side(out: &mut String, p: &Preview) {
    if p.local_changes.is_empty() {
        out.push_str("\n**Local patches:** none\n");
    }
    list(
        out,
        "Local patches kept",
        p.local_changes.iter().map(|l| code(l)).collect(),
    );
    if p.conflicts.is_empty() {
        out.push_str("\n**Conflicts:** none\n");
    }
    list(
        out,
        "Conflicts (resolve on this branch, then `git quickscale update --continue`)",
        p.conflicts
            .iter()
            .map(|c| format!("{}: {}", code(&c.path), escape(&c.what)))
            .collect(),
    );
}

fn options_and_notes(out: &mut String, p: &Preview) {
    list(
        out,
        "Options",
        p.options
            .iter()
            .map(|o| {
                let show = |v: &Option<crate::value::Value>| {
                    v.as_ref()
                        .map(|v| code(&v.to_yaml()))
                        .unwrap_or_else(|| "(none)".into())
                };
                format!(
                    "{} {}: {} → {} ({})",
                    code(&o.option),
                    o.change,
                    show(&o.old),
                    show(&o.new),
                    escape(&o.note)
                )
            })
            .collect(),
    );
    list(
        out,
        "New database migrations (after merging: `python manage.py migrate`)",
        p.migrations.iter().map(|m| code(m)).collect(),
    );
    list(
        out,
        "Upgrade notes",
        p.notes.iter().map(|n| escape(n)).collect(),
    );
    list(
        out,
        "Requirements the project does not meet",
        p.incompatible.iter().map(|i| escape(i)).collect(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::update::{At, CommitLine, FileStat};

    fn preview() -> Preview {
        Preview {
            module: "crm".into(),
            from: At {
                git_ref: "v1.0.0".into(),
                commit: "a".repeat(40),
                version: Some("1.0.0".into()),
            },
            to: At {
                git_ref: "v1.1.0".into(),
                commit: "b".repeat(40),
                version: Some("1.1.0".into()),
            },
            commits: vec![CommitLine {
                commit: "b".repeat(12),
                subject: "Fix #12 for @alice <script>x</script> `y`".into(),
            }],
            reverted: vec![],
            files: vec![FileStat {
                path: "models.py".into(),
                status: "modified",
                insertions: 3,
                deletions: 1,
            }],
            local_changes: vec!["modules/crm/views.py".into()],
            conflicts: vec![],
            options: vec![],
            migrations: vec!["modules/crm/migrations/0002_x.py".into()],
            notes: vec!["1.1.0: rename FOO".into()],
            incompatible: vec![],
        }
    }

    #[test]
    fn the_preview_renders_every_part_and_escapes_untrusted_text() {
        let p = preview();
        let md = update_preview(&[&p], &[], &[]);
        assert!(
            md.contains(
                "| crm | `v1.0.0` (1.0.0) | `v1.1.0` (1.1.0) | 1 | 1 (+3 −1) | 1 | none | 1 |"
            ),
            "{md}"
        );
        assert!(md.contains("### crm 1.0.0 → 1.1.0"), "{md}");
        assert!(md.contains("`modules/crm/views.py`"), "{md}");
        assert!(md.contains("`modules/crm/migrations/0002_x.py`"), "{md}");
        assert!(md.contains("1.1.0: rename FOO"), "{md}");
        assert!(md.contains(PR_MARKER), "{md}");
        // No HTML, mention or issue reference gets through.
        assert!(!md.contains("<script>"), "{md}");
        assert!(!md.contains("@alice"), "{md}");
        assert!(md.contains("Fix \\#12"), "{md}");
        assert_eq!(title(&[&p]), "Update crm 1.0.0 → 1.1.0");
    }

    #[test]
    fn code_spans_cannot_be_closed() {
        assert_eq!(code("a`b"), "`a'b`");
        assert_eq!(escape("a|b\nc"), "a\\|b c");
    }
}
