from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse


def project(request: HttpRequest) -> dict[str, object]:
    """Make the project name and the modules' navigation links available to
    every template as ``project_name`` and ``module_nav``."""
    return {"project_name": settings.PROJECT_NAME, "module_nav": module_nav(request)}


def module_nav(request: HttpRequest) -> list[dict[str, object]]:
    """The links the embedded modules declare (settings.QUICKSCALE_NAV, managed
    by git-quickscale from their manifests), for this visitor: ``show`` is
    always, signed_in, signed_out or staff. A link whose URL name does not
    resolve (its module is not mounted) is left out."""
    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    visible = {
        "always": True,
        "signed_in": signed_in,
        "signed_out": not signed_in,
        "staff": signed_in and bool(getattr(user, "is_staff", False)),
    }
    links = []
    for entry in getattr(settings, "QUICKSCALE_NAV", []):
        if not visible.get(entry.get("show", "always"), False):
            continue
        try:
            url = reverse(entry["url"])
        except NoReverseMatch:
            continue
        current = url != "/" and request.path.startswith(url)
        links.append({"label": entry["label"], "url": url, "current": current})
    return links
