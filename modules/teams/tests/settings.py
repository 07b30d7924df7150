"""Django settings for the teams module's own tests."""

import os

import django

SECRET_KEY = "test-secret-key-for-the-teams-module"
DEBUG = False
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "quickscale_modules_teams",
    "tests.scoped",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "quickscale_modules_teams.middleware.CurrentTeamMiddleware",
]

ROOT_URLCONF = "tests.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [os.path.join(os.path.dirname(__file__), "templates")],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "/static/"
LOGIN_URL = "/login/"
DEFAULT_FROM_EMAIL = "site@example.com"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}

# module.yml's option defaults, as the project's managed settings/modules.py has them.
QUICKSCALE_TEAMS_ROUTE = "teams/"
QUICKSCALE_TEAMS_INVITATION_EXPIRY_DAYS = 7
QUICKSCALE_TEAMS_ALLOW_CREATION = True
QUICKSCALE_TEAMS_MAX_TEAMS_PER_USER = 0
QUICKSCALE_TEAMS_EXTRA_ROLES = []
QUICKSCALE_TEAMS_INVITATION_SIGNUP = True
QUICKSCALE_TEAMS_FROM_EMAIL = ""
QUICKSCALE_TEAMS_QUERY_GUARD = "debug"
QUICKSCALE_TEAMS_BASE_TEMPLATE = "base.html"

# Django 6.1 sends email through MAILERS (EMAIL_BACKEND is deprecated there);
# the test runner swaps in the in-memory backend either way.
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
