import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

# Key of the entry point in Vite's manifest (the build input, frontend/index.html).
VITE_ENTRY = "index.html"
VITE_DEV_ENTRY = "src/main.tsx"


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness probe for load balancers and container orchestrators."""
    return JsonResponse({"status": "ok"})


@lru_cache(maxsize=4)
def _read_manifest(path: Path, mtime_ns: int) -> dict:
    # mtime_ns is part of the cache key: a rebuild is picked up without a restart.
    return json.loads(path.read_text(encoding="utf-8"))


def vite_assets() -> dict:
    """What templates/index.html needs to load the frontend.

    - ``dev_server``: base URL of the Vite dev server (VITE_DEV_SERVER_URL), or
    - ``entry`` and ``css``: static paths of the built files, from the manifest.
    Empty when the frontend has not been built yet.
    """
    if settings.VITE_DEV_SERVER_URL:
        return {
            "dev_server": settings.VITE_DEV_SERVER_URL + settings.STATIC_URL,
            "dev_entry": VITE_DEV_ENTRY,
        }
    path = Path(settings.FRONTEND_MANIFEST_PATH)
    try:
        manifest = _read_manifest(path, path.stat().st_mtime_ns)
    except FileNotFoundError:
        return {}
    chunk = manifest[VITE_ENTRY]
    css = list(chunk.get("css", []))
    # CSS of statically imported chunks.
    for name in chunk.get("imports", []):
        css.extend(c for c in manifest.get(name, {}).get("css", []) if c not in css)
    return {"entry": chunk["file"], "css": css}


def _url(name: str) -> str | None:
    """The path of a named URL, or None when no installed module provides it."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def app_config(request: HttpRequest) -> dict:
    """What the React app needs to know, embedded in the page as JSON.

    ``api`` is where the crm module's REST API is mounted (None without the crm
    module); sign-in and sign-out are the auth module's pages. API requests use
    the session cookie and send ``csrfToken`` in the ``csrfHeader`` header.
    """
    user = request.user
    header = settings.CSRF_HEADER_NAME.removeprefix("HTTP_").replace("_", "-")
    return {
        "project": settings.PROJECT_NAME,
        "user": {
            "username": user.get_username(),
            "name": user.get_full_name() or user.get_username(),
        },
        "api": _url("quickscale_crm:api-root"),
        "crmDashboard": _url("quickscale_crm:dashboard"),
        "login": _url("account_login") or settings.LOGIN_URL,
        "logout": _url("account_logout") or _url("admin:logout"),
        "admin": _url("admin:index"),
        "csrfToken": get_token(request),
        "csrfHeader": header,
        "csrfCookie": None if settings.CSRF_USE_SESSIONS else settings.CSRF_COOKIE_NAME,
        # The crm module's `contacts_per_page` option.
        "contactsPerPage": int(getattr(settings, "CRM_CONTACTS_PER_PAGE", 25)),
    }


@require_safe
@login_required
@ensure_csrf_cookie
def app(request: HttpRequest, **route: object) -> HttpResponse:
    """The page hosting the React app, for each of its client-side routes.

    Signed-out visitors are sent to the sign-in page (the auth module's), which
    brings them back here afterwards.
    """
    return render(
        request,
        "index.html",
        {"vite": vite_assets(), "crm_config": app_config(request)},
    )
