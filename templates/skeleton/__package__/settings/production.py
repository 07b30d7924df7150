"""Production settings: secure defaults, everything sensitive comes from the environment.

Check them with:
    DJANGO_SETTINGS_MODULE=<package>.settings.production python manage.py check --deploy
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import (
    ALLOWED_HOSTS,
    PROJECT_NAME,
    SECRET_KEY,
    SMTP_EMAIL_BACKEND,
    STORAGES,
    email_settings,
    env_bool,
    env_int,
)

DEBUG = False

if not SECRET_KEY:
    raise ImproperlyConfigured(
        "The SECRET_KEY environment variable is required in production. "
        'Generate one with: python -c "import secrets; print(secrets.token_urlsafe(50))"'
    )

# --- HTTPS ---------------------------------------------------------------------

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# Load balancers usually probe over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
# Only enable behind a proxy that terminates TLS and sets X-Forwarded-Proto.
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# HTTP Strict Transport Security: browsers remember it for SECURE_HSTS_SECONDS.
# It starts at an hour; raise it to a year (31536000) once every page and
# subdomain works over HTTPS. Preloading is a commitment that is hard to undo
# (browsers ship the list), so it is off until you set SECURE_HSTS_PRELOAD=true
# and submit the domain; until then Django's reminder (security.W021) is silenced.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Static files --------------------------------------------------------------

# Compressed, cache-busting file names (run `python manage.py collectstatic`).
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Email ---------------------------------------------------------------------

# Sent over SMTP (EMAIL_HOST, ...) unless EMAIL_BACKEND names another backend;
# the console backend of development would silently drop them.
globals().update(email_settings(SMTP_EMAIL_BACKEND))
# The sender of password resets and invitations: DEFAULT_FROM_EMAIL, else
# "<project> <noreply@<first ALLOWED_HOSTS entry>>", never Django's webmaster@localhost.
_host = next((h.lstrip(".") for h in ALLOWED_HOSTS if h.strip(".*")), "localhost")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "").strip() or f"{PROJECT_NAME} <noreply@{_host}>"
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", "").strip() or DEFAULT_FROM_EMAIL
