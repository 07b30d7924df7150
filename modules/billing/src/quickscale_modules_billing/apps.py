from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "quickscale_modules_billing"
    label = "quickscale_modules_billing"
    verbose_name = "Billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
        from .stripe_setup import configure
        from .webhooks import connect_handlers

        configure()
        connect_handlers()
