"""Admin: plans with their limits (and their prices created in Stripe), customers, usage."""

from __future__ import annotations

import stripe
from django import forms
from django.contrib import admin, messages

from . import services
from .models import BillingCustomer, BillingEvent, Plan, PlanLimit, UsageRecord
from .stripe_setup import BillingNotConfigured


class FeaturesField(forms.CharField):
    """The features list, edited as one feature per line."""

    widget = forms.Textarea(attrs={"rows": 5})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(value)
        return value

    def to_python(self, value):
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class PlanForm(forms.ModelForm):
    features = FeaturesField(required=False, help_text="One feature per line.")

    class Meta:
        model = Plan
        fields = "__all__"


class PlanLimitInline(admin.TabularInline):
    model = PlanLimit
    extra = 1


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    form = PlanForm
    inlines = [PlanLimitInline]
    list_display = (
        "name",
        "slug",
        "monthly_price",
        "yearly_price",
        "stripe_monthly_price_id",
        "stripe_yearly_price_id",
        "is_active",
        "is_public",
        "sort_order",
    )
    list_editable = ("is_active", "is_public", "sort_order")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name", "slug", "stripe_monthly_price_id", "stripe_yearly_price_id")
    actions = ["create_in_stripe"]
    fieldsets = (
        (None, {"fields": ("name", "slug", "description", "features")}),
        ("Prices", {"fields": ("monthly_price", "yearly_price", "trial_days")}),
        (
            "Stripe",
            {
                "fields": ("stripe_product_id", "stripe_monthly_price_id", "stripe_yearly_price_id"),
                "description": "Paste the ids of prices made in Stripe's dashboard, or leave "
                "them empty and use the action “Create product and prices in Stripe”.",
            },
        ),
        ("Display", {"fields": ("is_active", "is_public", "highlighted", "sort_order")}),
    )

    @admin.action(description="Create product and prices in Stripe")
    def create_in_stripe(self, request, queryset):
        for plan in queryset:
            try:
                services.create_stripe_prices(plan)
            except (BillingNotConfigured, stripe.StripeError) as exc:
                self.message_user(request, f"{plan}: {exc}", messages.ERROR)
                return
            self.message_user(
                request,
                f"{plan}: product {plan.stripe_product_id}, prices "
                f"{plan.stripe_monthly_price_id or '-'} / {plan.stripe_yearly_price_id or '-'}.",
                messages.SUCCESS,
            )


@admin.register(BillingCustomer)
class BillingCustomerAdmin(admin.ModelAdmin):
    list_display = ("owner", "stripe_customer_id", "plan", "status", "paused", "current_period_end")
    list_filter = ("status", "plan", "paused", "cancel_at_period_end")
    search_fields = ("stripe_customer_id", "stripe_subscription_id")
    readonly_fields = [
        f.name for f in BillingCustomer._meta.fields if f.name not in ("id", "owner")
    ]
    raw_id_fields = ("owner",)


@admin.register(UsageRecord)
class UsageRecordAdmin(admin.ModelAdmin):
    list_display = ("customer", "metric", "quantity", "recorded_at")
    list_filter = ("metric",)
    date_hierarchy = "recorded_at"
    raw_id_fields = ("customer",)


@admin.register(BillingEvent)
class BillingEventAdmin(admin.ModelAdmin):
    list_display = ("stripe_event_id", "type", "customer", "summary", "stripe_created")
    list_filter = ("type",)
    search_fields = ("stripe_event_id", "summary")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
