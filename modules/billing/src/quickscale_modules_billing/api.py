"""REST endpoints (Django REST framework) for single-page frontends such as the React themes.

Session authentication with CSRF, like the rest of the project's API. All
but the plan list need a signed-in customer.
"""

from __future__ import annotations

import stripe
from django.shortcuts import get_object_or_404
from django.urls import reverse
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from . import conf, services
from .customers import customer_from_request
from .models import Interval, Plan
from .services import BillingError
from .stripe_setup import BillingNotConfigured
from .usage import usage_summary
from .views import invoice_rows, plan_cards


class LimitSerializer(serializers.Serializer):
    metric = serializers.CharField()
    label = serializers.CharField(source="display_label")
    limit = serializers.IntegerField(allow_null=True)
    period = serializers.CharField()


class PlanSerializer(serializers.ModelSerializer):
    limits = LimitSerializer(many=True, read_only=True)
    intervals = serializers.SerializerMethodField()
    trial_days = serializers.SerializerMethodField()
    is_free = serializers.BooleanField(read_only=True)

    class Meta:
        model = Plan
        fields = [
            "slug",
            "name",
            "description",
            "features",
            "monthly_price",
            "yearly_price",
            "intervals",
            "trial_days",
            "highlighted",
            "is_free",
            "limits",
        ]

    def get_intervals(self, plan) -> list[str]:
        return plan.intervals()

    def get_trial_days(self, plan) -> int:
        return 0 if plan.is_free else plan.effective_trial_days()


class ChoiceSerializer(serializers.Serializer):
    plan = serializers.SlugRelatedField(slug_field="slug", queryset=Plan.objects.filter(is_active=True))
    interval = serializers.ChoiceField(choices=Interval.values, default=Interval.MONTH)
    proration_date = serializers.IntegerField(required=False, allow_null=True)


def _error(exc: Exception) -> Response:
    if isinstance(exc, (BillingError, BillingNotConfigured)):
        return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
    return Response(
        {"detail": "Stripe could not complete this request. Please try again."},
        status=status.HTTP_502_BAD_GATEWAY,
    )


class CustomerAPIView(APIView):
    permission_classes = [IsAuthenticated]

    def customer(self, request):
        customer = customer_from_request(request)
        if customer is None:
            from rest_framework.exceptions import PermissionDenied

            raise PermissionDenied("No customer to bill for this request (choose a team).")
        return customer


def subscription_payload(customer) -> dict:
    plan = customer.entitled_plan()
    return {
        "status": customer.status,
        "has_access": customer.has_access,
        "plan": PlanSerializer(plan).data if plan else None,
        "subscribed_plan": customer.plan.slug if customer.plan else None,
        "interval": customer.interval or None,
        "paused": customer.paused,
        "cancel_at_period_end": customer.cancel_at_period_end,
        "current_period_start": customer.current_period_start,
        "current_period_end": customer.current_period_end,
        "trial_end": customer.trial_end,
        "usage": [r.as_dict() for r in usage_summary(customer)],
        "currency": conf.currency(),
        "can_pause": conf.allow_pause(),
    }


class PlanListAPI(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        customer = customer_from_request(request, create=False)
        cards = plan_cards(customer)
        data = []
        for card in cards:
            item = PlanSerializer(card["plan"]).data
            item["action"] = card["action"]
            data.append(item)
        return Response({"currency": conf.currency(), "plans": data})


class SubscriptionAPI(CustomerAPIView):
    def get(self, request):
        return Response(subscription_payload(self.customer(request)))


class CheckoutAPI(CustomerAPIView):
    def post(self, request):
        choice = ChoiceSerializer(data=request.data)
        choice.is_valid(raise_exception=True)
        customer = self.customer(request)
        done = request.build_absolute_uri(reverse("quickscale_billing:checkout-done"))
        try:
            url = services.create_checkout_session(
                customer,
                choice.validated_data["plan"],
                choice.validated_data["interval"],
                success_url=done + "?session_id={CHECKOUT_SESSION_ID}",
                cancel_url=request.build_absolute_uri(reverse("quickscale_billing:pricing")),
            )
        except (BillingError, BillingNotConfigured, stripe.StripeError) as exc:
            return _error(exc)
        return Response({"url": url}, status=status.HTTP_201_CREATED)


class PreviewAPI(CustomerAPIView):
    def post(self, request):
        choice = ChoiceSerializer(data=request.data)
        choice.is_valid(raise_exception=True)
        try:
            preview = services.preview_change(
                self.customer(request),
                choice.validated_data["plan"],
                choice.validated_data["interval"],
            )
        except (BillingError, BillingNotConfigured, stripe.StripeError) as exc:
            return _error(exc)
        return Response(
            {
                "plan": preview.plan.slug,
                "interval": preview.interval,
                "proration_date": preview.proration_date,
                "currency": preview.currency,
                "amount_due": preview.amount_due,
                "total": preview.total,
                "lines": [{"description": l.description, "amount": l.amount} for l in preview.lines],
            }
        )


class ChangeAPI(CustomerAPIView):
    def post(self, request):
        choice = ChoiceSerializer(data=request.data)
        choice.is_valid(raise_exception=True)
        customer = self.customer(request)
        try:
            services.change_plan(
                customer,
                choice.validated_data["plan"],
                choice.validated_data["interval"],
                proration_date=choice.validated_data.get("proration_date"),
            )
        except (BillingError, BillingNotConfigured, stripe.StripeError) as exc:
            return _error(exc)
        return Response(subscription_payload(customer))


def _action_view(action):
    class ActionAPI(CustomerAPIView):
        def post(self, request):
            customer = self.customer(request)
            try:
                action(customer)
            except (BillingError, BillingNotConfigured, stripe.StripeError) as exc:
                return _error(exc)
            return Response(subscription_payload(customer))

    return ActionAPI.as_view()


cancel_api = _action_view(lambda c: services.set_cancel_at_period_end(c, True))
reactivate_api = _action_view(lambda c: services.set_cancel_at_period_end(c, False))
pause_api = _action_view(services.pause)
resume_api = _action_view(services.resume)


class PortalAPI(CustomerAPIView):
    def post(self, request):
        customer = self.customer(request)
        try:
            url = services.portal_url(
                customer, request.build_absolute_uri(reverse("quickscale_billing:dashboard"))
            )
        except (BillingError, BillingNotConfigured, stripe.StripeError) as exc:
            return _error(exc)
        return Response({"url": url}, status=status.HTTP_201_CREATED)


class InvoiceListAPI(CustomerAPIView):
    def get(self, request):
        rows = invoice_rows(self.customer(request))
        for row in rows:
            row["created"] = row["created"].isoformat() if row["created"] else None
            row["total"] = str(row["total"])
            row["amount_paid"] = str(row["amount_paid"])
        return Response({"invoices": rows})


class UsageAPI(CustomerAPIView):
    def get(self, request):
        return Response({"usage": [r.as_dict() for r in usage_summary(self.customer(request))]})


def plan_detail(slug: str) -> Plan:
    return get_object_or_404(Plan.objects.public(), slug=slug)
