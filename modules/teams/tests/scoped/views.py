"""Project views built with the module's decorators, mixins and DRF permissions."""

from django.http import HttpResponse, JsonResponse
from django.views.generic import DetailView, ListView
from rest_framework.generics import RetrieveAPIView
from rest_framework.response import Response
from rest_framework.serializers import ModelSerializer
from rest_framework.views import APIView

from quickscale_modules_teams.decorators import team_admin_required, team_member_required
from quickscale_modules_teams.mixins import TeamScopedQuerysetMixin
from quickscale_modules_teams.permissions import HasTeamRole, IsTeamMember

from .models import Project


@team_member_required
def project_names(request, team_slug):
    return JsonResponse({"projects": [p.name for p in Project.objects.for_team(request.team)]})


@team_admin_required
def admin_only(request, team_slug):
    return HttpResponse("admins only")


@team_member_required
def current_team_projects(request):
    """No team in the URL: the current team (session / first team)."""
    return JsonResponse({"team": request.team.slug, "projects": [p.name for p in Project.objects.for_team(request.team)]})


class ProjectList(TeamScopedQuerysetMixin, ListView):
    model = Project
    template_name = "scoped/project_list.html"


class ProjectDetail(TeamScopedQuerysetMixin, DetailView):
    model = Project
    template_name = "scoped/project_detail.html"


class ProjectSerializer(ModelSerializer):
    class Meta:
        model = Project
        fields = ["id", "name"]


class ProjectApi(RetrieveAPIView):
    permission_classes = [IsTeamMember]
    serializer_class = ProjectSerializer

    def get_queryset(self):
        # Deliberately the whole table: the permission's object check must catch other teams.
        return Project.objects.across_teams()


class AdminApi(APIView):
    permission_classes = [HasTeamRole.of("admin")]

    def get(self, request, team_slug):
        return Response({"ok": True, "team": request.team.slug})
