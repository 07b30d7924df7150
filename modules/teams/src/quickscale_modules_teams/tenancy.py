"""Team-scoped models: every query names its team, or says out loud that it does not.

Subclass :class:`TeamScopedModel` for data that belongs to one team. Its
default manager hands out :class:`TeamScopedQuerySet`, which refuses to run
(``UnscopedTeamQuery``) until the query is scoped:

* ``Project.objects.for_team(team)`` (or ``.filter(team=...)`` /
  ``.filter(team_id=...)``, and ``team.<related_name>.all()``), or
* ``Project.objects.across_teams()``: the explicit escape hatch for staff
  tools, admin and cross-team jobs. Grep for ``across_teams(`` to review
  every place that reads across tenants.

The guard is on with ``DEBUG = True`` and while tests run
(``QUICKSCALE_TEAMS_QUERY_GUARD = "debug"``, the default), always with
``"always"``, never with ``"off"``. In production (``"debug"``) a forgotten
scope is not an error, but the tests have already failed on it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from . import conf

SCOPING_LOOKUPS = ("team", "team_id", "team__pk", "team__id", "team__in", "team_id__in")


class UnscopedTeamQuery(RuntimeError):
    """A query on a team-scoped model named no team."""


def _testing() -> bool:
    # Django's test runner and pytest-django both call setup_test_environment().
    from django.test import utils

    return hasattr(utils._TestState, "saved_data")


def guard_active() -> bool:
    mode = conf.query_guard()
    if mode == "off":
        return False
    if mode == "always":
        return True
    return bool(settings.DEBUG) or _testing()


class TeamScopedQuerySet(models.QuerySet):
    """A queryset that must be scoped to a team before it runs (see the module docs)."""

    _team_scoped = False

    def for_team(self, team) -> TeamScopedQuerySet:
        """Only ``team``'s rows. ``team`` is a Team or its primary key."""
        if team is None:
            raise UnscopedTeamQuery(
                f"{self.model.__name__}.objects.for_team(None): there is no current team "
                "(is the user signed in and a member of a team?)"
            )
        qs = self.filter(**{self.model.team_field_name(): team})
        return qs

    def across_teams(self) -> TeamScopedQuerySet:
        """Escape hatch: every team's rows, on purpose (staff tools, admin, jobs)."""
        clone = self._chain()
        clone._team_scoped = True
        return clone

    def _filter_or_exclude(self, negate, args, kwargs):
        clone = super()._filter_or_exclude(negate, args, kwargs)
        if not negate:
            field = self.model.team_field_name()
            names = {field, f"{field}_id", *(f"{field}{suffix}" for suffix in ("__pk", "__id", "__in", "_id__in"))}
            if names.intersection(kwargs):
                clone._team_scoped = True
        return clone

    def _clone(self):
        clone = super()._clone()
        clone._team_scoped = self._team_scoped
        return clone

    def _check_scoped(self) -> None:
        if self._team_scoped or not guard_active():
            return
        name = self.model.__name__
        raise UnscopedTeamQuery(
            f"unscoped query on the team-scoped model {name}: use {name}.objects.for_team(team) "
            f"(e.g. request.team), or {name}.objects.across_teams() when reading every team's "
            "rows is intended (staff tools, admin)"
        )

    def _fetch_all(self):
        if self._result_cache is None:
            self._check_scoped()
        super()._fetch_all()

    def iterator(self, *args, **kwargs):
        self._check_scoped()
        return super().iterator(*args, **kwargs)

    def count(self):
        if self._result_cache is None:
            self._check_scoped()
        return super().count()

    def exists(self):
        if self._result_cache is None:
            self._check_scoped()
        return super().exists()

    def aggregate(self, *args, **kwargs):
        self._check_scoped()
        return super().aggregate(*args, **kwargs)

    def update(self, **kwargs):
        self._check_scoped()
        return super().update(**kwargs)

    def delete(self):
        self._check_scoped()
        return super().delete()


class TeamScopedManager(models.Manager.from_queryset(TeamScopedQuerySet)):
    """The default manager of team-scoped models (``objects``)."""


class TeamScopedModel(models.Model):
    """Abstract base for rows owned by one team (``team`` foreign key).

    Related lookups that Django makes itself (``obj.team``, cascades,
    ``_base_manager``) are not guarded; queries through ``objects`` are.
    """

    team = models.ForeignKey(
        "quickscale_modules_teams.Team",
        on_delete=models.CASCADE,
        related_name="%(app_label)s_%(class)s_set",
    )

    objects = TeamScopedManager()

    class Meta:
        abstract = True

    @classmethod
    def team_field_name(cls) -> str:
        return "team"
