"""URL configuration.

Your own URLs go into ``urlpatterns`` below. Module URLs are managed by
git-quickscale (see urls_modules.py) and are appended after them; the React
app's catch-all comes last so that it never hides another URL.
"""

from django.contrib import admin
from django.urls import path, re_path

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

# Client-side routes of the React app: any other path ending in "/" without a dot,
# except the API, admin and static prefixes (those keep Django's 404 page).
# Keep this last.
urlpatterns += [
    re_path(
        r"^(?!(?:api|admin|static|media|healthz)(?:/|$))[^.]*/$",
        views.home,
        name="spa",
    ),
]
