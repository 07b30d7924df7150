"""Invitations end to end: email in the outbox, accept (new and existing user),
decline, revoke, resend, and the links that must be refused."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone

from quickscale_modules_teams import roles
from quickscale_modules_teams.models import Invitation

from .conftest import client_for, make_user, token_from


def test_invite_sends_an_email_with_a_single_use_link(team_a, django_capture_on_commit_callbacks):
    admin = client_for(team_a.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post("/teams/team-a/invitations/new/", {"email": "zoe@example.com", "role": "member"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["zoe@example.com"] and message.from_email == "site@example.com"
    assert "Team A" in message.subject and "a_admin" in message.body
    token = token_from(message)
    assert "http://testserver/teams/invitations/" in message.body
    # An HTML part beside the text, with the same link, in an e-mail layout.
    (html, mimetype), = message.alternatives
    assert mimetype == "text/html"
    assert f"http://testserver/teams/invitations/{token}/" in html
    assert "<strong>Team A</strong>" in html and 'class="email-button"' in html
    invitation = Invitation.objects.get(email="zoe@example.com")
    # Only a hash is stored.
    assert token not in invitation.token_hash and Invitation.from_token(token) == invitation


def test_accept_as_a_new_user(team_a, invite):
    invitation, token = invite(team_a.admin_m, "zoe@example.com", roles.ADMIN)
    anonymous = Client()
    page = anonymous.get(f"/teams/invitations/{token}/")
    html = page.content.decode()
    assert page.status_code == 200 and "Join Team A" in html and "Create account and join" in html
    response = anonymous.post(
        f"/teams/invitations/{token}/", {"username": "zoe", "password1": "a-long-pass-123", "password2": "a-long-pass-123"}
    )
    assert response.status_code == 302 and response["Location"] == "/teams/team-a/"
    zoe = get_user_model().objects.get(username="zoe")
    assert zoe.email == "zoe@example.com" and zoe.check_password("a-long-pass-123")
    assert team_a.team.role_of(zoe) == roles.ADMIN
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.ACCEPTED and invitation.accepted_by == zoe
    # Signed in now, on the team's dashboard.
    assert "Team A" in anonymous.get("/teams/team-a/").content.decode()


def test_signup_form_errors_keep_the_invitation(team_a, invite, settings):
    invitation, token = invite(team_a.admin_m, "zoe@example.com")
    response = Client().post(f"/teams/invitations/{token}/", {"username": "zoe", "password1": "x-pass-12345", "password2": "other"})
    assert response.status_code == 400 and "differ" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING
    settings.QUICKSCALE_TEAMS_INVITATION_SIGNUP = False
    html = Client().get(f"/teams/invitations/{token}/").content.decode()
    assert "Create account and join" not in html and "Sign in" in html


def test_accept_as_an_existing_user(team_a, invite):
    zoe = make_user("zoe")
    invitation, token = invite(team_a.admin_m, "ZOE@example.com")
    # Anonymous with an account: told to sign in, then accept.
    html = Client().get(f"/teams/invitations/{token}/").content.decode()
    assert "already have an account" in html and f"/login/?next=/teams/invitations/{token}/" in html
    client = client_for(zoe)
    assert "Accept and join" in client.get(f"/teams/invitations/{token}/").content.decode()
    response = client.post(f"/teams/invitations/{token}/accept/")
    assert response.status_code == 302 and response["Location"] == "/teams/team-a/"
    assert team_a.team.role_of(zoe) == roles.MEMBER
    # The link is single-use.
    again = client.post(f"/teams/invitations/{token}/accept/")
    assert again.status_code == 410 and "already been used" in again.content.decode()
    assert client.get(f"/teams/invitations/{token}/").status_code == 410


def test_an_expired_link_is_refused(team_a, invite):
    zoe = make_user("zoe")
    invitation, token = invite(team_a.admin_m, "zoe@example.com")
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    client = client_for(zoe)
    for response in (client.get(f"/teams/invitations/{token}/"), client.post(f"/teams/invitations/{token}/accept/")):
        assert response.status_code == 410
        assert "This invitation has expired" in response.content.decode()
    assert team_a.team.role_of(zoe) is None


def test_a_revoked_link_is_refused(team_a, invite):
    zoe = make_user("zoe")
    invitation, token = invite(team_a.admin_m, "zoe@example.com")
    assert client_for(team_a.admin).post(f"/teams/team-a/invitations/{invitation.pk}/revoke/").status_code == 302
    response = client_for(zoe).post(f"/teams/invitations/{token}/accept/")
    assert response.status_code == 410 and "withdrawn" in response.content.decode()
    assert team_a.team.role_of(zoe) is None


def test_a_wrong_account_is_refused(team_a, invite):
    invitation, token = invite(team_a.admin_m, "zoe@example.com")
    mallory = make_user("mallory")
    client = client_for(mallory)
    for response in (client.get(f"/teams/invitations/{token}/"), client.post(f"/teams/invitations/{token}/accept/")):
        assert response.status_code == 403
        html = response.content.decode()
        assert "for another account" in html and "z***@example.com" in html
    assert team_a.team.role_of(mallory) is None
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING


def test_an_unknown_token_is_a_404_page(db):
    response = Client().get("/teams/invitations/not-a-token/")
    assert response.status_code == 404 and "Invitation not found" in response.content.decode()


def test_decline(team_a, invite):
    invitation, token = invite(team_a.admin_m, "zoe@example.com")
    response = Client().post(f"/teams/invitations/{token}/decline/")
    assert response.status_code == 200 and "declined" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.DECLINED
    zoe = make_user("zoe")
    response = client_for(zoe).post(f"/teams/invitations/{token}/accept/")
    assert response.status_code == 410 and "declined" in response.content.decode()


def test_resend_sends_a_new_link_and_kills_the_old_one(team_a, invite, django_capture_on_commit_callbacks):
    invitation, old = invite(team_a.admin_m, "zoe@example.com")
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() + timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(team_a.admin).post(f"/teams/team-a/invitations/{invitation.pk}/resend/")
    assert response.status_code == 302 and len(mail.outbox) == 2
    new = token_from(mail.outbox[-1])
    assert new != old
    invitation.refresh_from_db()
    assert invitation.expires_at > timezone.now() + timedelta(days=6)
    zoe = make_user("zoe")
    assert client_for(zoe).get(f"/teams/invitations/{old}/").status_code == 404
    assert client_for(zoe).post(f"/teams/invitations/{new}/accept/").status_code == 302
    assert team_a.team.role_of(zoe) == roles.MEMBER


def test_invite_rules(team_a, invite):
    with pytest.raises(Exception, match="already a member"):
        invite(team_a.owner_m, "a_member@example.com")
    invite(team_a.owner_m, "zoe@example.com")
    with pytest.raises(Exception, match="pending invitation"):
        invite(team_a.owner_m, "zoe@example.com")
    # Members cannot invite; admins cannot invite owners.
    assert client_for(team_a.member).post("/teams/team-a/invitations/new/", {"email": "x@example.com", "role": "member"}).status_code == 403
    client_for(team_a.admin).post("/teams/team-a/invitations/new/", {"email": "y@example.com", "role": "owner"})
    assert not Invitation.objects.filter(email="y@example.com").exists()


def test_invitation_flow_through_the_api(team_a, django_capture_on_commit_callbacks):
    admin = client_for(team_a.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post("/teams/api/teams/team-a/invitations/", {"email": "zoe@example.com", "role": "member"}, content_type="application/json")
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    token = token_from(mail.outbox[-1])
    assert [i["email"] for i in admin.get("/teams/api/teams/team-a/invitations/").json()["invitations"]] == ["zoe@example.com"]
    assert Client().get(f"/teams/api/invitations/{token}/").json()["team"] == "Team A"
    assert Client().post(f"/teams/api/invitations/{token}/accept/").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        assert admin.post(f"/teams/api/teams/team-a/invitations/{pk}/resend/").status_code == 200
    new = token_from(mail.outbox[-1])
    zoe = make_user("zoe")
    assert client_for(zoe).post(f"/teams/api/invitations/{token}/accept/").status_code == 404
    response = client_for(zoe).post(f"/teams/api/invitations/{new}/accept/")
    assert response.status_code == 200 and response.json()["role"] == "member"
    response = client_for(zoe).post(f"/teams/api/invitations/{new}/accept/")
    assert response.status_code == 410 and response.json()["reason"] == "used"
    # Revoke and decline.
    with django_capture_on_commit_callbacks(execute=True):
        pk = admin.post("/teams/api/teams/team-a/invitations/", {"email": "yan@example.com"}, content_type="application/json").json()["id"]
    token = token_from(mail.outbox[-1])
    assert admin.delete(f"/teams/api/teams/team-a/invitations/{pk}/").status_code == 204
    assert Client().post(f"/teams/api/invitations/{token}/decline/").json()["reason"] == "revoked"
