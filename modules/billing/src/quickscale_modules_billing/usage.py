"""Usage records and plan limits: ``check_limit`` and ``record_usage``.

A customer's limit for a metric is the ``PlanLimit`` of the plan they are
entitled to now (the subscribed plan while the subscription grants access,
otherwise the free plan). A metric the plan does not list is unlimited; a
customer with no plan at all (no subscription and no free plan) is allowed
nothing of a metric that any plan limits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from .customers import customer_for
from .models import BillingCustomer, LimitPeriod, Plan, PlanLimit, UsageRecord


@dataclass(frozen=True)
class LimitResult:
    """The answer to "may this customer use ``amount`` more of ``metric``?"."""

    metric: str
    allowed: bool
    used: int
    limit: int | None
    amount: int
    plan: Plan | None
    period_start: dt.datetime | None
    period_end: dt.datetime | None
    label: str = ""

    @property
    def remaining(self) -> int | None:
        if self.limit is None:
            return None
        return max(self.limit - self.used, 0)

    @property
    def unlimited(self) -> bool:
        return self.limit is None

    @property
    def message(self) -> str:
        what = self.label or self.metric.replace("_", " ")
        plan = self.plan.name if self.plan else "no"
        if self.allowed:
            if self.limit is None:
                return f"{what}: unlimited on the {plan} plan."
            return f"{what}: {self.used} of {self.limit} used on the {plan} plan."
        if self.plan is None:
            return f"{what} needs a subscription. Choose a plan to continue."
        return (
            f"You have used {self.used} of {self.limit} {what} allowed on the {plan} plan"
            f"{' this period' if self.period_start else ''}. Upgrade your plan to continue."
        )

    def as_dict(self) -> dict:
        return {
            "metric": self.metric,
            "label": self.label,
            "allowed": self.allowed,
            "used": self.used,
            "limit": self.limit,
            "remaining": self.remaining,
            "plan": self.plan.slug if self.plan else None,
            "period_start": self.period_start.isoformat() if self.period_start else None,
            "period_end": self.period_end.isoformat() if self.period_end else None,
            "message": self.message,
        }


class LimitExceeded(Exception):
    """Raised by ``record_usage(..., enforce=True)`` over the limit."""

    def __init__(self, result: LimitResult):
        super().__init__(result.message)
        self.result = result


def _month_window(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start, end


def period_window(
    customer: BillingCustomer, period: str, now: dt.datetime | None = None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The window usage of a limit is counted in."""
    now = now or timezone.now()
    if period == LimitPeriod.TOTAL:
        return None, None
    if (
        period == LimitPeriod.BILLING_PERIOD
        and customer.has_access
        and customer.current_period_start
        and customer.current_period_end
        and customer.current_period_start <= now < customer.current_period_end
    ):
        return customer.current_period_start, customer.current_period_end
    # Free customers (and calendar-month limits) count per calendar month.
    return _month_window(timezone.localtime(now) if timezone.is_aware(now) else now)


def used(customer: BillingCustomer, metric: str, start=None, end=None) -> int:
    qs = UsageRecord.objects.filter(customer=customer, metric=metric)
    if start is not None:
        qs = qs.filter(recorded_at__gte=start)
    if end is not None:
        qs = qs.filter(recorded_at__lt=end)
    return int(qs.aggregate(total=Sum("quantity"))["total"] or 0)


def _metric_is_limited_anywhere(metric: str) -> bool:
    return PlanLimit.objects.filter(metric=metric).exists()


def check_limit(owner, metric: str, amount: int = 1) -> LimitResult:
    """Whether ``owner`` (a user, a team or a BillingCustomer) may use ``amount`` more."""
    customer = customer_for(owner)
    if customer is None:
        return LimitResult(metric, False, 0, 0, amount, None, None, None)
    plan = customer.entitled_plan()
    limit_row = plan.limit_for(metric) if plan else None
    if plan is None:
        limited = _metric_is_limited_anywhere(metric)
        return LimitResult(
            metric, not limited, 0, 0 if limited else None, amount, None, None, None
        )
    if limit_row is None or limit_row.limit is None:
        start, end = period_window(customer, LimitPeriod.BILLING_PERIOD)
        return LimitResult(
            metric,
            True,
            used(customer, metric, start, end),
            None,
            amount,
            plan,
            start,
            end,
            limit_row.display_label if limit_row else "",
        )
    start, end = period_window(customer, limit_row.period)
    so_far = used(customer, metric, start, end)
    return LimitResult(
        metric,
        so_far + amount <= limit_row.limit,
        so_far,
        limit_row.limit,
        amount,
        plan,
        start,
        end,
        limit_row.display_label,
    )


def record_usage(owner, metric: str, quantity: int = 1, *, enforce: bool = False) -> UsageRecord:
    """Records ``quantity`` of ``metric``; with ``enforce``, refuses over the limit.

    With ``enforce`` the check and the record happen under a row lock on the
    customer, so two requests cannot both take the last unit.
    """
    customer = customer_for(owner)
    if customer is None:
        raise ValueError("record_usage needs a user, a team or a BillingCustomer")
    with transaction.atomic():
        if enforce:
            BillingCustomer.objects.select_for_update().filter(pk=customer.pk).first()
            result = check_limit(customer, metric, quantity)
            if not result.allowed:
                raise LimitExceeded(result)
        return UsageRecord.objects.create(customer=customer, metric=metric, quantity=quantity)


def usage_summary(owner) -> list[LimitResult]:
    """Every limited metric of the customer's plan, with what is used."""
    customer = customer_for(owner)
    if customer is None:
        return []
    plan = customer.entitled_plan()
    if plan is None:
        return []
    return [check_limit(customer, row.metric, 0) for row in plan.limits.all()]
