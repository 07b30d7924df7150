"""Pricing page, dashboard actions, the REST API and the admin, against the fake Stripe."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from quickscale_modules_billing.models import Plan

from .helpers import customer_of, deliver, subscribe

pytestmark = pytest.mark.django_db


def test_the_pricing_page_lists_public_plans_in_the_projects_layout(client, plans):
    Plan.objects.create(name="Secret", slug="secret", is_public=False)
    response = client.get(reverse("quickscale_billing:pricing"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Test site" in html  # extends the project's base.html
    assert "quickscale_modules_billing/billing.css" in html
    for text in ["Free", "Basic", "Pro", "10.00 USD", "or 100.00 USD / year", "Recommended",
                 "3 projects", "Unlimited projects"]:
        assert text in html, text
    assert "Secret" not in html
    assert html.count('action="/billing/checkout/"') == 3  # Basic monthly + yearly, Pro
    # The project's components; "Free" once for the free plan (its price), not twice.
    assert '<p class="badge billing-badge">Recommended</p>' in html
    assert html.count('class="card billing-plan') == 3
    assert all('class="button' in b for b in re.findall(r"<button[^>]*>", html))
    free_card = html.split('id="plan-free"')[1].split("</article>")[0]
    assert free_card.count("Free") == 1, free_card
    # The page title carries the project's name when the project provides it.
    assert "<title>Pricing</title>" in html


def test_page_titles_carry_the_project_name(client, plans, settings):
    processors = settings.TEMPLATES[0]["OPTIONS"]["context_processors"]
    settings.TEMPLATES = [
        {
            **settings.TEMPLATES[0],
            "OPTIONS": {
                **settings.TEMPLATES[0]["OPTIONS"],
                "context_processors": [*processors, "tests.context.project"],
            },
        }
    ]
    html = client.get(reverse("quickscale_billing:pricing")).content.decode()
    assert "<title>Pricing &middot; Acme HQ</title>" in html


def test_a_project_template_overrides_a_page(client, plans, settings, tmp_path):
    (tmp_path / "quickscale_modules_billing").mkdir()
    (tmp_path / "quickscale_modules_billing" / "pricing.html").write_text("our own pricing")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    assert client.get(reverse("quickscale_billing:pricing")).content == b"our own pricing"


def test_the_dashboard_needs_a_signed_in_customer(client, plans):
    response = client.get(reverse("quickscale_billing:dashboard"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.get(reverse("quickscale_billing:api-subscription")).status_code == 403


def test_checkout_without_stripe_keys_says_what_to_set(client_in, plans):
    response = client_in.post(reverse("quickscale_billing:checkout"), {"plan": "basic"}, follow=True)
    assert "set the STRIPE_SECRET_KEY environment variable" in response.content.decode()


def test_checkout_when_stripe_fails_keeps_the_customer_on_the_site(client_in, user, fake_stripe, plans):
    fake_stripe.fail_next("POST", "/v1/checkout/sessions", status=500, times=3)
    response = client_in.post(reverse("quickscale_billing:checkout"), {"plan": "basic"}, follow=True)
    assert "Stripe could not complete this request" in response.content.decode()
    assert customer_of(user).status == "none"


def test_checkout_return_syncs_before_the_webhook(client_in, user, fake_stripe, plans):
    response = client_in.post(reverse("quickscale_billing:checkout"), {"plan": "pro"})
    session = response["Location"].rsplit("/", 1)[-1]
    fake_stripe.complete_checkout(session)
    done = client_in.get(reverse("quickscale_billing:checkout-done"), {"session_id": session}, follow=True)
    assert "Welcome to the Pro plan" in done.content.decode()
    assert (customer_of(user).status, customer_of(user).plan.slug) == ("active", "pro")


def test_someone_elses_checkout_session_is_refused(client_in, other_user, fake_stripe, plans):
    other = Client()
    other.force_login(other_user)
    response = other.post(reverse("quickscale_billing:checkout"), {"plan": "pro"})
    session = response["Location"].rsplit("/", 1)[-1]
    fake_stripe.complete_checkout(session)
    done = client_in.get(reverse("quickscale_billing:checkout-done"), {"session_id": session}, follow=True)
    assert "belongs to another customer" in done.content.decode()


def test_subscribing_twice_goes_to_plan_change(client_in, fake_stripe, plans, post_webhook):
    subscribe(client_in, fake_stripe, post_webhook, "basic")
    response = client_in.post(reverse("quickscale_billing:checkout"), {"plan": "pro"})
    assert response.status_code == 302
    assert response["Location"] == reverse("quickscale_billing:change") + "?plan=pro&interval=month"
    assert len(fake_stripe.calls("POST", "/v1/checkout/sessions")) == 1


def test_downgrade_yearly_with_the_configured_proration(client_in, user, fake_stripe, plans, post_webhook, settings):
    settings.QUICKSCALE_BILLING_PRORATION_BEHAVIOR = "always_invoice"
    sub = subscribe(client_in, fake_stripe, post_webhook, "pro")
    preview = client_in.get(reverse("quickscale_billing:change"), {"plan": "basic", "interval": "year"})
    assert preview.status_code == 200 and "Change to Basic" in preview.content.decode()
    client_in.post(reverse("quickscale_billing:change"), {"plan": "basic", "interval": "year"})
    (_, _, modified), = fake_stripe.calls("POST", f"/v1/subscriptions/{sub['id']}")
    assert modified["proration_behavior"] == "always_invoice"
    deliver(client_in, fake_stripe, post_webhook)
    customer = customer_of(user)
    assert (customer.plan.slug, customer.interval) == ("basic", "year")
    # always_invoice: the proration is invoiced now and shows in the history.
    assert len(customer.invoices()) == 2


def test_changing_to_the_current_plan_or_the_free_plan_is_explained(client_in, fake_stripe, plans, post_webhook):
    subscribe(client_in, fake_stripe, post_webhook, "basic")
    same = client_in.get(reverse("quickscale_billing:change"), {"plan": "basic"}, follow=True)
    assert "already on the Basic plan" in same.content.decode()
    free = client_in.get(reverse("quickscale_billing:change"), {"plan": "free"}, follow=True)
    assert "cancel your subscription" in free.content.decode()


def test_cancel_then_keep(client_in, user, fake_stripe, plans, post_webhook):
    subscribe(client_in, fake_stripe, post_webhook, "basic")
    client_in.post(reverse("quickscale_billing:cancel"))
    assert customer_of(user).cancel_at_period_end
    html = client_in.get(reverse("quickscale_billing:dashboard")).content.decode()
    assert "Your subscription ends on" in html and "Keep my subscription" in html
    client_in.post(reverse("quickscale_billing:reactivate"))
    assert not customer_of(user).cancel_at_period_end


def test_pause_and_resume_payment_collection(client_in, user, fake_stripe, plans, post_webhook, settings):
    sub = subscribe(client_in, fake_stripe, post_webhook, "basic")
    client_in.post(reverse("quickscale_billing:pause"))
    deliver(client_in, fake_stripe, post_webhook)
    customer = customer_of(user)
    assert customer.paused and not customer.has_access
    again = client_in.post(reverse("quickscale_billing:pause"), follow=True)
    assert "already paused" in again.content.decode()
    # A renewal while paused is voided: no charge.
    fake_stripe.renew(sub["id"])
    deliver(client_in, fake_stripe, post_webhook)
    client_in.post(reverse("quickscale_billing:resume"))
    (_, _, resumed) = fake_stripe.calls("POST", f"/v1/subscriptions/{sub['id']}")[-1]
    assert resumed["pause_collection"] == ""
    assert customer_of(user).has_access
    settings.QUICKSCALE_BILLING_ALLOW_PAUSE = False
    refused = client_in.post(reverse("quickscale_billing:pause"), follow=True)
    assert "not enabled" in refused.content.decode()


def test_the_portal_is_stripes(client_in, fake_stripe, plans):
    response = client_in.post(reverse("quickscale_billing:portal"))
    assert response.status_code == 303
    assert response["Location"].startswith("https://billing.stripe.test/p/session/")


def test_the_rest_api_covers_the_dashboard(client_in, user, fake_stripe, plans, post_webhook):
    plans_api = client_in.get(reverse("quickscale_billing:api-plans")).json()
    assert [p["slug"] for p in plans_api["plans"]] == ["free", "basic", "pro"]
    assert plans_api["plans"][1]["action"] == "subscribe"
    assert plans_api["plans"][1]["limits"][0] == {
        "metric": "api_calls", "label": "API calls", "limit": 2, "period": "billing_period"
    }
    bad = client_in.post(reverse("quickscale_billing:api-checkout"), {"plan": "nope"}, content_type="application/json")
    assert bad.status_code == 400 and "plan" in bad.json()
    made = client_in.post(
        reverse("quickscale_billing:api-checkout"), {"plan": "basic", "interval": "year"}, content_type="application/json"
    )
    assert made.status_code == 201
    fake_stripe.complete_checkout(made.json()["url"].rsplit("/", 1)[-1])
    deliver(client_in, fake_stripe, post_webhook)
    current = client_in.get(reverse("quickscale_billing:api-subscription")).json()
    assert (current["status"], current["plan"]["slug"], current["interval"]) == ("active", "basic", "year")

    preview = client_in.post(
        reverse("quickscale_billing:api-preview"), {"plan": "pro"}, content_type="application/json"
    ).json()
    assert preview["plan"] == "pro" and preview["lines"]
    changed = client_in.post(
        reverse("quickscale_billing:api-change"),
        {"plan": "pro", "proration_date": preview["proration_date"]},
        content_type="application/json",
    ).json()
    assert changed["subscribed_plan"] == "pro"
    assert client_in.post(reverse("quickscale_billing:api-cancel")).json()["cancel_at_period_end"]
    assert not client_in.post(reverse("quickscale_billing:api-reactivate")).json()["cancel_at_period_end"]
    assert client_in.post(reverse("quickscale_billing:api-pause")).json()["paused"]
    assert not client_in.post(reverse("quickscale_billing:api-resume")).json()["paused"]
    again = client_in.post(reverse("quickscale_billing:api-resume"))
    assert again.status_code == 400 and "not paused" in again.json()["detail"]
    invoices = client_in.get(reverse("quickscale_billing:api-invoices")).json()["invoices"]
    assert invoices and invoices[0]["hosted_invoice_url"].startswith("https://invoice.stripe.test/i/")
    portal = client_in.post(reverse("quickscale_billing:api-portal"))
    assert portal.status_code == 201
    fake_stripe.fail_next("POST", "/v1/subscriptions/", status=500, times=3)
    down = client_in.post(reverse("quickscale_billing:api-cancel"))
    assert down.status_code == 502


def test_the_admin_manages_plans_and_creates_them_in_stripe(fake_stripe, db):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(admin)
    response = client.post(
        reverse("admin:quickscale_modules_billing_plan_add"),
        {
            "name": "Team", "slug": "team", "description": "For teams",
            "features": "SSO\nAudit log", "monthly_price": "49.00", "yearly_price": "490.00",
            "sort_order": "3", "is_active": "on", "is_public": "on",
            "limits-TOTAL_FORMS": "1", "limits-INITIAL_FORMS": "0",
            "limits-0-metric": "seats", "limits-0-limit": "10", "limits-0-period": "total",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    plan = Plan.objects.get(slug="team")
    assert plan.features == ["SSO", "Audit log"] and plan.limit_for("seats").limit == 10
    client.post(
        reverse("admin:quickscale_modules_billing_plan_changelist"),
        {"action": "create_in_stripe", "_selected_action": [plan.pk]},
    )
    plan.refresh_from_db()
    assert plan.stripe_product_id.startswith("prod_")
    prices = {p["recurring"]["interval"]: p for p in (
        fake_stripe.get(plan.stripe_monthly_price_id), fake_stripe.get(plan.stripe_yearly_price_id)
    )}
    assert prices["month"]["unit_amount"] == 4900 and prices["year"]["unit_amount"] == 49000
    assert prices["month"]["currency"] == "usd"
    for name in ("plan", "billingcustomer", "usagerecord", "billingevent"):
        assert client.get(reverse(f"admin:quickscale_modules_billing_{name}_changelist")).status_code == 200
