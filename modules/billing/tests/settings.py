"""Django settings for the billing module's own tests (no network: Stripe is faked)."""

import os

SECRET_KEY = "test-secret-key-for-the-billing-module"
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
    "djstripe",
    "quickscale_modules_billing",
]
if os.environ.get("BILLING_TEST_CUSTOMER") == "team":
    INSTALLED_APPS.append("tests.teamapp")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
if os.environ.get("BILLING_TEST_CUSTOMER") == "team":
    MIDDLEWARE.append("tests.teamapp.middleware.CurrentTeamMiddleware")

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

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}

# What module.yml wires (settings:), and its option defaults.
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
QUICKSCALE_BILLING_CURRENCY = "usd"
QUICKSCALE_BILLING_TRIAL_DAYS = 0
QUICKSCALE_BILLING_PRICING_ROUTE = "pricing/"
QUICKSCALE_BILLING_ROUTE = "billing/"
QUICKSCALE_BILLING_PRORATION_BEHAVIOR = "create_prorations"
QUICKSCALE_BILLING_ALLOW_PAUSE = True
QUICKSCALE_BILLING_PAST_DUE_ACCESS = True
QUICKSCALE_BILLING_FREE_PLAN = "free"
QUICKSCALE_BILLING_SECRET_KEY_ENV_VAR = "STRIPE_SECRET_KEY"
QUICKSCALE_BILLING_WEBHOOK_SECRET_ENV_VAR = "STRIPE_WEBHOOK_SECRET"
QUICKSCALE_BILLING_WEBHOOK_TOLERANCE_SECONDS = 300
QUICKSCALE_BILLING_BASE_TEMPLATE = "base.html"
QUICKSCALE_BILLING_CUSTOMER_RESOLVER = ""
QUICKSCALE_BILLING_CUSTOMER = os.environ.get("BILLING_TEST_CUSTOMER", "user")
QUICKSCALE_BILLING_TEAM_MODEL = "teamapp.Team"

# Test speed: PBKDF2's 1 s per create_user is not what these tests check.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
