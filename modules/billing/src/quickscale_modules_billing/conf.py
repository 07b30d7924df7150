"""The module's settings, read at call time so tests and reconfiguration apply.

Every ``QUICKSCALE_BILLING_*`` setting comes from module.yml's options (the
project's managed ``settings/modules.py``); the defaults here are module.yml's
defaults, for projects that wire the module by hand. Secrets never live in
settings: they are read from the environment variables the options name.
"""

from __future__ import annotations

import os

from django.conf import settings

DEFAULTS: dict[str, object] = {
    "QUICKSCALE_BILLING_CURRENCY": "usd",
    "QUICKSCALE_BILLING_TRIAL_DAYS": 0,
    "QUICKSCALE_BILLING_PRICING_ROUTE": "pricing/",
    "QUICKSCALE_BILLING_ROUTE": "billing/",
    "QUICKSCALE_BILLING_PRORATION_BEHAVIOR": "create_prorations",
    "QUICKSCALE_BILLING_ALLOW_PAUSE": True,
    "QUICKSCALE_BILLING_PAST_DUE_ACCESS": True,
    "QUICKSCALE_BILLING_FREE_PLAN": "free",
    "QUICKSCALE_BILLING_SECRET_KEY_ENV_VAR": "STRIPE_SECRET_KEY",
    "QUICKSCALE_BILLING_WEBHOOK_SECRET_ENV_VAR": "STRIPE_WEBHOOK_SECRET",
    "QUICKSCALE_BILLING_WEBHOOK_TOLERANCE_SECONDS": 300,
    "QUICKSCALE_BILLING_BASE_TEMPLATE": "base.html",
    "QUICKSCALE_BILLING_CUSTOMER_RESOLVER": "",
    "QUICKSCALE_BILLING_CUSTOMER": "user",
    "QUICKSCALE_BILLING_TEAM_MODEL": "quickscale_modules_teams.Team",
}

# Points the stripe library at another API server (stripe-mock, the fake
# server in quickscale_modules_billing.testing). Never set in production.
API_BASE_ENV_VAR = "QUICKSCALE_BILLING_STRIPE_API_BASE"

PRORATION_BEHAVIORS = ("create_prorations", "always_invoice", "none")


def get(name: str):
    """A ``QUICKSCALE_BILLING_*`` setting, or its module.yml default."""
    return getattr(settings, name, DEFAULTS[name])


def currency() -> str:
    return str(get("QUICKSCALE_BILLING_CURRENCY")).lower()


def trial_days() -> int:
    return int(get("QUICKSCALE_BILLING_TRIAL_DAYS"))


def pricing_route() -> str:
    return str(get("QUICKSCALE_BILLING_PRICING_ROUTE"))


def billing_route() -> str:
    return str(get("QUICKSCALE_BILLING_ROUTE"))


def proration_behavior() -> str:
    return str(get("QUICKSCALE_BILLING_PRORATION_BEHAVIOR"))


def allow_pause() -> bool:
    return bool(get("QUICKSCALE_BILLING_ALLOW_PAUSE"))


def past_due_access() -> bool:
    return bool(get("QUICKSCALE_BILLING_PAST_DUE_ACCESS"))


def free_plan_slug() -> str:
    return str(get("QUICKSCALE_BILLING_FREE_PLAN") or "")


def base_template() -> str:
    return str(get("QUICKSCALE_BILLING_BASE_TEMPLATE") or "base.html")


def customer_kind() -> str:
    """``user`` or ``team``: who subscribes (an immutable option)."""
    return str(get("QUICKSCALE_BILLING_CUSTOMER"))


def team_model_label() -> str:
    return str(get("QUICKSCALE_BILLING_TEAM_MODEL"))


def owner_model_label() -> str:
    """The model a billing customer belongs to: the user model or the team model."""
    if customer_kind() == "team":
        return team_model_label()
    return settings.AUTH_USER_MODEL


def customer_resolver_path() -> str:
    return str(get("QUICKSCALE_BILLING_CUSTOMER_RESOLVER") or "")


def webhook_tolerance() -> int:
    return int(get("QUICKSCALE_BILLING_WEBHOOK_TOLERANCE_SECONDS"))


def secret_key_env_var() -> str:
    return str(get("QUICKSCALE_BILLING_SECRET_KEY_ENV_VAR"))


def webhook_secret_env_var() -> str:
    return str(get("QUICKSCALE_BILLING_WEBHOOK_SECRET_ENV_VAR"))


def secret_key() -> str:
    """The Stripe API key, from the environment (empty when unset)."""
    return os.environ.get(secret_key_env_var(), "").strip()


def webhook_secret() -> str:
    """The webhook signing secret, from the environment (empty when unset)."""
    return os.environ.get(webhook_secret_env_var(), "").strip()


def api_base() -> str:
    return os.environ.get(API_BASE_ENV_VAR, "").strip().rstrip("/")


def is_live_key(key: str) -> bool:
    return key.startswith(("sk_live_", "rk_live_"))
