//! `git quickscale extract`: a Django app of a generated project becomes a
//! module with the app's history, embedded back in one transaction, and
//! usable by a second project. With `QUICKSCALE_PYTHON_TESTS=1`, the
//! project's tests pass before and after, and in the second project.

use std::path::{Path, PathBuf};

use crate::common::python::{self, Venv};
use crate::common::{TestEnv, describe, stderr, stdout};
use crate::test_split::commit_files;

const GREETING: &str = "hello from the journal";

/// A generated project `shop` with a small app `journal/` (model,
/// migration, view reading its own setting and LOGIN_URL, urls, its own
/// tests) installed and mounted by hand, plus a project test of it; made
/// in three commits.
fn journal_project(env: &TestEnv) -> PathBuf {
    let dir = env.new_project(&[]);
    commit_files(
        env,
        &dir,
        &[
            ("journal/__init__.py", ""),
            (
                "journal/apps.py",
                "from django.apps import AppConfig\n\n\nclass JournalConfig(AppConfig):\n    name = \"journal\"\n    default_auto_field = \"django.db.models.BigAutoField\"\n",
            ),
            (
                "journal/models.py",
                "from django.db import models\n\n\nclass Entry(models.Model):\n    title = models.CharField(max_length=100)\n\n    def __str__(self):\n        return self.title\n",
            ),
            ("journal/migrations/__init__.py", ""),
            (
                "journal/migrations/0001_initial.py",
                "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    initial = True\n    dependencies = []\n    operations = [\n        migrations.CreateModel(\n            name=\"Entry\",\n            fields=[\n                (\"id\", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name=\"ID\")),\n                (\"title\", models.CharField(max_length=100)),\n            ],\n        ),\n    ]\n",
            ),
        ],
        "Journal: the model",
    );
    commit_files(
        env,
        &dir,
        &[
            (
                "journal/views.py",
                "from django.conf import settings\nfrom django.http import JsonResponse\n\nfrom .models import Entry\n\n\ndef index(request):\n    return JsonResponse({\"greeting\": settings.JOURNAL_GREETING, \"entries\": Entry.objects.count(), \"login\": settings.LOGIN_URL})\n",
            ),
            (
                "journal/urls.py",
                "from django.urls import path\n\nfrom . import views\n\napp_name = \"journal\"\nurlpatterns = [path(\"\", views.index, name=\"index\")]\n",
            ),
            (
                "journal/tests.py",
                "from django.test import TestCase\nfrom django.urls import reverse\n\nfrom .models import Entry\n\n\nclass JournalTests(TestCase):\n    def test_index_counts_entries(self):\n        Entry.objects.create(title=\"one\")\n        data = self.client.get(reverse(\"journal:index\")).json()\n        self.assertEqual(data[\"entries\"], 1)\n        self.assertTrue(data[\"greeting\"])\n",
            ),
        ],
        "Journal: a page",
    );
    let base = dir.join("shop/settings/base.py");
    let text = std::fs::read_to_string(&base).expect("base.py");
    let text = text.replacen("    \"shop\",\n", "    \"shop\",\n    \"journal\",\n", 1);
    let text = text.replacen(
        "ROOT_URLCONF",
        &format!("JOURNAL_GREETING = \"{GREETING}\"\n\nROOT_URLCONF"),
        1,
    );
    let urls = std::fs::read_to_string(dir.join("shop/urls.py")).expect("urls.py");
    let urls = urls
        .replacen("from django.urls import path", "from django.urls import include, path", 1)
        .replacen(
            "    path(\"\", views.home, name=\"home\"),\n",
            "    path(\"\", views.home, name=\"home\"),\n    path(\"journal/\", include(\"journal.urls\")),\n",
            1,
        );
    commit_files(
        env,
        &dir,
        &[
            ("shop/settings/base.py", &text),
            ("shop/urls.py", &urls),
            (
                "tests/test_journal.py",
                &format!(
                    "from django.urls import reverse\n\nfrom journal.models import Entry\n\n\ndef test_the_journal_page(client):\n    Entry.objects.create(title=\"first\")\n    response = client.get(reverse(\"journal:index\"))\n    assert response.status_code == 200\n    assert response.json() == {{\"greeting\": \"{GREETING}\", \"entries\": 1, \"login\": \"/accounts/login/\"}}\n"
                ),
            ),
        ],
        "Install and mount the journal",
    );
    dir
}

fn file(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn extract_turns_an_app_into_an_embedded_module_that_a_fresh_project_can_use() {
    let env = TestEnv::new();
    let dir = journal_project(&env);
    let before = env.rev(&dir, "HEAD");
    let dry = env.qs_ok(
        &dir,
        &["extract", "journal", "--as", "journal", "--dry-run"],
    );
    assert!(
        stdout(&dry)
            .contains("module history: 3 commit(s), published to branch splits/journal-module"),
        "{}",
        describe(&dry)
    );
    assert!(
        stderr(&dry).contains("reads LOGIN_URL"),
        "{}",
        describe(&dry)
    );
    assert_eq!(env.rev(&dir, "HEAD"), before, "a dry run changes nothing");

    // Bytecode Python left behind would shadow the module (namespace package).
    std::fs::create_dir_all(dir.join("journal/__pycache__")).expect("mkdir");
    std::fs::write(dir.join("journal/__pycache__/models.cpython-311.pyc"), "x").expect("pyc");
    let out = env.qs_ok(&dir, &["extract", "journal", "--as", "journal", "--yes"]);
    assert!(stderr(&out).contains("Extracted journal into module journal"));
    assert!(!stderr(&out).contains("still holds"), "{}", describe(&out));
    assert!(env.git(&dir, &["status", "--porcelain"]).is_empty());
    // Two commits: the squashed embed, then the move.
    assert_eq!(env.rev(&dir, "HEAD~2"), before);
    assert_eq!(
        env.git(&dir, &["log", "-1", "--format=%s", "HEAD"]).trim(),
        "Extract journal into module journal"
    );
    assert!(!dir.join("journal").exists());
    assert!(dir.join("modules/journal/journal/models.py").is_file());
    assert!(
        dir.join("modules/journal/journal/migrations/0001_initial.py")
            .is_file()
    );
    let manifest = file(&dir, "modules/journal/module.yml");
    for expected in [
        "name: journal",
        "version: \"0.1.0\"",
        "django_apps:\n  - journal",
        "  - route: journal/\n    include: journal.urls",
        "    greeting:\n      type: string\n      default: \"hello from the journal\"\n      django_setting: JOURNAL_GREETING",
    ] {
        assert!(manifest.contains(expected), "{expected:?} in:\n{manifest}");
    }
    // The hand wiring is gone; the managed wiring provides it.
    let base = file(&dir, "shop/settings/base.py");
    assert!(!base.contains("\"journal\","), "{base}");
    assert!(
        base.contains("JOURNAL_GREETING = "),
        "the setting itself stays"
    );
    assert!(!file(&dir, "shop/urls.py").contains("journal.urls"));
    let modules_py = file(&dir, "shop/settings/modules.py");
    assert!(modules_py.contains("    \"journal\",\n"), "{modules_py}");
    assert!(modules_py.contains(&format!("\"JOURNAL_GREETING\": \"{GREETING}\"")));
    assert!(
        file(&dir, "shop/urls_modules.py")
            .contains("path(\"journal/\", include(\"journal.urls\"))")
    );
    assert!(file(&dir, "requirements-modules.txt").contains("-e ./modules/journal"));
    let config = file(&dir, "quickscale.yml");
    assert!(config.contains("modules:\n  journal: {}"), "{config}");
    assert!(
        config.contains("url: .\n    ref: splits/journal-module"),
        "{config}"
    );
    // The module's history: the app's two commits (nested) and the module
    // files; the commit that only wired the app in the project is not one.
    let history = env.git(&dir, &["log", "--format=%s", "splits/journal-module"]);
    assert_eq!(
        history,
        "Make journal the module journal\nJournal: a page\nJournal: the model\n"
    );
    let files = env.git(&dir, &["ls-tree", "--name-only", "splits/journal-module"]);
    assert_eq!(files, "README.md\njournal\nmodule.yml\npyproject.toml\n");
    let first = env.git(
        &dir,
        &["ls-tree", "-r", "--name-only", "splits/journal-module~2"],
    );
    assert!(first.lines().all(|p| p.starts_with("journal/")), "{first}");
    assert_eq!(
        env.rev(&dir, "HEAD:modules/journal"),
        env.rev(&dir, "splits/journal-module^{tree}")
    );
    assert_eq!(
        env.rev(&dir, "refs/quickscale/modules/journal"),
        env.rev(&dir, "splits/journal-module")
    );
    // Recorded and in sync; a split gives the module's commit back.
    let status: serde_json::Value =
        serde_json::from_slice(&env.qs_ok(&dir, &["status", "--json"]).stdout).expect("json");
    assert_eq!(status["in_sync"], true, "{status:#}");
    assert_eq!(
        stdout(&env.qs_ok(&dir, &["split", "journal"])).trim(),
        env.rev(&dir, "splits/journal-module")
    );

    // A second, fresh project embeds it from the first one's branch.
    env.qs_ok(
        env.root(),
        &[
            "plan",
            "other",
            "--theme",
            "showcase_html",
            "--module",
            "journal@splits/journal-module",
            "--source",
            &format!("journal={}", dir.display()),
            "--yes",
        ],
    );
    let other = env.root().join("other");
    env.qs_ok(&other, &["apply", "--yes"]);
    assert_eq!(
        env.rev(&other, "HEAD:modules/journal"),
        env.rev(&dir, "splits/journal-module^{tree}")
    );
    assert!(file(&other, "other/settings/modules.py").contains("    \"journal\",\n"));
}

#[test]
fn extract_can_publish_to_another_repository_and_be_undone() {
    let env = TestEnv::new();
    let dir = journal_project(&env);
    let before = env.repo_snapshot(&dir);
    let bare = env.root().join("journal.git");
    env.git(
        env.root(),
        &["init", "-q", "--bare", bare.to_str().expect("utf8")],
    );
    // An untracked file in the app is kept (and named).
    std::fs::write(dir.join("journal/scratch.txt"), "mine\n").expect("scratch");
    let out = env.qs_ok(
        &dir,
        &[
            "extract",
            "journal",
            "--as",
            "diary",
            "--to",
            bare.to_str().expect("utf8"),
            "--yes",
        ],
    );
    assert!(
        stderr(&out)
            .contains("journal/ still holds files git does not track (journal/scratch.txt)"),
        "{}",
        describe(&out)
    );
    assert_eq!(file(&dir, "journal/scratch.txt"), "mine\n");
    std::fs::remove_file(dir.join("journal/scratch.txt")).expect("rm");
    std::fs::remove_dir(dir.join("journal")).expect("rmdir");
    assert_eq!(
        env.rev(&bare, "main"),
        env.rev(&dir, "refs/quickscale/modules/diary")
    );
    assert_eq!(
        env.rev(&bare, "main^{tree}"),
        env.rev(&dir, "HEAD:modules/diary")
    );
    let config = file(&dir, "quickscale.yml");
    assert!(
        config.contains(&format!("url: {}\n    ref: main", bare.display())),
        "{config}"
    );
    assert!(
        !env.git(&dir, &["branch", "--list", "splits/*"])
            .contains("splits/"),
        "no local branch when published elsewhere"
    );
    // undo takes the whole extraction back.
    env.qs_ok(&dir, &["undo"]);
    let after = env.repo_snapshot(&dir);
    assert_eq!(before.head, after.head);
    assert_eq!(before.files, after.files, "the worktree is as it was");
}

#[test]
fn extract_refuses_what_it_cannot_move_and_changes_nothing() {
    let env = TestEnv::new();
    let dir = journal_project(&env);
    commit_files(&env, &dir, &[("notes/readme.txt", "x\n")], "Not a package");
    commit_files(
        &env,
        &dir,
        &[("loose/__init__.py", ""), ("loose/models.py", "")],
        "A package nobody installed",
    );
    let cases: &[(&[&str], &str)] = &[
        (
            &["extract", "shop", "--as", "shop_core"],
            "part of the project's own structure",
        ),
        (&["extract", "notes", "--as", "notes"], "has no __init__.py"),
        (
            &["extract", "journal/migrations", "--as", "m"],
            "only an app at the project's root",
        ),
        (
            &["extract", "nowhere", "--as", "nowhere"],
            "is not a directory in HEAD",
        ),
        (
            &["extract", "loose", "--as", "loose"],
            "`loose` is not in INSTALLED_APPS in `shop/settings/base.py`",
        ),
        (
            &["extract", "journal", "--as", "Bad-Name"],
            "is not a module name",
        ),
    ];
    for (args, expected) in cases {
        let before = env.repo_snapshot(&dir);
        let mut full = args.to_vec();
        full.push("--yes");
        let out = env.qs(&dir, &full);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", describe(&out));
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            describe(&out)
        );
        assert!(
            stderr(&out).contains("hint:"),
            "{args:?}: {}",
            describe(&out)
        );
        crate::common::assert_same_repo(&before, &env.repo_snapshot(&dir), &format!("{args:?}"));
    }
    // A destination that already has a main branch is not overwritten.
    let taken = env.root().join("taken.git");
    env.git(
        env.root(),
        &[
            "clone",
            "-q",
            "--bare",
            dir.to_str().expect("utf8"),
            taken.to_str().expect("utf8"),
        ],
    );
    let before = env.repo_snapshot(&dir);
    let out = env.qs(
        &dir,
        &[
            "extract",
            "journal",
            "--as",
            "journal",
            "--to",
            taken.to_str().expect("utf8"),
            "--yes",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("`main` of `") && stderr(&out).contains("already has other commits"),
        "{}",
        describe(&out)
    );
    crate::common::assert_same_repo(&before, &env.repo_snapshot(&dir), "taken destination");
    assert_eq!(env.rev(&taken, "main"), env.rev(&dir, "main"));
    // Uncommitted work in the app is never taken or lost.
    std::fs::write(dir.join("journal/models.py"), "# edited\n").expect("edit");
    let before = env.repo_snapshot(&dir);
    let out = env.qs(&dir, &["extract", "journal", "--as", "journal", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("journal/models.py"),
        "{}",
        describe(&out)
    );
    crate::common::assert_same_repo(&before, &env.repo_snapshot(&dir), "dirty app");
}

/// The acceptance test: the project's tests pass before and after the
/// extraction, and the module works in a second, fresh project.
#[test]
fn the_project_behaves_the_same_after_extract_and_the_module_works_elsewhere() {
    if !python::python_enabled() {
        return;
    }
    let env = TestEnv::new();
    let dir = journal_project(&env);
    let venv = Venv::create(&env, &dir);
    venv.manage(&["migrate", "--noinput"], &[]);
    let before = venv.pytest(&["-q"], &[]);
    assert!(stdout(&before).contains(" passed"), "{}", describe(&before));
    let app_tests = venv.pytest(&["-q", "journal/tests.py"], &[]);
    assert!(
        stdout(&app_tests).contains("1 passed"),
        "{}",
        describe(&app_tests)
    );

    env.qs_ok(&dir, &["extract", "journal", "--as", "journal", "--yes"]);
    // The app now comes from the module (installed as pip would for the project).
    venv.pip(&["install", "-r", "requirements-modules.txt"]);
    let origin = venv.python(&["-c", "import journal; print(journal.__file__)"], &[]);
    assert!(
        stdout(&origin).contains("modules/journal/journal/__init__.py"),
        "{}",
        describe(&origin)
    );
    let check = venv.manage(&["check"], &[]);
    assert!(stdout(&check).contains("no issues"), "{}", describe(&check));
    let migrate = venv.manage(&["migrate", "--noinput"], &[]);
    assert!(
        stdout(&migrate).contains("No migrations to apply"),
        "the tables are the same: {}",
        describe(&migrate)
    );
    let after = venv.pytest(&["-q"], &[]);
    assert_eq!(
        summary(&stdout(&before)),
        summary(&stdout(&after)),
        "the same tests pass: {}",
        describe(&after)
    );
    let app_tests = venv.pytest(&["-q", "modules/journal/journal/tests.py"], &[]);
    assert!(
        stdout(&app_tests).contains("1 passed"),
        "{}",
        describe(&app_tests)
    );

    // A fresh project with the module passes its own tests and the module's.
    env.qs_ok(
        env.root(),
        &[
            "plan",
            "other",
            "--theme",
            "showcase_html",
            "--module",
            "journal@splits/journal-module",
            "--source",
            &format!("journal={}", dir.display()),
            "--yes",
        ],
    );
    let other = env.root().join("other");
    env.qs_ok(&other, &["apply", "--yes"]);
    let venv2 = Venv::create(&env, &other);
    let migrate = venv2.manage(&["migrate", "--noinput"], &[]);
    assert!(
        stdout(&migrate).contains("Applying journal.0001_initial... OK"),
        "{}",
        describe(&migrate)
    );
    let tests = venv2.pytest(&["-q"], &[]);
    assert!(stdout(&tests).contains(" passed"), "{}", describe(&tests));
    let module_tests = venv2.pytest(&["-q", "modules/journal/journal/tests.py"], &[]);
    assert!(
        stdout(&module_tests).contains("1 passed"),
        "{}",
        describe(&module_tests)
    );
}

/// `N passed` from pytest's last line.
fn summary(out: &str) -> String {
    out.lines()
        .rev()
        .find(|l| l.contains(" passed"))
        .and_then(|l| l.split(" passed").next())
        .map(|n| n.trim_start_matches('=').trim().to_owned())
        .unwrap_or_default()
}

#[test]
fn an_extract_killed_half_way_is_rolled_back_by_recover() {
    let env = TestEnv::new();
    let dir = journal_project(&env);
    let before = env.repo_snapshot(&dir);
    crate::common::kill_at(
        &env,
        &dir,
        &["extract", "journal", "--as", "journal", "--yes"],
        "files-written",
    );
    assert!(
        dir.join(".git/quickscale/journal.json").is_file(),
        "killed in the middle of the transaction"
    );
    assert!(
        dir.join("modules/journal/module.yml").is_file(),
        "the module's files were already written"
    );
    let out = env.qs_ok(&dir, &["recover"]);
    assert!(stderr(&out).contains("extract"), "{}", describe(&out));
    crate::common::assert_same_repo(&before, &env.repo_snapshot(&dir), "after recover");
}
