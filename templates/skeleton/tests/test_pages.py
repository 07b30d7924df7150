from django.conf import settings
from django.template.loader import render_to_string


def test_home_page(client):
    response = client.get("/")
    assert response.status_code == 200
    assert settings.PROJECT_NAME
    assert settings.PROJECT_NAME in response.content.decode()


def test_unknown_url_renders_404_page(client):
    response = client.get("/this-page-does-not-exist/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Page not found" in body
    assert settings.PROJECT_NAME in body


def test_500_page_renders_without_context():
    html = render_to_string("500.html")
    assert "Something went wrong" in html


def test_admin_login_page(client):
    assert client.get("/admin/login/").status_code == 200
