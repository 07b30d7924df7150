"""The immutable ``customer`` option set to ``team``: a team subscribes and its members share the plan.

The option decides the billing tables' foreign key, so it is fixed when
Django starts: ``test_team_mode`` runs this file again in a child pytest
with ``BILLING_TEST_CUSTOMER=team`` (tests/settings.py then installs a small
stand-in team app, tests/teamapp). In the parent run the team tests are
skipped with a reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

TEAM_MODE = os.environ.get("BILLING_TEST_CUSTOMER") == "team"
team_only = pytest.mark.skipif(not TEAM_MODE, reason="runs in the child pytest of test_team_mode")


@pytest.mark.skipif(TEAM_MODE, reason="this is the child run")
def test_team_mode():
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "BILLING_TEST_CUSTOMER": "team"}
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", str(Path(__file__))],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "4 passed, 1 skipped" in out.stdout, out.stdout


@pytest.fixture
def team(db):
    from django.contrib.auth import get_user_model

    from tests.teamapp.models import Team

    users = get_user_model().objects
    owner = users.create_user("olga", "olga@example.com", "pw")
    member = users.create_user("max", "max@example.com", "pw")
    team = Team.objects.create(name="Acme", owner=owner)
    team.members.add(owner, member)
    return team


@team_only
def test_the_billing_owner_is_the_team_model():
    from quickscale_modules_billing.models import BillingCustomer

    assert settings.QUICKSCALE_BILLING_CUSTOMER == "team"
    assert BillingCustomer._meta.get_field("owner").related_model._meta.label == "teamapp.Team"


@team_only
def test_a_team_subscribes_and_every_member_gets_the_plan(team, fake_stripe, plans, post_webhook):
    from quickscale_modules_billing import check_limit
    from quickscale_modules_billing.models import BillingCustomer

    from .helpers import subscribe

    owner, member = Client(), Client()
    owner.force_login(team.owner)
    member.force_login(team.members.exclude(pk=team.owner_id).get())
    subscribe(owner, fake_stripe, post_webhook, "pro")
    customer = BillingCustomer.objects.get()
    assert customer.owner == team and customer.plan.slug == "pro"
    (_, _, created), = fake_stripe.calls("POST", "/v1/customers")
    # The team has no address: Stripe gets its owner's, and no user link.
    assert created["email"] == "olga@example.com" and created["name"] == "Acme"
    assert "djstripe_subscriber" not in created["metadata"]
    html = member.get(reverse("quickscale_billing:dashboard")).content.decode()
    assert "Pro" in html and "Active" in html
    assert check_limit(team, "projects", 100).allowed


@team_only
def test_a_user_without_a_team_is_sent_to_the_pricing_page(db, plans):
    from django.contrib.auth import get_user_model

    loner = Client()
    loner.force_login(get_user_model().objects.create_user("lone", "lone@example.com", "pw"))
    response = loner.get(reverse("quickscale_billing:dashboard"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("quickscale_billing:pricing")
    assert "Choose the team to bill first" in response.content.decode()
    assert loner.get(reverse("quickscale_billing:api-subscription")).status_code == 403


@team_only
def test_the_team_model_must_exist(settings):
    from quickscale_modules_billing.checks import check_options

    settings.QUICKSCALE_BILLING_TEAM_MODEL = "nope.Team"
    assert [e.id for e in check_options()] == ["quickscale_billing.E006"]
