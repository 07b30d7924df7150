"""Fixtures for the billing module's tests: plans, customers and the fake Stripe."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from quickscale_modules_billing.models import LimitPeriod, Plan, PlanLimit


def pytest_configure(config):
    # Installed, the package registers its plugin itself (entry point).
    if not config.pluginmanager.has_plugin("quickscale_billing"):
        config.pluginmanager.import_plugin("quickscale_modules_billing.testing.pytest_plugin")


@pytest.fixture(autouse=True)
def _no_stripe_outside_the_fake(monkeypatch):
    """Without the fake_stripe fixture there is no key: nothing can reach Stripe."""
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("QUICKSCALE_BILLING_STRIPE_API_BASE", raising=False)


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("alice", "alice@example.com", "pw-alice-123")


@pytest.fixture
def other_user(db):
    return get_user_model().objects.create_user("bob", "bob@example.com", "pw-bob-123")


@pytest.fixture
def client_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def plans(db, request):
    """Free (1 project), Basic ($10/month or $100/year: 3 projects, 2 API calls) and Pro ($30/month).

    With the fake_stripe fixture, the paid plans get real (fake) Stripe prices.
    """
    fake = request.getfixturevalue("fake_stripe") if "fake_stripe" in request.fixturenames else None

    def price(amount, interval, name):
        return fake.create_price(amount, interval, name=name) if fake else f"price_{name.lower()}_{interval}"

    free = Plan.objects.create(name="Free", slug="free", sort_order=0, features=["Community support"])
    basic = Plan.objects.create(
        name="Basic",
        slug="basic",
        sort_order=1,
        monthly_price=Decimal("10.00"),
        yearly_price=Decimal("100.00"),
        stripe_monthly_price_id=price(1000, "month", "Basic"),
        stripe_yearly_price_id=price(10000, "year", "Basic"),
        features=["Email support", "3 projects"],
    )
    pro = Plan.objects.create(
        name="Pro",
        slug="pro",
        sort_order=2,
        highlighted=True,
        monthly_price=Decimal("30.00"),
        stripe_monthly_price_id=price(3000, "month", "Pro"),
        features=["Priority support", "Unlimited projects"],
    )
    PlanLimit.objects.create(plan=free, metric="projects", label="Projects", limit=1, period=LimitPeriod.TOTAL)
    PlanLimit.objects.create(plan=basic, metric="projects", label="Projects", limit=3, period=LimitPeriod.TOTAL)
    PlanLimit.objects.create(plan=basic, metric="api_calls", label="API calls", limit=2)
    PlanLimit.objects.create(plan=pro, metric="projects", label="Projects", limit=None)
    PlanLimit.objects.create(plan=pro, metric="api_calls", label="API calls", limit=1000)
    return {"free": free, "basic": basic, "pro": pro}
