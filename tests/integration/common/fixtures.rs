//! Fixture module repositories, made by the tests: each has a module.yml,
//! an installable Django app (model, migration, urls, view), several commits
//! and semver tags.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use super::TestEnv;

/// The Python package of fixture module `name`.
pub fn app_package(name: &str) -> String {
    format!("quickscale_modules_{name}")
}

/// The Django setting prefix of fixture module `name`.
pub fn setting_prefix(name: &str) -> String {
    name.to_uppercase()
}

/// The files of fixture module `name` at `version`.
pub fn module_files(name: &str, version: &str) -> Vec<(String, String)> {
    let pkg = app_package(name);
    let up = setting_prefix(name);
    vec![
        (
            "module.yml".into(),
            format!(
                r#"name: {name}
version: "{version}"
description: Fixture module {name} for git-quickscale tests
config:
  mutable:
    greeting:
      type: string
      default: hello
      django_setting: {up}_GREETING
      description: Text returned by the module's view
    page_size:
      type: integer
      default: 10
      django_setting: {up}_PAGE_SIZE
      validation:
        min: 1
  immutable:
    storage:
      type: string
      default: db
      validation:
        choices: [db, file]
dependencies: []
django_apps: [{pkg}]
urls:
  - route: "{name}/"
    include: {pkg}.urls
# Its one view shows a greeting, no records: open to visitors.
access: public
"#
            ),
        ),
        (
            "pyproject.toml".into(),
            format!(
                r#"[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "quickscale-modules-{name}"
version = "{version}"
requires-python = ">=3.11"

[tool.setuptools.packages.find]
include = ["{pkg}*"]
"#
            ),
        ),
        ("README.md".into(), format!("# Fixture module {name}\n\nVersion {version}.\n")),
        (format!("{pkg}/__init__.py"), String::new()),
        (
            format!("{pkg}/apps.py"),
            format!(
                "from django.apps import AppConfig\n\n\nclass FixtureConfig(AppConfig):\n    name = \"{pkg}\"\n    default_auto_field = \"django.db.models.BigAutoField\"\n"
            ),
        ),
        (
            format!("{pkg}/models.py"),
            "from django.db import models\n\n\nclass Item(models.Model):\n    name = models.CharField(max_length=100)\n\n    def __str__(self):\n        return self.name\n".into(),
        ),
        (format!("{pkg}/migrations/__init__.py"), String::new()),
        (
            format!("{pkg}/migrations/0001_initial.py"),
            "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    initial = True\n    dependencies = []\n    operations = [\n        migrations.CreateModel(\n            name=\"Item\",\n            fields=[\n                (\"id\", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name=\"ID\")),\n                (\"name\", models.CharField(max_length=100)),\n            ],\n        ),\n    ]\n".into(),
        ),
        (
            format!("{pkg}/urls.py"),
            format!(
                "from django.urls import path\n\nfrom . import views\n\nurlpatterns = [\n    path(\"\", views.index, name=\"{name}-index\"),\n]\n"
            ),
        ),
        (
            format!("{pkg}/views.py"),
            format!(
                "from django.conf import settings\nfrom django.http import JsonResponse\n\n\ndef index(request):\n    return JsonResponse({{\"module\": \"{name}\", \"version\": \"{version}\", \"greeting\": settings.{up}_GREETING, \"page_size\": settings.{up}_PAGE_SIZE}})\n"
            ),
        ),
    ]
}

fn write_files(dir: &Path, files: &[(String, String)]) {
    for (rel, text) in files {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
    }
}

/// Creates a module repository at `<env>/upstream/<name>` with commits tagged
/// v1.0.0, v1.1.0 and v2.0.0 on branch `main`; returns its path.
pub fn module_repo(env: &TestEnv, name: &str) -> PathBuf {
    let dir = env.root().join("upstream").join(name);
    std::fs::create_dir_all(&dir).expect("mkdir");
    env.git(&dir, &["init", "-q", "-b", "main"]);
    for (i, version) in ["1.0.0", "1.1.0", "2.0.0"].iter().enumerate() {
        write_files(&dir, &module_files(name, version));
        if i > 0 {
            std::fs::write(dir.join("CHANGELOG.md"), format!("{version}: changes\n"))
                .expect("changelog");
        }
        env.git(&dir, &["add", "-A"]);
        env.git(&dir, &["commit", "-qm", &format!("{name} {version}")]);
        env.git(&dir, &["tag", &format!("v{version}")]);
    }
    dir
}

/// Overwrites files in a module repository and commits them.
pub fn commit_to(env: &TestEnv, repo: &Path, files: &[(String, String)], message: &str) {
    write_files(repo, files);
    env.git(repo, &["add", "-A"]);
    env.git(repo, &["commit", "-qm", message]);
}

/// A repository shaped like upstream QuickScale: the whole project on
/// `main` (a top-level `quickscale_modules/` and a `pyproject.toml`), and
/// each module alone on its split branch `splits/<name>-module`.
pub fn monorepo(env: &TestEnv, names: &[&str]) -> PathBuf {
    let dir = env.root().join("upstream").join("quickscale");
    std::fs::create_dir_all(&dir).expect("mkdir");
    env.git(&dir, &["init", "-q", "-b", "main"]);
    let mut files = vec![(
        "pyproject.toml".to_owned(),
        "[project]\nname = \"quickscale\"\nversion = \"0.88.0\"\n".to_owned(),
    )];
    for name in names {
        for (rel, text) in module_files(name, "1.0.0") {
            files.push((format!("quickscale_modules/{name}/{rel}"), text));
        }
    }
    write_files(&dir, &files);
    env.git(&dir, &["add", "-A"]);
    env.git(&dir, &["commit", "-qm", "monorepo"]);
    for name in names {
        let branch = format!("splits/{name}-module");
        env.git(&dir, &["checkout", "-q", "--orphan", &branch]);
        env.git(&dir, &["rm", "-rqf", "."]);
        write_files(&dir, &module_files(name, "1.0.0"));
        env.git(&dir, &["add", "-A"]);
        env.git(&dir, &["commit", "-qm", &format!("{name} module")]);
        env.git(&dir, &["checkout", "-q", "main"]);
    }
    dir
}
