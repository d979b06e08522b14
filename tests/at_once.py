"""Requests at the same moment: the tests of a form sent twice, racing (tests/cases and
tests/online `test_sent_twice`). Each request runs in a thread of its own, on its own
database connection, so the database, not the test client, decides between them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import close_old_connections, connection


def needs_a_shared_database() -> None:
    """Threads share no in-memory SQLite database: PostgreSQL, or SQLite in a file."""
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        "file:memorydb"
    ):
        pytest.skip("needs a file-based SQLite database or PostgreSQL")


def meeting_first(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, parties: int = 2) -> None:
    """`owner.name` waits until `parties` calls have reached it, so that every request is
    past its own checks before any of them writes."""
    barrier = threading.Barrier(parties, timeout=20)
    function = getattr(owner, name)

    def meet(*args: Any, **kwargs: Any) -> Any:
        barrier.wait()
        return function(*args, **kwargs)

    monkeypatch.setattr(owner, name, meet)


def at_once(call: Callable[[], Any], times: int = 2) -> list[Any]:
    """`call` in `times` threads at once; their answers, in the order they came. An
    exception in a thread fails the test."""
    answers: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            answers.append(call())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return answers
