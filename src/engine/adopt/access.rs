//! Access levels adopt keeps. Upstream's CLI mounts every module's URL
//! include as it is, so every page a module serves is open to anyone; the
//! wiring here puts a module's pages behind a sign-in unless a level says
//! otherwise ([`Access::DEFAULT`]). Adopt changes nothing Django runs, so it
//! records `public` in `sources.<m>.access` for the includes upstream served
//! openly, and says so with a warning: those pages show the module's data
//! to anyone (issue 24's leak), and `login` is the level to choose.

use std::collections::BTreeMap;

use crate::config::CONFIG_FILE;
use crate::spec::{Access, UrlInclude};
use crate::value::Value;

/// Includes of one module that upstream served openly and the wiring would
/// guard: the include and the level it would get.
pub type Opened = Vec<(UrlInclude, Access)>;

/// Whether upstream's `urls_modules.py` mounts `include` without a guard.
fn mounted_openly(running_urls: &str, include: &str) -> bool {
    [
        format!("include(\"{include}\")"),
        format!("include('{include}')"),
    ]
    .iter()
    .any(|call| running_urls.contains(call.as_str()))
        && !running_urls.contains(&format!("protected(\"{include}\""))
}

/// For each module in `modules` (the adopted ones, without an access level
/// of the owner's in quickscale.yml): the includes the running
/// `urls_modules.py` mounts openly that the wiring would guard.
pub fn opened_by_upstream(
    running_urls: &str,
    levels: &BTreeMap<String, Vec<(UrlInclude, Access)>>,
    modules: &[String],
) -> BTreeMap<String, Opened> {
    modules
        .iter()
        .filter_map(|m| {
            let opened: Opened = levels
                .get(m)?
                .iter()
                .filter(|(u, level)| {
                    *level != Access::Public && mounted_openly(running_urls, &u.include)
                })
                .cloned()
                .collect();
            (!opened.is_empty()).then(|| (m.clone(), opened))
        })
        .collect()
}

/// What `sources.<m>.access` records: `public` when every include the
/// wiring would guard was open, else `public` for those includes only.
pub fn recorded(all: &[(UrlInclude, Access)], opened: &Opened) -> Value {
    let guarded = all.iter().filter(|(_, l)| *l != Access::Public).count();
    if guarded == opened.len() {
        return Value::Str(Access::Public.label());
    }
    Value::Map(
        opened
            .iter()
            .map(|(u, _)| (u.include.clone(), Value::Str(Access::Public.label())))
            .collect(),
    )
}

/// The plan's line (and warning) for module `m`.
pub fn warning(m: &str, opened: &Opened, value: &Value) -> String {
    let pages: Vec<String> = opened
        .iter()
        .map(|(u, level)| {
            format!(
                "/{} ({}; git quickscale's level: {})",
                u.route,
                u.include,
                level.label()
            )
        })
        .collect();
    format!(
        "{m}: upstream served {} to everyone, signed in or not; adopt keeps that ({CONFIG_FILE}: sources.{m}.access: {}). These pages show {m}'s data to anyone who opens them: set sources.{m}.access: login in {CONFIG_FILE} and run `git quickscale apply`, unless they are meant to be public",
        pages.join(", "),
        value.to_yaml().trim_end()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inc(route: &str, include: &str) -> UrlInclude {
        UrlInclude {
            route: route.into(),
            include: include.into(),
        }
    }

    #[test]
    fn only_guarded_includes_upstream_mounted_openly_are_kept_public() {
        let running = "MODULE_URLPATTERNS = [\n    path(\"accounts/\", include(\"allauth.urls\")),\n    path(\"crm/\", include('crm.urls')),\n    path(\"blog/\", protected(\"blog.urls\", \"login\")),\n]\n";
        let levels = BTreeMap::from([
            (
                "auth".to_owned(),
                vec![(inc("accounts/", "allauth.urls"), Access::Public)],
            ),
            (
                "crm".to_owned(),
                vec![
                    (inc("crm/", "crm.urls"), Access::Login),
                    (inc("crm/api/", "crm.api"), Access::Staff),
                ],
            ),
            (
                "blog".to_owned(),
                vec![(inc("blog/", "blog.urls"), Access::Login)],
            ),
        ]);
        let all = ["auth", "crm", "blog", "gone"].map(str::to_owned);
        let opened = opened_by_upstream(running, &levels, &all);
        // auth is public already; blog was guarded; crm.api was not mounted.
        assert_eq!(
            opened,
            BTreeMap::from([(
                "crm".to_owned(),
                vec![(inc("crm/", "crm.urls"), Access::Login)]
            )])
        );
        let value = recorded(&levels["crm"], &opened["crm"]);
        assert_eq!(
            value,
            Value::Map(BTreeMap::from([(
                "crm.urls".to_owned(),
                Value::Str("public".into())
            )]))
        );
        let whole = recorded(&levels["crm"][..1], &opened["crm"]);
        assert_eq!(whole, Value::Str("public".into()));
        let text = warning("crm", &opened["crm"], &whole);
        assert!(
            text.contains("/crm/ (crm.urls; git quickscale's level: login)"),
            "{text}"
        );
        assert!(text.contains("sources.crm.access: public"), "{text}");
        assert!(text.contains("set sources.crm.access: login"), "{text}");
    }
}
