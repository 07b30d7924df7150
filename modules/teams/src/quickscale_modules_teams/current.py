"""The current team of a request.

Resolution, first match wins:

1. a ``team_slug`` URL keyword (``/teams/<team_slug>/...``: the module's own
   pages and any project view whose route has ``<slug:team_slug>``) — the
   user must be a member, else 404;
2. the team stored in the session (``switch_team``, the "switch" button, or
   opening a team's page);
3. the user's first team (oldest membership).

``CurrentTeamMiddleware`` sets ``request.team`` and ``request.membership``
(None for anonymous users and users without a team; one query for signed-in
users); ``get_current_team`` does the same for code that runs without it.
Code that needs a team whatever the URL (billing's team customer, for one)
reads ``request.team``.
"""

from __future__ import annotations

from django.http import Http404

from . import conf
from .models import Membership, Team


def membership_for(user, team_or_slug) -> Membership | None:
    if user is None or not user.is_authenticated:
        return None
    query = Membership.objects.select_related("team", "user").filter(user=user)
    if isinstance(team_or_slug, Team):
        return query.filter(team=team_or_slug).first()
    return query.filter(team__slug=team_or_slug).first()


def _resolve(request) -> Membership | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    session = getattr(request, "session", None)
    team_id = session.get(conf.SESSION_KEY) if session is not None else None
    query = Membership.objects.select_related("team", "user").filter(user=user)
    found = query.filter(team_id=team_id).first() if team_id else None
    return found or query.order_by("created_at", "pk").first()


def get_current_membership(request) -> Membership | None:
    if "_qs_team_membership" not in request.__dict__:
        request.__dict__["_qs_team_membership"] = _resolve(request)
    return request.__dict__["_qs_team_membership"]


def get_current_team(request) -> Team | None:
    """The request's current team (see the module docs), or None."""
    membership = get_current_membership(request)
    return membership.team if membership else None


def set_current(request, membership: Membership) -> None:
    """Makes ``membership``'s team the current one for this request and the session."""
    request.__dict__["_qs_team_membership"] = membership
    request.team = membership.team
    request.membership = membership
    if getattr(request, "session", None) is not None:
        request.session[conf.SESSION_KEY] = membership.team_id


def switch_team(request, team: Team) -> Membership:
    membership = membership_for(request.user, team)
    if membership is None:
        raise Http404("No such team")
    set_current(request, membership)
    return membership


def team_from_url(request, slug: str) -> Membership:
    """The membership for the URL's team; 404 when the user is not a member
    (a non-member cannot tell a team exists)."""
    membership = membership_for(request.user, slug)
    if membership is None:
        raise Http404("No such team")
    set_current(request, membership)
    return membership


class CurrentTeamMiddleware:
    """Sets ``request.team`` and ``request.membership`` (see the module docs)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Plain attributes, not lazy objects: `request.team is None` must work.
        membership = get_current_membership(request)
        request.membership = membership
        request.team = membership.team if membership else None
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        slug = view_kwargs.get("team_slug")
        if slug and getattr(request, "user", None) is not None and request.user.is_authenticated:
            membership = membership_for(request.user, slug)
            if membership is not None:
                set_current(request, membership)
        return None
