"""Shared steps of the billing tests."""

from __future__ import annotations

from django.urls import reverse

from quickscale_modules_billing.models import BillingCustomer


def deliver(client, fake, post_webhook, events=None):
    """Delivers events (default: all not yet delivered) in order; asserts each is accepted."""
    if events is None:
        start = getattr(fake, "_delivered", 0)
        events = fake.events[start:]
        fake._delivered = len(fake.events)
    for event in events:
        response = post_webhook(client, event)
        assert response.status_code == 200, (event["type"], response.status_code, response.content)
    return events


def subscribe(client, fake, post_webhook, plan="basic", interval="month", *, trial=None, pay=True):
    """Chooses a plan on the pricing page, pays in (fake) Checkout, delivers Stripe's events."""
    response = client.post(reverse("quickscale_billing:checkout"), {"plan": plan, "interval": interval})
    assert response.status_code == 303, response.content
    session_id = response["Location"].rsplit("/", 1)[-1]
    sub = fake.complete_checkout(session_id, pay=pay)
    deliver(client, fake, post_webhook)
    return sub


def customer_of(user) -> BillingCustomer:
    return BillingCustomer.objects.get(owner=user)
