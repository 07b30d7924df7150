"""Unit tests: plans, customers' access, and the lifecycle derived from Stripe's subscription."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import override_settings

from quickscale_modules_billing.lifecycle import State, derive_state, status_grants_access
from quickscale_modules_billing.models import BillingCustomer, Plan, SubscriptionStatus
from quickscale_modules_billing.services import major_to_minor, minor_to_major

T0 = 1_780_000_000


def sub(status="active", **extra) -> dict:
    data = {
        "id": "sub_1",
        "object": "subscription",
        "status": status,
        "customer": "cus_1",
        "items": {
            "data": [
                {
                    "id": "si_1",
                    "price": {"id": "price_basic_month"},
                    "current_period_start": T0,
                    "current_period_end": T0 + 30 * 86400,
                }
            ]
        },
        "cancel_at_period_end": False,
        "cancel_at": None,
        "pause_collection": None,
        "trial_end": None,
        "canceled_at": None,
    }
    data.update(extra)
    return data


# --- lifecycle (pure) -----------------------------------------------------------------


def test_no_subscription_is_state_none():
    assert derive_state(None) == State.none()
    assert derive_state({}).status == "none"


def test_state_reads_periods_from_the_item_or_the_legacy_subscription():
    state = derive_state(sub())
    assert state.status == "active" and state.price_id == "price_basic_month"
    assert state.current_period_start == dt.datetime.fromtimestamp(T0, tz=dt.timezone.utc)
    legacy = sub(current_period_start=T0 - 10, current_period_end=T0 + 10)
    legacy["items"]["data"][0].pop("current_period_start")
    legacy["items"]["data"][0].pop("current_period_end")
    state = derive_state(legacy)
    assert state.current_period_end == dt.datetime.fromtimestamp(T0 + 10, tz=dt.timezone.utc)


def test_legacy_plan_object_gives_the_price():
    data = sub()
    data["items"]["data"][0].pop("price")
    data["plan"] = {"id": "plan_old"}
    assert derive_state(data).price_id == "plan_old"


@pytest.mark.parametrize(
    ("data", "paused", "cancel"),
    [
        (sub(), False, False),
        (sub(pause_collection={"behavior": "void"}), True, False),
        (sub("paused"), True, False),
        (sub(cancel_at_period_end=True), False, True),
        (sub(cancel_at=T0 + 99), False, True),  # Stripe's newer way of scheduling a cancel
        (sub("canceled", cancel_at=T0), False, False),
    ],
)
def test_pause_and_scheduled_cancel(data, paused, cancel):
    state = derive_state(data)
    assert (state.paused, state.cancel_at_period_end) == (paused, cancel)


def test_an_unknown_status_grants_nothing():
    state = derive_state(sub("something_new"))
    assert state.status == "incomplete"
    assert not status_grants_access(state.status, state.paused)


@pytest.mark.parametrize(
    ("status", "paused", "past_due_access", "granted"),
    [
        ("trialing", False, True, True),
        ("active", False, True, True),
        ("active", True, True, False),  # collection paused
        ("past_due", False, True, True),
        ("past_due", False, False, False),
        ("unpaid", False, True, False),
        ("canceled", False, True, False),
        ("paused", False, True, False),
        ("incomplete", False, True, False),
        ("incomplete_expired", False, True, False),
        ("none", False, True, False),
    ],
)
def test_which_states_grant_the_plan(status, paused, past_due_access, granted):
    with override_settings(QUICKSCALE_BILLING_PAST_DUE_ACCESS=past_due_access):
        assert status_grants_access(status, paused) is granted


def test_money_in_minor_units():
    assert minor_to_major(1999, "usd") == minor_to_major(1999, "USD")
    assert str(minor_to_major(1999, "eur")) == "19.99"
    assert str(minor_to_major(500, "jpy")) == "500"
    assert major_to_minor(minor_to_major(1999, "eur"), "eur") == 1999
    assert major_to_minor(500, "jpy") == 500


# --- models ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_plans_know_their_prices_and_intervals(plans):
    basic, pro, free = plans["basic"], plans["pro"], plans["free"]
    assert Plan.objects.for_price(basic.stripe_yearly_price_id) == basic
    assert Plan.objects.for_price(pro.stripe_monthly_price_id) == pro
    assert Plan.objects.for_price("price_unknown") is None
    assert Plan.objects.for_price("") is None
    assert basic.intervals() == ["month", "year"] and pro.intervals() == ["month"]
    assert basic.interval_of(basic.stripe_yearly_price_id) == "year"
    assert free.is_free and not basic.is_free
    assert list(Plan.objects.public()) == [free, basic, pro]
    assert basic.limit_for("projects").limit == 3 and basic.limit_for("storage") is None


@pytest.mark.django_db
def test_plan_trial_days_override_the_option(plans, settings):
    settings.QUICKSCALE_BILLING_TRIAL_DAYS = 14
    assert plans["basic"].effective_trial_days() == 14
    plans["basic"].trial_days = 0
    assert plans["basic"].effective_trial_days() == 0


@pytest.mark.django_db
def test_plan_validation():
    plan = Plan(name="X", slug="x", stripe_monthly_price_id="prod_123")
    with pytest.raises(ValidationError, match="price_"):
        plan.full_clean()
    plan = Plan(name="X", slug="x", features=[1, 2])
    with pytest.raises(ValidationError, match="list of strings"):
        plan.full_clean()
    Plan(name="X", slug="x", stripe_monthly_price_id="price_1", features=["a"]).full_clean()


@pytest.mark.django_db
def test_customer_entitlement(user, plans, settings):
    customer = BillingCustomer.objects.create(owner=user)
    assert not customer.has_subscription and customer.entitled_plan() == plans["free"]
    customer.plan, customer.status = plans["pro"], SubscriptionStatus.ACTIVE
    assert customer.has_subscription and customer.entitled_plan() == plans["pro"]
    customer.status = SubscriptionStatus.UNPAID
    assert customer.has_subscription and customer.entitled_plan() == plans["free"]
    settings.QUICKSCALE_BILLING_FREE_PLAN = ""
    assert customer.entitled_plan() is None
    settings.QUICKSCALE_BILLING_FREE_PLAN = "free"
    plans["free"].is_active = False
    plans["free"].save()
    assert customer.entitled_plan() is None
    assert list(customer.invoices()) == []


# --- migrations -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_migrations_match_the_models():
    # pytest runs with --nomigrations; this reads the migration files themselves.
    with override_settings(MIGRATION_MODULES={}):
        call_command(
            "makemigrations", "quickscale_modules_billing", "--check", "--dry-run", verbosity=0
        )
