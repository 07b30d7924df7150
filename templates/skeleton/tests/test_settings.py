from django.conf import settings
from django.core import mail


def test_test_settings_are_active():
    """pytest runs settings/test.py: the development settings, without the debug toolbar."""
    assert settings.SETTINGS_MODULE.endswith(".settings.test")
    assert settings.SECRET_KEY
    assert "debug_toolbar" not in settings.INSTALLED_APPS
    assert not any(m.startswith("debug_toolbar.") for m in settings.MIDDLEWARE)


def test_email_can_be_sent(mailoutbox):
    """The email settings work with this Django version (tests capture the mail)."""
    mail.send_mail("Hello", "It works.", None, ["someone@example.com"])
    assert len(mailoutbox) == 1
    assert mailoutbox[0].from_email == settings.DEFAULT_FROM_EMAIL


def test_module_hooks_are_applied():
    """The managed settings/modules.py is wired into the settings."""
    from importlib import import_module

    package = settings.SETTINGS_MODULE.split(".settings.")[0]
    modules = import_module(f"{package}.settings.modules")
    for app in modules.MODULE_INSTALLED_APPS:
        assert app in settings.INSTALLED_APPS
    for middleware in modules.MODULE_MIDDLEWARE:
        assert middleware in settings.MIDDLEWARE


def test_production_settings_pass_deploy_check(manage, production_env):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_hsts_starts_small_without_preload(manage, production_env):
    code = "from django.conf import settings as s; print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_PRELOAD)"
    result = manage("shell", "-c", code, env=production_env)
    assert result.returncode == 0, result.stdout + result.stderr
    # The last line: Django 5.2's shell may first say what it imported.
    assert result.stdout.strip().splitlines()[-1].split() == ["3600", "False"]


def test_production_sender_is_the_project_not_webmaster_localhost(manage, production_env):
    code = "from django.conf import settings as s; print(s.DEFAULT_FROM_EMAIL)"
    result = manage("shell", "-c", code, env=production_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == f"{settings.PROJECT_NAME} <noreply@example.com>"


def test_production_settings_require_secret_key(manage, production_env):
    del production_env["SECRET_KEY"]
    result = manage("check", env=production_env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
