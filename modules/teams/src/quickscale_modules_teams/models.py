"""Teams, memberships with roles, and invitations."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from . import conf, roles
from .tenancy import TeamScopedManager, TeamScopedModel, TeamScopedQuerySet, UnscopedTeamQuery

__all__ = [
    "Invitation",
    "Membership",
    "Team",
    "TeamScopedManager",
    "TeamScopedModel",
    "TeamScopedQuerySet",
    "UnscopedTeamQuery",
]


def validate_role(value: str) -> None:
    if roles.get(value) is None:
        raise ValidationError(_("%(value)s is not a role"), params={"value": value})


class TeamQuerySet(models.QuerySet):
    def for_user(self, user):
        """The teams ``user`` is a member of."""
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user)


class Team(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)
    description = models.TextField(blank=True)
    # Free-form team settings for the project's features (JSON object).
    settings = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(self.name)
        super().save(*args, **kwargs)

    def membership_of(self, user) -> Membership | None:
        if user is None or not user.is_authenticated:
            return None
        return self.memberships.filter(user=user).first()

    def role_of(self, user) -> str | None:
        membership = self.membership_of(user)
        return membership.role if membership else None

    @property
    def owners(self):
        return self.memberships.filter(role=roles.OWNER)

    @property
    def email(self) -> str:
        """The first owner's address (billing uses it when a team pays)."""
        owner = self.owners.select_related("user").order_by("created_at", "pk").first()
        return getattr(owner.user, "email", "") if owner else ""

    def pending_invitations(self):
        return self.invitations.filter(status=Invitation.Status.PENDING, expires_at__gt=timezone.now())


# Path segments of the module's own routes, never a team's slug.
RESERVED_SLUGS = {"api", "new", "invitations"}


def unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "team"
    slug, n = base, 1
    while slug in RESERVED_SLUGS or Team.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(django_settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships")
    role = models.CharField(max_length=32, validators=[validate_role], default=roles.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="quickscale_teams_one_membership")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"

    @property
    def role_label(self) -> str:
        return roles.label(self.role)

    def has_role(self, minimum: str) -> bool:
        return roles.at_least(self.role, minimum)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Invitation(models.Model):
    """An invitation by email. Only the token's hash is stored; the link holds the token."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        REVOKED = "revoked", _("Revoked")

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=32, validators=[validate_role], default=roles.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    invited_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    accepted_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.email} to {self.team} ({self.status})"

    def new_token(self) -> str:
        """A fresh single-use token (the previous link stops working) and expiry."""
        token = secrets.token_urlsafe(32)
        self.token_hash = hash_token(token)
        self.expires_at = timezone.now() + timedelta(days=conf.invitation_expiry_days())
        return token

    @property
    def is_expired(self) -> bool:
        return self.status == self.Status.PENDING and self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return self.status == self.Status.PENDING and not self.is_expired

    @property
    def role_label(self) -> str:
        return roles.label(self.role)

    @classmethod
    def from_token(cls, token: str) -> Invitation | None:
        return cls.objects.select_related("team").filter(token_hash=hash_token(token)).first()
