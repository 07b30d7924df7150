"""REST API for the React theme (and any client): ``<teams_route>api/…``.

Session authentication like the rest of the project. Non-members get 404
for a team and everything in it; members below the needed role get 403.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from . import roles, services
from .current import switch_team
from .models import Invitation, Membership, Team
from .permissions import IsTeamAdmin, IsTeamMember, IsTeamOwner


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name", "slug", "description", "settings", "created_at"]
        read_only_fields = ["id", "slug", "created_at"]


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    username = serializers.CharField(source="get_username")
    email = serializers.EmailField()


class MembershipSerializer(serializers.ModelSerializer):
    user = UserSerializer()
    role_label = serializers.CharField()

    class Meta:
        model = Membership
        fields = ["id", "user", "role", "role_label", "created_at"]


class InvitationSerializer(serializers.ModelSerializer):
    role_label = serializers.CharField(read_only=True)

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "role_label", "status", "created_at", "sent_at", "expires_at"]
        read_only_fields = ["id", "status", "created_at", "sent_at", "expires_at"]


class InvitationPublicSerializer(serializers.Serializer):
    team = serializers.CharField(source="team.name")
    email = serializers.EmailField()
    role = serializers.CharField()
    role_label = serializers.CharField()
    expires_at = serializers.DateTimeField()


def _error(error: Exception, code=status.HTTP_400_BAD_REQUEST):
    return Response({"detail": str(error)}, status=code)


def _refused(refusal: services.InvitationRefused):
    code = {"unknown": 404, "wrong_account": 403}.get(refusal.reason, 410)
    return Response({"detail": str(refusal), "reason": refusal.reason}, status=code)


class TeamMixin:
    """The URL's team, checked by the permission class (which sets request.team)."""

    @property
    def team(self) -> Team:
        return self.request.team

    @property
    def membership(self) -> Membership:
        return self.request.membership


class CurrentTeamView(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        membership = getattr(request, "membership", None)
        return Response(
            {
                "team": TeamSerializer(membership.team).data if membership else None,
                "role": membership.role if membership else None,
                "roles": [{"slug": r.slug, "label": r.label, "rank": r.rank} for r in roles.all_roles()],
            }
        )


class TeamListView(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        memberships = Membership.objects.filter(user=request.user).select_related("team")
        return Response(
            {"teams": [{**TeamSerializer(m.team).data, "role": m.role} for m in memberships]}
        )

    def post(self, request):
        data = TeamSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            team = services.create_team(request.user, data.validated_data["name"], data.validated_data.get("description", ""))
        except services.TeamError as error:
            return _error(error, status.HTTP_403_FORBIDDEN)
        return Response({**TeamSerializer(team).data, "role": roles.OWNER}, status=status.HTTP_201_CREATED)


class TeamDetailView(TeamMixin, APIView):
    def get_permissions(self):
        needed = {"GET": IsTeamMember, "DELETE": IsTeamOwner}.get(self.request.method, IsTeamAdmin)
        return [IsAuthenticated(), needed()]

    def get(self, request, team_slug):
        return Response({**TeamSerializer(self.team).data, "role": self.membership.role})

    def patch(self, request, team_slug):
        data = TeamSerializer(self.team, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        try:
            team = services.update_team(
                self.membership,
                name=data.validated_data.get("name"),
                description=data.validated_data.get("description"),
                settings_=data.validated_data.get("settings"),
            )
        except services.TeamError as error:
            return _error(error)
        return Response(TeamSerializer(team).data)

    def delete(self, request, team_slug):
        services.delete_team(self.membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberListView(TeamMixin, APIView):
    permission_classes = [IsAuthenticated, IsTeamMember]

    def get(self, request, team_slug):
        members = self.team.memberships.select_related("user")
        return Response({"members": MembershipSerializer(members, many=True).data})


class MemberDetailView(TeamMixin, APIView):
    permission_classes = [IsAuthenticated, IsTeamMember]

    def _target(self, pk) -> Membership:
        return get_object_or_404(Membership.objects.select_related("user"), pk=pk, team=self.team)

    def patch(self, request, team_slug, pk):
        target = self._target(pk)
        try:
            services.change_role(self.membership, target, str(request.data.get("role", "")))
        except services.TeamError as error:
            return _error(error)
        return Response(MembershipSerializer(target).data)

    def delete(self, request, team_slug, pk):
        target = self._target(pk)
        try:
            services.remove_member(self.membership, target)
        except services.TeamError as error:
            return _error(error)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationListView(TeamMixin, APIView):
    permission_classes = [IsAuthenticated, IsTeamAdmin]

    def get(self, request, team_slug):
        return Response({"invitations": InvitationSerializer(self.team.pending_invitations(), many=True).data})

    def post(self, request, team_slug):
        data = InvitationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            invitation = services.invite(
                request._request, self.membership, data.validated_data["email"], data.validated_data.get("role", roles.MEMBER)
            )
        except services.TeamError as error:
            return _error(error)
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class InvitationDetailView(TeamMixin, APIView):
    permission_classes = [IsAuthenticated, IsTeamAdmin]

    def delete(self, request, team_slug, pk):
        invitation = get_object_or_404(Invitation, pk=pk, team=self.team)
        try:
            services.revoke(self.membership, invitation)
        except services.TeamError as error:
            return _error(error)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationResendView(TeamMixin, APIView):
    permission_classes = [IsAuthenticated, IsTeamAdmin]

    def post(self, request, team_slug, pk):
        invitation = get_object_or_404(Invitation, pk=pk, team=self.team)
        try:
            services.resend(request._request, self.membership, invitation)
        except services.TeamError as error:
            return _error(error)
        return Response(InvitationSerializer(invitation).data)


class LeaveView(TeamMixin, APIView):
    permission_classes = [IsAuthenticated, IsTeamMember]

    def post(self, request, team_slug):
        try:
            services.leave_team(self.membership)
        except services.TeamError as error:
            return _error(error)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TransferView(TeamMixin, APIView):
    permission_classes = [IsAuthenticated, IsTeamOwner]

    def post(self, request, team_slug):
        target = Membership.objects.filter(pk=request.data.get("member") or 0, team=self.team).first()
        if target is None:
            raise NotFound("No such member")
        try:
            services.transfer_ownership(self.membership, target)
        except services.TeamError as error:
            return _error(error)
        return Response(MembershipSerializer(target).data)


class SwitchView(TeamMixin, APIView):
    permission_classes = [IsAuthenticated, IsTeamMember]

    def post(self, request, team_slug):
        switch_team(request._request, self.team)
        return Response({"team": TeamSerializer(self.team).data, "role": self.membership.role})


class InvitationTokenView(APIView):
    """The invitation behind a link: GET shows it, POST accept/ and decline/ answer it."""

    permission_classes = [AllowAny]
    action = None

    def get(self, request, token):
        try:
            found = services.check_usable(Invitation.from_token(token))
            if request.user.is_authenticated:
                services.check_recipient(found, request.user)
        except services.InvitationRefused as refusal:
            return _refused(refusal)
        return Response(InvitationPublicSerializer(found).data)

    def post(self, request, token):
        if self.action is None:
            return Response(status=status.HTTP_405_METHOD_NOT_ALLOWED)
        if self.action == "accept" and not request.user.is_authenticated:
            return Response({"detail": "Sign in (or sign up) first."}, status=status.HTTP_403_FORBIDDEN)
        try:
            found = Invitation.from_token(token)
            if self.action == "accept":
                membership = services.accept(found, request.user)
                switch_team(request._request, membership.team)
                return Response({"team": TeamSerializer(membership.team).data, "role": membership.role})
            services.decline(found, request.user)
        except services.InvitationRefused as refusal:
            return _refused(refusal)
        return Response({"status": "declined"})


