from django.apps import AppConfig


class TeamAppConfig(AppConfig):
    name = "tests.teamapp"
    label = "teamapp"
    default_auto_field = "django.db.models.BigAutoField"
