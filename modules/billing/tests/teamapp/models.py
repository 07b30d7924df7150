"""A minimal team model, standing in for the teams module in the billing tests."""

from django.conf import settings
from django.db import models


class Team(models.Model):
    name = models.CharField(max_length=100)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="test_teams")

    class Meta:
        app_label = "teamapp"

    def __str__(self) -> str:
        return self.name
