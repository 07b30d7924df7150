import os
from importlib import import_module

from django.apps import apps
from django.conf import settings


def test_models_and_migrations_agree(manage, tmp_path):
    """Your apps' migrations describe their models, and so do those of the apps whose
    test tables come straight from their models (settings/test.py, TEST_TABLES_FROM_MODELS).

    The other apps of the embedded modules are left out: their migrations are their
    authors' (modules/ is theirs: README.md, "Files managed by git-quickscale").
    """
    package = settings.SETTINGS_MODULE.split(".settings.")[0]
    from_modules = set(import_module(f"{package}.settings.modules").MODULE_INSTALLED_APPS)
    labels = [
        config.label
        for config in apps.get_app_configs()
        if config.name not in from_modules or config.label in settings.TEST_TABLES_FROM_MODELS
    ]
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE=f"{package}.settings.local",
        DATABASE_URL=f"sqlite:///{tmp_path / 'migrations.sqlite3'}",
    )
    result = manage("makemigrations", "--check", "--dry-run", *labels, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout
