"""Generation numbers in the shared cache: a cached value is stored under (or with) the
generation it was read under, and a write bumps the number, so every worker reads
afresh afterwards without knowing which entries there are (minyi.online.public_cache,
minyi.cases.choice_cache)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from django.core.cache import cache
from django.db import transaction


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


def kept[T](key: str, generation_keys: Sequence[str], compute: Callable[[], T], seconds: int) -> T:
    """`compute()`, from the cache while none of the generations has moved since it was
    kept: one round trip when it is current, since the value is stored with the numbers
    it was read under and fetched together with the current ones. A None from
    `compute()` is returned, not kept."""
    found = cache.get_many([*generation_keys, key])
    numbers = tuple(
        found[name] if found.get(name) is not None else current(name) for name in generation_keys
    )
    entry = found.get(key)
    if entry is not None and entry[0] == numbers:
        return entry[1]
    # Read under `numbers`: a write that commits meanwhile bumps past them, and the next
    # reader computes afresh.
    value = compute()
    if value is not None:
        cache.set(key, (numbers, value), seconds)
    return value


def bump_now_and_after_commit(keys: Iterable[str]) -> None:
    """For a value kept per account and read by the writing request itself: bump now, so
    the transaction's own later reads see its change, and again after the commit, since a
    reader that computed before the commit may have kept the old value under the first
    bump."""
    keys = list(keys)

    def bump_all() -> None:
        for name in keys:
            bump(name)

    bump_all()
    transaction.on_commit(bump_all)
