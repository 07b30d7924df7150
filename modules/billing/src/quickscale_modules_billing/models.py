"""Plans, limits, customers, usage and the webhook log.

Stripe's own objects (customers, subscriptions, invoices, events) live in
dj-stripe's tables, synced from Stripe. These models add what Stripe does
not know: which plan a price belongs to, what a plan allows, who the
customer is in this project, how much they used, and the lifecycle state
derived from their subscription (see lifecycle.py).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import conf

metric_validator = RegexValidator(
    r"^[a-z][a-z0-9_]*$",
    _("Use lowercase letters, digits and underscores, starting with a letter."),
)


class Interval(models.TextChoices):
    MONTH = "month", _("Monthly")
    YEAR = "year", _("Yearly")


class PlanQuerySet(models.QuerySet):
    def public(self):
        return self.filter(is_active=True, is_public=True)

    def for_price(self, price_id: str):
        """The plan one of whose Stripe prices is ``price_id``."""
        if not price_id:
            return None
        return (
            self.filter(stripe_monthly_price_id=price_id).first()
            or self.filter(stripe_yearly_price_id=price_id).first()
        )


class Plan(models.Model):
    """A tier customers subscribe to, with a monthly and/or a yearly Stripe price."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=50, unique=True)
    description = models.TextField(blank=True)
    features = models.JSONField(
        default=list,
        blank=True,
        help_text=_("What the plan includes, one line each, shown on the pricing page."),
    )
    monthly_price = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Shown on the pricing page; Stripe's price is what is charged."),
    )
    yearly_price = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Empty: no yearly billing for this plan."),
    )
    stripe_product_id = models.CharField(max_length=255, blank=True)
    stripe_monthly_price_id = models.CharField(
        max_length=255, blank=True, help_text=_("price_... of the monthly price in Stripe.")
    )
    stripe_yearly_price_id = models.CharField(
        max_length=255, blank=True, help_text=_("price_... of the yearly price in Stripe.")
    )
    trial_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_("Overrides the module's trial_days for this plan (empty: the module's)."),
    )
    is_active = models.BooleanField(default=True)
    is_public = models.BooleanField(
        default=True, help_text=_("Listed on the pricing page.")
    )
    highlighted = models.BooleanField(
        default=False, help_text=_("Marked as the recommended plan on the pricing page.")
    )
    sort_order = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["sort_order", "monthly_price", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        for field in ("stripe_monthly_price_id", "stripe_yearly_price_id"):
            value = getattr(self, field)
            if value and not value.startswith(("price_", "plan_")):
                raise ValidationError({field: _("A Stripe price id starts with price_.")})
        if self.yearly_price is not None and self.stripe_yearly_price_id == "" and self.pk:
            # Allowed: the admin action creates the price in Stripe.
            pass
        if self.features and not (
            isinstance(self.features, list) and all(isinstance(f, str) for f in self.features)
        ):
            raise ValidationError({"features": _("Features are a list of strings.")})

    @property
    def is_free(self) -> bool:
        return not self.stripe_monthly_price_id and not self.stripe_yearly_price_id

    def price_id(self, interval: str) -> str:
        return (
            self.stripe_yearly_price_id
            if interval == Interval.YEAR
            else self.stripe_monthly_price_id
        )

    def price(self, interval: str):
        return self.yearly_price if interval == Interval.YEAR else self.monthly_price

    def intervals(self) -> list[str]:
        out = []
        if self.stripe_monthly_price_id:
            out.append(Interval.MONTH.value)
        if self.stripe_yearly_price_id:
            out.append(Interval.YEAR.value)
        return out

    def interval_of(self, price_id: str) -> str | None:
        if price_id and price_id == self.stripe_monthly_price_id:
            return Interval.MONTH.value
        if price_id and price_id == self.stripe_yearly_price_id:
            return Interval.YEAR.value
        return None

    def effective_trial_days(self) -> int:
        return conf.trial_days() if self.trial_days is None else self.trial_days

    def limit_for(self, metric: str):
        return self.limits.filter(metric=metric).first()


class LimitPeriod(models.TextChoices):
    BILLING_PERIOD = "billing_period", _("Per billing period")
    MONTH = "month", _("Per calendar month")
    TOTAL = "total", _("In total")


class PlanLimit(models.Model):
    """How much of one metric a plan allows (no row: the metric is not limited)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="limits")
    metric = models.CharField(
        max_length=64,
        validators=[metric_validator],
        help_text=_("The name the code uses, e.g. projects or api_calls."),
    )
    label = models.CharField(
        max_length=100, blank=True, help_text=_("Shown to customers, e.g. Projects.")
    )
    limit = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Empty: unlimited.")
    )
    period = models.CharField(
        max_length=20, choices=LimitPeriod.choices, default=LimitPeriod.BILLING_PERIOD
    )

    class Meta:
        ordering = ["plan", "metric"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "metric"], name="billing_unique_plan_metric")
        ]

    def __str__(self) -> str:
        shown = "unlimited" if self.limit is None else str(self.limit)
        return f"{self.plan}: {self.metric} {shown} ({self.get_period_display()})"

    @property
    def display_label(self) -> str:
        return self.label or self.metric.replace("_", " ").capitalize()


class SubscriptionStatus(models.TextChoices):
    NONE = "none", _("No subscription")
    INCOMPLETE = "incomplete", _("Incomplete")
    INCOMPLETE_EXPIRED = "incomplete_expired", _("Incomplete (expired)")
    TRIALING = "trialing", _("Trialing")
    ACTIVE = "active", _("Active")
    PAST_DUE = "past_due", _("Past due")
    UNPAID = "unpaid", _("Unpaid")
    CANCELED = "canceled", _("Canceled")
    PAUSED = "paused", _("Paused")


class BillingCustomer(models.Model):
    """Who pays in this project (a user or a team) and their Stripe customer.

    The ``subscription_*`` fields are derived from the customer's current
    Stripe subscription (lifecycle.py) after every webhook and dashboard
    action; they are what limits and pages read.
    """

    owner = models.OneToOneField(
        conf.owner_model_label(),
        on_delete=models.CASCADE,
        related_name="billing_customer",
    )
    stripe_customer_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    plan = models.ForeignKey(
        Plan, on_delete=models.SET_NULL, null=True, blank=True, related_name="customers"
    )
    interval = models.CharField(max_length=10, choices=Interval.choices, blank=True)
    stripe_subscription_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        max_length=20, choices=SubscriptionStatus.choices, default=SubscriptionStatus.NONE
    )
    paused = models.BooleanField(default=False)
    cancel_at_period_end = models.BooleanField(default=False)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    trial_end = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    state_updated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.owner} ({self.stripe_customer_id or 'no Stripe customer'})"

    @property
    def has_subscription(self) -> bool:
        return self.status not in (
            SubscriptionStatus.NONE,
            SubscriptionStatus.CANCELED,
            SubscriptionStatus.INCOMPLETE_EXPIRED,
        )

    @property
    def has_access(self) -> bool:
        """Whether the subscribed plan's features apply now."""
        from .lifecycle import status_grants_access

        return status_grants_access(self.status, self.paused)

    def entitled_plan(self):
        """The plan whose limits apply: the subscribed one, else the free plan."""
        if self.plan_id and self.has_access:
            return self.plan
        return free_plan()

    def djstripe_customer(self):
        from djstripe.models import Customer

        if not self.stripe_customer_id:
            return None
        return Customer.objects.filter(id=self.stripe_customer_id).first()

    def invoices(self):
        from djstripe.models import Invoice

        if not self.stripe_customer_id:
            return Invoice.objects.none()
        return Invoice.objects.filter(customer__id=self.stripe_customer_id).order_by("-created")


def free_plan():
    slug = conf.free_plan_slug()
    if not slug:
        return None
    return Plan.objects.filter(slug=slug, is_active=True).first()


class UsageRecord(models.Model):
    """An amount of a metric used by a customer at a moment."""

    customer = models.ForeignKey(
        BillingCustomer, on_delete=models.CASCADE, related_name="usage_records"
    )
    metric = models.CharField(max_length=64, validators=[metric_validator])
    quantity = models.IntegerField(default=1)
    recorded_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-recorded_at"]
        indexes = [models.Index(fields=["customer", "metric", "recorded_at"])]

    def __str__(self) -> str:
        return f"{self.customer}: {self.metric} {self.quantity:+d}"


class BillingEvent(models.Model):
    """One Stripe event as this module handled it: the customer's billing history.

    Written in the same transaction as dj-stripe's Event row, so an event
    that is processed once appears here once.
    """

    stripe_event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=255)
    customer = models.ForeignKey(
        BillingCustomer, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    stripe_created = models.DateTimeField(null=True, blank=True)
    summary = models.CharField(max_length=255, blank=True)
    processed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-stripe_created", "-processed_at"]

    def __str__(self) -> str:
        return f"{self.type} ({self.stripe_event_id})"
