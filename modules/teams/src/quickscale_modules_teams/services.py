"""What can happen to teams, members and invitations; views and the API call these.

Every rule lives here (who may do what, the last owner, single-use tokens),
so the HTML pages and the REST API cannot disagree.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string, select_template
from django.urls import reverse
from django.utils import timezone

from . import conf, roles
from .models import Invitation, Membership, Team


class TeamError(Exception):
    """A request the rules refuse (shown to the user as is)."""


class InvitationRefused(TeamError):
    """An invitation link that cannot be used; ``reason`` names why."""

    def __init__(self, reason: str, message: str, invitation: Invitation | None = None):
        super().__init__(message)
        self.reason = reason
        self.invitation = invitation


def require(membership: Membership | None, minimum: str) -> Membership:
    if membership is None or not membership.has_role(minimum):
        raise PermissionDenied(f"this needs the {roles.label(minimum)} role")
    return membership


# --- teams --------------------------------------------------------------------------


def can_create_team(user) -> bool:
    if not user.is_authenticated:
        return False
    if not conf.allow_creation() and not user.is_staff:
        return False
    limit = conf.max_teams_per_user()
    return not limit or Membership.objects.filter(user=user, role=roles.OWNER).count() < limit


@transaction.atomic
def create_team(user, name: str, description: str = "") -> Team:
    """A new team with ``user`` as its owner."""
    if not can_create_team(user):
        raise TeamError("You cannot create another team.")
    name = name.strip()
    if not name:
        raise TeamError("A team needs a name.")
    team = Team.objects.create(name=name, description=description, created_by=user)
    Membership.objects.create(team=team, user=user, role=roles.OWNER)
    return team


def update_team(membership: Membership, *, name=None, description=None, settings_=None) -> Team:
    require(membership, roles.ADMIN)
    team = membership.team
    if name is not None:
        if not name.strip():
            raise TeamError("A team needs a name.")
        team.name = name.strip()
    if description is not None:
        team.description = description
    if settings_ is not None:
        if not isinstance(settings_, dict):
            raise TeamError("Team settings must be an object.")
        team.settings = settings_
    team.save()
    return team


def delete_team(membership: Membership) -> None:
    require(membership, roles.OWNER)
    membership.team.delete()


# --- members ------------------------------------------------------------------------


def _owner_count(team: Team) -> int:
    return team.memberships.filter(role=roles.OWNER).count()


@transaction.atomic
def change_role(actor: Membership, target: Membership, role: str) -> Membership:
    """``actor`` gives ``target`` the ``role``; the last owner keeps theirs."""
    require(actor, roles.ADMIN)
    if roles.get(role) is None:
        raise TeamError(f"{role!r} is not a role.")
    if target.team_id != actor.team_id:
        raise PermissionDenied("not a member of this team")
    if actor.role != roles.OWNER and (target.role == roles.OWNER or role == roles.OWNER):
        raise PermissionDenied("only an owner can make or unmake owners")
    if roles.rank(role) > roles.rank(actor.role) or roles.rank(target.role) > roles.rank(actor.role):
        raise PermissionDenied("you cannot change a role above your own")
    Team.objects.select_for_update().filter(pk=target.team_id).first()
    if target.role == roles.OWNER and role != roles.OWNER and _owner_count(target.team) <= 1:
        raise TeamError("The last owner cannot be demoted: make someone else an owner first.")
    target.role = role
    target.save(update_fields=["role"])
    return target


@transaction.atomic
def remove_member(actor: Membership, target: Membership) -> None:
    if actor.pk == target.pk:
        return leave_team(actor)
    require(actor, roles.ADMIN)
    if target.team_id != actor.team_id:
        raise PermissionDenied("not a member of this team")
    if roles.rank(target.role) > roles.rank(actor.role):
        raise PermissionDenied("you cannot remove a member above your own role")
    if target.role == roles.OWNER and _owner_count(target.team) <= 1:
        raise TeamError("The last owner cannot be removed.")
    target.delete()


@transaction.atomic
def leave_team(membership: Membership) -> None:
    Team.objects.select_for_update().filter(pk=membership.team_id).first()
    if membership.role == roles.OWNER and _owner_count(membership.team) <= 1:
        raise TeamError(
            "You are the last owner: transfer the ownership (or delete the team) before leaving."
        )
    membership.delete()


@transaction.atomic
def transfer_ownership(actor: Membership, target: Membership) -> Membership:
    """``target`` becomes an owner and ``actor`` an admin."""
    require(actor, roles.OWNER)
    if target.team_id != actor.team_id:
        raise PermissionDenied("not a member of this team")
    if target.pk == actor.pk:
        raise TeamError("You are already the owner.")
    target.role = roles.OWNER
    target.save(update_fields=["role"])
    actor.role = roles.ADMIN
    actor.save(update_fields=["role"])
    return target


# --- invitations --------------------------------------------------------------------


def invitation_url(request, token: str) -> str:
    path = reverse("quickscale_teams:invitation", kwargs={"token": token})
    return request.build_absolute_uri(path) if request is not None else path


def _send(request, invitation: Invitation, token: str) -> None:
    context = {
        "invitation": invitation,
        "team": invitation.team,
        "inviter": invitation.invited_by,
        "url": invitation_url(request, token),
        "expires_at": invitation.expires_at,
    }
    subject = render_to_string("quickscale_modules_teams/email/invitation_subject.txt", context).strip()
    body = render_to_string("quickscale_modules_teams/email/invitation_body.txt", context)
    # HTML beside the text, in the project's e-mail layout when it has one.
    context["email_base"] = select_template(["email/base.html", "quickscale_modules_teams/email/base.html"])
    html = render_to_string("quickscale_modules_teams/email/invitation.html", context)
    message = EmailMultiAlternatives(
        subject, body, conf.from_email() or settings.DEFAULT_FROM_EMAIL, [invitation.email]
    )
    message.attach_alternative(html, "text/html")
    message.send()
    invitation.sent_at = timezone.now()
    invitation.save(update_fields=["sent_at"])


@transaction.atomic
def invite(request, actor: Membership, email: str, role: str = roles.MEMBER) -> Invitation:
    """Invites ``email`` with ``role`` and emails the link."""
    require(actor, roles.ADMIN)
    email = email.strip()
    if roles.get(role) is None:
        raise TeamError(f"{role!r} is not a role.")
    if roles.rank(role) > roles.rank(actor.role):
        raise PermissionDenied("you cannot invite above your own role")
    team = actor.team
    if team.memberships.filter(user__email__iexact=email).exists():
        raise TeamError(f"{email} is already a member of {team}.")
    if team.pending_invitations().filter(email__iexact=email).exists():
        raise TeamError(f"{email} already has a pending invitation; resend it instead.")
    invitation = Invitation(team=team, email=email, role=role, invited_by=actor.user)
    token = invitation.new_token()
    invitation.full_clean(exclude=["token_hash"])
    invitation.save()
    transaction.on_commit(lambda: _send(request, invitation, token))
    return invitation


@transaction.atomic
def resend(request, actor: Membership, invitation: Invitation) -> Invitation:
    """A new link (the old one stops working) and a new expiry, emailed again."""
    require(actor, roles.ADMIN)
    if invitation.team_id != actor.team_id:
        raise PermissionDenied("not an invitation of this team")
    if invitation.status != Invitation.Status.PENDING:
        raise TeamError(f"This invitation was {invitation.status}; invite again instead.")
    token = invitation.new_token()
    invitation.save(update_fields=["token_hash", "expires_at"])
    transaction.on_commit(lambda: _send(request, invitation, token))
    return invitation


def revoke(actor: Membership, invitation: Invitation) -> Invitation:
    require(actor, roles.ADMIN)
    if invitation.team_id != actor.team_id:
        raise PermissionDenied("not an invitation of this team")
    if invitation.status != Invitation.Status.PENDING:
        raise TeamError(f"This invitation was already {invitation.status}.")
    invitation.status = Invitation.Status.REVOKED
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "responded_at"])
    return invitation


def check_usable(invitation: Invitation | None) -> Invitation:
    """The invitation, or InvitationRefused saying why its link is dead."""
    if invitation is None:
        raise InvitationRefused("unknown", "This invitation link is not valid. Check that you copied all of it.")
    messages = {
        Invitation.Status.ACCEPTED: ("used", "This invitation has already been used."),
        Invitation.Status.DECLINED: ("declined", "This invitation was declined."),
        Invitation.Status.REVOKED: ("revoked", "This invitation was withdrawn by the team."),
    }
    if invitation.status in messages:
        reason, message = messages[invitation.status]
        raise InvitationRefused(reason, message, invitation)
    if invitation.is_expired:
        raise InvitationRefused(
            "expired", "This invitation has expired. Ask the team for a new one.", invitation
        )
    return invitation


def check_recipient(invitation: Invitation, user) -> None:
    if (getattr(user, "email", "") or "").strip().lower() != invitation.email.strip().lower():
        raise InvitationRefused(
            "wrong_account",
            f"This invitation was sent to {mask(invitation.email)}, not to the account you are "
            "signed in with. Sign out and open the link again, or sign in with that address.",
            invitation,
        )


def mask(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


@transaction.atomic
def accept(invitation: Invitation, user) -> Membership:
    """``user`` (whose address the invitation was sent to) joins the team, once."""
    check_usable(invitation)
    # Locked and read again: two clicks on the link cannot both join.
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    check_usable(invitation)
    check_recipient(invitation, user)
    membership, created = Membership.objects.get_or_create(
        team=invitation.team, user=user, defaults={"role": invitation.role}
    )
    if not created and roles.rank(invitation.role) > roles.rank(membership.role):
        membership.role = invitation.role
        membership.save(update_fields=["role"])
    invitation.status = Invitation.Status.ACCEPTED
    invitation.accepted_by = user
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "accepted_by", "responded_at"])
    return membership


@transaction.atomic
def decline(invitation: Invitation, user=None) -> Invitation:
    check_usable(invitation)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    check_usable(invitation)
    if user is not None and user.is_authenticated:
        check_recipient(invitation, user)
    invitation.status = Invitation.Status.DECLINED
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "responded_at"])
    return invitation
