from io import StringIO

from django.core.management import call_command


def test_the_migrations_match_the_models(db):
    out = StringIO()
    call_command("makemigrations", "quickscale_modules_teams", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
