"""System checks: wrong options fail `manage.py check`; missing secrets fail `check --deploy`."""

from __future__ import annotations

import re

from django.apps import apps
from django.core.checks import Error, Tags, Warning, register

from . import conf

ROUTE = re.compile(r"^([A-Za-z0-9_.-]+/)*$")


@register()
def check_options(app_configs=None, **kwargs):
    problems = []
    if not re.fullmatch(r"[a-z]{3}", conf.currency()):
        problems.append(
            Error(
                f"QUICKSCALE_BILLING_CURRENCY {conf.currency()!r} is not a three-letter ISO code.",
                hint="Set the billing module's currency option, e.g. usd or eur.",
                id="quickscale_billing.E001",
            )
        )
    routes = {
        "QUICKSCALE_BILLING_PRICING_ROUTE": conf.pricing_route(),
        "QUICKSCALE_BILLING_ROUTE": conf.billing_route(),
    }
    for name, route in routes.items():
        if not ROUTE.fullmatch(route):
            problems.append(
                Error(
                    f"{name} {route!r} is not a route.",
                    hint="Use a relative path ending in /, such as pricing/ (or empty for the site root).",
                    id="quickscale_billing.E002",
                )
            )
    if conf.pricing_route() == conf.billing_route():
        problems.append(
            Error(
                "The pricing page and the billing dashboard have the same route "
                f"{conf.pricing_route()!r}.",
                hint="Give the billing module's pricing_route and billing_route different values.",
                id="quickscale_billing.E003",
            )
        )
    if conf.proration_behavior() not in conf.PRORATION_BEHAVIORS:
        problems.append(
            Error(
                f"QUICKSCALE_BILLING_PRORATION_BEHAVIOR {conf.proration_behavior()!r} is unknown.",
                hint="One of: " + ", ".join(conf.PRORATION_BEHAVIORS),
                id="quickscale_billing.E004",
            )
        )
    if conf.customer_kind() not in ("user", "team"):
        problems.append(
            Error(
                f"QUICKSCALE_BILLING_CUSTOMER {conf.customer_kind()!r} is neither user nor team.",
                id="quickscale_billing.E005",
            )
        )
    elif conf.customer_kind() == "team":
        try:
            apps.get_model(conf.team_model_label())
        except (LookupError, ValueError):
            problems.append(
                Error(
                    f"The billing customer is a team, but the team model "
                    f"{conf.team_model_label()!r} is not installed.",
                    hint="Embed the teams module, or set the billing module's team_model option.",
                    id="quickscale_billing.E006",
                )
            )
    return problems


@register(Tags.urls)
def check_routes_reach_the_module(app_configs=None, **kwargs):
    """The project's own URLs come first: a route they already take would hide a page."""
    from django.urls import Resolver404, resolve, reverse
    from django.urls.exceptions import NoReverseMatch

    problems = []
    for name in ("pricing", "dashboard", "webhook"):
        try:
            path = reverse(f"quickscale_billing:{name}")
            match = resolve(path)
        except (NoReverseMatch, Resolver404):
            continue
        except Exception:  # noqa: BLE001 - a broken URLconf is reported by Django itself
            return []
        if match.namespace != "quickscale_billing":
            problems.append(
                Warning(
                    f"The billing {name} page {path} is answered by {match.view_name or match.func}.",
                    hint="Choose another pricing_route/billing_route, or remove the project's URL.",
                    id="quickscale_billing.W001",
                )
            )
    return problems


def _paid_plans_exist() -> bool:
    from django.db import DatabaseError

    from .models import Plan

    try:
        return Plan.objects.filter(is_active=True).exclude(
            stripe_monthly_price_id="", stripe_yearly_price_id=""
        ).exists()
    except DatabaseError:  # not migrated yet
        return False


@register(Tags.security, deploy=True)
def check_secrets(app_configs=None, **kwargs):
    """Customers cannot pay without the secrets; until there are paid plans nothing is lost."""
    problems = []
    if conf.api_base():
        problems.append(
            Warning(
                f"{conf.API_BASE_ENV_VAR} is set: Stripe calls do not go to Stripe.",
                hint="Unset it in production; it is for tests against a fake Stripe.",
                id="quickscale_billing.W004",
            )
        )
    if not _paid_plans_exist():
        return problems
    if not conf.secret_key():
        problems.append(
            Warning(
                f"{conf.secret_key_env_var()} is not set: checkout and subscription changes fail.",
                hint="Set it to your Stripe secret key (sk_live_...) in the environment.",
                id="quickscale_billing.W002",
            )
        )
    if not conf.webhook_secret():
        problems.append(
            Warning(
                f"{conf.webhook_secret_env_var()} is not set: Stripe's webhooks are refused.",
                hint="Set it to the signing secret (whsec_...) of your webhook endpoint.",
                id="quickscale_billing.W003",
            )
        )
    return problems
