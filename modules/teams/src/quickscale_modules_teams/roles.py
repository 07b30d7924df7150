"""The role hierarchy: owner > admin > member, plus the project's extra roles.

A role is a slug with a rank; a member with a higher rank can do everything a
lower rank can. Extra roles come from ``QUICKSCALE_TEAMS_EXTRA_ROLES``
(module option ``extra_roles``): ``"slug:Label:rank"`` strings (or
``(slug, label, rank)`` tuples). Owner stays the highest role.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import conf

OWNER = "owner"
ADMIN = "admin"
MEMBER = "member"


@dataclass(frozen=True)
class Role:
    slug: str
    label: str
    rank: int


BUILT_IN = (Role(OWNER, "Owner", 300), Role(ADMIN, "Admin", 200), Role(MEMBER, "Member", 100))


class RoleConfigError(ValueError):
    """An entry of QUICKSCALE_TEAMS_EXTRA_ROLES is malformed."""


def _parse(entry) -> Role:
    if isinstance(entry, str):
        parts = entry.split(":")
    else:
        parts = list(entry)
    if len(parts) != 3:
        raise RoleConfigError(f"{entry!r}: expected \"slug:Label:rank\", e.g. \"viewer:Viewer:50\"")
    slug, label, rank = (str(p).strip() for p in parts)
    if not slug.isidentifier() or slug != slug.lower():
        raise RoleConfigError(f"{entry!r}: the slug must be lowercase letters, digits and _")
    try:
        number = int(rank)
    except ValueError:
        raise RoleConfigError(f"{entry!r}: the rank must be a whole number") from None
    if not 0 < number < 300:
        raise RoleConfigError(f"{entry!r}: the rank must be between 1 and 299 (owner is 300)")
    return Role(slug, label or slug.title(), number)


def all_roles() -> list[Role]:
    """Every role, highest first. Raises RoleConfigError for a bad setting."""
    roles = {r.slug: r for r in BUILT_IN}
    for entry in conf.extra_roles():
        role = _parse(entry)
        if role.slug in roles:
            raise RoleConfigError(f"{entry!r}: the role {role.slug!r} already exists")
        roles[role.slug] = role
    return sorted(roles.values(), key=lambda r: -r.rank)


def get(slug: str) -> Role | None:
    return next((r for r in all_roles() if r.slug == slug), None)


def choices() -> list[tuple[str, str]]:
    return [(r.slug, r.label) for r in all_roles()]


def rank(slug: str | None) -> int:
    role = get(slug) if slug else None
    return role.rank if role else 0


def at_least(role: str | None, minimum: str) -> bool:
    """True when ``role`` is ``minimum`` or above it (an unknown role is nothing)."""
    if get(minimum) is None:
        raise RoleConfigError(f"unknown role {minimum!r}; known: {', '.join(r.slug for r in all_roles())}")
    return rank(role) >= rank(minimum) > 0


def label(slug: str) -> str:
    role = get(slug)
    return role.label if role else slug


def assignable_by(role: str | None) -> list[Role]:
    """Roles a member with ``role`` may give: owners any, others up to their own rank (never owner)."""
    mine = rank(role)
    return [r for r in all_roles() if (role == OWNER or (r.rank <= mine and r.slug != OWNER)) and mine > 0]
