"""DRF permission that blocks an API action over the plan's limit."""

from __future__ import annotations

from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.permissions import BasePermission

from .customers import customer_from_request
from .usage import check_limit


class PlanLimitReached(APIException):
    status_code = status.HTTP_402_PAYMENT_REQUIRED
    default_detail = "Your plan's limit is reached."
    default_code = "plan_limit_reached"

    def __init__(self, result):
        super().__init__()
        # Set after APIException's init, which would turn the numbers into strings.
        self.detail = {"detail": result.message, "limit": result.as_dict()}
        self.result = result


class WithinPlanLimit(BasePermission):
    """Allows a request while the customer's plan allows one more of the view's metric.

    The view names the metric (``billing_metric = "api_calls"``, optional
    ``billing_amount`` and ``billing_methods``), or use ``WithinPlanLimit.of("api_calls")``.
    Over the limit the request is answered with 402 and the limit as JSON.
    It only checks: record the usage in the view with ``record_usage``.
    """

    metric: str | None = None
    amount: int = 1
    methods: tuple[str, ...] | None = None

    @classmethod
    def of(cls, metric: str, amount: int = 1, methods=None):
        return type(
            f"WithinPlanLimit_{metric}",
            (cls,),
            {"metric": metric, "amount": amount, "methods": tuple(methods) if methods else None},
        )

    def has_permission(self, request, view) -> bool:
        metric = self.metric or getattr(view, "billing_metric", None)
        if not metric:
            return True
        methods = self.methods or getattr(view, "billing_methods", None)
        if methods and request.method not in methods:
            return True
        customer = customer_from_request(request)
        if customer is None:
            return False
        amount = self.amount if self.metric else getattr(view, "billing_amount", 1)
        result = check_limit(customer, metric, amount)
        if not result.allowed:
            raise PlanLimitReached(result)
        return True
