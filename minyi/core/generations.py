"""Generation numbers in the shared cache: a cached value is stored under (or with) the
generation it was read under, and a write bumps the number, so every worker reads
afresh afterwards without knowing which entries there are (minyi.online.public_cache,
minyi.cases.choice_cache)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from asgiref.local import Local
from django.core.cache import cache
from django.db import transaction

# What this request has already fetched of the kept values and their numbers: None
# outside a request (management commands, tasks), a dict from request_started to
# request_finished. Each round trip to the cache cost about 0.2 M instructions and,
# under load, a switch to the cache's process (docs/performance.md, finding 43);
# `prefetch` lets the account's companions come in one MGET with the account.
_request = Local()


def current(key: str) -> int:
    value = cache.get(key)
    if value is None:
        cache.add(key, 1, timeout=None)
        value = cache.get(key) or 1
    return int(value)


def bump(key: str) -> None:
    _forget_fetched()
    try:
        cache.incr(key)
    except ValueError:  # not there yet (or evicted): any new value invalidates
        cache.add(key, 1, timeout=None)
        cache.incr(key)


def prefetch(keys: Iterable[str]) -> None:
    """Fetch `keys` in one round trip for the `kept` calls this request will make. Only
    inside a request; a key fetched already is not fetched again."""
    fetched = _fetched()
    if fetched is None:
        return
    missing = [name for name in dict.fromkeys(keys) if name not in fetched]
    if missing:
        found = cache.get_many(missing)
        for name in missing:
            fetched[name] = found.get(name)


def _fetched() -> dict[str, object] | None:
    return getattr(_request, "fetched", None)


def _forget_fetched() -> None:
    # A bump (ours, after our commit) makes what this request fetched stale.
    fetched = _fetched()
    if fetched:
        fetched.clear()


def _get_many(names: Sequence[str]) -> dict[str, Any]:
    fetched = _fetched()
    if fetched is None:
        return cache.get_many(names)
    prefetch(names)
    return {name: fetched[name] for name in names if fetched[name] is not None}


def _remember(name: str, value: object) -> None:
    fetched = _fetched()
    if fetched is not None:
        fetched[name] = value


def request_started(**kwargs: object) -> None:
    # A fresh dict per request: one left by a request that never finished (an
    # exception in a test client) is not carried over.
    _request.fetched = {}


def request_finished(**kwargs: object) -> None:
    _request.fetched = None


def connect() -> None:
    from django.core import signals

    signals.request_started.connect(request_started, dispatch_uid="generations-started")
    signals.request_finished.connect(request_finished, dispatch_uid="generations-finished")


def kept[T](key: str, generation_keys: Sequence[str], compute: Callable[[], T], seconds: int) -> T:
    """`compute()`, from the cache while none of the generations has moved since it was
    kept: one round trip when it is current, since the value is stored with the numbers
    it was read under and fetched together with the current ones. A None from
    `compute()` is returned, not kept.

    While this connection's transaction will bump one of the generations when it
    commits (`bump_after_commit`), `compute()` is neither taken from the cache nor kept:
    the transaction must see its own write, and what it read may be rolled back."""
    if _pending(generation_keys):
        return compute()
    found = _get_many([*generation_keys, key])
    numbers = tuple(_number(found, name) for name in generation_keys)
    entry = found.get(key)
    if entry is not None and entry[0] == numbers:
        return entry[1]
    # Read under `numbers`: a write that commits meanwhile bumps past them, and the next
    # reader computes afresh.
    value = compute()
    if value is not None:
        cache.set(key, (numbers, value), seconds)
        _remember(key, (numbers, value))
    return value


def _number(found: dict[str, object], name: str) -> object:
    number = found.get(name)
    if number is None:
        number = current(name)
        _remember(name, number)
    return number


class AfterCommitBump:
    """A commit hook that bumps `keys`: `kept` recognises it among the connection's
    pending hooks by its keys. Once it has run it no longer pends: a commit empties the
    list anyway, but a test's captureOnCommitCallbacks(execute=True) runs the hooks and
    leaves them there."""

    __slots__ = ("keys", "ran")

    def __init__(self, keys: frozenset[str]) -> None:
        self.keys = keys
        self.ran = False

    def __call__(self) -> None:
        self.ran = True
        for name in self.keys:
            bump(name)


def pending_bumps() -> list[AfterCommitBump]:
    """The bumps this connection's transaction will make when it commits."""
    # The connection's hooks are (savepoint ids, function, robust); the list is emptied
    # at every commit and rollback, and a rolled-back savepoint's hooks are dropped with
    # its writes. Outside a transaction on_commit runs the hook at once: none pend.
    return [
        hook[1]
        for hook in transaction.get_connection().run_on_commit
        if isinstance(hook[1], AfterCommitBump) and not hook[1].ran
    ]


def _pending(generation_keys: Iterable[str]) -> bool:
    hooks = pending_bumps()
    return bool(hooks) and any(name in hook.keys for hook in hooks for name in generation_keys)


def bump_after_commit(keys: Iterable[str]) -> None:
    """The values kept under `keys` are stale once the current transaction commits (at
    once outside one). Until then the transaction reads around the cache (`kept`), and
    readers elsewhere, who cannot see the write yet, keep using the old values. One hook
    per set of keys and transaction: a pending one already bumps them, and a savepoint
    that drops it rolls back this write too, since savepoints nest."""
    wanted = frozenset(keys)
    if not wanted:
        return
    if any(wanted <= hook.keys for hook in pending_bumps()):
        return
    transaction.on_commit(AfterCommitBump(wanted))
