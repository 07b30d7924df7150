"""Who pays: the request's user or team, and their billing customer row."""

from __future__ import annotations

from django.apps import apps
from django.db import transaction
from django.utils.module_loading import import_string

from . import conf
from .models import BillingCustomer


def owner_model():
    return apps.get_model(conf.owner_model_label())


def owner_from_request(request):
    """The user or team the request acts for, or None (anonymous, no team)."""
    path = conf.customer_resolver_path()
    if path:
        return import_string(path)(request)
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    if conf.customer_kind() == "team":
        return getattr(request, "team", None)
    return user


def customer_for(owner, *, create: bool = True) -> BillingCustomer | None:
    """The owner's billing customer; made on first use when ``create``."""
    if owner is None:
        return None
    if isinstance(owner, BillingCustomer):
        return owner
    found = BillingCustomer.objects.filter(owner=owner).first()
    if found or not create:
        return found
    with transaction.atomic():
        customer, _ = BillingCustomer.objects.get_or_create(owner=owner)
    return customer


def customer_from_request(request, *, create: bool = True) -> BillingCustomer | None:
    return customer_for(owner_from_request(request), create=create)


def owner_email(owner) -> str:
    email = getattr(owner, "email", "") or ""
    if not email and conf.customer_kind() == "team":
        # A team pays through its owner's address when it has none itself.
        for attr in ("billing_email", "owner", "created_by"):
            value = getattr(owner, attr, None)
            if isinstance(value, str) and value:
                return value
            if value is not None and getattr(value, "email", ""):
                return value.email
    return email


def owner_name(owner) -> str:
    for attr in ("get_full_name", "name", "get_username"):
        value = getattr(owner, attr, None)
        if callable(value):
            value = value()
        if value:
            return str(value)
    return str(owner)
