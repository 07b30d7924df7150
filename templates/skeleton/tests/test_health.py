def test_healthz_returns_ok(client):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_supports_head_but_not_post(client):
    assert client.head("/healthz/").status_code == 200
    assert client.post("/healthz/").status_code == 405
