"""URLs, mounted at the site root: the routes come from the pricing_route and billing_route options."""

from django.urls import path

from . import api, conf, views, webhooks

app_name = "quickscale_billing"

_b = conf.billing_route()

urlpatterns = [
    path(conf.pricing_route(), views.pricing, name="pricing"),
    path(_b, views.dashboard, name="dashboard"),
    path(f"{_b}checkout/", views.checkout, name="checkout"),
    path(f"{_b}checkout/done/", views.checkout_done, name="checkout-done"),
    path(f"{_b}change/", views.change_plan, name="change"),
    path(f"{_b}cancel/", views.cancel, name="cancel"),
    path(f"{_b}reactivate/", views.reactivate, name="reactivate"),
    path(f"{_b}pause/", views.pause, name="pause"),
    path(f"{_b}resume/", views.resume, name="resume"),
    path(f"{_b}portal/", views.portal, name="portal"),
    path(f"{_b}webhook/", webhooks.stripe_webhook, name="webhook"),
    path(f"{_b}api/plans/", api.PlanListAPI.as_view(), name="api-plans"),
    path(f"{_b}api/subscription/", api.SubscriptionAPI.as_view(), name="api-subscription"),
    path(f"{_b}api/checkout/", api.CheckoutAPI.as_view(), name="api-checkout"),
    path(f"{_b}api/subscription/preview/", api.PreviewAPI.as_view(), name="api-preview"),
    path(f"{_b}api/subscription/change/", api.ChangeAPI.as_view(), name="api-change"),
    path(f"{_b}api/subscription/cancel/", api.cancel_api, name="api-cancel"),
    path(f"{_b}api/subscription/reactivate/", api.reactivate_api, name="api-reactivate"),
    path(f"{_b}api/subscription/pause/", api.pause_api, name="api-pause"),
    path(f"{_b}api/subscription/resume/", api.resume_api, name="api-resume"),
    path(f"{_b}api/portal/", api.PortalAPI.as_view(), name="api-portal"),
    path(f"{_b}api/invoices/", api.InvoiceListAPI.as_view(), name="api-invoices"),
    path(f"{_b}api/usage/", api.UsageAPI.as_view(), name="api-usage"),
]
