from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness probe for load balancers and container orchestrators."""
    return JsonResponse({"status": "ok"})


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "index.html")
