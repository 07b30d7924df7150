"""The subscription lifecycle: from Stripe's subscription to the customer's state.

Stripe is the source of truth. After every webhook and dashboard action the
customer's current subscription is read back from Stripe (dj-stripe
re-retrieves it for webhooks), so the state here is always the latest one,
whatever order events arrive in. ``derive_state`` is a pure function of that
subscription data; ``refresh_customer`` stores its result.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from . import conf
from .models import BillingCustomer, Plan, SubscriptionStatus

# A customer's "current" subscription is the newest one not in these states.
ENDED = {"canceled", "incomplete_expired"}

GRANTING = {"trialing", "active"}


def status_grants_access(status: str, paused: bool) -> bool:
    """Whether a subscription in ``status`` gives its plan's features."""
    if paused or status == SubscriptionStatus.PAUSED:
        return False
    if status in GRANTING:
        return True
    if status == SubscriptionStatus.PAST_DUE:
        return conf.past_due_access()
    return False


def _ts(value) -> dt.datetime | None:
    if value in (None, "", 0):
        return None
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromtimestamp(int(value), tz=dt.timezone.utc)


def _first_item(data: dict) -> dict:
    items = (data.get("items") or {}).get("data") or []
    return items[0] if items else {}


def price_id_of(data: dict) -> str:
    item = _first_item(data)
    price = item.get("price") or (data.get("plan") or {})
    if isinstance(price, str):
        return price
    return price.get("id", "") if price else ""


@dataclass(frozen=True)
class State:
    """What the module stores about a customer's subscription."""

    stripe_subscription_id: str
    status: str
    price_id: str
    paused: bool
    cancel_at_period_end: bool
    current_period_start: dt.datetime | None
    current_period_end: dt.datetime | None
    trial_end: dt.datetime | None
    canceled_at: dt.datetime | None

    @classmethod
    def none(cls) -> State:
        return cls("", SubscriptionStatus.NONE, "", False, False, None, None, None, None)


def derive_state(data: dict | None) -> State:
    """The state a Stripe subscription object (as a dict) puts its customer in.

    Periods sit on the subscription item since Stripe's 2025-03-31 API
    version and on the subscription before it; both are read.
    """
    if not data:
        return State.none()
    item = _first_item(data)
    status = data.get("status") or SubscriptionStatus.NONE
    if status not in SubscriptionStatus.values:
        status = SubscriptionStatus.INCOMPLETE
    return State(
        stripe_subscription_id=data.get("id", ""),
        status=status,
        price_id=price_id_of(data),
        paused=bool(data.get("pause_collection")) or status == SubscriptionStatus.PAUSED,
        cancel_at_period_end=bool(data.get("cancel_at_period_end"))
        or bool(data.get("cancel_at") and status not in ENDED),
        current_period_start=_ts(
            item.get("current_period_start") or data.get("current_period_start")
        ),
        current_period_end=_ts(item.get("current_period_end") or data.get("current_period_end")),
        trial_end=_ts(data.get("trial_end")),
        canceled_at=_ts(data.get("canceled_at")),
    )


def current_subscription_data(customer: BillingCustomer) -> dict | None:
    """The customer's current subscription from dj-stripe's tables, as Stripe data."""
    from djstripe.models import Subscription

    if not customer.stripe_customer_id:
        return None
    subs = list(
        Subscription.objects.filter(customer__id=customer.stripe_customer_id).order_by(
            "-created", "-djstripe_id"
        )
    )
    for sub in subs:
        if sub.stripe_data.get("status") not in ENDED:
            return sub.stripe_data
    return subs[0].stripe_data if subs else None


def apply_state(customer: BillingCustomer, state: State) -> BillingCustomer:
    plan = Plan.objects.for_price(state.price_id) if state.price_id else None
    customer.stripe_subscription_id = state.stripe_subscription_id
    customer.status = state.status
    customer.plan = plan if state.status not in ENDED else None
    customer.interval = (plan.interval_of(state.price_id) or "") if plan else ""
    customer.paused = state.paused
    customer.cancel_at_period_end = state.cancel_at_period_end
    customer.current_period_start = state.current_period_start
    customer.current_period_end = state.current_period_end
    customer.trial_end = state.trial_end
    customer.canceled_at = state.canceled_at
    customer.state_updated_at = timezone.now()
    customer.save()
    return customer


def refresh_customer(customer: BillingCustomer) -> BillingCustomer:
    """Stores the state of the customer's current subscription (from dj-stripe)."""
    return apply_state(customer, derive_state(current_subscription_data(customer)))
