import os

from django.conf import settings


def test_models_and_migrations_agree(manage, tmp_path):
    """Every app's migrations describe its models: also those of the apps whose test
    tables come straight from their models (settings/test.py, TEST_TABLES_FROM_MODELS)."""
    package = settings.SETTINGS_MODULE.split(".settings.")[0]
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE=f"{package}.settings.local",
        DATABASE_URL=f"sqlite:///{tmp_path / 'migrations.sqlite3'}",
    )
    result = manage("makemigrations", "--check", "--dry-run", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout
