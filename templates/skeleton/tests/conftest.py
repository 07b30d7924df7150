import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Environment variables that would leak the developer's configuration into the
# production subprocess tests below (SECURE_* variables are dropped as well).
_CONFIG_VARS = ("SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DATABASE_URL", "CSRF_TRUSTED_ORIGINS", "DEFAULT_FROM_EMAIL")


@pytest.fixture(autouse=True)
def _enable_db_access(db):
    """Every test may use the (throw-away) test database."""


@pytest.fixture
def production_env(tmp_path):
    """Realistic production environment variables, without secrets from the host."""
    env = {key: value for key, value in os.environ.items() if key not in _CONFIG_VARS and not key.startswith("SECURE_")}
    package = settings.SETTINGS_MODULE.split(".settings.")[0]
    env.update(
        DJANGO_SETTINGS_MODULE=f"{package}.settings.production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="example.com",
        DATABASE_URL=f"sqlite:///{tmp_path / 'production.sqlite3'}",
    )
    return env


@pytest.fixture
def manage():
    """Run ``python manage.py ...`` in a subprocess and return the completed process."""

    def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run
