import pytest
from crm_helpers import app_config, user  # noqa: F401 (user is a fixture)
from django.apps import apps
from django.conf import settings
from django.shortcuts import resolve_url
from django.template.loader import render_to_string
from django.urls import reverse

APP_ROUTES = ["/", "/contacts/", "/contacts/new/", "/contacts/7/", "/deals/", "/deals/new/", "/deals/12/"]


@pytest.mark.parametrize("path", APP_ROUTES)
def test_signed_out_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"{resolve_url(settings.LOGIN_URL)}?next={path}"


@pytest.mark.parametrize("path", APP_ROUTES)
def test_app_routes_serve_the_app_with_a_csrf_cookie(client, user, path):
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="root"' in html
    assert settings.PROJECT_NAME in html
    assert response.cookies[settings.CSRF_COOKIE_NAME].value


def test_the_page_tells_the_app_who_is_signed_in_and_where_things_are(client, user):
    client.force_login(user)
    config = app_config(client.get("/"))
    assert config["project"] == settings.PROJECT_NAME
    assert config["user"] == {"username": "alice", "name": "Alice Lane"}
    assert config["csrfToken"]
    assert config["csrfHeader"].upper() == "X-CSRFTOKEN"
    assert config["csrfCookie"] == settings.CSRF_COOKIE_NAME
    assert config["admin"] == reverse("admin:index")
    assert config["logout"]
    if apps.is_installed("quickscale_modules_crm"):
        assert config["api"] == reverse("quickscale_crm:api-root")
        assert config["contactsPerPage"] == settings.CRM_CONTACTS_PER_PAGE
    else:
        # The app then says that the crm module is missing.
        assert config["api"] is None
    if apps.is_installed("allauth"):
        assert config["login"] == reverse("account_login")
        assert config["logout"] == reverse("account_logout")


@pytest.mark.parametrize("path", ["/deals/abc/", "/contacts/1/edit/", "/api/nothing/", "/robots.txt"])
def test_other_paths_are_not_app_routes(client, user, path):
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_the_app_page_is_read_only(client, user):
    client.force_login(user)
    assert client.post("/").status_code == 405


def test_500_page_renders_without_context():
    html = render_to_string("500.html")
    assert "Something went wrong" in html


def test_admin_login_page(client):
    assert client.get("/admin/login/").status_code == 200
