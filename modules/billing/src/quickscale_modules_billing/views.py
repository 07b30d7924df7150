"""Server-rendered pages: pricing, the customer dashboard and its actions.

Every page extends the project's base template (the ``base_template``
option); a project overrides any of them with its own
``templates/quickscale_modules_billing/<page>.html``.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

import stripe
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from . import conf, services
from .customers import customer_from_request
from .models import BillingEvent, Interval, Plan
from .services import BillingError
from .stripe_setup import BillingNotConfigured, is_configured
from .usage import usage_summary

logger = logging.getLogger(__name__)

PAGE = "quickscale_modules_billing/{}.html"


def page(request, name: str, context: dict, status: int = 200):
    context = {"base_template": conf.base_template(), "currency": conf.currency(), **context}
    return render(request, PAGE.format(name), context, status=status)


def monthly_equivalent(plan: Plan) -> Decimal:
    if plan.monthly_price:
        return plan.monthly_price
    if plan.yearly_price:
        return (plan.yearly_price / 12).quantize(Decimal("0.01"))
    return Decimal("0")


def plan_cards(customer) -> list[dict]:
    """The public plans with what the customer can do with each."""
    current = customer.plan if customer and customer.has_subscription else None
    current_price = monthly_equivalent(current) if current else None
    cards = []
    for plan in Plan.objects.public().prefetch_related("limits"):
        if current is not None and plan.pk == current.pk:
            action = "current"
        elif plan.is_free:
            action = "free" if current is None else "downgrade-free"
        elif current is None:
            action = "subscribe"
        elif monthly_equivalent(plan) >= (current_price or 0):
            action = "upgrade"
        else:
            action = "downgrade"
        cards.append(
            {
                "plan": plan,
                "action": action,
                "intervals": plan.intervals(),
                "limits": list(plan.limits.all()),
                "trial_days": plan.effective_trial_days() if not plan.is_free else 0,
            }
        )
    return cards


@require_GET
def pricing(request):
    customer = customer_from_request(request, create=False)
    return page(
        request,
        "pricing",
        {
            "cards": plan_cards(customer),
            "customer": customer,
            "configured": is_configured(),
        },
    )


def invoice_rows(customer) -> list[dict]:
    rows = []
    for invoice in customer.invoices()[:24]:
        data = invoice.stripe_data or {}
        currency = data.get("currency") or conf.currency()
        created = data.get("created")
        rows.append(
            {
                "id": data.get("id", invoice.id),
                "number": data.get("number") or data.get("id", invoice.id),
                "created": dt.datetime.fromtimestamp(int(created), tz=dt.timezone.utc)
                if created
                else None,
                "status": data.get("status") or "",
                "total": services.minor_to_major(int(data.get("total") or 0), currency),
                "amount_paid": services.minor_to_major(int(data.get("amount_paid") or 0), currency),
                "currency": currency.upper(),
                "hosted_invoice_url": data.get("hosted_invoice_url") or "",
                "invoice_pdf": data.get("invoice_pdf") or "",
            }
        )
    return rows


def _customer_or_redirect(request):
    customer = customer_from_request(request)
    if customer is None:
        messages.error(request, "Choose the team to bill first.")
    return customer


@login_required
@require_GET
def dashboard(request):
    customer = _customer_or_redirect(request)
    if customer is None:
        return redirect("quickscale_billing:pricing")
    return page(
        request,
        "dashboard",
        {
            "customer": customer,
            "plan": customer.entitled_plan(),
            "subscribed_plan": customer.plan,
            "cards": plan_cards(customer),
            "usage": usage_summary(customer),
            "invoices": invoice_rows(customer),
            "events": BillingEvent.objects.filter(customer=customer)[:10],
            "allow_pause": conf.allow_pause(),
            "configured": is_configured(),
        },
    )


def _fail(request, exc: Exception):
    if isinstance(exc, (BillingError, BillingNotConfigured)):
        messages.error(request, str(exc))
    else:
        logger.exception("Stripe call failed")
        messages.error(request, "Stripe could not complete this request. Please try again.")
    return redirect("quickscale_billing:dashboard")


def _plan_and_interval(request, data) -> tuple[Plan, str]:
    plan = get_object_or_404(Plan.objects.filter(is_active=True), slug=data.get("plan", ""))
    interval = data.get("interval") or Interval.MONTH
    return plan, interval


@login_required
@require_POST
def checkout(request):
    customer = _customer_or_redirect(request)
    if customer is None:
        return redirect("quickscale_billing:pricing")
    plan, interval = _plan_and_interval(request, request.POST)
    if customer.has_subscription:
        url = reverse("quickscale_billing:change") + f"?plan={plan.slug}&interval={interval}"
        return redirect(url)
    done = request.build_absolute_uri(reverse("quickscale_billing:checkout-done"))
    try:
        url = services.create_checkout_session(
            customer,
            plan,
            interval,
            success_url=done + "?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=request.build_absolute_uri(reverse("quickscale_billing:pricing")),
        )
    except (BillingError, BillingNotConfigured, stripe.StripeError) as exc:
        return _fail(request, exc)
    # 303: the browser follows with a GET to Stripe's hosted page.
    return HttpResponseRedirect(url, status=303)


@login_required
@require_GET
def checkout_done(request):
    customer = _customer_or_redirect(request)
    session_id = request.GET.get("session_id", "")
    if customer is not None and session_id:
        try:
            services.complete_checkout(customer, session_id)
        except (BillingError, BillingNotConfigured, stripe.StripeError) as exc:
            return _fail(request, exc)
        if customer.plan:
            messages.success(request, f"Welcome to the {customer.plan.name} plan.")
    return redirect("quickscale_billing:dashboard")


@login_required
def change_plan(request):
    customer = _customer_or_redirect(request)
    if customer is None:
        return redirect("quickscale_billing:pricing")
    data = request.POST if request.method == "POST" else request.GET
    plan, interval = _plan_and_interval(request, data)
    if plan.is_free:
        messages.info(request, "To move to the free plan, cancel your subscription.")
        return redirect("quickscale_billing:dashboard")
    try:
        if request.method == "POST":
            proration_date = int(data.get("proration_date") or 0) or None
            services.change_plan(customer, plan, interval, proration_date=proration_date)
            messages.success(request, f"You are now on the {plan.name} plan.")
            return redirect("quickscale_billing:dashboard")
        preview = services.preview_change(customer, plan, interval)
    except (BillingError, BillingNotConfigured, stripe.StripeError, ValueError) as exc:
        return _fail(request, exc)
    return page(request, "change_plan", {"customer": customer, "preview": preview})


def _action(request, action, done: str):
    customer = _customer_or_redirect(request)
    if customer is None:
        return redirect("quickscale_billing:pricing")
    try:
        action(customer)
    except (BillingError, BillingNotConfigured, stripe.StripeError) as exc:
        return _fail(request, exc)
    messages.success(request, done)
    return redirect("quickscale_billing:dashboard")


@login_required
@require_POST
def cancel(request):
    return _action(
        request,
        lambda c: services.set_cancel_at_period_end(c, True),
        "Your subscription ends at the end of the current period.",
    )


@login_required
@require_POST
def reactivate(request):
    return _action(
        request,
        lambda c: services.set_cancel_at_period_end(c, False),
        "Your subscription continues.",
    )


@login_required
@require_POST
def pause(request):
    return _action(request, services.pause, "Your subscription is paused.")


@login_required
@require_POST
def resume(request):
    return _action(request, services.resume, "Your subscription is running again.")


@login_required
@require_POST
def portal(request):
    customer = _customer_or_redirect(request)
    if customer is None:
        return redirect("quickscale_billing:pricing")
    try:
        url = services.portal_url(
            customer, request.build_absolute_uri(reverse("quickscale_billing:dashboard"))
        )
    except (BillingError, BillingNotConfigured, stripe.StripeError) as exc:
        return _fail(request, exc)
    return HttpResponseRedirect(url, status=303)
