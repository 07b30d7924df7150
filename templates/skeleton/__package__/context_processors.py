from django.conf import settings
from django.http import HttpRequest


def project(request: HttpRequest) -> dict[str, str]:
    """Make the project name available to every template as ``project_name``."""
    return {"project_name": settings.PROJECT_NAME}
