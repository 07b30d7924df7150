"""DRF permission classes: team membership and roles for API views.

The team comes from the view's ``team_slug`` keyword, else ``request.team``.
Non-members are told the team does not exist (404); members below the role
get 403. For object views, an object whose ``team`` is another team's is a
404 as well.
"""

from __future__ import annotations

from django.http import Http404
from rest_framework.permissions import BasePermission

from . import roles
from .current import get_current_membership, membership_for, set_current


def _membership(request, view):
    cached = getattr(request, "_qs_drf_membership", None)
    if cached is not None:
        return cached
    slug = getattr(view, "kwargs", {}).get("team_slug")
    if slug:
        membership = membership_for(request.user, slug)
        if membership is None:
            raise Http404("No such team")
        set_current(request, membership)
    else:
        membership = get_current_membership(request)
        if membership is None:
            raise Http404("You are not a member of any team")
    request._qs_drf_membership = membership
    return membership


class HasTeamRole(BasePermission):
    """``permission_classes = [HasTeamRole.of("admin")]``."""

    minimum = roles.MEMBER
    message = "Your role in this team does not allow this."

    @classmethod
    def of(cls, minimum: str):
        return type(f"HasTeamRole_{minimum}", (cls,), {"minimum": minimum})

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        membership = _membership(request, view)
        return roles.at_least(membership.role, self.minimum)

    def has_object_permission(self, request, view, obj):
        team_id = getattr(obj, "team_id", None)
        if team_id is not None and team_id != _membership(request, view).team_id:
            raise Http404("No such object")
        return True


class IsTeamMember(HasTeamRole):
    minimum = roles.MEMBER


class IsTeamAdmin(HasTeamRole):
    minimum = roles.ADMIN


class IsTeamOwner(HasTeamRole):
    minimum = roles.OWNER
