"""Test settings (pytest's default, see pyproject.toml): the development settings, made fast.

- A cheap password hasher: hashing passwords is most of the time of tests that create users.
- On SQLite the test database is a file, which ``--reuse-db`` (pytest-django, on by default in
  pyproject.toml) keeps between runs; ``pytest --create-db`` starts from scratch.
- The apps in TEST_TABLES_FROM_MODELS get their tables from their models in one step instead of
  replaying their migrations: dj-stripe's (the billing module) take minutes on SQLite. Their
  models and migrations cannot drift apart unnoticed: tests/test_migrations.py runs
  ``makemigrations --check`` with every app's migrations.
- No django-debug-toolbar (development only).
"""

from .local import *  # noqa: F403
from .local import BASE_DIR, DATABASES, INSTALLED_APPS, MIDDLEWARE

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "debug_toolbar"]
MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("debug_toolbar.")]

TEST_TABLES_FROM_MODELS = ["djstripe"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": BASE_DIR / "test-db.sqlite3"}
    # SQLite only: Django creates such tables before any migration runs, and only
    # SQLite accepts their foreign keys to tables that migrations create later.
    MIGRATION_MODULES = {app: None for app in TEST_TABLES_FROM_MODELS if app in INSTALLED_APPS}
