"""Concurrent retries with one Idempotency-Key register the opinion once (PostgreSQL:
SQLite serialises writers, so the race cannot happen there). The losers of the race hit
the unique (token, key) row, roll back their case and answer with the winner's response."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from minyi.cases.models import Case
from tests.api.test_api import _body

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs concurrent writers (PostgreSQL)"
    ),
]


def test_concurrent_retries_register_once(api: Any) -> None:
    client = api("liaison")
    body = _body()
    barrier = threading.Barrier(4)
    results: list[Any] = []
    lock = threading.Lock()

    def post() -> None:
        from django.db import connections

        try:
            barrier.wait()
            response = client.post("/cases", body, **{"Idempotency-Key": "race"})
            with lock:
                results.append((response.status_code, response.json()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in results] == [201] * 4, results
    assert len({data["number"] for _, data in results}) == 1
    assert Case.objects.count() == 1
