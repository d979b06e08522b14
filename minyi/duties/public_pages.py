"""The residents' pages of duties (the public events and the booking page): rendered in
the residents' frame, in large text when asked for, never cached."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

TEXT_COOKIE = "minyi_text"


def _large_text(request: HttpRequest) -> tuple[bool, str | None]:
    """Large-text mode: `?text=large` / `?text=normal` switches it and a cookie keeps
    it, so the page is rendered large on the server (no script needed)."""
    wanted = request.GET.get("text")
    if wanted in {"large", "normal"}:
        return wanted == "large", wanted
    return request.COOKIES.get(TEXT_COOKIE) == "large", None


def render_public(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    large, switch = _large_text(request)
    response = render(
        request, template, {**context, "large_text": large, "path": request.path}, status=status
    )
    if switch:
        response.set_cookie(TEXT_COOKIE, switch, max_age=365 * 24 * 3600, samesite="Lax")
    response["Cache-Control"] = "no-store"
    return response
