//! `git quickscale check`: drift and policy findings for CI, as text, JSON,
//! GitHub workflow annotations and SARIF.

use std::path::PathBuf;

use super::{CmdResult, Context};
use crate::engine::check::{self, CheckError, CheckOptions, CheckReport, Finding, Level};
use crate::error::{CliError, exit};
use crate::escape::quote;
use crate::ui::Tone;

/// Check the project for drift from quickscale.yml and ownership violations (for CI)
///
/// Compares HEAD with what quickscale.yml and the embedded modules say it
/// should be: changes quickscale.yml asks for that were not applied, managed
/// files that differ from what git-quickscale renders (re-rendered, so a
/// clone without notes, e.g. `git clone --depth 1`, still catches a hand
/// edit), module prefixes missing or changed against the upstream tree that
/// was embedded (information; drift with --strict), and with --base every
/// commit of BASE..HEAD against the ownership rules the hooks enforce (what
/// `--no-verify` let through). Missing notes and modules a shallow clone
/// cannot prove are warnings. Never writes to the repository.
///
/// Exit status: 0 no drift, 2 drift or a broken rule, 1 error (e.g. --base
/// needs more history than a shallow clone has).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  git quickscale check
  git quickscale check --base origin/main --format github   # in a pull request's CI job
  git quickscale check --format json --strict")]
pub struct CheckArgs {
    /// Also check each commit of REF..HEAD against the ownership rules
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,

    /// Treat local changes inside module prefixes as drift
    #[arg(long)]
    pub strict: bool,

    /// Output: text, json (schema in docs/user-guide.md) or github (workflow annotations)
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Also write the findings as SARIF 2.1.0 to FILE (for code scanning)
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Github,
}

pub fn cmd_check(ctx: &Context, args: &CheckArgs) -> CmdResult {
    let ws = super::open_for_read(ctx)?;
    let opts = CheckOptions {
        base: args.base.clone(),
        strict: args.strict,
    };
    let report = check::check(&ws, &opts).map_err(check_error)?;
    match args.format {
        Format::Text => {
            for (tone, line) in text_lines(&report) {
                ctx.ui.out_styled(tone, &line);
            }
        }
        Format::Json => ctx.ui.out(
            &crate::escape::json(&report)
                .map_err(|e| CliError::new(format!("cannot render JSON: {e}")))?,
        ),
        Format::Github => {
            for line in github_lines(&report) {
                ctx.ui.workflow_command(&line);
            }
        }
    }
    if let Some(path) = &args.sarif {
        let text = crate::escape::json(&sarif(&report))
            .map_err(|e| CliError::new(format!("cannot render SARIF: {e}")))?;
        fs_err::write(path, text + "\n").map_err(|e| {
            CliError::from_error(
                &e,
                Some("check that the directory exists and is writable".into()),
            )
        })?;
    }
    Ok(if report.drift {
        exit::PENDING
    } else {
        exit::OK
    })
}

fn check_error(e: CheckError) -> CliError {
    match e {
        CheckError::Engine(e) => super::apply::engine_error(e),
        e => {
            let hint = e.hint();
            CliError::from_error(&e, hint)
        }
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Info => "info",
    }
}

/// Where a finding is, for the text output.
fn location(f: &Finding) -> Option<String> {
    if let Some(commit) = &f.commit {
        let short = &commit[..commit.len().min(12)];
        return Some(match &f.subject {
            Some(s) => format!("commit {short} ({})", quote(s)),
            None => format!("commit {short}"),
        });
    }
    let file = f.file.as_ref()?;
    let file = quote(file);
    Some(match f.line {
        Some(line) => format!("{file}:{line}"),
        None => file.into_owned(),
    })
}

/// Paths printed under a finding (the rest are counted).
const TEXT_PATHS: usize = 20;

/// The text report: one block per finding, then a summary line.
pub fn text_lines(r: &CheckReport) -> Vec<(Tone, String)> {
    let mut out = Vec::new();
    for f in &r.findings {
        let tone = match f.severity {
            Level::Error => Tone::Removed,
            Level::Warning => Tone::Warn,
            Level::Info => Tone::Plain,
        };
        let head = format!("{}[{}]", level_name(f.severity), f.id);
        let line = match location(f) {
            Some(at) => format!("{head} {at}: {}", f.message),
            None => format!("{head} {}", f.message),
        };
        out.push((tone, line));
        let listed = f.commit.is_some() || f.paths.len() > 1 || f.paths.first() != f.file.as_ref();
        if listed {
            for p in f.paths.iter().take(TEXT_PATHS) {
                out.push((Tone::Plain, format!("  {}", quote(p))));
            }
            if f.paths.len() > TEXT_PATHS {
                out.push((
                    Tone::Plain,
                    format!("  … and {} more", f.paths.len() - TEXT_PATHS),
                ));
            }
        }
        if let Some(fix) = &f.fix {
            for (i, l) in fix.split('\n').enumerate() {
                let prefix = if i == 0 { "  hint: " } else { "    " };
                out.push((Tone::Plain, format!("{prefix}{l}")));
            }
        }
    }
    let s = &r.summary;
    let head = r
        .head
        .as_deref()
        .map(|h| format!("HEAD {}", &h[..h.len().min(12)]))
        .unwrap_or_else(|| "no commits yet".into());
    let range = r
        .range
        .as_ref()
        .map(|g| {
            format!(
                ", {} commit{} of {}..HEAD checked",
                g.commits_checked,
                plural(g.commits_checked),
                g.base
            )
        })
        .unwrap_or_default();
    let counts = format!(
        "{} error{}, {} warning{}",
        s.errors,
        plural(s.errors),
        s.warnings,
        plural(s.warnings)
    );
    if !r.findings.is_empty() {
        out.push((Tone::Plain, String::new()));
    }
    if r.drift {
        out.push((
            Tone::Removed,
            format!("Drift found: {counts} ({head}{range})."),
        ));
    } else {
        out.push((
            Tone::Ok,
            format!(
                "No drift: {head} matches {} ({counts}{range}).",
                crate::config::CONFIG_FILE
            ),
        ));
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A workflow command's message: `%`, CR and LF escaped as the runner
/// expects; other control characters as the text output shows them.
pub fn escape_data(s: &str) -> String {
    let data = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    crate::escape::safe_line(&data).into_owned()
}

/// A workflow command's property value: also `:` and `,`.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub Actions workflow commands: one annotation per finding
/// (`::error file=F,line=L,title=T::message`), then a summary line.
pub fn github_lines(r: &CheckReport) -> Vec<String> {
    let mut out = Vec::new();
    for f in &r.findings {
        let command = match f.severity {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Info => "notice",
        };
        let mut props = Vec::new();
        if let Some(file) = &f.file {
            props.push(format!("file={}", escape_property(file)));
            if let Some(line) = f.line {
                props.push(format!("line={line}"));
            }
        }
        props.push(format!(
            "title={}",
            escape_property(&format!("git-quickscale {}", f.id))
        ));
        let mut message = f.message.clone();
        if let Some(at) = f.commit.as_ref().and(location(f)) {
            message.push_str(&format!("\nin {at}"));
        }
        if f.paths.len() > 1 || f.commit.is_some() {
            for p in f.paths.iter().take(TEXT_PATHS) {
                message.push_str(&format!("\n  {}", quote(p)));
            }
        }
        if let Some(fix) = &f.fix {
            message.push_str(&format!("\nfix: {fix}"));
        }
        out.push(format!(
            "::{command} {}::{}",
            props.join(","),
            escape_data(&message)
        ));
    }
    let s = &r.summary;
    out.push(format!(
        "git-quickscale check: {} ({} error{}, {} warning{})",
        if r.drift { "drift found" } else { "no drift" },
        s.errors,
        plural(s.errors),
        s.warnings,
        plural(s.warnings)
    ));
    out
}

/// The findings as a SARIF 2.1.0 log (for GitHub code scanning and others).
pub fn sarif(r: &CheckReport) -> serde_json::Value {
    use serde_json::json;
    let mut rules: Vec<&str> = r.findings.iter().map(|f| f.id.as_str()).collect();
    rules.sort_unstable();
    rules.dedup();
    let results: Vec<serde_json::Value> = r
        .findings
        .iter()
        .map(|f| {
            let level = match f.severity {
                Level::Error => "error",
                Level::Warning => "warning",
                Level::Info => "note",
            };
            let mut text = f.message.clone();
            if let Some(fix) = &f.fix {
                text.push_str(&format!("\nfix: {fix}"));
            }
            let mut result = json!({
                "ruleId": f.id,
                "level": level,
                "message": {"text": text},
            });
            if let Some(file) = &f.file {
                let mut physical = json!({"artifactLocation": {"uri": file}});
                if let Some(line) = f.line {
                    physical["region"] = json!({"startLine": line});
                }
                result["locations"] = json!([{"physicalLocation": physical}]);
            }
            if let Some(commit) = &f.commit {
                result["properties"] = json!({"commit": commit, "paths": f.paths});
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "git-quickscale",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/Experto-AI/git-quickscale",
                "rules": rules.iter().map(|id| json!({"id": id, "name": id})).collect::<Vec<_>>(),
            }},
            "results": results,
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::check::{RangeInfo, Summary};

    fn finding(id: &str, severity: Level) -> Finding {
        Finding {
            id: id.into(),
            severity,
            message: "msg".into(),
            file: None,
            line: None,
            paths: Vec::new(),
            commit: None,
            fix: None,
            subject: None,
        }
    }

    fn report(findings: Vec<Finding>) -> CheckReport {
        let errors = findings
            .iter()
            .filter(|f| f.severity == Level::Error)
            .count();
        let warnings = findings
            .iter()
            .filter(|f| f.severity == Level::Warning)
            .count();
        CheckReport {
            schema: 1,
            head: Some("0123456789abcdef0123456789abcdef01234567".into()),
            state: "note",
            note_commit: None,
            shallow: false,
            strict: false,
            range: None,
            drift: errors > 0,
            findings,
            summary: Summary {
                errors,
                warnings,
                infos: 0,
            },
        }
    }

    #[test]
    fn workflow_command_escaping() {
        assert_eq!(escape_data("50% a\r\nb"), "50%25 a%0D%0Ab");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }

    #[test]
    fn github_annotations_carry_file_line_and_title() {
        let mut f = finding("managed-drift", Level::Error);
        f.file = Some("shop/settings/modules.py".into());
        f.line = Some(7);
        f.paths = vec!["shop/settings/modules.py".into()];
        f.message = "not rendered: 100%".into();
        f.fix = Some("run apply\nthen commit".into());
        let mut w = finding("no-note", Level::Warning);
        w.message = "a, b: c".into();
        let mut i = finding("module-modified", Level::Info);
        i.file = Some("modules/a".into());
        let lines = github_lines(&report(vec![f, w, i]));
        assert_eq!(
            lines,
            [
                "::error file=shop/settings/modules.py,line=7,title=git-quickscale managed-drift::not rendered: 100%25%0Afix: run apply%0Athen commit",
                "::warning title=git-quickscale no-note::a, b: c",
                "::notice file=modules/a,title=git-quickscale module-modified::msg",
                "git-quickscale check: drift found (1 error, 1 warning)",
            ]
        );
    }

    #[test]
    fn a_policy_annotation_names_the_commit_and_every_path() {
        let mut f = finding("mixed-commit", Level::Error);
        f.commit = Some("abcdef0123456789abcdef0123456789abcdef01".into());
        f.subject = Some("mixed".into());
        f.paths = vec!["static/a.css".into(), "templates/b.html".into()];
        f.file = Some("static/a.css".into());
        let lines = github_lines(&report(vec![f]));
        assert_eq!(
            lines[0],
            "::error file=static/a.css,title=git-quickscale mixed-commit::msg%0Ain commit abcdef012345 (mixed)%0A  static/a.css%0A  templates/b.html"
        );
    }

    #[test]
    fn text_blocks_show_location_paths_and_hint() {
        let mut drift = finding("managed-drift", Level::Error);
        drift.file = Some("shop/urls_modules.py".into());
        drift.line = Some(3);
        drift.paths = vec!["shop/urls_modules.py".into()];
        drift.fix = Some("one\ntwo".into());
        let mut modified = finding("module-modified", Level::Info);
        modified.file = Some("modules/a".into());
        modified.paths = vec!["modules/a/x.py".into()];
        let mut r = report(vec![drift, modified]);
        r.range = Some(RangeInfo {
            base: "origin/main".into(),
            base_commit: "b".into(),
            commits_checked: 1,
        });
        let text: Vec<String> = text_lines(&r).into_iter().map(|(_, l)| l).collect();
        assert_eq!(
            text,
            [
                "error[managed-drift] shop/urls_modules.py:3: msg",
                "  hint: one",
                "    two",
                "info[module-modified] modules/a: msg",
                "  modules/a/x.py",
                "",
                "Drift found: 1 error, 0 warnings (HEAD 0123456789ab, 1 commit of origin/main..HEAD checked).",
            ]
        );
        let clean = text_lines(&report(Vec::new()));
        assert_eq!(clean.len(), 1);
        assert_eq!(
            clean[0].1,
            "No drift: HEAD 0123456789ab matches quickscale.yml (0 errors, 0 warnings)."
        );
    }

    #[test]
    fn sarif_has_rules_levels_and_regions() {
        let mut f = finding("managed-drift", Level::Error);
        f.file = Some("x.py".into());
        f.line = Some(2);
        let doc = sarif(&report(vec![f, finding("no-note", Level::Warning)]));
        assert_eq!(doc["version"], "2.1.0");
        let run = &doc["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "git-quickscale");
        assert_eq!(run["tool"]["driver"]["rules"][0]["id"], "managed-drift");
        assert_eq!(run["results"][0]["level"], "error");
        assert_eq!(
            run["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"],
            2
        );
        assert_eq!(run["results"][1]["level"], "warning");
        assert!(run["results"][1].get("locations").is_none());
    }
}
