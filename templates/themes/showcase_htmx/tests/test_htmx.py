from django.contrib.staticfiles import finders


def test_htmx_request_returns_partial(client):
    response = client.get("/?tip=1", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert "Tip 2 of" in body
    assert [t.name for t in response.templates][0] == "partials/tip.html"


def test_plain_request_returns_full_page(client):
    response = client.get("/?tip=1")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" in body
    assert "Tip 2 of" in body
    assert 'hx-get="/?tip=2"' in body
    assert 'href="/?tip=2#tip"' in body  # works without JavaScript too


def test_responses_vary_on_hx_request(client):
    assert "HX-Request" in client.get("/")["Vary"]


def test_invalid_tip_falls_back_to_first(client):
    response = client.get("/?tip=nope")
    assert response.status_code == 200
    assert "Tip 1 of" in response.content.decode()


def test_htmx_and_alpine_are_vendored(client):
    body = client.get("/").content.decode()
    for path in ("vendor/htmx.min.js", "vendor/alpine.min.js"):
        assert finders.find(path), path
        assert f"/static/{path}" in body
