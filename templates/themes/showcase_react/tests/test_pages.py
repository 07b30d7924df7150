from django.conf import settings
from django.template.loader import render_to_string


def test_home_page(client):
    response = client.get("/")
    assert response.status_code == 200
    assert settings.PROJECT_NAME
    assert settings.PROJECT_NAME in response.content.decode()
    assert 'id="root"' in response.content.decode()


def test_unknown_paths_are_real_404s(client):
    # No soft 404: only the routes in urls.CLIENT_ROUTES serve the app.
    response = client.get("/some/unknown/page/")
    assert response.status_code == 404
    assert 'id="root"' not in response.content.decode()
    assert "Page not found" in response.content.decode()


def test_unknown_api_url_renders_404_page(client):
    response = client.get("/api/this-does-not-exist/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Page not found" in body
    assert settings.PROJECT_NAME in body


def test_paths_with_a_dot_are_not_client_routes(client):
    assert client.get("/robots.txt").status_code == 404


def test_500_page_renders_without_context():
    html = render_to_string("500.html")
    assert "Something went wrong" in html


def test_admin_login_page(client):
    assert client.get("/admin/login/").status_code == 200
