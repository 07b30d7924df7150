"""Teams for Django: memberships with roles, invitations, permission checks and
team-scoped models whose unscoped queries fail loudly (see README.md)."""

__version__ = "0.1.0"
