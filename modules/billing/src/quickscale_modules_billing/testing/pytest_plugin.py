"""pytest fixtures for tests of projects that use the billing module.

- ``fake_stripe``: a started ``FakeStripe``; the stripe library, dj-stripe and
  the module talk to it (its key and webhook secret are put in the
  environment variables the module's options name). Nothing reaches Stripe.
- ``post_webhook``: ``post_webhook(client, event)`` signs ``event`` like
  Stripe and POSTs it to the module's webhook endpoint; returns the response.

Loaded by pytest through the package's entry point; imports Django lazily.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def fake_stripe(monkeypatch):
    from quickscale_modules_billing import conf, stripe_setup

    from .fake_stripe import FakeStripe

    fake = FakeStripe()
    url = fake.start()
    monkeypatch.setenv(conf.secret_key_env_var(), fake.api_key)
    monkeypatch.setenv(conf.webhook_secret_env_var(), fake.webhook_secret)
    monkeypatch.setenv(conf.API_BASE_ENV_VAR, url)
    stripe_setup.configure()
    try:
        yield fake
    finally:
        fake.stop()
        monkeypatch.undo()
        stripe_setup.configure()


@pytest.fixture
def post_webhook():
    from django.urls import reverse

    def post(client, event, *, secret=None, timestamp=None, fake=None, body=None, headers=None):
        from .fake_stripe import TEST_WEBHOOK_SECRET, sign_payload
        import json

        payload = body if body is not None else json.dumps(event)
        signature = sign_payload(payload, secret or TEST_WEBHOOK_SECRET, timestamp)
        return client.post(
            reverse("quickscale_billing:webhook"),
            data=payload,
            content_type="application/json",
            headers=headers if headers is not None else {"Stripe-Signature": signature},
        )

    return post
