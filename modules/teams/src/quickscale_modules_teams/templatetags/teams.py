"""Template tags for permission-based UI: ``{% load teams %}``.

* ``{% if membership|has_team_role:"admin" %}…{% endif %}``
* ``{% team_role_of team user as role %}`` (None for a non-member)
* ``{% user_can team "admin" as can_manage %}`` (the request's user)
* ``{{ "admin"|role_label }}``
"""

from django import template

from .. import roles

register = template.Library()


@register.filter
def has_team_role(membership, minimum):
    role = getattr(membership, "role", None)
    return bool(role) and roles.at_least(role, minimum)


@register.filter
def role_label(slug):
    return roles.label(slug)


@register.simple_tag
def team_role_of(team, user):
    return team.role_of(user) if team is not None else None


@register.simple_tag(takes_context=True)
def user_can(context, team, minimum):
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    if team is None or user is None:
        return False
    return roles.at_least(team.role_of(user), minimum)
