import pytest
from django.core.checks import registry

from quickscale_modules_teams import checks, roles


def test_builtin_hierarchy_owner_admin_member():
    assert [r.slug for r in roles.all_roles()] == ["owner", "admin", "member"]
    assert roles.at_least("owner", "admin") and roles.at_least("admin", "member")
    assert not roles.at_least("member", "admin") and not roles.at_least("admin", "owner")
    assert not roles.at_least(None, "member") and not roles.at_least("ghost", "member")


def test_unknown_minimum_is_an_error_not_a_silent_false():
    with pytest.raises(roles.RoleConfigError, match="unknown role 'boss'"):
        roles.at_least("owner", "boss")


def test_extra_roles_from_the_setting(settings):
    settings.QUICKSCALE_TEAMS_EXTRA_ROLES = ["viewer:Viewer:50", ("manager", "Manager", 150)]
    assert [r.slug for r in roles.all_roles()] == ["owner", "admin", "manager", "member", "viewer"]
    assert roles.at_least("manager", "member") and not roles.at_least("manager", "admin")
    assert roles.at_least("member", "viewer") and not roles.at_least("viewer", "member")
    assert roles.label("manager") == "Manager"


def test_admins_assign_up_to_their_rank_owners_anything(settings):
    settings.QUICKSCALE_TEAMS_EXTRA_ROLES = ["viewer:Viewer:50"]
    assert [r.slug for r in roles.assignable_by("owner")] == ["owner", "admin", "member", "viewer"]
    assert [r.slug for r in roles.assignable_by("admin")] == ["admin", "member", "viewer"]
    assert [r.slug for r in roles.assignable_by("member")] == ["member", "viewer"]
    assert roles.assignable_by(None) == []


@pytest.mark.parametrize(
    "entry, problem",
    [
        ("viewer", "expected"),
        ("Viewer:Viewer:50", "lowercase"),
        ("viewer:Viewer:many", "whole number"),
        ("boss:Boss:400", "between 1 and 299"),
        ("admin:Admin again:150", "already exists"),
    ],
)
def test_bad_extra_roles_fail_the_system_check(settings, entry, problem):
    settings.QUICKSCALE_TEAMS_EXTRA_ROLES = [entry]
    assert checks.check_roles in registry.registry.get_checks()
    errors = [e for e in checks.check_roles(None) if e.id == "quickscale_teams.E001"]
    assert len(errors) == 1 and problem in errors[0].msg, errors


def test_missing_middleware_is_a_check_warning(settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "CurrentTeam" not in m]
    assert checks.check_middleware in registry.registry.get_checks()
    assert [e.id for e in checks.check_middleware(None)] == ["quickscale_teams.W001"]
