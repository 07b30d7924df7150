"""Team-scoped models: for_team, the unscoped-query guard and its escape hatch;
current-team resolution; decorators, mixins, DRF permissions and template tags."""

import pytest
from django.test import RequestFactory

from quickscale_modules_teams import current, tenancy
from quickscale_modules_teams.models import UnscopedTeamQuery
from tests.scoped.models import Project

from .conftest import client_for


@pytest.fixture
def projects(team_a, team_b):
    return {
        "a1": Project.objects.create(team=team_a.team, name="Apollo"),
        "a2": Project.objects.create(team=team_a.team, name="Artemis"),
        "b1": Project.objects.create(team=team_b.team, name="Borealis"),
    }


def test_for_team_returns_only_that_teams_rows(projects, team_a, team_b):
    assert [p.name for p in Project.objects.for_team(team_a.team)] == ["Apollo", "Artemis"]
    assert [p.name for p in Project.objects.for_team(team_b.team.pk)] == ["Borealis"]
    assert Project.objects.filter(team=team_a.team).count() == 2
    assert Project.objects.filter(team_id=team_b.team.pk).exists()
    assert [p.name for p in team_a.team.scoped_project_set.all()] == ["Apollo", "Artemis"]
    assert Project.objects.for_team(team_a.team).filter(name__startswith="Ar").get().name == "Artemis"
    with pytest.raises(UnscopedTeamQuery, match="no current team"):
        Project.objects.for_team(None)


@pytest.mark.parametrize(
    "query",
    [
        lambda: list(Project.objects.all()),
        lambda: Project.objects.filter(name="Apollo").first(),
        lambda: Project.objects.get(name="Apollo"),
        lambda: Project.objects.count(),
        lambda: Project.objects.exists(),
        lambda: list(Project.objects.values_list("name", flat=True)),
        lambda: list(Project.objects.iterator()),
        lambda: Project.objects.aggregate(n=__import__("django.db.models", fromlist=["Count"]).Count("pk")),
        lambda: Project.objects.update(name="x"),
        lambda: Project.objects.filter(name="Apollo").delete(),
        lambda: Project.objects.exclude(team=None).count(),
    ],
    ids=["all", "first", "get", "count", "exists", "values_list", "iterator", "aggregate", "update", "delete", "exclude-team"],
)
def test_unscoped_queries_fail_in_tests(projects, query):
    with pytest.raises(UnscopedTeamQuery, match=r"for_team\(team\).*across_teams\(\)"):
        query()


def test_across_teams_is_the_explicit_escape_hatch(projects):
    assert Project.objects.across_teams().count() == 3
    assert sorted(Project.objects.across_teams().filter(name__startswith="A").values_list("name", flat=True)) == [
        "Apollo",
        "Artemis",
    ]


def test_guard_modes(projects, settings, monkeypatch):
    settings.QUICKSCALE_TEAMS_QUERY_GUARD = "off"
    assert Project.objects.count() == 3
    settings.QUICKSCALE_TEAMS_QUERY_GUARD = "debug"
    monkeypatch.setattr(tenancy, "_testing", lambda: False)
    settings.DEBUG = False
    assert Project.objects.count() == 3, "production: no error"
    settings.DEBUG = True
    with pytest.raises(UnscopedTeamQuery):
        Project.objects.count()
    settings.DEBUG = False
    settings.QUICKSCALE_TEAMS_QUERY_GUARD = "always"
    with pytest.raises(UnscopedTeamQuery):
        Project.objects.count()


def test_cascades_and_foreign_keys_are_not_guarded(projects, team_b):
    assert projects["a1"].team.name == "Team A"
    team_b.team.delete()
    assert Project.objects.across_teams().count() == 2


def test_current_team_resolution(team_a, team_b, projects):
    # b_owner joins team A later: first team (oldest membership) is B.
    team_a.team.memberships.create(user=team_b.owner, role="member")
    client = client_for(team_b.owner)
    assert client.get("/p/current/").json() == {"team": "team-b", "projects": ["Borealis"]}
    # Opening a team's page makes it current (session).
    client.get("/teams/team-a/")
    assert client.get("/p/current/").json()["team"] == "team-a"
    # The switch button too.
    response = client.post("/teams/team-b/switch/", {"next": "/p/current/"})
    assert response["Location"] == "/p/current/"
    assert client.get("/p/current/").json()["team"] == "team-b"
    assert client.post("/teams/api/teams/team-a/switch/").status_code == 200
    assert client.get("/teams/api/current/").json()["team"]["slug"] == "team-a"


def test_request_helper_without_the_middleware(team_a):
    request = RequestFactory().get("/")
    request.user = team_a.member
    request.session = {}
    assert current.get_current_team(request) == team_a.team


def test_decorators(team_a, projects):
    assert client_for(team_a.member).get("/p/team-a/names/").json() == {"projects": ["Apollo", "Artemis"]}
    assert client_for(team_a.member).get("/p/team-a/admin-only/").status_code == 403
    assert client_for(team_a.admin).get("/p/team-a/admin-only/").status_code == 200
    response = __import__("django.test", fromlist=["Client"]).Client().get("/p/team-a/names/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_mixins_and_template_tags(team_a, projects):
    html = client_for(team_a.admin).get("/p/team-a/projects/").content.decode()
    assert "Apollo" in html and "Borealis" not in html and 'class="manage"' in html and "Admin" in html
    html = client_for(team_a.member).get("/p/team-a/projects/").content.decode()
    assert 'class="manage"' not in html and "Member" in html
    assert client_for(team_a.member).get(f"/p/team-a/projects/{projects['a1'].pk}/").status_code == 200
    assert client_for(team_a.member).get(f"/p/team-a/projects/{projects['b1'].pk}/").status_code == 404


def test_drf_permissions(team_a, projects):
    member = client_for(team_a.member)
    assert member.get(f"/p/team-a/api/projects/{projects['a1'].pk}/").json()["name"] == "Apollo"
    assert member.get(f"/p/team-a/api/projects/{projects['b1'].pk}/").status_code == 404
    assert member.get("/p/team-a/api/admin/").status_code == 403
    assert client_for(team_a.admin).get("/p/team-a/api/admin/").json() == {"ok": True, "team": "team-a"}


def test_the_admin_reads_across_teams_on_purpose(projects, team_a):
    from django.contrib.auth import get_user_model

    staff = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-123")
    client = client_for(staff)
    html = client.get("/admin/scoped/project/").content.decode()
    assert "Apollo" in html and "Borealis" in html
    assert client.get(f"/admin/scoped/project/{projects['b1'].pk}/change/").status_code == 200
    assert client.get("/admin/quickscale_modules_teams/team/").status_code == 200
    assert client.get("/admin/quickscale_modules_teams/invitation/").status_code == 200
