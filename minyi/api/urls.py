"""The API's URLs, each view wrapped to apply the per-token rate limit, to log the call
and to skip the login redirect (tokens, not sessions, authenticate here)."""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django_ratelimit import ALL
from django_ratelimit.core import is_ratelimited

from minyi.api.api import api
from minyi.api.common import error
from minyi.api.models import ApiCall, hash_secret
from minyi.core.security import client_ip
from minyi.core.views import rate_limited


def _rate_key(group: str, request: HttpRequest) -> str:
    """Per token (by its digest, before authentication); calls without a bearer token
    are counted per client address, which also slows down guessing."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() == "bearer" and secret.strip():
        return "token:" + hash_secret(secret.strip())
    return f"ip:{client_ip(request)}"


def _logged(view: Any) -> Any:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        limited = is_ratelimited(
            request,
            group="minyi-api",
            key=_rate_key,
            rate=settings.MINYI_API_RATE,
            method=ALL,
            increment=True,
        )
        response = rate_limited(request) if limited else view(request, *args, **kwargs)
        if response.status_code == 405 and "Allow" in response:
            # django-ninja's is Django's bare English text; here errors are JSON.
            allowed = response["Allow"]
            response = error(
                405, "method_not_allowed", f"该接口不支持 {request.method} 请求，可用：{allowed}。"
            )
            response["Allow"] = allowed
        ApiCall.objects.create(
            token=getattr(request, "api_token", None),
            method=request.method or "",
            path=request.path[:500],
            status=response.status_code,
        )
        return response

    return login_not_required(wrapper)


@csrf_exempt
def _root(request: HttpRequest) -> HttpResponse:
    """The API's own address: the document for people."""
    return HttpResponseRedirect("/api/v1/docs")


@csrf_exempt
def _no_such_operation(request: HttpRequest, rest: str) -> HttpResponse:
    """A path the API does not have: a JSON error like every other, not the site's page."""
    return error(
        404,
        "not_found",
        "没有这个接口，请核对地址。接口文档：/api/v1/docs（OpenAPI：/api/v1/openapi.json）。",
    )


patterns, app_name, namespace = api.urls
# After the API's own: it matches only what none of those does.
patterns = [*patterns, path("<path:rest>", _no_such_operation)]
for pattern in patterns:
    # django-ninja's root, kept by name: the document's prefix is reversed from it.
    if getattr(pattern, "name", None) == "api-root":
        pattern.callback = _root
    pattern.callback = _logged(pattern.callback)

urls = (patterns, app_name, namespace)
