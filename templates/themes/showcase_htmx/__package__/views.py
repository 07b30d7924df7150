from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

TIPS = [
    "Views live in the project package's views.py, templates in templates/.",
    "This card was loaded with hx-get: htmx asked for a partial template only.",
    "Without JavaScript the same link loads the full page: progressive enhancement.",
    "request.htmx comes from django-htmx's middleware; check it to return partials.",
]


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness probe for load balancers and container orchestrators."""
    return JsonResponse({"status": "ok"})


def _is_partial_request(request: HttpRequest) -> bool:
    """An htmx request that targets part of the page (not a boosted navigation)."""
    htmx = getattr(request, "htmx", None)
    if not htmx:
        return False
    return not htmx.boosted and not htmx.history_restore_request


@require_safe
@vary_on_headers("HX-Request")
def home(request: HttpRequest) -> HttpResponse:
    """Home page; htmx requests get only the tip card (partials/tip.html)."""
    try:
        index = int(request.GET.get("tip", 0)) % len(TIPS)
    except ValueError:
        index = 0
    context = {
        "tip": TIPS[index],
        "tip_number": index + 1,
        "tip_count": len(TIPS),
        "next_tip": (index + 1) % len(TIPS),
    }
    template = "partials/tip.html" if _is_partial_request(request) else "index.html"
    return render(request, template, context)
