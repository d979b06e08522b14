"""Addresses of pages named by a primary key, without a reverse() for each.

`reverse()` costs some 30–60 µs: the start page links its studios twice (a list and
the warnings), a list of representatives or events links every row, and each link was
a reverse. `pk_url` reverses each name once with a marker for the key and afterwards
only puts the key in place. The result is what `reverse(name, args=[pk])` gives
(tests/core/test_links.py): it is kept per script prefix (a deployment under a
sub-path) and forgotten when the URLconf setting changes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from django.core.signals import setting_changed
from django.urls import get_script_prefix, reverse

# A key no row will have, so it appears in the reversed address exactly where the key goes.
MARKER = 2_147_483_647


@cache
def _parts(prefix: str, name: str) -> tuple[str, str]:
    head, found, tail = reverse(name, args=[MARKER]).rpartition(str(MARKER))
    if not found:
        raise ValueError(f"{name} does not take the key as its one argument")
    return head, tail


def pk_url(name: str, pk: Any) -> str:
    """reverse(name, args=[pk]) for a URL pattern whose one argument is an int key."""
    head, tail = _parts(get_script_prefix(), name)
    return f"{head}{int(pk)}{tail}"


def pk_urls(name: str) -> Callable[[int], str]:
    """pk_url for one name, looked up once: for a page that links every row."""
    head, tail = _parts(get_script_prefix(), name)
    return lambda pk: f"{head}{int(pk)}{tail}"


def _forget(**kwargs: Any) -> None:
    if kwargs.get("setting") == "ROOT_URLCONF":
        _parts.cache_clear()


setting_changed.connect(_forget)
