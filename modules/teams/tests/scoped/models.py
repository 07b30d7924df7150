"""A project's team-scoped model, as a project would write it."""

from django.db import models

from quickscale_modules_teams.models import TeamScopedModel


class Project(TeamScopedModel):
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
