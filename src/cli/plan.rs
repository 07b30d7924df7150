//! `git quickscale plan`: write a new quickscale.yml, or edit one in place.

use std::path::{Path, PathBuf};

use clap::builder::PossibleValuesParser;

use super::{CmdResult, Context};
use crate::catalog::Catalog;
use crate::config::emit;
use crate::config::{self, CONFIG_FILE, ConfigFile, Identity, ProjectConfig, Theme};
use crate::engine::request::{
    self, EditRequest, ManifestStatus, ModuleArg, NewRequest, SetArg, SourceArg, parse_cli_value,
};
use crate::error::{CliError, exit};
use crate::identity;
use crate::manifest::Manifest;
use crate::project;
use crate::report::{self, DiffLine};
use crate::source;
use crate::ui::Tone;

/// Write or edit quickscale.yml, the desired state of a project
///
/// With a SLUG, writes `<slug>/quickscale.yml` for a new project, asking for
/// anything not given as a flag when run on a terminal. Inside a project,
/// `--add`, `--remove` and `--reconfigure` edit quickscale.yml in place,
/// keeping comments and formatting byte-for-byte outside the changed lines.
/// Nothing is generated or embedded until `git quickscale apply`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  git quickscale plan demo --theme showcase_html --module crm --module auth@v0.63.0 --set crm.deals_per_page=50 --yes
  git quickscale plan --add blog
  git quickscale plan --remove crm
  git quickscale plan --pin crm@v1.2.0
  git quickscale plan --reconfigure --set auth.registration_enabled=false")]
pub struct PlanArgs {
    /// Slug of a new project (directory and service name), e.g. `my-shop`
    pub slug: Option<String>,

    /// Theme of a new project [default: showcase_react]; crm_react adds the crm and auth modules
    #[arg(long, value_parser = PossibleValuesParser::new(Theme::names()))]
    pub theme: Option<String>,

    /// Python package of a new project [default: the slug with `-` as `_`]
    #[arg(long, value_name = "NAME")]
    pub package: Option<String>,

    /// Module of a new project, optionally pinned to a branch, tag or commit (can be repeated)
    #[arg(long = "module", value_name = "NAME[@REF]")]
    pub modules: Vec<ModuleArg>,

    /// Where a module comes from: a git URL, or a path relative to the project (can be repeated)
    #[arg(long = "source", value_name = "NAME=URL")]
    pub sources: Vec<SourceArg>,

    /// Set a module option (can be repeated)
    #[arg(long = "set", value_name = "MODULE.OPTION=VALUE")]
    pub sets: Vec<SetArg>,

    /// Add a module to this project's quickscale.yml (can be repeated)
    #[arg(long = "add", value_name = "NAME[@REF]", conflicts_with_all = ["slug", "theme", "package", "modules"])]
    pub add: Vec<ModuleArg>,

    /// Remove a module from this project's quickscale.yml (can be repeated)
    #[arg(long = "remove", value_name = "NAME", conflicts_with_all = ["slug", "theme", "package", "modules"])]
    pub remove: Vec<String>,

    /// Pin a module already in quickscale.yml to a branch, tag or commit (`sources.<name>.ref`);
    /// `apply` then moves it there with the same merge as `update` (can be repeated)
    #[arg(long = "pin", value_name = "NAME@REF", conflicts_with_all = ["slug", "theme", "package", "modules"])]
    pub pin: Vec<ModuleArg>,

    /// Change options of modules already in quickscale.yml (asks on a terminal unless --set is given)
    #[arg(long, conflicts_with_all = ["slug", "theme", "package", "modules"])]
    pub reconfigure: bool,

    /// Ask nothing: use the defaults for anything not given, and save
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// The quickscale.yml to write or edit [default: <slug>/quickscale.yml, or the project's]
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Show the quickscale.yml that would be written (or the diff of an edit) and write nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Overwrite an existing quickscale.yml when planning a new project
    #[arg(long)]
    pub force: bool,

    /// Never touch the network, not even to read a module's manifest
    #[arg(long)]
    pub offline: bool,
}

pub fn cmd_plan(ctx: &Context, args: &PlanArgs) -> CmdResult {
    let catalog = ctx.catalog()?;
    if !args.add.is_empty() || !args.remove.is_empty() || !args.pin.is_empty() || args.reconfigure {
        edit_existing(ctx, args, &catalog)
    } else {
        plan_new(ctx, args, &catalog)
    }
}

fn asks(ctx: &Context, args: &PlanArgs) -> bool {
    ctx.ui.is_interactive() && !args.yes
}

fn plan_new(ctx: &Context, args: &PlanArgs, catalog: &Catalog) -> CmdResult {
    let Some(slug) = args.slug.clone() else {
        if project::find(&ctx.cwd).is_some() {
            return Err(CliError::new("a project slug is required to plan a new project")
                .hint("inside a project, use `plan --add NAME`, `plan --remove NAME` or `plan --reconfigure`"));
        }
        return Err(
            CliError::new("a project slug is required to plan a new project")
                .hint("git quickscale plan my-shop --theme showcase_html --yes"),
        );
    };
    identity::validate_slug(&slug).map_err(|p| identity_error("project slug", &slug, p))?;

    let output = match &args.output {
        Some(o) => ctx.cwd.join(o),
        None => ctx.cwd.join(&slug).join(CONFIG_FILE),
    };
    if output.exists() && !args.force && !args.dry_run {
        let question = format!("{} exists. Overwrite it?", output.display());
        if !asks(ctx, args) || !ctx.ui.confirm(&question, false, "--force")? {
            return Err(CliError::new(format!("`{}` already exists", output.display()))
                .hint("pass --force to overwrite it, --output FILE to write elsewhere, or edit it with `plan --add/--remove/--reconfigure`"));
        }
    }

    let package = choose_package(ctx, args, &slug)?;

    let theme = choose_theme(ctx, args)?;

    let mut modules = choose_modules(ctx, args, catalog)?;
    let added = request::add_theme_modules(theme, &mut modules);

    let project_root = output.parent().unwrap_or(&ctx.cwd).to_owned();
    let sets = if asks(ctx, args) {
        let draft = draft_config(&slug, &package, theme, &modules, &args.sources);
        ask_module_options(ctx, args, catalog, &draft, &modules, &project_root)?
    } else {
        args.sets.clone()
    };

    let req = NewRequest {
        project: Identity {
            slug: slug.clone(),
            package,
            theme,
            name: None,
        },
        modules: &modules,
        sources: &args.sources,
        sets: &sets,
        project_root: &project_root,
        offline: args.offline,
    };
    let planned = request::build_new(&req, catalog).map_err(request_error)?;
    let text = emit::render(&planned.value);
    config::parse(&text, CONFIG_FILE, catalog).map_err(|d| {
        CliError::new(format!(
            "internal error: the planned file does not validate:\n{d}"
        ))
    })?;

    for line in text.lines() {
        ctx.ui.out(line);
    }
    if !added.is_empty() {
        ctx.ui.status(&theme_modules_line(theme, &added));
    }
    for note in &planned.notes {
        ctx.ui.warn(note);
    }
    if args.dry_run {
        ctx.ui.status("Dry run: nothing was written.");
        return Ok(exit::OK);
    }
    if asks(ctx, args) && !ctx.ui.confirm("Save this quickscale.yml?", true, "--yes")? {
        ctx.ui.status("Not saved.");
        return Ok(exit::OK);
    }
    request::save_new(&project_root, &output, &text).map_err(|e| CliError::from_error(&e, None))?;
    ctx.ui
        .status_styled(Tone::Ok, &format!("Wrote {}", shown(&ctx.cwd, &output)));
    let cd = if project_root == ctx.cwd {
        String::new()
    } else {
        format!("cd {} && ", shown(&ctx.cwd, &project_root))
    };
    ctx.ui.status(&format!("Next: {cd}git quickscale apply"));
    Ok(exit::OK)
}

/// The Python package: `--package`, else asked (the slug's as default),
/// else the slug's.
fn choose_package(ctx: &Context, args: &PlanArgs, slug: &str) -> Result<String, CliError> {
    let derived = identity::package_from_slug(slug);
    let package = match &args.package {
        Some(p) => p.clone(),
        None if asks(ctx, args) => {
            ctx.ui
                .input("Python package name", &derived, "--package NAME")?
        }
        None => derived,
    };
    identity::validate_package(&package)
        .map_err(|p| identity_error("package name", &package, p))?;
    Ok(package)
}

/// The theme: `--theme`, else asked, else the default.
fn choose_theme(ctx: &Context, args: &PlanArgs) -> Result<Theme, CliError> {
    Ok(match &args.theme {
        Some(t) => {
            Theme::from_name(t).ok_or_else(|| CliError::new(format!("unknown theme `{t}`")))?
        }
        None if asks(ctx, args) => {
            let items: Vec<String> = Theme::ALL
                .iter()
                .map(|t| format!("{} — {}", t.name(), t.description()))
                .collect();
            let default = Theme::ALL
                .iter()
                .position(|t| *t == Theme::DEFAULT)
                .unwrap_or(0);
            Theme::ALL[ctx.ui.select("Theme", &items, default, "--theme NAME")?]
        }
        None => Theme::DEFAULT,
    })
}

/// The modules: `--module`s, else picked from the catalog's ready ones when asking.
fn choose_modules(
    ctx: &Context,
    args: &PlanArgs,
    catalog: &Catalog,
) -> Result<Vec<ModuleArg>, CliError> {
    Ok(if !args.modules.is_empty() || !asks(ctx, args) {
        args.modules.clone()
    } else {
        let ready: Vec<_> = catalog.entries().iter().filter(|e| e.ready).collect();
        let items: Vec<String> = ready
            .iter()
            .map(|e| format!("{} — {}", e.name, e.description))
            .collect();
        ctx.ui
            .multi_select(
                "Modules (space to select, enter to confirm)",
                &items,
                "--module NAME",
            )?
            .into_iter()
            .map(|i| ModuleArg {
                name: ready[i].name.clone(),
                git_ref: None,
            })
            .collect()
    })
}

/// The `--set`s, plus the options asked for each module that has some
/// and was not given any.
fn ask_module_options(
    ctx: &Context,
    args: &PlanArgs,
    catalog: &Catalog,
    draft: &ProjectConfig,
    modules: &[ModuleArg],
    project_root: &Path,
) -> Result<Vec<SetArg>, CliError> {
    let mut sets = args.sets.clone();
    for m in modules {
        if sets.iter().any(|s| s.module == m.name) {
            continue;
        }
        if let Some(manifest) =
            readable_manifest(project_root, &m.name, draft, catalog, args.offline)
            && !manifest.options.is_empty()
            && ctx
                .ui
                .confirm(&format!("Configure {} options?", m.name), false, "--set")?
        {
            sets.extend(ask_options(ctx, &m.name, &manifest, |_| true)?);
        }
    }
    Ok(sets)
}

fn edit_existing(ctx: &Context, args: &PlanArgs, catalog: &Catalog) -> CmdResult {
    let path = match &args.output {
        Some(o) => ctx.cwd.join(o),
        None => project::require(&ctx.cwd)?.config_path(),
    };
    let display = shown(&ctx.cwd, &path);
    let project_root = path.parent().unwrap_or(&ctx.cwd).to_owned();
    // quickscale.yml is read here and written at the end: under the lock
    // writers hold, so that an `apply` running meanwhile neither loses this
    // edit nor reads half of it. A dry run writes nothing and takes none.
    let edit =
        request::open_for_edit(&project_root, !args.dry_run).map_err(super::apply::engine_error)?;
    let _session = edit.opened.map(|o| super::render_opened(ctx, o));
    super::render_pending(ctx, &edit.pending);
    let file = ConfigFile::load(&path, &display, catalog)?;

    let mut sets = args.sets.clone();
    if args.reconfigure && sets.is_empty() {
        if !asks(ctx, args) {
            return Err(CliError::new("nothing to reconfigure")
                .hint("pass --set MODULE.OPTION=VALUE (can be repeated), or run on a terminal to be asked"));
        }
        for m in &file.config.modules {
            let Some(manifest) =
                readable_manifest(&project_root, &m.name, &file.config, catalog, args.offline)
            else {
                ctx.ui.warn(&format!(
                    "module {}: its manifest cannot be read here; use --set for its options",
                    m.name
                ));
                continue;
            };
            if manifest.options.iter().any(|o| o.mutable)
                && ctx
                    .ui
                    .confirm(&format!("Reconfigure {} options?", m.name), false, "--set")?
            {
                let current = &m.options;
                let asked = ask_options(ctx, &m.name, &manifest, |o| o.mutable)?;
                sets.extend(
                    asked
                        .into_iter()
                        .filter(|s| current.get(&s.option) != Some(&s.value)),
                );
            }
        }
    }

    let req = EditRequest {
        add: &args.add,
        remove: &args.remove,
        pin: &args.pin,
        sources: &args.sources,
        sets: &sets,
        reconfigure: args.reconfigure,
        project_root: &project_root,
        offline: args.offline,
    };
    let planned =
        request::build_edit(&file.text, &file.config, &req, catalog).map_err(request_error)?;
    for note in &planned.notes {
        ctx.ui.warn(note);
    }
    if planned.value == file.text {
        ctx.ui
            .status(&format!("{display} already says that; nothing changed."));
        return Ok(exit::OK);
    }
    for line in report::unified_diff(&file.text, &planned.value, &display) {
        match line {
            DiffLine::Header(t) => ctx.ui.out_styled(Tone::Bold, &t),
            DiffLine::Context(t) => ctx.ui.out(&t),
            DiffLine::Added(t) => ctx.ui.out_styled(Tone::Added, &t),
            DiffLine::Removed(t) => ctx.ui.out_styled(Tone::Removed, &t),
        }
    }
    if args.dry_run {
        ctx.ui.status("Dry run: nothing was written.");
        return Ok(exit::OK);
    }
    if asks(ctx, args) && !ctx.ui.confirm(&format!("Save {display}?"), true, "--yes")? {
        ctx.ui.status("Not saved.");
        return Ok(exit::OK);
    }
    request::save(&path, &planned.value).map_err(|e| CliError::from_error(&e, None))?;
    ctx.ui
        .status_styled(Tone::Ok, &format!("Updated {display}"));
    ctx.ui.status("Next: git quickscale apply");
    Ok(exit::OK)
}

/// A config with the project's planned modules and sources, for source lookup.
fn draft_config(
    slug: &str,
    package: &str,
    theme: Theme,
    modules: &[ModuleArg],
    sources: &[SourceArg],
) -> ProjectConfig {
    let mut cfg = ProjectConfig {
        project: Identity {
            slug: slug.to_owned(),
            package: package.to_owned(),
            theme,
            name: None,
        },
        modules: Vec::new(),
        docker: Default::default(),
        sources: Default::default(),
        updates: Default::default(),
    };
    for m in modules {
        if let Some(r) = &m.git_ref {
            cfg.sources.entry(m.name.clone()).or_default().git_ref = Some(r.clone());
        }
    }
    for s in sources {
        cfg.sources.entry(s.module.clone()).or_default().url = Some(s.url.clone());
    }
    cfg
}

fn readable_manifest(
    project_root: &Path,
    name: &str,
    cfg: &ProjectConfig,
    catalog: &Catalog,
    offline: bool,
) -> Option<Manifest> {
    let src = source::resolve(name, cfg, catalog)?;
    match request::manifest_status(project_root, name, &src, offline) {
        Ok(ManifestStatus::Found(m)) => Some(*m),
        _ => None,
    }
}

/// Asks for each option of a module that `filter` admits; re-asks on invalid input.
fn ask_options(
    ctx: &Context,
    module: &str,
    manifest: &Manifest,
    filter: impl Fn(&crate::manifest::OptionSpec) -> bool,
) -> Result<Vec<SetArg>, CliError> {
    let mut out = Vec::new();
    for spec in manifest.options.iter().filter(|o| filter(o)) {
        let default = match &spec.default {
            crate::value::Value::Null => String::new(),
            crate::value::Value::List(items) => items
                .iter()
                .map(|v| match v {
                    crate::value::Value::Str(s) => s.clone(),
                    other => other.to_yaml(),
                })
                .collect::<Vec<_>>()
                .join(", "),
            crate::value::Value::Str(s) => s.clone(),
            other => other.to_yaml(),
        };
        let label = match &spec.description {
            Some(d) => format!("{module}.{} ({}) — {d}", spec.name, spec.ty.name()),
            None => format!("{module}.{} ({})", spec.name, spec.ty.name()),
        };
        loop {
            let raw = ctx.ui.input(&label, &default, "--set")?;
            let parsed = parse_cli_value(&raw).map_err(CliError::new)?;
            let value = spec.coerce_cli_value(&raw, parsed);
            match spec.check(&value) {
                Ok(()) => {
                    if value != spec.default {
                        out.push(SetArg {
                            module: module.to_owned(),
                            option: spec.name.clone(),
                            raw,
                            value,
                        });
                    }
                    break;
                }
                Err(why) => ctx.ui.warn(&why),
            }
        }
    }
    Ok(out)
}

/// "The crm_react theme needs the crm and auth modules: added them to quickscale.yml."
fn theme_modules_line(theme: Theme, added: &[&str]) -> String {
    let (names, noun, pronoun) = match added {
        [one] => ((*one).to_owned(), "module", "it"),
        [init @ .., last] => (format!("{} and {last}", init.join(", ")), "modules", "them"),
        [] => (String::new(), "modules", "them"),
    };
    format!("The {theme} theme needs the {names} {noun}: added {pronoun} to quickscale.yml.")
}

fn identity_error(what: &str, value: &str, p: identity::IdentityProblem) -> CliError {
    let err = CliError::new(format!(
        "invalid {what} `{}`: {}",
        value.escape_debug(),
        p.reason
    ));
    match p.suggestion {
        Some(s) => err.hint(format!("try `{s}`")),
        None => err,
    }
}

fn request_error(e: request::RequestError) -> CliError {
    let hint = e.hint();
    CliError::from_error(&e, hint)
}

/// A path as shown to the user: relative to the working directory when inside it.
fn shown(cwd: &Path, path: &Path) -> String {
    path.strip_prefix(cwd)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.display().to_string())
}
