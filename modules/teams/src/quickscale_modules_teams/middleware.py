"""``quickscale_modules_teams.middleware.CurrentTeamMiddleware`` (see current.py)."""

from .current import CurrentTeamMiddleware

__all__ = ["CurrentTeamMiddleware"]
