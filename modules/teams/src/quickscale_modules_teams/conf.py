"""The module's settings, read at call time so tests and reconfiguration apply.

Every ``QUICKSCALE_TEAMS_*`` setting comes from module.yml's options (the
project's managed ``settings/modules.py``); the defaults here are module.yml's
defaults, for projects that wire the module by hand.
"""

from __future__ import annotations

from django.conf import settings

DEFAULTS: dict[str, object] = {
    "QUICKSCALE_TEAMS_ROUTE": "teams/",
    "QUICKSCALE_TEAMS_INVITATION_EXPIRY_DAYS": 7,
    "QUICKSCALE_TEAMS_ALLOW_CREATION": True,
    "QUICKSCALE_TEAMS_MAX_TEAMS_PER_USER": 0,
    "QUICKSCALE_TEAMS_EXTRA_ROLES": [],
    "QUICKSCALE_TEAMS_INVITATION_SIGNUP": True,
    "QUICKSCALE_TEAMS_FROM_EMAIL": "",
    "QUICKSCALE_TEAMS_QUERY_GUARD": "debug",
    "QUICKSCALE_TEAMS_BASE_TEMPLATE": "base.html",
}

# Where the current team's id is kept between requests.
SESSION_KEY = "quickscale_teams_current_team"


def get(name: str):
    return getattr(settings, name, DEFAULTS[name])


def route() -> str:
    value = str(get("QUICKSCALE_TEAMS_ROUTE")).strip("/")
    return f"{value}/" if value else ""


def invitation_expiry_days() -> int:
    return int(get("QUICKSCALE_TEAMS_INVITATION_EXPIRY_DAYS"))


def allow_creation() -> bool:
    return bool(get("QUICKSCALE_TEAMS_ALLOW_CREATION"))


def max_teams_per_user() -> int:
    return int(get("QUICKSCALE_TEAMS_MAX_TEAMS_PER_USER"))


def extra_roles() -> list:
    return list(get("QUICKSCALE_TEAMS_EXTRA_ROLES") or [])


def invitation_signup() -> bool:
    return bool(get("QUICKSCALE_TEAMS_INVITATION_SIGNUP"))


def from_email() -> str | None:
    return str(get("QUICKSCALE_TEAMS_FROM_EMAIL")) or None


def query_guard() -> str:
    return str(get("QUICKSCALE_TEAMS_QUERY_GUARD"))


def base_template() -> str:
    return str(get("QUICKSCALE_TEAMS_BASE_TEMPLATE"))
