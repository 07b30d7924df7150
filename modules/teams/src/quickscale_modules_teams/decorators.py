"""View decorators: ``@team_role_required("admin")`` and ``@team_member_required``.

The team comes from the view's ``team_slug`` keyword, else the current team
(``request.team``). A non-member gets 404 (the team's existence stays hidden);
a member below the role gets 403. The view sees ``request.team`` and
``request.membership``.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404

from . import roles
from .current import get_current_membership, team_from_url


def resolve_membership(request, kwargs, minimum: str):
    """The membership the request acts with, checked against ``minimum``."""
    slug = kwargs.get("team_slug")
    if slug:
        membership = team_from_url(request, slug)
    else:
        membership = get_current_membership(request)
        if membership is None:
            raise Http404("You are not a member of any team")
        request.team = membership.team
        request.membership = membership
    if not roles.at_least(membership.role, minimum):
        raise PermissionDenied(f"this needs the {roles.label(minimum)} role in {membership.team}")
    return membership


def team_role_required(minimum: str = roles.MEMBER):
    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            resolve_membership(request, kwargs, minimum)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def team_member_required(view=None):
    """``@team_member_required`` or ``@team_member_required()``."""
    decorator = team_role_required(roles.MEMBER)
    return decorator(view) if view is not None else decorator


team_admin_required = team_role_required(roles.ADMIN)
team_owner_required = team_role_required(roles.OWNER)
