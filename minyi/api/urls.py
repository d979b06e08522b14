"""The API's URLs, each view wrapped to log the call and to skip the login redirect
(tokens, not sessions, authenticate here)."""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse

from minyi.api.api import api
from minyi.api.models import ApiCall


def _logged(view: Any) -> Any:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        ApiCall.objects.create(
            token=getattr(request, "api_token", None),
            method=request.method or "",
            path=request.path[:500],
            status=response.status_code,
        )
        return response

    return login_not_required(wrapper)


patterns, app_name, namespace = api.urls
for pattern in patterns:
    pattern.callback = _logged(pattern.callback)

urls = (patterns, app_name, namespace)
