from django.contrib import admin

from .models import Invitation, Membership, Team


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_by", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]
    raw_id_fields = ["created_by"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "team", "role", "status", "expires_at", "created_at"]
    list_filter = ["status", "role"]
    search_fields = ["email", "team__name"]
    readonly_fields = ["token_hash", "accepted_by", "responded_at", "sent_at", "created_at"]
    raw_id_fields = ["team", "invited_by"]


class TeamScopedAdmin(admin.ModelAdmin):
    """Admin for a TeamScopedModel: staff see every team's rows (on purpose)."""

    list_filter = ["team"]

    def get_queryset(self, request):
        return self.model.objects.across_teams()
