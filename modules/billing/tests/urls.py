"""URLs for the billing module's tests: the admin, a few limited views, the module at the root."""

from django.contrib import admin
from django.http import HttpResponse, JsonResponse
from django.urls import include, path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from quickscale_modules_billing import limit_usage, record_usage
from quickscale_modules_billing.customers import customer_from_request
from quickscale_modules_billing.permissions import WithinPlanLimit


@limit_usage("projects", methods=["POST"])
def create_project(request):
    if request.method == "POST":
        return JsonResponse({"created": True}, status=201)
    return HttpResponse("the form")


@limit_usage("exports", record=False)
def export(request):
    return HttpResponse("exported")


@api_view(["POST"])
@permission_classes([IsAuthenticated, WithinPlanLimit.of("api_calls")])
def api_call(request):
    record_usage(customer_from_request(request), "api_calls")
    return Response({"ok": True})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("projects/new/", create_project, name="create-project"),
    path("export/", export, name="export"),
    path("api/call/", api_call, name="api-call"),
    path("", include("quickscale_modules_billing.urls")),
]
