"""Teams and memberships: creation, roles, the last owner, leaving, transfer."""

import re

import pytest
from django.core.exceptions import PermissionDenied

from quickscale_modules_teams import roles, services
from quickscale_modules_teams.models import Membership, Team

from .conftest import client_for, make_user


def test_the_creator_becomes_owner_and_slugs_are_unique(db):
    alice = make_user("alice")
    first = services.create_team(alice, "Acme")
    second = services.create_team(alice, "Acme")
    reserved = services.create_team(alice, "New")
    assert first.role_of(alice) == roles.OWNER
    assert (first.slug, second.slug, reserved.slug) == ("acme", "acme-2", "new-2")
    assert first.email == "alice@example.com"
    assert list(Team.objects.for_user(alice)) == [first, second, reserved]


def test_team_creation_limits(db, settings):
    alice = make_user("alice")
    settings.QUICKSCALE_TEAMS_MAX_TEAMS_PER_USER = 1
    services.create_team(alice, "One")
    with pytest.raises(services.TeamError):
        services.create_team(alice, "Two")
    settings.QUICKSCALE_TEAMS_MAX_TEAMS_PER_USER = 0
    settings.QUICKSCALE_TEAMS_ALLOW_CREATION = False
    assert not services.can_create_team(alice)
    assert client_for(alice).post("/teams/new/", {"name": "Three"}).status_code == 403
    assert Team.objects.count() == 1


def test_the_last_owner_cannot_leave_be_demoted_or_removed(team_a):
    with pytest.raises(services.TeamError, match="last owner"):
        services.leave_team(team_a.owner_m)
    with pytest.raises(services.TeamError, match="last owner"):
        services.change_role(team_a.owner_m, team_a.owner_m, roles.ADMIN)
    assert team_a.team.role_of(team_a.owner) == roles.OWNER
    # With a second owner, one of them may go.
    services.change_role(team_a.owner_m, team_a.admin_m, roles.OWNER)
    services.change_role(team_a.admin_m, team_a.owner_m, roles.ADMIN)
    team_a.admin_m.refresh_from_db()
    with pytest.raises(services.TeamError, match="last owner"):
        services.leave_team(team_a.admin_m)
    services.leave_team(team_a.member_m)
    assert not team_a.team.memberships.filter(user=team_a.member).exists()


def test_admins_cannot_touch_owners_or_promote_to_owner(team_a):
    with pytest.raises(PermissionDenied):
        services.change_role(team_a.admin_m, team_a.member_m, roles.OWNER)
    with pytest.raises(PermissionDenied):
        services.change_role(team_a.admin_m, team_a.owner_m, roles.MEMBER)
    with pytest.raises(PermissionDenied):
        services.remove_member(team_a.admin_m, team_a.owner_m)
    with pytest.raises(PermissionDenied):
        services.change_role(team_a.member_m, team_a.admin_m, roles.MEMBER)
    services.change_role(team_a.admin_m, team_a.member_m, roles.ADMIN)
    assert team_a.team.role_of(team_a.member) == roles.ADMIN


def test_transfer_ownership(team_a):
    services.transfer_ownership(team_a.owner_m, team_a.member_m)
    assert team_a.team.role_of(team_a.member) == roles.OWNER
    assert team_a.team.role_of(team_a.owner) == roles.ADMIN
    with pytest.raises(PermissionDenied):
        services.transfer_ownership(team_a.admin_m, team_a.admin_m)


def test_pages_create_settings_transfer_leave_delete(team_a):
    owner = client_for(team_a.owner)
    response = owner.post("/teams/new/", {"name": "Second team"})
    assert response.status_code == 302 and response["Location"] == "/teams/second-team/"
    listing = owner.get("/teams/").content.decode()
    assert "Team A" in listing and "Second team" in listing

    settings_page = owner.get("/teams/team-a/settings/")
    assert settings_page.status_code == 200 and "Transfer ownership" in settings_page.content.decode()
    owner.post("/teams/team-a/settings/", {"name": "Team A renamed", "description": "We build"})
    team_a.team.refresh_from_db()
    assert (team_a.team.name, team_a.team.description) == ("Team A renamed", "We build")

    response = owner.post("/teams/team-a/leave/", follow=True)
    assert "last owner" in response.content.decode()
    owner.post("/teams/team-a/transfer/", {"member": team_a.admin_m.pk})
    assert team_a.team.role_of(team_a.admin) == roles.OWNER
    assert owner.post("/teams/team-a/leave/").status_code == 302
    assert team_a.team.role_of(team_a.owner) is None

    new_owner = client_for(team_a.admin)
    assert new_owner.post("/teams/team-a/delete/").status_code == 302
    assert not Team.objects.filter(slug="team-a").exists()


def test_members_change_roles_and_remove_from_the_dashboard(team_a):
    admin = client_for(team_a.admin)
    admin.post(f"/teams/team-a/members/{team_a.member_m.pk}/role/", {"role": "admin"})
    assert team_a.team.role_of(team_a.member) == roles.ADMIN
    response = admin.post(f"/teams/team-a/members/{team_a.owner_m.pk}/role/", {"role": "member"})
    assert response.status_code == 403
    admin.post(f"/teams/team-a/members/{team_a.member_m.pk}/remove/")
    assert not Membership.objects.filter(pk=team_a.member_m.pk).exists()
    owner = client_for(team_a.owner)
    response = owner.post(f"/teams/team-a/members/{team_a.owner_m.pk}/role/", {"role": "member"}, follow=True)
    assert "last owner" in response.content.decode()
    assert team_a.team.role_of(team_a.owner) == roles.OWNER


def test_dashboard_lists_members_and_pending_invitations(team_a, invite):
    invite(team_a.admin_m, "new@example.com")
    html = client_for(team_a.owner).get("/teams/team-a/").content.decode()
    for text in ["Team A", "a_owner", "a_admin", "a_member", "new@example.com", "Pending invitations", "Test site"]:
        assert text in html, text
    assert "quickscale_modules_teams/teams.css" in html
    # The project's components, never browser-default buttons or bare tables.
    assert '<table class="table">' in html and 'class="page-header teams-header"' in html
    buttons = re.findall(r"<button[^>]*>", html)
    assert len(buttons) >= 5 and all('class="button' in b for b in buttons), buttons
    assert 'class="button small danger">Remove</button>' in html
    # A plain member sees the members, not the invitations or the admin forms.
    html = client_for(team_a.member).get("/teams/team-a/").content.decode()
    assert "a_owner" in html and "new@example.com" not in html and "Change role" not in html


def test_team_settings_json_and_api_patch(team_a):
    response = client_for(team_a.admin).patch(
        "/teams/api/teams/team-a/", {"settings": {"theme": "dark"}}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    team_a.team.refresh_from_db()
    assert team_a.team.settings == {"theme": "dark"}
