"""URL configuration.

Your own URLs go into ``urlpatterns`` below. Module URLs are managed by
git-quickscale (see urls_modules.py) and are appended after them; the React
app's client-side routes (CLIENT_ROUTES) come last so that they never hide
another URL.
"""

from django.conf import settings
from django.contrib import admin
from django.urls import path

from . import views
from .urls_modules import MODULE_URLPATTERNS

urlpatterns = [
    path("healthz/", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/hello/", views.api_hello, name="api-hello"),
    path("", views.home, name="home"),
]

# Managed by git-quickscale, see urls_modules.py.
urlpatterns += MODULE_URLPATTERNS

# Client-side routes of the React app: list each route the app handles (a
# React Router path, served by views.home, e.g. a "settings/" route). Any other path is a
# real 404, so a mistyped link or a crawler never gets the home page with a 200.
CLIENT_ROUTES: list = []

urlpatterns += CLIENT_ROUTES

# django-debug-toolbar in development (settings/local.py adds it while DEBUG is on).
if "debug_toolbar" in settings.INSTALLED_APPS:
    from debug_toolbar.toolbar import debug_toolbar_urls

    urlpatterns = [*debug_toolbar_urls(), *urlpatterns]
