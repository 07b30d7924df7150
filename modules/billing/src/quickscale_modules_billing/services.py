"""Calls into Stripe, each followed by a sync into dj-stripe and the customer's state.

Payment details never pass through the project: Stripe Checkout collects
them when a customer subscribes and the Customer Portal when they change
them. Everything here is a server-to-server call with the secret key from
the environment (stripe_setup.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal

import stripe
from django.db import transaction

from . import conf, lifecycle
from .customers import owner_email, owner_name
from .models import BillingCustomer, Interval, Plan
from .stripe_setup import api_key

# Metadata keys this module puts on Stripe objects.
CUSTOMER_KEY = "quickscale_billing_customer"
PLAN_KEY = "quickscale_billing_plan"


class BillingError(Exception):
    """A billing action that cannot be done, with a message for the customer."""


@dataclass(frozen=True)
class PreviewLine:
    description: str
    amount: int
    currency: str

    @property
    def amount_display(self) -> Decimal:
        return minor_to_major(self.amount, self.currency)


@dataclass(frozen=True)
class ChangePreview:
    """What Stripe says a plan change costs (amounts in the currency's minor unit)."""

    plan: Plan
    interval: str
    proration_date: int
    currency: str
    amount_due: int
    total: int
    lines: list[PreviewLine] = field(default_factory=list)

    @property
    def amount_due_display(self) -> Decimal:
        return minor_to_major(self.amount_due, self.currency)

    @property
    def total_display(self) -> Decimal:
        return minor_to_major(self.total, self.currency)


ZERO_DECIMAL = {
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga",
    "pyg", "rwf", "vnd", "vuv", "xaf", "xof", "xpf",
}  # fmt: skip


def minor_to_major(amount: int, currency: str) -> Decimal:
    if currency.lower() in ZERO_DECIMAL:
        return Decimal(amount)
    return (Decimal(amount) / 100).quantize(Decimal("0.01"))


def major_to_minor(amount: Decimal, currency: str) -> int:
    if currency.lower() in ZERO_DECIMAL:
        return int(amount)
    return int((Decimal(amount) * 100).quantize(Decimal("1")))


def _plain(obj) -> dict:
    """A stripe object as plain JSON data (what dj-stripe stores)."""
    if hasattr(obj, "to_dict"):
        import json

        return json.loads(str(obj))
    return dict(obj)


# --- customers -------------------------------------------------------------------


def ensure_stripe_customer(customer: BillingCustomer) -> str:
    """The customer's Stripe id; creates the Stripe customer on first use."""
    from djstripe.models import Customer as DjCustomer

    if customer.stripe_customer_id:
        return customer.stripe_customer_id
    key = api_key()
    metadata = {CUSTOMER_KEY: str(customer.pk)}
    if conf.customer_kind() == "user":
        # Lets dj-stripe link its Customer row to the user, too.
        metadata["djstripe_subscriber"] = str(customer.owner_id)
    created = stripe.Customer.create(
        api_key=key,
        email=owner_email(customer.owner) or None,
        name=owner_name(customer.owner),
        metadata=metadata,
        # Stripe replays the first answer for 24 h: no duplicate customers on a retry.
        idempotency_key=f"quickscale-billing-customer-{customer.pk}",
    )
    with transaction.atomic():
        # dj-stripe syncs stripe objects (it pages through their lists).
        DjCustomer.sync_from_stripe_data(created, api_key=key)
        customer.stripe_customer_id = created["id"]
        customer.save(update_fields=["stripe_customer_id"])
    return customer.stripe_customer_id


def customer_for_stripe_id(stripe_customer_id: str | None) -> BillingCustomer | None:
    if not stripe_customer_id:
        return None
    return BillingCustomer.objects.filter(stripe_customer_id=stripe_customer_id).first()


# --- subscriptions ---------------------------------------------------------------


def sync_subscription(sub) -> BillingCustomer | None:
    """Stores a subscription (a stripe object) in dj-stripe, then refreshes its customer."""
    from djstripe.models import Subscription

    Subscription.sync_from_stripe_data(sub, api_key=api_key())
    customer = customer_for_stripe_id(_id(_plain(sub).get("customer")))
    if customer is not None:
        lifecycle.refresh_customer(customer)
    return customer


def refresh_subscription(subscription_id: str) -> BillingCustomer | None:
    """Reads a subscription back from Stripe (its latest state) and syncs it."""
    sub = stripe.Subscription.retrieve(subscription_id, api_key=api_key())
    return sync_subscription(sub)


def _id(value) -> str | None:
    """An object's id whether Stripe sent the id or the expanded object."""
    if isinstance(value, dict):
        return value.get("id")
    return value or None


def _current(customer: BillingCustomer) -> dict:
    data = lifecycle.current_subscription_data(customer)
    if not data or data.get("status") in lifecycle.ENDED:
        raise BillingError("You have no subscription to change.")
    return data


def _price_for(plan: Plan, interval: str) -> str:
    if interval not in Interval.values:
        raise BillingError(f"Unknown billing interval {interval!r}.")
    price = plan.price_id(interval)
    if not price or not plan.is_active:
        raise BillingError(f"The {plan.name} plan cannot be billed {interval}ly.")
    return price


def create_checkout_session(
    customer: BillingCustomer, plan: Plan, interval: str, *, success_url: str, cancel_url: str
) -> str:
    """A Stripe Checkout session for a new subscription; returns its URL."""
    if customer.has_subscription:
        raise BillingError("You already have a subscription: change its plan instead.")
    price = _price_for(plan, interval)
    stripe_customer = ensure_stripe_customer(customer)
    subscription_data: dict = {"metadata": {CUSTOMER_KEY: str(customer.pk), PLAN_KEY: plan.slug}}
    trial = plan.effective_trial_days()
    if trial > 0:
        subscription_data["trial_period_days"] = trial
    session = stripe.checkout.Session.create(
        api_key=api_key(),
        mode="subscription",
        customer=stripe_customer,
        client_reference_id=str(customer.pk),
        line_items=[{"price": price, "quantity": 1}],
        subscription_data=subscription_data,
        success_url=success_url,
        cancel_url=cancel_url,
        metadata={CUSTOMER_KEY: str(customer.pk), PLAN_KEY: plan.slug},
    )
    return session.url


def complete_checkout(customer: BillingCustomer, session_id: str) -> BillingCustomer:
    """After Checkout's redirect: syncs the session's subscription right away.

    The webhook does the same; whichever comes first wins, the other finds
    the same state.
    """
    session = _plain(stripe.checkout.Session.retrieve(session_id, api_key=api_key()))
    if _id(session.get("customer")) != customer.stripe_customer_id:
        raise BillingError("This checkout session belongs to another customer.")
    sub_id = _id(session.get("subscription"))
    if sub_id:
        refresh_subscription(sub_id)
        customer.refresh_from_db()
    return customer


def portal_url(customer: BillingCustomer, return_url: str) -> str:
    """Stripe's Customer Portal (payment methods, billing details)."""
    session = stripe.billing_portal.Session.create(
        api_key=api_key(), customer=ensure_stripe_customer(customer), return_url=return_url
    )
    return session.url


def preview_change(customer: BillingCustomer, plan: Plan, interval: str) -> ChangePreview:
    """What moving to ``plan`` costs now, as Stripe prorates it."""
    current = _current(customer)
    price = _price_for(plan, interval)
    if price == lifecycle.price_id_of(current):
        raise BillingError(f"You are already on the {plan.name} plan ({interval}ly).")
    item = lifecycle._first_item(current)
    proration_date = int(time.time())
    invoice = stripe.Invoice.create_preview(
        api_key=api_key(),
        customer=customer.stripe_customer_id,
        subscription=current["id"],
        subscription_details={
            "items": [{"id": item["id"], "price": price}],
            "proration_behavior": conf.proration_behavior(),
            "proration_date": proration_date,
        },
    )
    data = _plain(invoice)
    currency = data.get("currency") or conf.currency()
    lines = [
        PreviewLine(line.get("description") or "", int(line.get("amount") or 0), currency)
        for line in (data.get("lines") or {}).get("data", [])
    ]
    return ChangePreview(
        plan=plan,
        interval=interval,
        proration_date=proration_date,
        currency=currency,
        amount_due=int(data.get("amount_due") or 0),
        total=int(data.get("total") or 0),
        lines=lines,
    )


def change_plan(
    customer: BillingCustomer, plan: Plan, interval: str, *, proration_date: int | None = None
) -> BillingCustomer:
    """Moves the subscription to ``plan``; Stripe prorates (proration_behavior option)."""
    current = _current(customer)
    price = _price_for(plan, interval)
    item = lifecycle._first_item(current)
    params: dict = {
        "items": [{"id": item["id"], "price": price}],
        "proration_behavior": conf.proration_behavior(),
        "metadata": {PLAN_KEY: plan.slug},
    }
    if proration_date:
        # The moment the customer saw in the preview, so they pay what they saw.
        params["proration_date"] = int(proration_date)
    sub = stripe.Subscription.modify(current["id"], api_key=api_key(), **params)
    sync_subscription(sub)
    customer.refresh_from_db()
    return customer


def set_cancel_at_period_end(customer: BillingCustomer, cancel: bool) -> BillingCustomer:
    """Cancels at the end of the paid period, or takes that back."""
    current = _current(customer)
    sub = stripe.Subscription.modify(
        current["id"], api_key=api_key(), cancel_at_period_end=cancel
    )
    sync_subscription(sub)
    customer.refresh_from_db()
    return customer


def pause(customer: BillingCustomer) -> BillingCustomer:
    """Pauses payment collection: invoices are voided until resumed."""
    if not conf.allow_pause():
        raise BillingError("Pausing subscriptions is not enabled.")
    current = _current(customer)
    if current.get("pause_collection") or current.get("status") == "paused":
        raise BillingError("Your subscription is already paused.")
    sub = stripe.Subscription.modify(
        current["id"], api_key=api_key(), pause_collection={"behavior": "void"}
    )
    sync_subscription(sub)
    customer.refresh_from_db()
    return customer


def resume(customer: BillingCustomer) -> BillingCustomer:
    """Resumes a paused subscription (collection paused, or paused by Stripe)."""
    current = _current(customer)
    if current.get("status") == "paused":
        sub = stripe.Subscription.resume(
            current["id"], api_key=api_key(), billing_cycle_anchor="now"
        )
    elif current.get("pause_collection"):
        # An empty string unsets pause_collection in Stripe's form encoding.
        sub = stripe.Subscription.modify(current["id"], api_key=api_key(), pause_collection="")
    else:
        raise BillingError("Your subscription is not paused.")
    sync_subscription(sub)
    customer.refresh_from_db()
    return customer


# --- plans in Stripe (admin) -----------------------------------------------------


def create_stripe_prices(plan: Plan) -> Plan:
    """Creates the plan's product and missing prices in Stripe from its amounts."""
    key = api_key()
    currency = conf.currency()
    if not plan.stripe_product_id:
        product = stripe.Product.create(
            api_key=key,
            name=plan.name,
            description=plan.description or None,
            metadata={PLAN_KEY: plan.slug},
            idempotency_key=f"quickscale-billing-product-{plan.pk}-{plan.slug}",
        )
        plan.stripe_product_id = product["id"]
    for interval, amount, attr in (
        ("month", plan.monthly_price, "stripe_monthly_price_id"),
        ("year", plan.yearly_price, "stripe_yearly_price_id"),
    ):
        if getattr(plan, attr) or amount is None or amount <= 0:
            continue
        minor = major_to_minor(amount, currency)
        price = stripe.Price.create(
            api_key=key,
            product=plan.stripe_product_id,
            currency=currency,
            unit_amount=minor,
            recurring={"interval": interval},
            metadata={PLAN_KEY: plan.slug},
            idempotency_key=f"quickscale-billing-price-{plan.pk}-{interval}-{minor}-{currency}",
        )
        setattr(plan, attr, price["id"])
    plan.save()
    return plan
