"""URLs for the teams module's tests: the module at the root, plus project views using its helpers."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from tests.scoped import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(template_name="base.html"), name="login"),
    path("p/current/", views.current_team_projects, name="current-projects"),
    path("p/<slug:team_slug>/names/", views.project_names, name="project-names"),
    path("p/<slug:team_slug>/admin-only/", views.admin_only, name="admin-only"),
    path("p/<slug:team_slug>/projects/", views.ProjectList.as_view(), name="project-list"),
    path("p/<slug:team_slug>/projects/<int:pk>/", views.ProjectDetail.as_view(), name="project-detail"),
    path("p/<slug:team_slug>/api/projects/<int:pk>/", views.ProjectApi.as_view(), name="project-api"),
    path("p/<slug:team_slug>/api/admin/", views.AdminApi.as_view(), name="admin-api"),
    path("", include("quickscale_modules_teams.urls")),
]
