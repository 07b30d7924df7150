"""Fixtures: two teams, A and B, with an owner, an admin and a member each."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from quickscale_modules_teams import roles, services
from quickscale_modules_teams.models import Membership


def make_user(name: str):
    return get_user_model().objects.create_user(name, f"{name}@example.com", f"pw-{name}-123")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def build_team(name: str, prefix: str):
    owner, admin, member = (make_user(f"{prefix}{role}") for role in ("owner", "admin", "member"))
    team = services.create_team(owner, name)
    Membership.objects.create(team=team, user=admin, role=roles.ADMIN)
    Membership.objects.create(team=team, user=member, role=roles.MEMBER)
    return SimpleNamespace(
        team=team,
        owner=owner,
        admin=admin,
        member=member,
        owner_m=team.memberships.get(user=owner),
        admin_m=team.memberships.get(user=admin),
        member_m=team.memberships.get(user=member),
    )


@pytest.fixture
def team_a(db):
    return build_team("Team A", "a_")


@pytest.fixture
def team_b(db):
    return build_team("Team B", "b_")


@pytest.fixture
def outsider(db):
    return make_user("outsider")


@pytest.fixture(autouse=True)
def _empty_outbox():
    mail.outbox = []


def token_from(message) -> str:
    """The token in the invitation link of an email."""
    found = re.search(r"/teams/invitations/([^/\s]+)/", message.body)
    assert found, message.body
    return found.group(1)


@pytest.fixture
def invite(django_capture_on_commit_callbacks):
    """invite(actor_membership, email, role="member") -> (invitation, token): sent through the outbox."""

    def _invite(actor, email, role=roles.MEMBER):
        with django_capture_on_commit_callbacks(execute=True):
            invitation = services.invite(None, actor, email, role)
        return invitation, token_from(mail.outbox[-1])

    return _invite
