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

/// The kind of a plan line, for colouring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Add,
    Change,
    Remove,
    Refuse,
    Note,
}

/// A plan rendered as lines (`+`, `~`, `-`, `!`), Terraform-style.
pub fn plan_lines(plan: &crate::engine::Plan) -> Vec<(Mark, String)> {
    let mut out = Vec::new();
    if let Some(identity) = &plan.generate {
        out.push((
            Mark::Add,
            format!(
                "+ generate project {} (package {}, theme {})",
                identity.slug, identity.package, identity.theme
            ),
        ));
    }
    for a in &plan.add {
        out.push((
            Mark::Add,
            format!("+ embed {} from {} at {}", a.name, a.source, a.git_ref),
        ));
    }
    for a in &plan.adopt {
        out.push((
            Mark::Add,
            format!(
                "+ adopt {} (modules/{} is already in the tree, e.g. from `git subtree add`)",
                a.name, a.name
            ),
        ));
    }
    for u in &plan.update {
        out.push((
            Mark::Change,
            format!(
                "~ {} {} → {} (a three-way merge that keeps local changes, if any)",
                u.name, u.from_ref, u.to_ref
            ),
        ));
    }
    for c in &plan.reconfigure {
        let setting = c
            .setting
            .as_deref()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        out.push((
            Mark::Change,
            format!(
                "~ {}.{}: {} → {}{setting}",
                c.module, c.option, c.old, c.new
            ),
        ));
    }
    for name in &plan.remove {
        let labels = plan.tables.get(name).cloned().unwrap_or_default();
        let data = if labels.is_empty() {
            "its database tables stay (git quickscale never touches data)".to_owned()
        } else {
            format!(
                "its database tables stay; to drop them, first run {}",
                labels
                    .iter()
                    .map(|l| format!("`python manage.py migrate {l} zero`"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            )
        };
        out.push((
            Mark::Remove,
            format!("- remove {name} (modules/{name} and its wiring; {data})"),
        ));
    }
    for path in &plan.rewire {
        out.push((
            Mark::Change,
            format!("~ regenerate {path} (it differs from what the tool wrote)"),
        ));
    }
    if let Some(why) = &plan.record_state {
        out.push((
            Mark::Note,
            format!("* record the applied state in a note: {why}"),
        ));
    }
    for r in &plan.refused {
        out.push((Mark::Refuse, format!("! {}: {}", r.subject, r.reason)));
        if !r.recipe.is_empty() {
            out.push((Mark::Note, "    to make this change:".to_owned()));
            for step in &r.recipe {
                out.push((Mark::Note, format!("      {step}")));
            }
        }
    }
    out
}

/// One-line count of a plan, e.g. "2 to embed, 1 to remove".
pub fn plan_summary(plan: &crate::engine::Plan) -> String {
    let mut parts = Vec::new();
    if plan.generate.is_some() {
        parts.push("1 project to generate".to_owned());
    }
    for (n, what) in [
        (plan.add.len(), "to embed"),
        (plan.adopt.len(), "to adopt"),
        (plan.update.len(), "to update"),
        (plan.reconfigure.len(), "to reconfigure"),
        (plan.remove.len(), "to remove"),
        (plan.rewire.len(), "managed file(s) to regenerate"),
        (plan.refused.len(), "refused"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    if plan.record_state.is_some() {
        parts.push("the state to record".to_owned());
    }
    if parts.is_empty() {
        "no changes".to_owned()
    } else {
        parts.join(", ")
    }
}
