"""The Stripe webhook endpoint and what each event does here.

1. The signature is verified with the secret from the environment (Stripe's
   scheme: HMAC-SHA256 of ``"<timestamp>.<body>"``, timestamps older than
   the tolerance refused). Anything else is refused with 400 and nothing is
   stored.
2. dj-stripe processes the event: its ``Event`` row is the idempotency key
   (an event id is processed once; a replay answers 200 and does nothing),
   and it re-retrieves the event's object from Stripe, so a late, older
   event cannot overwrite newer state.
3. This module's handlers, connected to dj-stripe's webhook signals, run in
   the same transaction: they refresh the customer's lifecycle state from
   the synced subscription and write one ``BillingEvent``.

A failure anywhere rolls everything back and answers 500, so Stripe retries.
dj-stripe's own endpoint (secret in the database, URL per endpoint) is not
mounted.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

import stripe
from django.db import transaction
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import conf, services
from .models import BillingEvent
from .stripe_setup import configure

logger = logging.getLogger(__name__)

try:  # Django >= 5.1: LoginRequiredMiddleware must let Stripe in.
    from django.contrib.auth.decorators import login_not_required
except ImportError:  # pragma: no cover
    def login_not_required(view):
        return view


SUBSCRIPTION_EVENTS = {
    "customer.subscription.created": "Subscription started",
    "customer.subscription.updated": "Subscription updated",
    "customer.subscription.deleted": "Subscription canceled",
    "customer.subscription.paused": "Subscription paused",
    "customer.subscription.resumed": "Subscription resumed",
    "customer.subscription.trial_will_end": "Trial ends soon",
    "customer.subscription.pending_update_applied": "Plan change applied",
    "customer.subscription.pending_update_expired": "Plan change expired",
}
INVOICE_EVENTS = {
    "invoice.paid": "Invoice paid",
    "invoice.payment_succeeded": "Payment succeeded",
    "invoice.payment_failed": "Payment failed",
    "invoice.payment_action_required": "Payment needs your action",
    "invoice.finalized": "Invoice issued",
    "invoice.marked_uncollectible": "Invoice uncollectible",
    "invoice.voided": "Invoice voided",
}
CHECKOUT_EVENTS = {
    "checkout.session.completed": "Checkout completed",
    "checkout.session.expired": "Checkout expired",
}


@csrf_exempt
@login_not_required
@require_POST
def stripe_webhook(request):
    secret = conf.webhook_secret()
    if not secret:
        logger.error(
            "Stripe webhook refused: %s is not set in the environment",
            conf.webhook_secret_env_var(),
        )
        # Not 4xx: Stripe keeps retrying until the secret is configured.
        return JsonResponse({"detail": "webhook secret not configured"}, status=503)
    payload = request.body
    header = request.headers.get("Stripe-Signature", "")
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"), header, secret, conf.webhook_tolerance()
        )
        data = json.loads(payload)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as exc:
        logger.warning("Stripe webhook refused: %s", exc)
        return HttpResponseBadRequest("invalid signature")
    if not isinstance(data, dict) or data.get("object") != "event" or not data.get("id"):
        return HttpResponseBadRequest("not a Stripe event")
    process_event(data)
    return HttpResponse(status=200)


def process_event(data: dict):
    """Processes a verified event exactly once (dj-stripe's Event is the key)."""
    from djstripe.models import Event

    key = configure()
    with transaction.atomic():
        return Event.process(data, api_key=key or None)


# --- handlers (connected in apps.py) -----------------------------------------------


def _created(event) -> dt.datetime | None:
    value = event.stripe_data.get("created") if hasattr(event, "stripe_data") else None
    if value:
        return dt.datetime.fromtimestamp(int(value), tz=dt.timezone.utc)
    return getattr(event, "created", None)


def _record(event, customer, summary: str) -> None:
    BillingEvent.objects.get_or_create(
        stripe_event_id=event.id,
        defaults={
            "type": event.type,
            "customer": customer,
            "stripe_created": _created(event),
            "summary": summary[:255],
        },
    )


def _object(event) -> dict:
    return (event.data or {}).get("object") or {}


def on_subscription_event(sender, event, **kwargs) -> None:
    obj = _object(event)
    customer = services.customer_for_stripe_id(services._id(obj.get("customer")))
    if customer is not None:
        # dj-stripe has just re-retrieved and stored the subscription.
        from .lifecycle import refresh_customer

        refresh_customer(customer)
        customer.refresh_from_db()
        summary = f"{SUBSCRIPTION_EVENTS.get(event.type, event.type)}: {customer.status}"
        if customer.plan:
            summary += f" ({customer.plan.name})"
    else:
        summary = SUBSCRIPTION_EVENTS.get(event.type, event.type)
    _record(event, customer, summary)


def _invoice_subscription_id(invoice: dict) -> str | None:
    sub = invoice.get("subscription")
    if not sub:
        parent = invoice.get("parent") or {}
        sub = (parent.get("subscription_details") or {}).get("subscription")
    return services._id(sub)


def on_invoice_event(sender, event, **kwargs) -> None:
    obj = _object(event)
    customer = services.customer_for_stripe_id(services._id(obj.get("customer")))
    sub_id = _invoice_subscription_id(obj)
    if customer is not None and sub_id:
        # The subscription.updated event may come later (or came earlier):
        # read the subscription's current state from Stripe now.
        services.refresh_subscription(sub_id)
        customer.refresh_from_db()
    amount = obj.get("amount_paid") if event.type == "invoice.paid" else obj.get("amount_due")
    summary = INVOICE_EVENTS.get(event.type, event.type)
    if amount is not None and obj.get("currency"):
        value = services.minor_to_major(int(amount), obj["currency"])
        summary += f": {value} {obj['currency'].upper()}"
    _record(event, customer, summary)


def on_checkout_event(sender, event, **kwargs) -> None:
    obj = _object(event)
    stripe_customer = services._id(obj.get("customer"))
    customer = services.customer_for_stripe_id(stripe_customer)
    if customer is None and obj.get("client_reference_id") and stripe_customer:
        from .models import BillingCustomer

        customer = BillingCustomer.objects.filter(
            pk=str(obj["client_reference_id"]), stripe_customer_id__isnull=True
        ).first()
        if customer is not None:
            customer.stripe_customer_id = stripe_customer
            customer.save(update_fields=["stripe_customer_id"])
    sub_id = services._id(obj.get("subscription"))
    if customer is not None and sub_id and event.type == "checkout.session.completed":
        services.refresh_subscription(sub_id)
    _record(event, customer, CHECKOUT_EVENTS.get(event.type, event.type))


def connect_handlers() -> None:
    """Connects the handlers to dj-stripe's webhook signals (after its own)."""
    from djstripe.signals import WEBHOOK_SIGNALS

    for names, handler in (
        (SUBSCRIPTION_EVENTS, on_subscription_event),
        (INVOICE_EVENTS, on_invoice_event),
        (CHECKOUT_EVENTS, on_checkout_event),
    ):
        for name in names:
            signal = WEBHOOK_SIGNALS.get(name)
            if signal is not None:
                signal.connect(
                    handler, dispatch_uid=f"quickscale_billing:{name}", weak=False
                )
