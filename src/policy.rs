//! The ownership policy: is a change allowed? One set of rules on top of
//! [`ownership::classify`], used by the hooks (staged changes, a merge being
//! committed), by `check --base` (each commit of a range) and by the engine
//! (paths a module operation is about to write).
//!
//! Pure functions over plain data: collecting the change set from git is
//! `git::changes`. Rule ids are stable (docs/hooks.md lists them).

use std::collections::BTreeSet;

use serde::Serialize;

use crate::ownership::{self, Class};

pub use crate::git::changes::{Change, ChangeKind, ChangeSet, Merge};

/// The project as the applied state before the change describes it.
#[derive(Debug, Clone, Copy)]
pub struct Project<'a> {
    pub package: &'a str,
    /// Embedded module names.
    pub modules: &'a [String],
}

impl Project<'_> {
    fn class(&self, path: &str) -> Class {
        ownership::classify(path, self.package, self.modules)
    }
}

/// The rule a violation breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// Module-owned and user-owned paths in one commit.
    MixedCommit,
    /// A subtree merge that changes more than its prefix and the managed files.
    SubtreeMerge,
    /// A tool-managed file edited by hand.
    ManagedEdit,
    /// A module prefix deleted or renamed by hand.
    PrefixRemoved,
    /// quickscale.yml committed without `apply` (a warning).
    DesiredNotApplied,
    /// A module operation about to write a user-owned path (engine guard).
    UserOwnedWrite,
}

impl Rule {
    /// The stable id shown in messages and JSON.
    pub fn id(self) -> &'static str {
        match self {
            Rule::MixedCommit => "mixed-commit",
            Rule::SubtreeMerge => "subtree-merge",
            Rule::ManagedEdit => "managed-edit",
            Rule::PrefixRemoved => "prefix-removed",
            Rule::DesiredNotApplied => "desired-not-applied",
            Rule::UserOwnedWrite => "user-owned-write",
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Blocks the commit (hooks) or is drift (`check`).
    Error,
    /// Reported, never blocks.
    Warning,
}

/// A broken rule: what, which paths, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub rule: Rule,
    pub severity: Severity,
    /// One line saying what is wrong.
    pub message: String,
    /// The offending paths, sorted.
    pub paths: Vec<String>,
    /// What to do instead (may span lines).
    pub fix: String,
}

/// Checks a change set against every rule. Ordinary merges are not checked
/// for content: their commits were checked one by one.
pub fn evaluate(set: &ChangeSet, project: &Project) -> Vec<Violation> {
    let mut out = Vec::new();
    match &set.merge {
        Some(merge) if !merge.subtree_prefixes.is_empty() => {
            subtree_merge(set, merge, project, &mut out);
        }
        Some(_) => {}
        None => {
            let removed = removed_prefixes(set, project, &mut out);
            mixed_commit(set, project, &removed, &mut out);
            if !set.by_tool {
                managed_edit(set, project, &mut out);
                desired_not_applied(set, project, &mut out);
            }
        }
    }
    out
}

/// Whether any rule could fire on `set`, whatever the project's package and
/// modules: a subtree merge, or a touched path under `modules/` or one that
/// may be tool-managed or the desired state. When not, a hook need not load
/// the applied state (a note, or the catalog and quickscale.yml), which was a
/// quarter of every ordinary commit's check. Kept in step with [`evaluate`]
/// by the tests below.
pub fn may_concern_project(set: &ChangeSet) -> bool {
    if set
        .merge
        .as_ref()
        .is_some_and(|m| !m.subtree_prefixes.is_empty())
    {
        return true;
    }
    set.changes
        .iter()
        .flat_map(Change::touched)
        .any(|p| p.starts_with("modules/") || ownership::is_managed_candidate(p))
}

/// The engine's guard: a module operation (embed, update, remove) may write
/// only module-owned, tool-managed and desired-state paths. `project.modules`
/// must include the modules the operation adds.
pub fn check_tool_writes<'a>(
    paths: impl IntoIterator<Item = &'a str>,
    project: &Project,
) -> Option<Violation> {
    let bad: BTreeSet<String> = paths
        .into_iter()
        .filter(|p| project.class(p) == Class::UserOwned)
        .map(str::to_owned)
        .collect();
    if bad.is_empty() {
        return None;
    }
    Some(Violation {
        rule: Rule::UserOwnedWrite,
        severity: Severity::Error,
        message: "a module operation would write files that belong to you".into(),
        paths: bad.into_iter().collect(),
        fix: "nothing was written; this is a bug in git-quickscale or in a module's wiring, please report it".into(),
    })
}

fn subtree_merge(set: &ChangeSet, merge: &Merge, project: &Project, out: &mut Vec<Violation>) {
    let prefixes: Vec<&str> = merge
        .subtree_prefixes
        .iter()
        .map(|p| p.trim_end_matches('/'))
        .collect();
    let inside = |path: &str| {
        prefixes.iter().any(|p| {
            path.strip_prefix(p)
                .is_some_and(|rest| rest.starts_with('/'))
        })
    };
    let bad: BTreeSet<String> = set
        .changes
        .iter()
        .flat_map(Change::touched)
        .filter(|p| !inside(p) && project.class(p) != Class::ToolManaged)
        .map(str::to_owned)
        .collect();
    if bad.is_empty() {
        return;
    }
    let named = prefixes
        .iter()
        .map(|p| format!("{p}/"))
        .collect::<Vec<_>>()
        .join(", ");
    let list = shell_list(&bad);
    out.push(Violation {
        rule: Rule::SubtreeMerge,
        severity: Severity::Error,
        message: format!(
            "this subtree merge of {named} also changes paths outside it; a module update may change only its prefix and the tool-managed files"
        ),
        paths: bad.into_iter().collect(),
        fix: format!(
            "take those changes out of the merge (git restore --staged --worktree --source=HEAD -- {list}), commit the merge, then make them in a commit of their own; or abandon it with `git merge --abort`"
        ),
    });
}

/// Embedded modules whose whole prefix the change deletes or moves away.
fn removed_prefixes(
    set: &ChangeSet,
    project: &Project,
    out: &mut Vec<Violation>,
) -> BTreeSet<String> {
    let mut removed = BTreeSet::new();
    for name in project.modules {
        if set.module_dirs_after.contains(name) {
            continue;
        }
        let prefix = format!("modules/{name}/");
        let gone: BTreeSet<String> = set
            .changes
            .iter()
            .filter_map(|c| match &c.kind {
                ChangeKind::Deleted if c.path.starts_with(&prefix) => Some(c.path.clone()),
                ChangeKind::Renamed(from) if from.starts_with(&prefix) => Some(from.clone()),
                _ => None,
            })
            .collect();
        if gone.is_empty() {
            continue;
        }
        removed.insert(name.clone());
        if set.by_tool {
            continue;
        }
        let renamed_to: BTreeSet<String> = set
            .changes
            .iter()
            .filter_map(|c| match &c.kind {
                ChangeKind::Renamed(from) if from.starts_with(&prefix) => {
                    Some(top_dir(&c.path).to_owned())
                }
                _ => None,
            })
            .collect();
        let (message, fix) = if renamed_to.is_empty() {
            (
                format!("this commit deletes the module prefix modules/{name}/ by hand"),
                format!(
                    "put it back (git restore --staged --worktree --source=HEAD -- modules/{name}), then remove the module with `git quickscale remove {name}`: it also removes its wiring and its quickscale.yml entry"
                ),
            )
        } else {
            let to = renamed_to.into_iter().collect::<Vec<_>>().join(", ");
            (
                format!("this commit moves the module prefix modules/{name}/ to {to}"),
                format!(
                    "put it back (git restore --staged --worktree --source=HEAD -- modules/{name} {to}); a module always lives in modules/<name>: to use another name, `git quickscale remove {name}` and add it again under the new name with `git quickscale plan --add NAME --source NAME=URL`"
                ),
            )
        };
        out.push(Violation {
            rule: Rule::PrefixRemoved,
            severity: Severity::Error,
            message,
            paths: vec![format!("modules/{name}/")],
            fix,
        });
    }
    removed
}

/// The first two components of a path under modules/, else its first one.
fn top_dir(path: &str) -> &str {
    let mut parts = path.match_indices('/');
    let end = if path.starts_with("modules/") {
        parts.nth(1)
    } else {
        parts.next()
    };
    match end {
        Some((i, _)) => &path[..=i],
        None => path,
    }
}

fn mixed_commit(
    set: &ChangeSet,
    project: &Project,
    removed: &BTreeSet<String>,
    out: &mut Vec<Violation>,
) {
    let mut module = BTreeSet::new();
    let mut user = BTreeSet::new();
    for path in set.changes.iter().flat_map(Change::touched) {
        match project.class(path) {
            // A removed prefix is reported by its own rule.
            Class::ModuleOwned(name) if !removed.contains(&name) => {
                module.insert(path.to_owned());
            }
            Class::UserOwned => {
                user.insert(path.to_owned());
            }
            _ => {}
        }
    }
    if module.is_empty() || user.is_empty() {
        return;
    }
    let list = shell_list(&user);
    let message = format!(
        "this commit changes module-owned files ({}) together with your own files; keep module work and your work in separate commits so the module can be updated or pushed upstream cleanly",
        summarize(&module)
    );
    out.push(Violation {
        rule: Rule::MixedCommit,
        severity: Severity::Error,
        message,
        paths: user.iter().cloned().collect(),
        fix: format!(
            "split the commit: unstage your files (git restore --staged -- {list}), commit the module change, then `git add -- {list}` and commit them separately"
        ),
    });
}

fn managed_edit(set: &ChangeSet, project: &Project, out: &mut Vec<Violation>) {
    let edited: BTreeSet<String> = set
        .changes
        .iter()
        .flat_map(Change::touched)
        .filter(|p| project.class(p) == Class::ToolManaged)
        .map(str::to_owned)
        .collect();
    if edited.is_empty() {
        return;
    }
    let mut fix = format!(
        "drop the hand edit (git restore --staged --worktree --source=HEAD -- {}) and say what you want in quickscale.yml instead:",
        shell_list(&edited)
    );
    for path in &edited {
        fix.push_str(&format!(
            "\n  {path}: {}",
            managed_hint(path, project.package)
        ));
    }
    out.push(Violation {
        rule: Rule::ManagedEdit,
        severity: Severity::Error,
        message: "this commit edits files that git-quickscale regenerates; a hand edit is lost on the next apply".into(),
        paths: edited.into_iter().collect(),
        fix,
    });
}

/// Which quickscale.yml change does what a hand edit of `path` wanted.
fn managed_hint(path: &str, package: &str) -> String {
    if path == crate::layout::REQUIREMENTS_FILE {
        "module requirements come from each module's manifest; add your own requirements to requirements.txt".into()
    } else if path.ends_with("/urls_modules.py") {
        format!(
            "module URLs come from each module's manifest; add your own routes to {package}/urls.py"
        )
    } else if path.ends_with("/settings/modules.py") {
        format!(
            "module settings come from their options: `git quickscale plan --reconfigure --set MODULE.OPTION=VALUE`, then `git quickscale apply`; add or override other settings in {package}/settings/base.py"
        )
    } else {
        "run `git quickscale apply` to regenerate it from quickscale.yml".into()
    }
}

fn desired_not_applied(set: &ChangeSet, project: &Project, out: &mut Vec<Violation>) {
    let touched = set
        .changes
        .iter()
        .flat_map(Change::touched)
        .any(|p| project.class(p) == Class::DesiredState);
    if !touched {
        return;
    }
    out.push(Violation {
        rule: Rule::DesiredNotApplied,
        severity: Severity::Warning,
        message: format!(
            "{} is committed without `git quickscale apply`",
            crate::layout::CONFIG_FILE
        ),
        paths: vec![crate::layout::CONFIG_FILE.to_owned()],
        fix: "run `git quickscale apply` so the project matches it (`git quickscale check` reports the difference as drift until then)".into(),
    });
}

/// Paths quoted for a shell command line, space-separated.
fn shell_list(paths: &BTreeSet<String>) -> String {
    paths
        .iter()
        .map(|p| crate::escape::shell_word(p))
        .collect::<Vec<_>>()
        .join(" ")
}

/// "modules/a/x.py" or "modules/a/x.py and 3 more".
fn summarize(paths: &BTreeSet<String>) -> String {
    let mut it = paths.iter();
    let first = it
        .next()
        .map(|p| crate::escape::quote(p).into_owned())
        .unwrap_or_default();
    match paths.len() {
        0 | 1 => first,
        n => format!("{first} and {} more", n - 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modules() -> Vec<String> {
        vec!["crm".into(), "blog".into()]
    }

    fn set(changes: &[(&str, ChangeKind)]) -> ChangeSet {
        ChangeSet {
            changes: changes
                .iter()
                .map(|(p, k)| Change::new(*p, k.clone()))
                .collect(),
            merge: None,
            module_dirs_after: ["crm", "blog"].iter().map(|s| s.to_string()).collect(),
            by_tool: false,
        }
    }

    fn eval(s: &ChangeSet) -> Vec<Violation> {
        let mods = modules();
        evaluate(
            s,
            &Project {
                package: "shop",
                modules: &mods,
            },
        )
    }

    fn rules(v: &[Violation]) -> Vec<Rule> {
        v.iter().map(|v| v.rule).collect()
    }

    use ChangeKind::*;

    #[test]
    fn mixed_commit_is_refused_and_names_the_user_paths() {
        let v = eval(&set(&[
            ("modules/crm/models.py", Modified),
            ("templates/base.html", Modified),
            ("static/site.css", Added),
        ]));
        assert_eq!(rules(&v), [Rule::MixedCommit]);
        assert_eq!(v[0].severity, Severity::Error);
        assert_eq!(v[0].paths, ["static/site.css", "templates/base.html"]);
        assert!(v[0].message.contains("modules/crm/models.py"), "{v:?}");
        assert!(
            v[0].fix
                .contains("git restore --staged -- static/site.css templates/base.html"),
            "{}",
            v[0].fix
        );
    }

    #[test]
    fn module_only_and_user_only_commits_pass() {
        assert!(
            eval(&set(&[
                ("modules/crm/models.py", Modified),
                ("modules/blog/x.py", Added)
            ]))
            .is_empty()
        );
        assert!(
            eval(&set(&[
                ("templates/base.html", Modified),
                ("shop/views.py", Added)
            ]))
            .is_empty()
        );
        // A module change together with quickscale.yml is not mixed (only warned about).
        let v = eval(&set(&[
            ("modules/crm/models.py", Modified),
            ("quickscale.yml", Modified),
        ]));
        assert_eq!(rules(&v), [Rule::DesiredNotApplied]);
    }

    #[test]
    fn a_rename_across_the_boundary_is_mixed() {
        let v = eval(&set(&[(
            "templates/crm/list.html",
            Renamed("modules/crm/templates/crm/list.html".into()),
        )]));
        assert_eq!(rules(&v), [Rule::MixedCommit]);
        assert_eq!(v[0].paths, ["templates/crm/list.html"]);
    }

    #[test]
    fn a_directory_in_modules_that_is_not_embedded_is_user_owned() {
        assert!(
            eval(&set(&[
                ("modules/mine/x.py", Added),
                ("templates/a.html", Added)
            ]))
            .is_empty()
        );
    }

    #[test]
    fn subtree_merge_may_touch_only_its_prefix_and_managed_files() {
        let mut ok = set(&[
            ("modules/crm/models.py", Modified),
            ("modules/crm/new.py", Added),
            ("shop/settings/modules.py", Modified),
        ]);
        ok.merge = Some(Merge {
            subtree_prefixes: vec!["modules/crm".into()],
        });
        assert!(eval(&ok).is_empty(), "{:?}", eval(&ok));

        let mut bad = ok.clone();
        bad.changes
            .push(Change::new("templates/base.html", Modified));
        bad.changes.push(Change::new("modules/blog/x.py", Modified));
        let v = eval(&bad);
        assert_eq!(rules(&v), [Rule::SubtreeMerge]);
        assert_eq!(v[0].paths, ["modules/blog/x.py", "templates/base.html"]);
        assert!(v[0].message.contains("modules/crm/"), "{}", v[0].message);
        assert!(v[0].fix.contains("git merge --abort"));
    }

    #[test]
    fn a_subtree_merge_may_add_a_new_prefix() {
        // A first `git subtree add`-style merge: the module is not embedded yet.
        let mut s = set(&[("modules/new/module.yml", Added)]);
        s.merge = Some(Merge {
            subtree_prefixes: vec!["modules/new/".into()],
        });
        assert!(eval(&s).is_empty());
        // A prefix is a directory: modules/newer is not inside modules/new.
        s.changes.push(Change::new("modules/newer/x", Added));
        assert_eq!(rules(&eval(&s)), [Rule::SubtreeMerge]);
    }

    #[test]
    fn ordinary_merges_are_not_checked_for_content() {
        let mut s = set(&[
            ("modules/crm/models.py", Modified),
            ("templates/base.html", Modified),
            ("shop/urls_modules.py", Modified),
        ]);
        s.merge = Some(Merge::default());
        assert!(eval(&s).is_empty());
    }

    #[test]
    fn managed_files_edited_by_hand_are_refused_with_a_hint_each() {
        let v = eval(&set(&[
            ("shop/settings/modules.py", Modified),
            ("shop/urls_modules.py", Modified),
            ("requirements-modules.txt", Modified),
        ]));
        assert_eq!(rules(&v), [Rule::ManagedEdit]);
        assert_eq!(
            v[0].paths,
            [
                "requirements-modules.txt",
                "shop/settings/modules.py",
                "shop/urls_modules.py"
            ]
        );
        assert!(v[0].fix.contains("--reconfigure --set MODULE.OPTION=VALUE"));
        assert!(v[0].fix.contains("shop/urls.py"));
        assert!(v[0].fix.contains("requirements.txt"));
        // Another package's settings/modules.py is an ordinary file.
        assert!(eval(&set(&[("other/settings/modules.py", Modified)])).is_empty());
    }

    #[test]
    fn the_tool_may_write_managed_files_and_quickscale_yml() {
        let mut s = set(&[
            ("shop/settings/modules.py", Modified),
            ("quickscale.yml", Modified),
        ]);
        s.by_tool = true;
        assert!(eval(&s).is_empty());
    }

    #[test]
    fn deleting_a_module_prefix_by_hand_is_refused_with_the_remove_recipe() {
        let mut s = set(&[
            ("modules/crm/models.py", Deleted),
            ("modules/crm/module.yml", Deleted),
        ]);
        s.module_dirs_after.remove("crm");
        let v = eval(&s);
        assert_eq!(rules(&v), [Rule::PrefixRemoved]);
        assert_eq!(v[0].paths, ["modules/crm/"]);
        assert!(
            v[0].fix.contains("git quickscale remove crm"),
            "{}",
            v[0].fix
        );
        // The tool's own remove commit is fine.
        s.by_tool = true;
        assert!(eval(&s).is_empty());
    }

    #[test]
    fn deleting_some_module_files_is_module_work() {
        let s = set(&[("modules/crm/models.py", Deleted)]);
        assert!(eval(&s).is_empty());
    }

    #[test]
    fn renaming_a_module_prefix_is_refused() {
        let mut s = set(&[
            (
                "modules/sales/models.py",
                Renamed("modules/crm/models.py".into()),
            ),
            (
                "modules/sales/module.yml",
                Renamed("modules/crm/module.yml".into()),
            ),
        ]);
        s.module_dirs_after.remove("crm");
        s.module_dirs_after.insert("sales".into());
        let v = eval(&s);
        assert_eq!(rules(&v), [Rule::PrefixRemoved]);
        assert!(
            v[0].message
                .contains("moves the module prefix modules/crm/ to modules/sales/"),
            "{}",
            v[0].message
        );
        assert!(v[0].fix.contains("git quickscale remove crm"));
    }

    #[test]
    fn deleting_a_prefix_and_editing_templates_reports_the_removal_only_once() {
        let mut s = set(&[
            ("modules/crm/models.py", Deleted),
            ("templates/a.html", Modified),
        ]);
        s.module_dirs_after.remove("crm");
        assert_eq!(rules(&eval(&s)), [Rule::PrefixRemoved]);
    }

    #[test]
    fn quickscale_yml_committed_by_hand_is_a_warning() {
        let v = eval(&set(&[
            ("quickscale.yml", Modified),
            ("templates/a.html", Modified),
        ]));
        assert_eq!(rules(&v), [Rule::DesiredNotApplied]);
        assert_eq!(v[0].severity, Severity::Warning);
        assert!(v[0].fix.contains("git quickscale apply"));
        assert!(eval(&set(&[("templates/a.html", Modified)])).is_empty());
    }

    #[test]
    fn the_engine_guard_refuses_user_owned_writes() {
        let mods = modules();
        let p = Project {
            package: "shop",
            modules: &mods,
        };
        assert_eq!(
            check_tool_writes(
                [
                    "modules/crm/a.py",
                    "shop/settings/modules.py",
                    "quickscale.yml"
                ],
                &p
            ),
            None
        );
        let v =
            check_tool_writes(["modules/crm/a.py", "templates/base.html"], &p).expect("violation");
        assert_eq!(v.rule, Rule::UserOwnedWrite);
        assert_eq!(v.paths, ["templates/base.html"]);
    }

    #[test]
    fn paths_with_spaces_are_quoted_in_fixes() {
        let v = eval(&set(&[
            ("modules/crm/a.py", Modified),
            ("templates/my page.html", Modified),
        ]));
        assert!(
            v[0].fix.contains("'templates/my page.html'"),
            "{}",
            v[0].fix
        );
    }

    #[test]
    fn rule_ids_are_stable() {
        let ids: Vec<&str> = [
            Rule::MixedCommit,
            Rule::SubtreeMerge,
            Rule::ManagedEdit,
            Rule::PrefixRemoved,
            Rule::DesiredNotApplied,
            Rule::UserOwnedWrite,
        ]
        .iter()
        .map(|r| r.id())
        .collect();
        assert_eq!(
            ids,
            [
                "mixed-commit",
                "subtree-merge",
                "managed-edit",
                "prefix-removed",
                "desired-not-applied",
                "user-owned-write"
            ]
        );
        assert_eq!(
            serde_json::to_value(Rule::MixedCommit).expect("json"),
            "mixed-commit"
        );
    }

    mod may_concern_project {
        //! A hook skips loading the state when `may_concern_project` says
        //! no: that must never hide a violation, for any project.
        use super::*;
        use proptest::prelude::*;

        const PATHS: &[&str] = &[
            "notes.py",
            "templates/base.html",
            "static/site.css",
            "shop/views.py",
            "shop/settings/base.py",
            "shop/settings/modules.py",
            "shop/urls_modules.py",
            "other/settings/modules.py",
            "requirements-modules.txt",
            "requirements.txt",
            "quickscale.yml",
            "docs/quickscale.yml",
            "modules/crm/models.py",
            "modules/blog/views.py",
            "modules/gone/x.py",
            "modulesx/crm.py",
        ];

        fn change() -> impl Strategy<Value = Change> {
            (0..PATHS.len(), 0..PATHS.len(), 0..4u8).prop_map(|(p, from, k)| {
                let kind = match k {
                    0 => Added,
                    1 => Modified,
                    2 => Deleted,
                    _ => Renamed(PATHS[from].to_owned()),
                };
                Change::new(PATHS[p], kind)
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]
            #[test]
            fn no_violation_is_missed(
                changes in proptest::collection::vec(change(), 0..6),
                merge in 0..3u8,
                package in prop::sample::select(vec!["shop", "other", "x"]),
                modules in proptest::collection::vec(
                    prop::sample::select(vec!["crm", "blog", "gone"]), 0..3),
                after in proptest::collection::vec(
                    prop::sample::select(vec!["crm", "blog"]), 0..2),
            ) {
                let set = ChangeSet {
                    changes,
                    merge: match merge {
                        0 => None,
                        1 => Some(Merge::default()),
                        _ => Some(Merge { subtree_prefixes: vec!["modules/crm".into()] }),
                    },
                    module_dirs_after: after.iter().map(|s| s.to_string()).collect(),
                    by_tool: false,
                };
                let modules: Vec<String> = modules.iter().map(|s| s.to_string()).collect();
                if !may_concern_project(&set) {
                    let found = evaluate(&set, &Project { package, modules: &modules });
                    prop_assert!(found.is_empty(), "{set:?} with {modules:?}: {found:?}");
                }
            }
        }

        #[test]
        fn only_own_files_do_not_concern_the_project() {
            assert!(!may_concern_project(&set(&[
                ("notes.py", Added),
                ("templates/base.html", Modified),
            ])));
            assert!(may_concern_project(&set(&[("modules/crm/x.py", Modified)])));
            assert!(may_concern_project(&set(&[(
                "notes.py",
                Renamed("modules/crm/x.py".into())
            )])));
            assert!(may_concern_project(&set(&[("quickscale.yml", Modified)])));
            assert!(may_concern_project(&set(&[(
                "a/settings/modules.py",
                Added
            )])));
        }
    }
}
