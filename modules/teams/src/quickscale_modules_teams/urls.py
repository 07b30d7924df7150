"""The module's routes, under the teams_route option (default ``teams/``).

Namespace ``quickscale_teams``. Every route with ``<team_slug>`` is a team's:
non-members get 404, lower roles 403 (tests/test_isolation.py walks them all).
"""

from django.urls import include, path

from . import api, conf, views

app_name = "quickscale_teams"

api_patterns = [
    path("current/", api.CurrentTeamView.as_view(), name="api-current"),
    path("teams/", api.TeamListView.as_view(), name="api-teams"),
    path("teams/<slug:team_slug>/", api.TeamDetailView.as_view(), name="api-team"),
    path("teams/<slug:team_slug>/members/", api.MemberListView.as_view(), name="api-members"),
    path("teams/<slug:team_slug>/members/<int:pk>/", api.MemberDetailView.as_view(), name="api-member"),
    path("teams/<slug:team_slug>/invitations/", api.InvitationListView.as_view(), name="api-invitations"),
    path("teams/<slug:team_slug>/invitations/<int:pk>/", api.InvitationDetailView.as_view(), name="api-invitation"),
    path(
        "teams/<slug:team_slug>/invitations/<int:pk>/resend/",
        api.InvitationResendView.as_view(),
        name="api-invitation-resend",
    ),
    path("teams/<slug:team_slug>/leave/", api.LeaveView.as_view(), name="api-leave"),
    path("teams/<slug:team_slug>/transfer/", api.TransferView.as_view(), name="api-transfer"),
    path("teams/<slug:team_slug>/switch/", api.SwitchView.as_view(), name="api-switch"),
    path("invitations/<str:token>/", api.InvitationTokenView.as_view(), name="api-invitation-token"),
    path(
        "invitations/<str:token>/accept/",
        api.InvitationTokenView.as_view(action="accept"),
        name="api-invitation-accept",
    ),
    path(
        "invitations/<str:token>/decline/",
        api.InvitationTokenView.as_view(action="decline"),
        name="api-invitation-decline",
    ),
]

team_patterns = [
    path("", views.dashboard, name="dashboard"),
    path("settings/", views.team_settings, name="settings"),
    path("delete/", views.team_delete, name="delete"),
    path("invitations/new/", views.invite, name="invite"),
    path("invitations/<int:pk>/revoke/", views.invitation_revoke, name="revoke"),
    path("invitations/<int:pk>/resend/", views.invitation_resend, name="resend"),
    path("members/<int:pk>/role/", views.member_role, name="member-role"),
    path("members/<int:pk>/remove/", views.member_remove, name="member-remove"),
    path("leave/", views.leave, name="leave"),
    path("transfer/", views.transfer, name="transfer"),
    path("switch/", views.switch, name="switch"),
]

module_patterns = [
    path("", views.team_list, name="list"),
    path("new/", views.team_create, name="create"),
    path("api/", include(api_patterns)),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    path("invitations/<str:token>/accept/", views.invitation_accept, name="invitation-accept"),
    path("invitations/<str:token>/decline/", views.invitation_decline, name="invitation-decline"),
    path("<slug:team_slug>/", include(team_patterns)),
]

urlpatterns = [path(conf.route(), include(module_patterns))]
