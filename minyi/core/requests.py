"""The request a signed-in page receives, as the type checker should see it.

Django types `request.user` as an account or AnonymousUser. LoginRequiredMiddleware
(config.settings) turns every anonymous request away before a view runs unless the view is
marked `login_not_required`, so a view without that mark may take this type and read
`request.user` as an account. django-htmx's middleware adds `request.htmx` to every request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from minyi.people.models import User


class AuthenticatedHttpRequest(HttpRequest):
    user: User
    htmx: HtmxDetails
