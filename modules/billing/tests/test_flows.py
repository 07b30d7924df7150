"""End to end against the fake Stripe on the loopback address: the whole subscription story."""

from __future__ import annotations

import pytest
from django.urls import reverse

from quickscale_modules_billing.models import BillingEvent

from .helpers import customer_of, deliver, subscribe

pytestmark = pytest.mark.django_db


def test_choose_plan_checkout_webhook_active_upgrade_cancel(client_in, user, fake_stripe, plans, post_webhook):
    # Pricing page → Checkout session for Basic (monthly), on the customer's new Stripe customer.
    response = client_in.post(reverse("quickscale_billing:checkout"), {"plan": "basic", "interval": "month"})
    assert response.status_code == 303
    assert response["Location"].startswith(fake_stripe.url + "/c/pay/cs_test_")
    (_, _, session), = fake_stripe.calls("POST", "/v1/checkout/sessions")
    customer = customer_of(user)
    assert session["customer"] == customer.stripe_customer_id
    assert session["line_items"] == [{"price": plans["basic"].stripe_monthly_price_id, "quantity": "1"}]
    assert session["success_url"].endswith("/billing/checkout/done/?session_id={CHECKOUT_SESSION_ID}")
    assert customer.status == "none"

    # The customer pays; Stripe's webhooks make the subscription active here.
    sub = fake_stripe.complete_checkout(response["Location"].rsplit("/", 1)[-1])
    deliver(client_in, fake_stripe, post_webhook)
    customer.refresh_from_db()
    assert (customer.status, customer.plan, customer.interval) == ("active", plans["basic"], "month")
    assert customer.stripe_subscription_id == sub["id"]
    assert customer.has_access

    dashboard = client_in.get(reverse("quickscale_billing:dashboard"))
    assert dashboard.status_code == 200
    html = dashboard.content.decode()
    assert "Basic" in html and "Active" in html
    assert "https://invoice.stripe.test/i/" in html  # the hosted invoice link

    # Upgrade to Pro: the preview shows Stripe's proration; confirming applies it.
    preview = client_in.get(reverse("quickscale_billing:change"), {"plan": "pro", "interval": "month"})
    assert preview.status_code == 200
    assert "Change to Pro" in preview.content.decode()
    (_, _, asked), = fake_stripe.calls("POST", "/v1/invoices/create_preview")
    proration_date = asked["subscription_details"]["proration_date"]
    response = client_in.post(
        reverse("quickscale_billing:change"),
        {"plan": "pro", "interval": "month", "proration_date": proration_date},
    )
    assert response.status_code == 302
    (_, _, modified), = [c for c in fake_stripe.calls("POST", f"/v1/subscriptions/{sub['id']}")]
    assert modified["items"][0]["price"] == plans["pro"].stripe_monthly_price_id
    assert modified["proration_behavior"] == "create_prorations"
    assert modified["proration_date"] == proration_date
    customer.refresh_from_db()
    assert customer.plan == plans["pro"]
    deliver(client_in, fake_stripe, post_webhook)
    customer.refresh_from_db()
    assert customer.plan == plans["pro"] and customer.status == "active"

    # Cancel at period end: still Pro until the period ends, then the free plan.
    client_in.post(reverse("quickscale_billing:cancel"))
    customer.refresh_from_db()
    assert customer.cancel_at_period_end and customer.has_access
    deliver(client_in, fake_stripe, post_webhook)
    fake_stripe.renew(sub["id"])
    deliver(client_in, fake_stripe, post_webhook)
    customer.refresh_from_db()
    assert customer.status == "canceled"
    assert customer.entitled_plan() == plans["free"]
    assert BillingEvent.objects.filter(customer=customer, type="customer.subscription.deleted").count() == 1
