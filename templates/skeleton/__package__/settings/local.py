"""Development settings: DEBUG on, console email, SQLite unless DATABASE_URL is set."""

from .base import *  # noqa: F403
from .base import ALLOWED_HOSTS, SECRET_KEY, env_bool

DEBUG = env_bool("DEBUG", True)

# Development-only fallback; never use this key in production.
SECRET_KEY = SECRET_KEY or "django-insecure-local-development-only-change-me"

ALLOWED_HOSTS = ALLOWED_HOSTS or ["localhost", "127.0.0.1", "[::1]"]
