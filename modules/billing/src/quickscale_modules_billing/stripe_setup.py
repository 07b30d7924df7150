"""Hands the environment's Stripe key to the stripe library and dj-stripe.

dj-stripe reads its key from Django settings (``STRIPE_SECRET_KEY``,
``STRIPE_LIVE_MODE``). The managed settings can only hold literals, so the
key stays in the environment and is copied into those two settings at start
and before each call into Stripe, unless the project sets them itself.
"""

from __future__ import annotations

import stripe
from django.conf import settings

from . import conf

_PROJECT_OWNS_KEY: bool | None = None
_DEFAULT_API_BASE = stripe.api_base


class BillingNotConfigured(Exception):
    """No Stripe API key: checkout and subscription changes cannot run."""

    def __init__(self) -> None:
        super().__init__(
            f"Stripe is not configured: set the {conf.secret_key_env_var()} "
            "environment variable to your Stripe secret key."
        )


def configure() -> str:
    """Brings settings and the stripe library up to date; returns the key."""
    global _PROJECT_OWNS_KEY
    if _PROJECT_OWNS_KEY is None:
        _PROJECT_OWNS_KEY = bool(getattr(settings, "STRIPE_SECRET_KEY", ""))
    if _PROJECT_OWNS_KEY:
        key = str(settings.STRIPE_SECRET_KEY)
    else:
        key = conf.secret_key()
        settings.STRIPE_SECRET_KEY = key
        settings.STRIPE_LIVE_MODE = conf.is_live_key(key)
    base = conf.api_base()
    stripe.api_base = base or _DEFAULT_API_BASE
    return key


def api_key() -> str:
    """The key for a call into Stripe; raises when there is none."""
    key = configure()
    if not key:
        raise BillingNotConfigured()
    return key


def is_configured() -> bool:
    return bool(configure())
