"""URL configuration.

Your own URLs go into ``urlpatterns`` below. Module URLs are managed by
git-quickscale (see urls_modules.py) and are appended at the end.
"""

from django.conf import settings
from django.contrib import admin
from django.urls import path

from . import views
from .urls_modules import MODULE_URLPATTERNS

urlpatterns = [
    path("healthz/", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", views.home, name="home"),
]

# Managed by git-quickscale, see urls_modules.py.
urlpatterns += MODULE_URLPATTERNS

# django-debug-toolbar in development (settings/local.py adds it while DEBUG is on).
if "debug_toolbar" in settings.INSTALLED_APPS:
    from debug_toolbar.toolbar import debug_toolbar_urls

    urlpatterns = [*debug_toolbar_urls(), *urlpatterns]
