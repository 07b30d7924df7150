"""Tenant isolation: every view and API endpoint of the module, walked from its
URLconf, refuses team A's people access to team B's objects (404 for a team
they are not in and for another team's ids, 403 for an invitation sent to
someone else) and changes nothing of team B's."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from quickscale_modules_teams import roles
from quickscale_modules_teams.models import Invitation, Membership, Team

from .conftest import client_for

# Every route name of the module, with the methods it answers. A new route
# without an entry here fails test_every_route_is_covered.
ROUTES = {
    "list": ["GET"],
    "create": ["GET", "POST"],
    "dashboard": ["GET"],
    "settings": ["GET", "POST"],
    "delete": ["POST"],
    "invite": ["POST"],
    "revoke": ["POST"],
    "resend": ["POST"],
    "member-role": ["POST"],
    "member-remove": ["POST"],
    "leave": ["POST"],
    "transfer": ["POST"],
    "switch": ["POST"],
    "invitation": ["GET", "POST"],
    "invitation-accept": ["POST"],
    "invitation-decline": ["POST"],
    "api-current": ["GET"],
    "api-teams": ["GET", "POST"],
    "api-team": ["GET", "PATCH", "DELETE"],
    "api-members": ["GET"],
    "api-member": ["PATCH", "DELETE"],
    "api-invitations": ["GET", "POST"],
    "api-invitation": ["DELETE"],
    "api-invitation-resend": ["POST"],
    "api-leave": ["POST"],
    "api-transfer": ["POST"],
    "api-switch": ["POST"],
    "api-invitation-token": ["GET"],
    "api-invitation-accept": ["POST"],
    "api-invitation-decline": ["POST"],
}

# What the requests send: valid data, so that only isolation can refuse them.
DATA = {"role": "member", "email": "eve@example.com", "name": "Hijacked", "member": None, "username": "eve",
        "password1": "a-long-pass-123", "password2": "a-long-pass-123", "settings": {"x": 1}}


def module_routes():
    """(name, route with <converters>) of every pattern in the module's URLconf."""
    found = []

    def walk(patterns, prefix):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                found.append((p.name, prefix + str(p.pattern)))

    walk(get_resolver("quickscale_modules_teams.urls").url_patterns, "/")
    return found


def test_every_route_is_covered():
    names = [name for name, _ in module_routes()]
    assert len(names) == len(set(names)), names
    assert set(names) == set(ROUTES), f"update ROUTES: {set(names) ^ set(ROUTES)}"


@pytest.fixture
def world(team_a, team_b, invite):
    invitation_b, token_b = invite(team_b.owner_m, "friend-of-b@example.com")
    invitation_a, token_a = invite(team_a.owner_m, "friend-of-a@example.com")
    return {"a": team_a, "b": team_b, "inv_b": invitation_b, "token_b": token_b, "inv_a": invitation_a}


def snapshot():
    team = Team.objects.get(slug="team-b")
    return (
        team.name,
        team.settings,
        sorted(Membership.objects.filter(team=team).values_list("user__username", "role")),
        sorted(Invitation.objects.filter(team=team).values_list("email", "status", "token_hash", "expires_at")),
    )


def request(client, method, path, data):
    if method == "GET":
        return client.get(path)
    if method == "POST" and "/api/" not in path:
        return client.post(path, data)
    return client.generic(method, path, __import__("json").dumps(data), content_type="application/json")


def fill(route, world, *, team_slug, pk_kind):
    """The route with team B's values (or A's slug with B's ids when team_slug is A's)."""
    b = world["b"]
    pk = {"member": b.member_m.pk, "invitation": world["inv_b"].pk}[pk_kind]
    return (
        route.replace("<slug:team_slug>", team_slug)
        .replace("<int:pk>", str(pk))
        .replace("<str:token>", world["token_b"])
    )


def pk_kind(name):
    return "member" if "member" in name else "invitation"


@pytest.mark.parametrize("who", ["owner", "member"])
def test_team_a_gets_404_or_403_for_every_team_b_object(world, who):
    a = world["a"]
    client = client_for(getattr(a, who))
    before = snapshot()
    checked = 0
    for name, route in module_routes():
        data = dict(DATA, member=world["b"].owner_m.pk)
        for method in ROUTES[name]:
            if "<slug:team_slug>" in route:
                # Team B's slug: not a member, so "no such team".
                path = fill(route, world, team_slug="team-b", pk_kind=pk_kind(name))
                response = request(client, method, path, data)
                assert response.status_code == 404, (who, method, path, response.status_code)
                checked += 1
                if "<int:pk>" in route:
                    # Their own team's slug with team B's ids: "no such object".
                    path = fill(route, world, team_slug="team-a", pk_kind=pk_kind(name))
                    response = request(client, method, path, data)
                    assert response.status_code in (403, 404), (who, method, path, response.status_code)
                    if who != "member":
                        assert response.status_code == 404, (who, method, path, response.status_code)
                    checked += 1
            elif "<str:token>" in route:
                # Team B's invitation, sent to someone else.
                path = fill(route, world, team_slug="", pk_kind="invitation")
                response = request(client, method, path, data)
                assert response.status_code == 403, (who, method, path, response.status_code)
                assert "another account" in response.content.decode() or "signed in with" in response.content.decode()
                checked += 1
            else:
                # No team in the URL: only the user's own teams show.
                response = request(client, method, route, data)
                assert response.status_code < 500, (method, route)
                assert b"Team B" not in response.content and b"team-b" not in response.content, (method, route)
                checked += 1
        assert snapshot() == before, f"{name} changed team B"
    assert checked >= 45


def test_outsiders_get_404_for_every_team_route(world, outsider):
    client = client_for(outsider)
    for name, route in module_routes():
        if "<slug:team_slug>" not in route:
            continue
        for method in ROUTES[name]:
            path = fill(route, world, team_slug="team-b", pk_kind=pk_kind(name))
            assert request(client, method, path, dict(DATA, member=1)).status_code == 404, (method, path)


def test_members_get_403_for_admin_routes_of_their_own_team(world):
    a = world["a"]
    client = client_for(a.member)
    admin_only = {
        ("settings", "GET"), ("delete", "POST"), ("invite", "POST"), ("revoke", "POST"), ("resend", "POST"),
        ("member-role", "POST"), ("member-remove", "POST"), ("transfer", "POST"), ("api-team", "PATCH"),
        ("api-team", "DELETE"), ("api-member", "PATCH"), ("api-invitations", "GET"), ("api-invitations", "POST"),
        ("api-invitation", "DELETE"), ("api-invitation-resend", "POST"), ("api-transfer", "POST"),
    }
    routes = dict(module_routes())
    for name, method in sorted(admin_only):
        pk = a.admin_m.pk if "member" in name else world["inv_a"].pk
        path = routes[name].replace("<slug:team_slug>", "team-a").replace("<int:pk>", str(pk))
        response = request(client, method, path, dict(DATA, member=a.admin_m.pk))
        assert response.status_code == 403, (name, method, response.status_code)
    assert Team.objects.get(slug="team-a").role_of(a.admin) == roles.ADMIN
    assert Invitation.objects.get(pk=world["inv_a"].pk).status == Invitation.Status.PENDING


def test_the_api_lists_only_the_users_teams(world):
    teams = client_for(world["a"].member).get("/teams/api/teams/").json()["teams"]
    assert [t["slug"] for t in teams] == ["team-a"]
