"""Usage and limits: check_limit, record_usage, the view decorator and the DRF permission."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from quickscale_modules_billing import LimitExceeded, check_limit, record_usage
from quickscale_modules_billing.models import BillingCustomer, UsageRecord

from .helpers import customer_of, subscribe

pytestmark = pytest.mark.django_db


def test_free_customers_get_the_free_plans_limits(user, plans):
    result = check_limit(user, "projects")
    assert (result.allowed, result.used, result.limit, result.plan) == (True, 0, 1, plans["free"])
    record_usage(user, "projects")
    result = check_limit(user, "projects")
    assert not result.allowed and result.remaining == 0
    assert "1 of 1 Projects allowed on the Free plan" in result.message
    assert "Upgrade" in result.message


def test_a_metric_the_plan_does_not_list_is_unlimited(user, plans):
    record_usage(user, "exports", 50)
    result = check_limit(user, "exports", 10)
    assert result.allowed and result.unlimited and result.used == 50


def test_without_any_plan_limited_metrics_are_refused(user, plans, settings):
    settings.QUICKSCALE_BILLING_FREE_PLAN = ""
    result = check_limit(user, "projects")
    assert not result.allowed and result.plan is None
    assert "needs a subscription" in result.message
    assert check_limit(user, "never_limited").allowed


def test_enforced_recording_refuses_over_the_limit(user, plans):
    record_usage(user, "projects", enforce=True)
    with pytest.raises(LimitExceeded) as raised:
        record_usage(user, "projects", enforce=True)
    assert raised.value.result.limit == 1
    assert UsageRecord.objects.filter(metric="projects").count() == 1
    # Negative usage (a project deleted) gives room again.
    record_usage(user, "projects", -1)
    record_usage(user, "projects", enforce=True)


def test_calendar_month_and_total_windows(user, plans):
    customer = BillingCustomer.objects.create(owner=user)
    old = timezone.now() - dt.timedelta(days=62)
    UsageRecord.objects.create(customer=customer, metric="projects", quantity=1, recorded_at=old)
    # projects is limited "in total" on the free plan: last month's project counts.
    assert not check_limit(user, "projects").allowed
    # api_calls on Basic are per billing period; free customers count per calendar month.
    plans["free"].limits.create(metric="api_calls", limit=1, period="month")
    UsageRecord.objects.create(customer=customer, metric="api_calls", quantity=1, recorded_at=old)
    assert check_limit(user, "api_calls").allowed


def test_subscribers_count_per_billing_period(client_in, user, fake_stripe, plans, post_webhook):
    record_usage(user, "api_calls", 5)  # before subscribing: not in the period
    customer = customer_of(user)
    UsageRecord.objects.filter(customer=customer).update(
        recorded_at=timezone.now() - dt.timedelta(minutes=5)
    )
    subscribe(client_in, fake_stripe, post_webhook, "basic")
    result = check_limit(user, "api_calls")
    assert (result.allowed, result.used, result.limit) == (True, 0, 2)
    assert result.period_start == customer_of(user).current_period_start
    record_usage(user, "api_calls", 2)
    assert not check_limit(user, "api_calls").allowed
    assert check_limit(user, "projects", 3).allowed  # Basic: 3 projects


def test_the_decorator_blocks_with_402_and_records_on_success(client_in, user, plans):
    url = reverse("create-project")
    assert client_in.get(url).status_code == 200  # GET is not limited (methods=["POST"])
    assert client_in.post(url).status_code == 201
    assert UsageRecord.objects.get(metric="projects").quantity == 1
    page = client_in.post(url)
    assert page.status_code == 402
    html = page.content.decode()
    assert "Plan limit reached" in html and reverse("quickscale_billing:pricing") in html
    assert "Test site" in html  # extends the project's base template
    api = client_in.post(url, headers={"Accept": "application/json"})
    assert api.status_code == 402
    body = api.json()
    assert body["limit"]["metric"] == "projects" and body["limit"]["limit"] == 1
    assert body["upgrade_url"] == reverse("quickscale_billing:pricing")
    assert UsageRecord.objects.filter(metric="projects").count() == 1


def test_the_decorator_without_recording(client_in, plans):
    plans["free"].limits.create(metric="exports", limit=0)
    assert client_in.get(reverse("export")).status_code == 402
    plans["free"].limits.filter(metric="exports").update(limit=1)
    for _ in range(3):
        assert client_in.get(reverse("export")).status_code == 200
    assert not UsageRecord.objects.filter(metric="exports").exists()


def test_the_decorator_refuses_anonymous_requests(client, plans):
    assert client.post(reverse("create-project")).status_code == 402


def test_the_drf_permission_answers_402_with_the_limit(client_in, user, plans):
    plans["free"].limits.create(metric="api_calls", limit=2, period="month")
    url = reverse("api-call")
    assert client_in.post(url).status_code == 200
    assert client_in.post(url).status_code == 200
    response = client_in.post(url)
    assert response.status_code == 402
    assert response.json()["limit"]["used"] == 2
    assert "2 of 2" in response.json()["detail"]


def test_the_usage_api_and_dashboard_show_usage(client_in, user, plans):
    record_usage(user, "projects")
    usage = client_in.get(reverse("quickscale_billing:api-usage")).json()["usage"]
    assert usage == [check_limit(user, "projects", 0).as_dict()]
    html = client_in.get(reverse("quickscale_billing:dashboard")).content.decode()
    assert "1 of 1" in html
