"""View decorator that blocks an action over the plan's limit."""

from __future__ import annotations

from functools import wraps

from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse

from . import conf
from .customers import customer_from_request
from .usage import LimitExceeded, LimitResult, check_limit, record_usage

# 402 Payment Required: the request is fine, the plan does not cover it.
LIMIT_STATUS = 402


def wants_json(request) -> bool:
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def limit_response(request, result: LimitResult):
    """The answer to a request over its limit: JSON for API clients, a page otherwise."""
    pricing = reverse("quickscale_billing:pricing")
    if wants_json(request):
        body = {"detail": result.message, "upgrade_url": pricing, "limit": result.as_dict()}
        return JsonResponse(body, status=LIMIT_STATUS)
    return render(
        request,
        "quickscale_modules_billing/limit_reached.html",
        {"result": result, "pricing_url": pricing, "base_template": conf.base_template()},
        status=LIMIT_STATUS,
    )


def limit_usage(metric: str, amount: int = 1, *, record: bool = True, methods=None):
    """Refuses the view with 402 when ``amount`` more of ``metric`` is over the limit.

    With ``record`` (default), the usage is recorded when the view answers
    with a success (2xx/3xx); ``methods`` restricts both to those HTTP methods
    (e.g. ``["POST"]`` so that showing a form is free).
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if methods is not None and request.method not in methods:
                return view(request, *args, **kwargs)
            customer = customer_from_request(request)
            if customer is None:
                result = LimitResult(metric, False, 0, 0, amount, None, None, None)
                return limit_response(request, result)
            result = check_limit(customer, metric, amount)
            if not result.allowed:
                return limit_response(request, result)
            response = view(request, *args, **kwargs)
            if record and response.status_code < 400:
                try:
                    record_usage(customer, metric, amount, enforce=True)
                except LimitExceeded as exc:
                    # Another request took the last unit meanwhile.
                    return limit_response(request, exc.result)
            return response

        return wrapped

    return decorator
