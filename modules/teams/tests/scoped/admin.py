from django.contrib import admin

from quickscale_modules_teams.admin import TeamScopedAdmin

from .models import Project


@admin.register(Project)
class ProjectAdmin(TeamScopedAdmin):
    list_display = ["name", "team"]
