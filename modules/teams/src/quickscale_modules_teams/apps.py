from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "quickscale_modules_teams"
    label = "quickscale_modules_teams"
    verbose_name = "Teams"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
