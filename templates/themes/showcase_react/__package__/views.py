import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

# Key of the entry point in Vite's manifest (the build input, frontend/index.html).
VITE_ENTRY = "index.html"
VITE_DEV_ENTRY = "src/main.tsx"


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness probe for load balancers and container orchestrators."""
    return JsonResponse({"status": "ok"})


@require_safe
def api_hello(request: HttpRequest) -> JsonResponse:
    """Small JSON endpoint that the React app fetches and displays."""
    return JsonResponse({"message": "Hello from Django!", "project": settings.PROJECT_NAME})


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


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The page hosting the React app (also serves its client-side routes)."""
    return render(request, "index.html", {"vite": vite_assets()})
