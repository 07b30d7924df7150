"""Helpers of the CRM app's tests (pytest puts tests/ on sys.path)."""

import json

import pytest
from django.contrib.auth import get_user_model


@pytest.fixture
def user(db):
    """A signed-up user; the tests sign in with ``client.force_login(user)``."""
    return get_user_model().objects.create_user(
        username="alice",
        email="alice@example.com",
        password="a-long-test-password",
        first_name="Alice",
        last_name="Lane",
    )


def app_config(response) -> dict:
    """The JSON the app page embeds for the React app (templates/index.html)."""
    html = response.content.decode()
    opening = '<script id="crm-config" type="application/json">'
    start = html.index(opening) + len(opening)
    return json.loads(html[start : html.index("</script>", start)])
