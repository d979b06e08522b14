"""A page asked for with the wrong method: a page that says so, not a blank one.

Every step that changes something is a POST (`require_POST`), and Django answers a GET
to one with an empty 405. A person meets that in an ordinary way: the session ends while
a form is open, the form's POST goes to the login page with `?next=` the step's address,
and after logging in again the browser GETs it. They saw a white page and nothing to
click. Now they see what happened and a way back: the page the step belongs to (the
address one level up, /cases/5/send/ → /cases/5/, when there is such a page), else the
home page. The API answers its own errors in JSON and is left alone.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse

ONLINE = "/online/"


def _way_back(path: str) -> str:
    parent = path.rstrip("/").rsplit("/", 1)[0] + "/"
    try:
        resolve(parent)
    except Resolver404:
        return reverse("online:find") if path.startswith(ONLINE) else reverse("home")
    return parent


class MethodNotAllowedPageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code != 405
            or response.content
            or request.method not in ("GET", "HEAD")
            or request.path.startswith("/api/")
        ):
            return response
        page = render(
            request,
            "405.html",
            {"back": _way_back(request.path), "online": request.path.startswith(ONLINE)},
            status=405,
        )
        if "Allow" in response:
            page["Allow"] = response["Allow"]
        return page
