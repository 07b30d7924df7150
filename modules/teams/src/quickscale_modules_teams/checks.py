"""System checks: a bad role setting or missing middleware is found by ``manage.py check``."""

from django.conf import settings
from django.core.checks import Error, Warning, register

from . import roles


@register()
def check_roles(app_configs, **kwargs):
    try:
        roles.all_roles()
    except roles.RoleConfigError as exc:
        return [Error(f"QUICKSCALE_TEAMS_EXTRA_ROLES: {exc}", id="quickscale_teams.E001")]
    return []


@register()
def check_middleware(app_configs, **kwargs):
    path = "quickscale_modules_teams.middleware.CurrentTeamMiddleware"
    if path not in getattr(settings, "MIDDLEWARE", []):
        return [
            Warning(
                "request.team is not set: the current-team middleware is not installed",
                hint=f"add {path!r} to MIDDLEWARE after AuthenticationMiddleware",
                id="quickscale_teams.W001",
            )
        ]
    return []
