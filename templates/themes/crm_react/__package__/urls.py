"""URL configuration.

Your own URLs go into ``urlpatterns`` below. Module URLs are managed by
git-quickscale (see urls_modules.py) and are appended after them. The React
app answers on ``/`` (the pipeline board), ``/contacts/…`` and ``/deals/…``;
its data comes from the crm module's API (``/crm/api/``).
"""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from . import views
from .urls_modules import MODULE_URLPATTERNS

# Client-side routes of the React app (frontend/src/router.ts): a list, a form
# for a new item and one item, e.g. /contacts/, /contacts/new/, /deals/12/.
app_routes = [
    re_path(r"^$", views.app),
    re_path(r"^new/$", views.app),
    re_path(r"^(?P<pk>[0-9]+)/$", views.app),
]

urlpatterns = [
    path("healthz/", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", views.app, name="home"),
    path("contacts/", include(app_routes)),
    path("deals/", include(app_routes)),
]

# Managed by git-quickscale, see urls_modules.py.
urlpatterns += MODULE_URLPATTERNS

# django-debug-toolbar in development (settings/local.py adds it while DEBUG is on).
if "debug_toolbar" in settings.INSTALLED_APPS:
    from debug_toolbar.toolbar import debug_toolbar_urls

    urlpatterns = [*debug_toolbar_urls(), *urlpatterns]
