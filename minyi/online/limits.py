"""Rate limits on the residents' pages (django-ratelimit on the shared cache).

Keys are the client address as minyi.core.security.client_ip sees it (the real one
behind trusted proxies) and, where a phone number is involved, its keyed hash
(codes.phone_key), never the plain number. A hit answers 429 with a residents' page in Chinese (the
staff 429 page, RATELIMIT_VIEW, links to the staff home).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_ratelimit.core import is_ratelimited

from minyi.core.security import client_ip
from minyi.duties.public_pages import TEXT_COOKIE

# (group, rate). Generous for a person, tight for a script.
LOOKUP_PER_CLIENT = "10/10m"  # progress lookups, right or wrong
SUBMIT_PER_CLIENT = "5/h"
SUBMIT_PER_PHONE = "3/d"
CODE_SEND_PER_CLIENT = "5/h"
CODE_SEND_PER_PHONE = "3/h"
CODE_CHECK_PER_CLIENT = "10/10m"
BOOK_PER_CLIENT = "10/h"
BOOK_PER_PHONE = "3/d"


def _client(group: str, request: HttpRequest) -> str:
    return client_ip(request) or "unknown"


def limited(
    request: HttpRequest, *, group: str, rate: str, key: str | None = None
) -> HttpResponse | None:
    """Count this request against `group`; the 429 response when over `rate`.
    `key` (a phone key) limits per phone; without it, per client address."""
    if key is not None and not key:
        return None
    keyfn = (lambda g, r: key) if key else _client
    if is_ratelimited(request, group=f"online:{group}", key=keyfn, rate=rate, increment=True):
        large = request.COOKIES.get(TEXT_COOKIE) == "large"
        context = {"path": request.path, "large_text": large}
        response = render(request, "online/429.html", context, status=429)
        response["Retry-After"] = "60"
        return response
    return None
