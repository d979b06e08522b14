"""Generation numbers in the shared cache: a cached value is stored under (or with) the
generation it was read under, and a write bumps the number, so every worker reads
afresh afterwards without knowing which entries there are (minyi.online.public_cache,
minyi.cases.choice_cache)."""

from __future__ import annotations

from django.core.cache import cache


def current(key: str) -> int:
    value = cache.get(key)
    if value is None:
        cache.add(key, 1, timeout=None)
        value = cache.get(key) or 1
    return int(value)


def bump(key: str) -> None:
    try:
        cache.incr(key)
    except ValueError:  # not there yet (or evicted): any new value invalidates
        cache.add(key, 1, timeout=None)
        cache.incr(key)
