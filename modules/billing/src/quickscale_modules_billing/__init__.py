"""Stripe subscriptions for Django projects made with git-quickscale (through dj-stripe).

Public API: ``check_limit``, ``record_usage``, ``LimitExceeded`` (usage.py),
the ``limit_usage`` view decorator (decorators.py) and the ``WithinPlanLimit``
DRF permission (permissions.py).
"""

__version__ = "0.1.0"


def __getattr__(name):
    # Lazy, so that importing the package does not need Django's app registry.
    if name in {"check_limit", "record_usage", "LimitExceeded", "usage_summary"}:
        from . import usage

        return getattr(usage, name)
    if name == "limit_usage":
        from .decorators import limit_usage

        return limit_usage
    raise AttributeError(name)
