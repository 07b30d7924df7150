"""Class-based view mixins: the team role a view needs, and team-scoped querysets."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin

from . import roles
from .decorators import resolve_membership


class TeamRoleRequiredMixin(LoginRequiredMixin):
    """Needs ``team_role`` (default member) in the URL's or the current team.

    Non-members get 404, members below the role 403; ``self.team`` and
    ``self.membership`` are set (and ``request.team``).
    """

    team_role = roles.MEMBER

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.membership = resolve_membership(request, kwargs, self.team_role)
        self.team = self.membership.team
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("team", self.team)
        context.setdefault("membership", self.membership)
        return context


class TeamMemberRequiredMixin(TeamRoleRequiredMixin):
    team_role = roles.MEMBER


class TeamAdminRequiredMixin(TeamRoleRequiredMixin):
    team_role = roles.ADMIN


class TeamOwnerRequiredMixin(TeamRoleRequiredMixin):
    team_role = roles.OWNER


class TeamScopedQuerysetMixin(TeamRoleRequiredMixin):
    """For ListView/DetailView/UpdateView/DeleteView of a TeamScopedModel:
    only the current team's rows (another team's object is a 404), and new
    objects (``form_valid``) get the team."""

    def get_queryset(self):
        return self.model.objects.for_team(self.team)

    def form_valid(self, form):
        if getattr(form.instance, "team_id", None) is None:
            form.instance.team = self.team
        return super().form_valid(form)
