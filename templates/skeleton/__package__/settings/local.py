"""Development settings: DEBUG on, console email, SQLite unless DATABASE_URL is set."""

from importlib.util import find_spec

from .base import *  # noqa: F403
from .base import ALLOWED_HOSTS, INSTALLED_APPS, MIDDLEWARE, SECRET_KEY, env_bool

DEBUG = env_bool("DEBUG", True)

# Development-only fallback; never use this key in production.
SECRET_KEY = SECRET_KEY or "django-insecure-local-development-only-change-me"

ALLOWED_HOSTS = ALLOWED_HOSTS or ["localhost", "127.0.0.1", "[::1]"]

# django-debug-toolbar (requirements-dev.txt): a panel of SQL queries, templates and timings
# on every page while DEBUG is on, for requests from INTERNAL_IPS. Skipped where it is not
# installed (the Docker image has requirements.txt only), in tests (settings/test.py)
# and in production.
if DEBUG and find_spec("debug_toolbar") is not None:
    INSTALLED_APPS = [*INSTALLED_APPS, "debug_toolbar"]
    MIDDLEWARE = ["debug_toolbar.middleware.DebugToolbarMiddleware", *MIDDLEWARE]
    INTERNAL_IPS = ["127.0.0.1", "::1"]
