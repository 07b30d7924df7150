# What Django runs in a project, as one JSON line: every uppercase setting,
# the URL patterns, and the status of anonymous and signed-in requests to
# every URL without parameters (GET; POST too where the path is an API).
# Run with `manage.py shell -c`; the requests only with QS_DUMP_REQUESTS=1,
# on a migrated database. The adopt tests (tests/integration/test_adopt.rs)
# compare it before and after adopt.
import json
import os
import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import get_resolver
from django.urls.resolvers import RoutePattern


def plain_text(pattern):
    """The literal path a pattern matches, or None when it has parameters
    or regex syntax beyond its anchors."""
    text = str(pattern)
    if isinstance(pattern, RoutePattern):
        return None if "<" in text else text
    bare = text.removeprefix("^").removesuffix("$")
    return None if re.search(r"[\\.*+?()\[\]{}|<]", bare) else bare


def walk(resolver, route="", path=""):
    out = []
    for p in resolver.url_patterns:
        text = plain_text(p.pattern)
        sub_route = route + str(p.pattern)
        sub_path = path + text if path is not None and text is not None else None
        if hasattr(p, "url_patterns"):
            out.extend(walk(p, sub_route, sub_path))
        else:
            out.append((sub_route, p.name or "", sub_path))
    return out


def canon(v):
    # Mapping order means nothing to Django; list and tuple order does.
    if isinstance(v, dict):
        return "{" + ", ".join(canon(k) + ": " + canon(x) for k, x in sorted(v.items(), key=lambda i: repr(i[0]))) + "}"
    if isinstance(v, (list, tuple)):
        return type(v).__name__ + "[" + ", ".join(canon(x) for x in v) + "]"
    if isinstance(v, (set, frozenset)):
        return "set{" + ", ".join(sorted(canon(x) for x in v)) + "}"
    return repr(v)


def signed_in_client():
    User = get_user_model()
    field = User.USERNAME_FIELD
    values = {field: "dump-user@example.com" if "email" in field else "dump-user"}
    if field != "email" and any(f.name == "email" for f in User._meta.fields):
        values["email"] = "dump-user@example.com"
    user = User.objects.filter(**{field: values[field]}).first()
    if user is None:
        user = User.objects.create_user(password="dump-password-1", **values)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


patterns = walk(get_resolver())
requests = {}
if os.environ.get("QS_DUMP_REQUESTS") == "1":
    paths = sorted({p for _, _, p in patterns if p is not None and not p.startswith(("admin/", "__debug__/", "static/", "media/"))})
    anonymous = Client(raise_request_exception=False)
    signed_in = signed_in_client()
    for path in paths:
        url = "/" + path
        for who, client in (("anonymous", anonymous), ("signed-in", signed_in)):
            requests[f"GET {url} {who}"] = client.get(url).status_code
            if {"api", "webhooks"} & set(path.split("/")):
                requests[f"POST {url} {who}"] = client.post(url, {}).status_code

names = sorted(k for k in dir(settings) if k.isupper())
print(json.dumps({
    "settings": {k: canon(getattr(settings, k)) for k in names},
    "urls": sorted([r, n] for r, n, _ in patterns),
    "requests": requests,
}, sort_keys=True))
