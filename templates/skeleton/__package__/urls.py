"""URL configuration.

Your own URLs go into ``urlpatterns`` below. Module URLs are managed by
git-quickscale (see urls_modules.py) and are appended at the end.
"""

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
