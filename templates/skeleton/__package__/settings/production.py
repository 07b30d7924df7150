"""Production settings: secure defaults, everything sensitive comes from the environment.

Check them with:
    DJANGO_SETTINGS_MODULE=<package>.settings.production python manage.py check --deploy
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import SECRET_KEY, SMTP_EMAIL_BACKEND, STORAGES, email_settings, env_bool, env_int

DEBUG = False

if not SECRET_KEY:
    raise ImproperlyConfigured(
        "The SECRET_KEY environment variable is required in production. "
        "Generate one with: python -c \"import secrets; print(secrets.token_urlsafe(50))\""
    )

# --- HTTPS ---------------------------------------------------------------------

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# Load balancers usually probe over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
# Only enable behind a proxy that terminates TLS and sets X-Forwarded-Proto.
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# HTTP Strict Transport Security. Start with a small SECURE_HSTS_SECONDS (e.g. 3600)
# if you are unsure, browsers remember it. The preload flag only marks the header;
# submitting the domain to the browsers' preload list is a separate, manual step.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

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
