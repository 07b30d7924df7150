"""The webhook endpoint: Stripe's signature scheme, exactly-once processing, the lifecycle.

Every payload is signed as Stripe documents it (``sign_payload``: HMAC-SHA256
of ``"<timestamp>.<body>"`` keyed by the endpoint secret), and posted to the
module's endpoint; the fake Stripe on 127.0.0.1 answers dj-stripe's
re-retrieval of each event's object.
"""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client
from django.urls import reverse
from djstripe.models import Event, Subscription

from quickscale_modules_billing.models import BillingCustomer, BillingEvent
from quickscale_modules_billing.testing import sign_payload
from quickscale_modules_billing.webhooks import CHECKOUT_EVENTS, INVOICE_EVENTS, SUBSCRIPTION_EVENTS

from .helpers import customer_of, deliver, subscribe

pytestmark = pytest.mark.django_db

HANDLED = {**SUBSCRIPTION_EVENTS, **INVOICE_EVENTS, **CHECKOUT_EVENTS}


def handled(events) -> list:
    """The events this module records (invoice.created, e.g., is dj-stripe's alone)."""
    return [e for e in events if e["type"] in HANDLED]


def state(user) -> tuple:
    c = customer_of(user)
    return (c.status, c.plan.slug if c.plan else None, c.paused, c.cancel_at_period_end)


# --- the signature ------------------------------------------------------------------


def _subscribed_then_event(client_in, fake_stripe, post_webhook):
    """A subscribed customer and one undelivered event that would change their state."""
    sub = subscribe(client_in, fake_stripe, post_webhook, "basic")
    fake_stripe.set_status(sub["id"], "past_due")
    return sub, fake_stripe.events[-1]


@pytest.mark.parametrize(
    "forge",
    [
        "wrong-secret",
        "tampered-body",
        "no-header",
        "stale-timestamp",
        "garbage-header",
    ],
)
def test_a_bad_signature_is_refused_and_changes_nothing(
    client_in, user, fake_stripe, plans, post_webhook, forge
):
    _, event = _subscribed_then_event(client_in, fake_stripe, post_webhook)
    before = (state(user), Event.objects.count(), BillingEvent.objects.count())
    body = json.dumps(event)
    kwargs: dict = {}
    if forge == "wrong-secret":
        kwargs["secret"] = "whsec_someone_else"
    elif forge == "tampered-body":
        signed = sign_payload(body, fake_stripe.webhook_secret)
        kwargs["body"] = body.replace('"past_due"', '"active"')
        kwargs["headers"] = {"Stripe-Signature": signed}
    elif forge == "no-header":
        kwargs["headers"] = {}
    elif forge == "stale-timestamp":
        kwargs["timestamp"] = int(time.time()) - 301  # the default tolerance is 300 s
    elif forge == "garbage-header":
        kwargs["headers"] = {"Stripe-Signature": "t=abc,v1=zz"}
    response = post_webhook(client_in, event, **kwargs)
    assert response.status_code == 400, response.content
    assert (state(user), Event.objects.count(), BillingEvent.objects.count()) == before
    assert not Event.objects.filter(id=event["id"]).exists()
    # The genuine delivery still works afterwards.
    assert post_webhook(client_in, event).status_code == 200
    assert state(user)[0] == "past_due"


def test_a_signed_payload_that_is_not_an_event_is_refused(client_in, fake_stripe, post_webhook):
    response = post_webhook(client_in, None, body=json.dumps({"object": "customer", "id": "cus_1"}))
    assert response.status_code == 400
    assert Event.objects.count() == 0


def test_without_the_secret_in_the_environment_webhooks_wait(
    client_in, fake_stripe, plans, post_webhook, monkeypatch
):
    checkout = client_in.post(reverse("quickscale_billing:checkout"), {"plan": "basic"})
    fake_stripe.complete_checkout(checkout["Location"].rsplit("/", 1)[-1])
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET")
    event = fake_stripe.events[0]
    response = post_webhook(client_in, event)
    # 503, not 4xx: Stripe retries until the endpoint is configured.
    assert response.status_code == 503
    assert Event.objects.count() == 0


def test_only_post_is_accepted(client_in):
    assert client_in.get(reverse("quickscale_billing:webhook")).status_code == 405


def test_the_webhook_needs_no_csrf_token_nor_login(fake_stripe, plans, post_webhook, client_in):
    checkout = client_in.post(reverse("quickscale_billing:checkout"), {"plan": "basic"})
    fake_stripe.complete_checkout(checkout["Location"].rsplit("/", 1)[-1])
    stripe_client = Client(enforce_csrf_checks=True)
    for event in fake_stripe.events:
        assert post_webhook(stripe_client, event).status_code == 200


# --- exactly once --------------------------------------------------------------------


def test_a_replayed_event_is_acknowledged_and_processed_once(
    client_in, user, fake_stripe, plans, post_webhook
):
    sub = subscribe(client_in, fake_stripe, post_webhook, "basic")
    fake_stripe.fail_payment(sub["id"])
    events = deliver(client_in, fake_stripe, post_webhook)
    failed = next(e for e in events if e["type"] == "invoice.payment_failed")
    records = BillingEvent.objects.count()
    rows = Event.objects.count()
    assert BillingEvent.objects.filter(stripe_event_id=failed["id"]).count() == 1

    # The customer pays; then Stripe retries the old failure (e.g. our 200 was lost).
    fake_stripe.pay_open_invoice(sub["id"])
    deliver(client_in, fake_stripe, post_webhook)
    assert state(user)[0] == "active"
    for _ in range(3):
        assert post_webhook(client_in, failed).status_code == 200
    assert state(user)[0] == "active"  # the replay did not bring back past_due
    assert BillingEvent.objects.filter(stripe_event_id=failed["id"]).count() == 1
    assert Event.objects.filter(id=failed["id"]).count() == 1
    assert BillingEvent.objects.count() == records + 3  # paid, payment_succeeded, updated
    assert Event.objects.count() == rows + 3


def test_a_failure_while_processing_rolls_back_and_the_retry_succeeds(
    client_in, user, fake_stripe, plans, post_webhook
):
    checkout = client_in.post(reverse("quickscale_billing:checkout"), {"plan": "basic"})
    fake_stripe.complete_checkout(checkout["Location"].rsplit("/", 1)[-1])
    created = fake_stripe.last_event("customer.subscription.created")
    # Stripe is unreachable when dj-stripe re-reads the subscription.
    fake_stripe.fail_next("GET", "/v1/subscriptions/", status=500, times=3)
    failing = Client(raise_request_exception=False)
    response = post_webhook(failing, created)
    assert response.status_code == 500
    assert not Event.objects.filter(id=created["id"]).exists()
    assert not BillingEvent.objects.filter(stripe_event_id=created["id"]).exists()
    assert state(user)[0] == "none"
    # Stripe retries the same event: now it is processed.
    assert post_webhook(client_in, created).status_code == 200
    assert state(user)[:2] == ("active", "basic")
    assert BillingEvent.objects.filter(stripe_event_id=created["id"]).count() == 1


# --- out of order --------------------------------------------------------------------


def test_events_out_of_order_end_in_stripes_latest_state(
    client_in, user, fake_stripe, plans, post_webhook
):
    checkout = client_in.post(reverse("quickscale_billing:checkout"), {"plan": "basic"})
    sub = fake_stripe.complete_checkout(checkout["Location"].rsplit("/", 1)[-1])
    fake_stripe.fail_payment(sub["id"])  # now past_due
    events = list(fake_stripe.events)
    # The newest first, the creation (status active in its payload) last.
    for event in reversed(events):
        assert post_webhook(client_in, event).status_code == 200
    assert state(user)[:2] == ("past_due", "basic")
    created = fake_stripe.last_event("customer.subscription.created")
    assert created["data"]["object"]["status"] == "active"
    assert BillingEvent.objects.count() == len(handled(events))


def test_an_old_update_after_a_plan_change_does_not_undo_it(
    client_in, user, fake_stripe, plans, post_webhook
):
    subscribe(client_in, fake_stripe, post_webhook, "basic")
    client_in.post(reverse("quickscale_billing:change"), {"plan": "pro", "interval": "month"})
    change = fake_stripe.last_event("customer.subscription.updated")
    assert state(user)[1] == "pro"
    # An older event (the creation, Basic in its payload) comes again, then the change.
    old = fake_stripe.last_event("customer.subscription.created")
    Event.objects.filter(id=old["id"]).delete()  # as if never delivered before
    assert post_webhook(client_in, old).status_code == 200
    assert state(user)[1] == "pro"
    assert post_webhook(client_in, change).status_code == 200
    assert state(user)[1] == "pro"


# --- the lifecycle -------------------------------------------------------------------


def test_trialing_then_active_when_the_trial_ends(client_in, user, fake_stripe, plans, post_webhook):
    plans["basic"].trial_days = 14
    plans["basic"].save()
    sub = subscribe(client_in, fake_stripe, post_webhook, "basic")
    customer = customer_of(user)
    assert customer.status == "trialing" and customer.has_access
    assert customer.trial_end is not None
    (_, _, session), = fake_stripe.calls("POST", "/v1/checkout/sessions")
    assert session["subscription_data"]["trial_period_days"] == "14"
    fake_stripe.renew(sub["id"])
    deliver(client_in, fake_stripe, post_webhook)
    assert state(user)[:2] == ("active", "basic")


def test_past_due_then_unpaid_then_paid(client_in, user, fake_stripe, plans, post_webhook, settings):
    sub = subscribe(client_in, fake_stripe, post_webhook, "basic")
    fake_stripe.fail_payment(sub["id"])
    deliver(client_in, fake_stripe, post_webhook)
    customer = customer_of(user)
    assert customer.status == "past_due"
    assert customer.has_access  # past_due_access defaults to true
    settings.QUICKSCALE_BILLING_PAST_DUE_ACCESS = False
    assert not customer_of(user).has_access
    assert customer_of(user).entitled_plan() == plans["free"]
    settings.QUICKSCALE_BILLING_PAST_DUE_ACCESS = True

    history = [e.summary for e in BillingEvent.objects.filter(customer=customer)]
    assert any(s.startswith("Payment failed: 10.00 USD") for s in history), history

    fake_stripe.set_status(sub["id"], "unpaid")
    deliver(client_in, fake_stripe, post_webhook)
    customer = customer_of(user)
    assert customer.status == "unpaid" and not customer.has_access
    assert customer.entitled_plan() == plans["free"]

    fake_stripe.pay_open_invoice(sub["id"])
    deliver(client_in, fake_stripe, post_webhook)
    assert state(user)[:2] == ("active", "basic")
    summaries = [e.summary for e in BillingEvent.objects.filter(customer=customer, type="invoice.paid")]
    assert len(summaries) == 2 and all(s.startswith("Invoice paid") for s in summaries)


def test_canceled_by_stripe(client_in, user, fake_stripe, plans, post_webhook):
    sub = subscribe(client_in, fake_stripe, post_webhook, "pro")
    fake_stripe.cancel_now(sub["id"])
    deliver(client_in, fake_stripe, post_webhook)
    customer = customer_of(user)
    assert customer.status == "canceled"
    assert customer.plan is None and not customer.has_subscription
    assert customer.entitled_plan() == plans["free"]
    # Subscribing again is possible after a cancellation.
    subscribe(client_in, fake_stripe, post_webhook, "basic")
    assert state(user)[:2] == ("active", "basic")


def test_paused_by_stripe_when_a_trial_ends_without_a_card_then_resumed(
    client_in, user, fake_stripe, plans, post_webhook
):
    plans["pro"].trial_days = 7
    plans["pro"].save()
    sub = subscribe(client_in, fake_stripe, post_webhook, "pro")
    fake_stripe.end_trial_without_payment_method(sub["id"])
    deliver(client_in, fake_stripe, post_webhook)
    customer = customer_of(user)
    assert customer.status == "paused" and customer.paused and not customer.has_access
    assert BillingEvent.objects.filter(customer=customer, type="customer.subscription.paused").exists()

    response = client_in.post(reverse("quickscale_billing:resume"))
    assert response.status_code == 302
    assert fake_stripe.calls("POST", f"/v1/subscriptions/{sub['id']}/resume")
    events = deliver(client_in, fake_stripe, post_webhook)
    assert "customer.subscription.resumed" in [e["type"] for e in events]
    customer = customer_of(user)
    assert (customer.status, customer.paused, customer.has_access) == ("active", False, True)


def test_events_of_unknown_customers_are_recorded_without_one(client_in, fake_stripe, plans, post_webhook):
    price = plans["basic"].stripe_monthly_price_id
    stranger = fake_stripe._create_customer({"email": "x@example.com"})
    session = fake_stripe._create_session(
        {"mode": "subscription", "customer": stranger["id"], "line_items": [{"price": price}]}
    )
    fake_stripe.complete_checkout(session["id"])
    deliver(client_in, fake_stripe, post_webhook)
    assert not BillingCustomer.objects.exists()  # no customer of this project was made
    assert BillingEvent.objects.filter(customer=None).count() == len(handled(fake_stripe.events))
    assert Subscription.objects.filter(customer__id=stranger["id"]).exists()
