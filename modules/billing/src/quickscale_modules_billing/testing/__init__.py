"""Test helpers: a fake Stripe API on the loopback address and pytest fixtures.

``pip install`` of the module registers the pytest plugin
(``quickscale_modules_billing.testing.pytest_plugin``), so a project's own
tests can use the ``fake_stripe`` and ``post_webhook`` fixtures.
"""

from .fake_stripe import (  # noqa: F401
    TEST_SECRET_KEY,
    TEST_WEBHOOK_SECRET,
    FakeStripe,
    decode_form,
    sign_payload,
)
