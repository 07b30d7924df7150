import json
import os

import pytest
from crm_helpers import user  # noqa: F401 (a fixture)
from django.conf import settings
from django.contrib.staticfiles import finders

NOT_BUILT = "frontend/dist is not built: run `npm ci && npm run build` in frontend/"


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def test_app_references_built_bundle(signed_in):
    """Run `npm run build` in frontend/ first; REQUIRE_FRONTEND_BUILD=1 turns the skip into a failure."""
    manifest_path = settings.FRONTEND_MANIFEST_PATH
    if not manifest_path.is_file():
        if os.environ.get("REQUIRE_FRONTEND_BUILD") == "1":
            pytest.fail(f"{NOT_BUILT} (REQUIRE_FRONTEND_BUILD=1)")
        pytest.skip(f"{NOT_BUILT}; set REQUIRE_FRONTEND_BUILD=1 to fail instead")

    entry = json.loads(manifest_path.read_text(encoding="utf-8"))["index.html"]
    body = signed_in.get("/").content.decode()
    assert f'src="{settings.STATIC_URL}{entry["file"]}"' in body
    assert finders.find(entry["file"]), "frontend/dist is not in STATICFILES_DIRS"
    for css in entry.get("css", []):
        assert f'href="{settings.STATIC_URL}{css}"' in body


def test_app_without_build_explains_what_to_do(signed_in, settings, tmp_path):
    settings.FRONTEND_MANIFEST_PATH = tmp_path / "missing" / "manifest.json"
    body = signed_in.get("/").content.decode()
    assert "The frontend has not been built yet" in body
    assert '<script type="module"' not in body


def test_app_uses_vite_dev_server_when_configured(signed_in, settings):
    settings.VITE_DEV_SERVER_URL = "http://localhost:5173"
    body = signed_in.get("/").content.decode()
    assert 'src="http://localhost:5173/static/@vite/client"' in body
    assert 'src="http://localhost:5173/static/src/main.tsx"' in body
