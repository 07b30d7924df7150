"""The REST API the React theme uses."""

from quickscale_modules_teams import roles
from quickscale_modules_teams.models import Team

from .conftest import client_for


def test_create_list_and_read_teams(team_a):
    client = client_for(team_a.member)
    response = client.post("/teams/api/teams/", {"name": "Side project"}, content_type="application/json")
    assert response.status_code == 201 and response.json()["role"] == "owner"
    teams = {t["slug"]: t["role"] for t in client.get("/teams/api/teams/").json()["teams"]}
    assert teams == {"team-a": "member", "side-project": "owner"}
    detail = client.get("/teams/api/teams/team-a/").json()
    assert detail["name"] == "Team A" and detail["role"] == "member"


def test_current_team_and_roles(team_a):
    data = client_for(team_a.admin).get("/teams/api/current/").json()
    assert data["team"]["slug"] == "team-a" and data["role"] == "admin"
    assert [r["slug"] for r in data["roles"]] == ["owner", "admin", "member"]
    assert client_for(team_a.admin).get("/teams/api/current/").status_code == 200
    from django.test import Client

    assert Client().get("/teams/api/current/").status_code == 403


def test_members_roles_leave_transfer_delete(team_a):
    owner, admin, member = (client_for(u) for u in (team_a.owner, team_a.admin, team_a.member))
    members = member.get("/teams/api/teams/team-a/members/").json()["members"]
    assert [(m["user"]["username"], m["role"]) for m in members] == [
        ("a_owner", "owner"),
        ("a_admin", "admin"),
        ("a_member", "member"),
    ]
    url = f"/teams/api/teams/team-a/members/{team_a.member_m.pk}/"
    assert admin.patch(url, {"role": "admin"}, content_type="application/json").json()["role"] == "admin"
    response = owner.patch(f"/teams/api/teams/team-a/members/{team_a.owner_m.pk}/", {"role": "member"}, content_type="application/json")
    assert response.status_code == 400 and "last owner" in response.json()["detail"]
    assert owner.post("/teams/api/teams/team-a/leave/").status_code == 400
    assert member.post("/teams/api/teams/team-a/leave/").status_code == 204
    response = owner.post("/teams/api/teams/team-a/transfer/", {"member": team_a.admin_m.pk}, content_type="application/json")
    assert response.status_code == 200
    assert Team.objects.get(slug="team-a").role_of(team_a.admin) == roles.OWNER
    assert owner.delete("/teams/api/teams/team-a/").status_code == 403
    assert admin.delete("/teams/api/teams/team-a/").status_code == 204
    assert not Team.objects.filter(slug="team-a").exists()


def test_admins_remove_members(team_a):
    admin = client_for(team_a.admin)
    assert admin.delete(f"/teams/api/teams/team-a/members/{team_a.member_m.pk}/").status_code == 204
    assert admin.delete(f"/teams/api/teams/team-a/members/{team_a.owner_m.pk}/").status_code == 403
