"""Server-rendered team pages (they extend the project's base template)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from . import conf, roles, services
from .current import switch_team
from .decorators import team_role_required
from .forms import InvitationSignupForm, InviteForm, RoleForm, TeamForm
from .models import Invitation, Membership, Team


def _render(request, template, context=None, status=200):
    context = {"base_template": conf.base_template(), **(context or {})}
    return render(request, f"quickscale_modules_teams/{template}", context, status=status)


def _dashboard(team):
    return redirect("quickscale_teams:dashboard", team_slug=team.slug)


def _fail(request, team, error):
    messages.error(request, str(error))
    return _dashboard(team)


@login_required
def team_list(request):
    memberships = Membership.objects.filter(user=request.user).select_related("team").order_by("team__name")
    return _render(
        request,
        "team_list.html",
        {
            "memberships": memberships,
            "can_create": services.can_create_team(request.user),
            "form": TeamForm(),
        },
    )


@login_required
def team_create(request):
    if not services.can_create_team(request.user):
        raise PermissionDenied("You cannot create another team.")
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        team = services.create_team(request.user, form.cleaned_data["name"], form.cleaned_data["description"])
        switch_team(request, team)
        messages.success(request, f"Team {team} created.")
        return _dashboard(team)
    return _render(request, "team_create.html", {"form": form}, status=400 if form.errors else 200)


@team_role_required(roles.MEMBER)
def dashboard(request, team_slug):
    team, membership = request.team, request.membership
    is_admin = membership.has_role(roles.ADMIN)
    return _render(
        request,
        "dashboard.html",
        {
            "team": team,
            "membership": membership,
            "members": team.memberships.select_related("user"),
            "invitations": team.pending_invitations() if is_admin else [],
            "invite_form": InviteForm(actor_role=membership.role) if is_admin else None,
            "role_choices": roles.assignable_by(membership.role),
        },
    )


@team_role_required(roles.ADMIN)
def team_settings(request, team_slug):
    team, membership = request.team, request.membership
    form = TeamForm(request.POST or None, initial={"name": team.name, "description": team.description})
    if request.method == "POST" and form.is_valid():
        try:
            services.update_team(membership, name=form.cleaned_data["name"], description=form.cleaned_data["description"])
        except services.TeamError as error:
            return _fail(request, team, error)
        messages.success(request, "Team settings saved.")
        return redirect("quickscale_teams:settings", team_slug=team.slug)
    members = team.memberships.select_related("user").exclude(pk=membership.pk)
    return _render(request, "settings.html", {"team": team, "membership": membership, "form": form, "members": members})


@require_POST
@team_role_required(roles.OWNER)
def team_delete(request, team_slug):
    name = str(request.team)
    services.delete_team(request.membership)
    messages.success(request, f"Team {name} deleted.")
    return redirect("quickscale_teams:list")


@require_POST
@team_role_required(roles.ADMIN)
def invite(request, team_slug):
    team, membership = request.team, request.membership
    form = InviteForm(request.POST, actor_role=membership.role)
    if not form.is_valid():
        return _fail(request, team, "; ".join(e for errors in form.errors.values() for e in errors))
    try:
        services.invite(request, membership, form.cleaned_data["email"], form.cleaned_data["role"])
    except services.TeamError as error:
        return _fail(request, team, error)
    messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
    return _dashboard(team)


def _team_invitation(request, pk):
    # Only this team's invitations: another team's id is a 404.
    return get_object_or_404(Invitation, pk=pk, team=request.team)


@require_POST
@team_role_required(roles.ADMIN)
def invitation_revoke(request, team_slug, pk):
    invitation = _team_invitation(request, pk)
    try:
        services.revoke(request.membership, invitation)
    except services.TeamError as error:
        return _fail(request, request.team, error)
    messages.success(request, f"Invitation to {invitation.email} withdrawn.")
    return _dashboard(request.team)


@require_POST
@team_role_required(roles.ADMIN)
def invitation_resend(request, team_slug, pk):
    invitation = _team_invitation(request, pk)
    try:
        services.resend(request, request.membership, invitation)
    except services.TeamError as error:
        return _fail(request, request.team, error)
    messages.success(request, f"Invitation sent to {invitation.email} again.")
    return _dashboard(request.team)


def _team_member(request, pk):
    return get_object_or_404(Membership.objects.select_related("user", "team"), pk=pk, team=request.team)


@require_POST
@team_role_required(roles.ADMIN)
def member_role(request, team_slug, pk):
    target = _team_member(request, pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _fail(request, request.team, "Choose a role.")
    try:
        services.change_role(request.membership, target, form.cleaned_data["role"])
    except services.TeamError as error:
        return _fail(request, request.team, error)
    messages.success(request, f"{target.user} is now {target.role_label}.")
    return _dashboard(request.team)


@require_POST
@team_role_required(roles.ADMIN)
def member_remove(request, team_slug, pk):
    target = _team_member(request, pk)
    try:
        services.remove_member(request.membership, target)
    except services.TeamError as error:
        return _fail(request, request.team, error)
    messages.success(request, f"{target.user} was removed from {request.team}.")
    return _dashboard(request.team)


@require_POST
@team_role_required(roles.MEMBER)
def leave(request, team_slug):
    team = request.team
    try:
        services.leave_team(request.membership)
    except services.TeamError as error:
        return _fail(request, team, error)
    request.session.pop(conf.SESSION_KEY, None)
    messages.success(request, f"You left {team}.")
    return redirect("quickscale_teams:list")


@require_POST
@team_role_required(roles.OWNER)
def transfer(request, team_slug):
    target = _team_member(request, request.POST.get("member") or 0)
    try:
        services.transfer_ownership(request.membership, target)
    except services.TeamError as error:
        return _fail(request, request.team, error)
    messages.success(request, f"{target.user} is now an owner of {request.team}; you are an admin.")
    return _dashboard(request.team)


@require_POST
@team_role_required(roles.MEMBER)
def switch(request, team_slug):
    messages.success(request, f"Switched to {request.team}.")
    target = request.POST.get("next") or ""
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return _dashboard(request.team)


# --- invitation links ------------------------------------------------------------------

REFUSED_STATUS = {"unknown": 404, "wrong_account": 403}


def _refused(request, refusal: services.InvitationRefused):
    return _render(
        request,
        "invitation_refused.html",
        {"reason": refusal.reason, "message": str(refusal), "invitation": refusal.invitation},
        status=REFUSED_STATUS.get(refusal.reason, 410),
    )


def _signup_url():
    for name in ("account_signup", "signup"):
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None


def invitation(request, token):
    """The link in the email: who invites, to what, and accept / decline (or sign up)."""
    try:
        found = services.check_usable(Invitation.from_token(token))
        if request.user.is_authenticated:
            services.check_recipient(found, request.user)
    except services.InvitationRefused as refusal:
        return _refused(request, refusal)
    form = None
    has_account = False
    if not request.user.is_authenticated:
        has_account = get_user_model()._default_manager.filter(email__iexact=found.email).exists()
        if conf.invitation_signup() and not has_account:
            form = InvitationSignupForm(request.POST or None, email=found.email)
            if request.method == "POST" and form.is_valid():
                user = form.save()
                backend = settings.AUTHENTICATION_BACKENDS[0] if getattr(settings, "AUTHENTICATION_BACKENDS", None) else None
                login(request, user, backend=backend or "django.contrib.auth.backends.ModelBackend")
                return _accept(request, found)
    login_url = f"{resolve_url(settings.LOGIN_URL)}?next={request.path}"
    signup_url = _signup_url()
    return _render(
        request,
        "invitation.html",
        {
            "invitation": found,
            "team": found.team,
            "token": token,
            "form": form,
            "has_account": has_account,
            "login_url": login_url,
            "signup_url": f"{signup_url}?next={request.path}" if signup_url else None,
        },
        status=400 if form is not None and form.errors else 200,
    )


def _accept(request, found):
    try:
        membership = services.accept(found, request.user)
    except services.InvitationRefused as refusal:
        return _refused(request, refusal)
    switch_team(request, membership.team)
    messages.success(request, f"Welcome to {membership.team}!")
    return _dashboard(membership.team)


@require_POST
def invitation_accept(request, token):
    if not request.user.is_authenticated:
        return redirect("quickscale_teams:invitation", token=token)
    return _accept(request, Invitation.from_token(token))


@require_POST
def invitation_decline(request, token):
    try:
        services.decline(services.check_usable(Invitation.from_token(token)), request.user)
    except services.InvitationRefused as refusal:
        return _refused(request, refusal)
    return _render(request, "invitation_declined.html", {})


def team_lookup(user, slug):
    """Helper for project code: the team with ``slug`` if ``user`` is a member, else 404."""
    return get_object_or_404(Team.objects.for_user(user), slug=slug)
