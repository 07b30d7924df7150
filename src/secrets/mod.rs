//! The secret scan of `git quickscale push`: what leaves the machine
//! (outgoing commit messages and the lines they add to the module's files)
//! is checked against gitleaks-compatible rules before anything is pushed.
//!
//! Rules are data in gitleaks' configuration format: the built-in set
//! (`rules.toml`, beside this file) or a gitleaks config named by
//! `git config quickscale.push.secretRules` (e.g. gitleaks' own maintained
//! `config/gitleaks.toml`). A finding has gitleaks' fingerprint
//! `<commit>:<file>:<rule>:<line>`; `push --allow-secret <fingerprint>` lets
//! that one finding through.

use std::collections::BTreeSet;

use regex::Regex;
use serde::Deserialize;

/// The built-in rules (gitleaks' format; see the file's header for sources).
pub const BUILTIN_RULES: &str = include_str!("rules.toml");

/// The git config key naming a gitleaks-format rules file that replaces the
/// built-in rules.
pub const RULES_KEY: &str = "quickscale.push.secretRules";

/// What a finding in a commit message names as its file.
pub const MESSAGE_FILE: &str = "COMMIT_MESSAGE";

#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("the secret rules {origin} are not valid TOML: {message}")]
    Toml { origin: String, message: String },
    #[error("the secret rules {origin} have no usable rule")]
    Empty { origin: String },
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawConfig {
    #[serde(default)]
    allowlist: Option<RawAllowlist>,
    #[serde(default)]
    allowlists: Vec<RawAllowlist>,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRule {
    id: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    secret_group: Option<usize>,
    #[serde(default)]
    entropy: Option<f64>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    allowlist: Option<RawAllowlist>,
    #[serde(default)]
    allowlists: Vec<RawAllowlist>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAllowlist {
    #[serde(default)]
    regexes: Vec<String>,
    #[serde(default)]
    regex_target: Option<String>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    commits: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Secret,
    Match,
    Line,
}

#[derive(Debug)]
struct Allowlist {
    regexes: Vec<Regex>,
    target: Target,
    stopwords: Vec<String>,
    paths: Vec<Regex>,
    commits: Vec<String>,
}

#[derive(Debug)]
struct Rule {
    id: String,
    description: String,
    regex: Regex,
    path: Option<Regex>,
    secret_group: Option<usize>,
    entropy: Option<f64>,
    keywords: Vec<String>,
    allowlists: Vec<Allowlist>,
}

/// A compiled rule set.
#[derive(Debug)]
pub struct Scanner {
    rules: Vec<Rule>,
    global: Vec<Allowlist>,
    /// Rules that could not be used (id and why), e.g. a regex Rust's engine
    /// does not accept.
    pub skipped: Vec<(String, String)>,
}

/// One secret found in what would leave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: String,
    pub description: String,
    pub commit: String,
    /// The file (relative to the module's root), or [`MESSAGE_FILE`].
    pub file: String,
    /// 1-based line in the new file (or in the message).
    pub line: usize,
    /// The secret, shortened for display (first 4 characters, then `…`).
    pub redacted: String,
    /// gitleaks' fingerprint: `<commit>:<file>:<rule>:<line>`.
    pub fingerprint: String,
}

fn compile(pattern: &str) -> Result<Regex, String> {
    regex::RegexBuilder::new(pattern)
        .size_limit(50 << 20)
        .build()
        .map_err(|e| e.to_string().lines().last().unwrap_or_default().to_owned())
}

impl Allowlist {
    fn compile(raw: RawAllowlist, skipped: &mut Vec<(String, String)>, owner: &str) -> Self {
        let mut regexes = Vec::new();
        for r in raw.regexes {
            match compile(&r) {
                Ok(re) => regexes.push(re),
                Err(e) => skipped.push((format!("{owner} allowlist"), e)),
            }
        }
        let mut paths = Vec::new();
        for r in raw.paths {
            match compile(&r) {
                Ok(re) => paths.push(re),
                Err(e) => skipped.push((format!("{owner} allowlist path"), e)),
            }
        }
        Self {
            regexes,
            target: match raw.regex_target.as_deref() {
                Some("match") => Target::Match,
                Some("line") => Target::Line,
                _ => Target::Secret,
            },
            stopwords: raw
                .stopwords
                .into_iter()
                .map(|s| s.to_lowercase())
                .collect(),
            paths,
            commits: raw.commits,
        }
    }

    /// Whether this allowlist lets the finding through.
    fn allows(&self, secret: &str, matched: &str, line: &str, file: &str, commit: &str) -> bool {
        if self.commits.iter().any(|c| c == commit) {
            return true;
        }
        if self.paths.iter().any(|p| p.is_match(file)) {
            return true;
        }
        let target = match self.target {
            Target::Secret => secret,
            Target::Match => matched,
            Target::Line => line,
        };
        if self.regexes.iter().any(|r| r.is_match(target)) {
            return true;
        }
        let lower = secret.to_lowercase();
        self.stopwords.iter().any(|w| lower.contains(w.as_str()))
    }
}

impl Scanner {
    /// The built-in rules.
    pub fn builtin() -> Result<Self, RulesError> {
        Self::from_toml(BUILTIN_RULES, "built into git-quickscale")
    }

    /// Rules in gitleaks' configuration format.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, RulesError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| RulesError::Toml {
            origin: origin.to_owned(),
            message: e.to_string().lines().next().unwrap_or_default().to_owned(),
        })?;
        let mut skipped = Vec::new();
        let global = raw
            .allowlist
            .into_iter()
            .chain(raw.allowlists)
            .map(|a| Allowlist::compile(a, &mut skipped, "global"))
            .collect();
        let mut rules = Vec::new();
        for r in raw.rules {
            // Path-only rules (e.g. "this file must not be committed") need
            // no content regex; everything else does.
            let Some(pattern) = r.regex.as_deref() else {
                skipped.push((
                    r.id.clone(),
                    "no regex (path-only rules are not used)".into(),
                ));
                continue;
            };
            let regex = match compile(pattern) {
                Ok(re) => re,
                Err(e) => {
                    skipped.push((r.id.clone(), e));
                    continue;
                }
            };
            let path = match r.path.as_deref().map(compile).transpose() {
                Ok(p) => p,
                Err(e) => {
                    skipped.push((r.id.clone(), e));
                    continue;
                }
            };
            let allowlists = r
                .allowlist
                .into_iter()
                .chain(r.allowlists)
                .map(|a| Allowlist::compile(a, &mut skipped, &r.id))
                .collect();
            rules.push(Rule {
                keywords: r.keywords.iter().map(|k| k.to_lowercase()).collect(),
                id: r.id,
                description: r.description,
                regex,
                path,
                secret_group: r.secret_group,
                entropy: r.entropy,
                allowlists,
            });
        }
        if rules.is_empty() {
            return Err(RulesError::Empty {
                origin: origin.to_owned(),
            });
        }
        Ok(Self {
            rules,
            global,
            skipped,
        })
    }

    /// The ids of the rules in use.
    pub fn rule_ids(&self) -> Vec<&str> {
        self.rules.iter().map(|r| r.id.as_str()).collect()
    }

    /// Scans `text` (one file's added lines, or a message): `lines` are
    /// (1-based line number, line) pairs.
    pub fn scan_lines<'a>(
        &self,
        commit: &str,
        file: &str,
        lines: impl IntoIterator<Item = (usize, &'a str)>,
    ) -> Vec<Finding> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        for (number, line) in lines {
            let lower = line.to_lowercase();
            // (rule, secret's byte range) found on this line.
            let mut found: Vec<(&Rule, std::ops::Range<usize>)> = Vec::new();
            for rule in &self.rules {
                if !rule.keywords.is_empty()
                    && !rule.keywords.iter().any(|k| lower.contains(k.as_str()))
                {
                    continue;
                }
                if rule
                    .path
                    .as_ref()
                    .is_some_and(|p| file != MESSAGE_FILE && !p.is_match(file))
                {
                    continue;
                }
                for caps in rule.regex.captures_iter(line) {
                    let Some(whole) = caps.get(0) else { continue };
                    let secret = secret_of(&caps, rule.secret_group).unwrap_or(whole);
                    if secret.as_str().is_empty() {
                        continue;
                    }
                    if rule
                        .entropy
                        .is_some_and(|min| entropy(secret.as_str()) < min)
                    {
                        continue;
                    }
                    let allowed = |a: &Allowlist| {
                        a.allows(secret.as_str(), whole.as_str(), line, file, commit)
                    };
                    if rule.allowlists.iter().any(allowed) || self.global.iter().any(allowed) {
                        continue;
                    }
                    found.push((rule, secret.range()));
                }
            }
            // As gitleaks does: a generic rule's finding is dropped where a
            // specific rule found the same secret.
            let overlaps = |a: &std::ops::Range<usize>, b: &std::ops::Range<usize>| {
                a.start < b.end && b.start < a.end
            };
            for (rule, range) in &found {
                let generic = rule.id.starts_with("generic");
                if generic
                    && found
                        .iter()
                        .any(|(r, other)| !r.id.starts_with("generic") && overlaps(range, other))
                {
                    continue;
                }
                let fingerprint = format!("{commit}:{file}:{}:{number}", rule.id);
                if !seen.insert(fingerprint.clone()) {
                    continue;
                }
                out.push(Finding {
                    rule: rule.id.clone(),
                    description: rule.description.clone(),
                    commit: commit.to_owned(),
                    file: file.to_owned(),
                    line: number,
                    redacted: redact(&line[range.clone()]),
                    fingerprint,
                });
            }
        }
        out
    }
}

/// The secret of a match: the rule's `secretGroup`, else the first
/// non-empty group, else the whole match (gitleaks' order).
fn secret_of<'t>(caps: &regex::Captures<'t>, group: Option<usize>) -> Option<regex::Match<'t>> {
    if let Some(g) = group {
        return caps.get(g);
    }
    (1..caps.len())
        .filter_map(|i| caps.get(i))
        .find(|m| !m.as_str().is_empty())
}

/// Shannon entropy in bits per character.
pub fn entropy(s: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    let mut total = 0usize;
    for c in s.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
        total += 1;
    }
    if total == 0 {
        return 0.0;
    }
    counts
        .values()
        .map(|&n| {
            let p = n as f64 / total as f64;
            -p * p.log2()
        })
        .sum()
}

/// Enough of a secret to recognise it, not to use it.
fn redact(secret: &str) -> String {
    let head: String = secret.chars().take(4).collect();
    format!("{head}…")
}

#[cfg(test)]
mod tests;
