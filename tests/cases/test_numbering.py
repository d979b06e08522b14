"""Annex note 1: street + community studio + year + serial; gap-free, never reused."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import pytest
from django.db import close_old_connections, connection

from minyi.cases.models import Case
from minyi.cases.numbering import format_number
from tests.cases.helpers import register


def test_it_formats_three_digits_growing_to_four():
    assert format_number("沙头角街道沙头角社区", 2026, 1) == "沙头角街道沙头角社区2026001"
    assert format_number("沙头角街道沙头角社区", 2026, 999) == "沙头角街道沙头角社区2026999"
    assert format_number("沙头角街道沙头角社区", 2026, 1000) == "沙头角街道沙头角社区20261000"


@pytest.mark.django_db
def test_it_numbers_cases_by_street_community_and_year(world):
    first = register()
    second = register()
    assert first.number == "沙头角街道沙头角社区2026001"
    assert second.number == "沙头角街道沙头角社区2026002"


@pytest.mark.django_db
def test_a_new_year_starts_again_at_one(world):
    register()
    case = register(received_on=date(2027, 1, 5))
    assert case.number == "沙头角街道沙头角社区2027001"


@pytest.mark.django_db
def test_a_failed_registration_leaves_no_gap(world):
    register()
    with pytest.raises(Exception):  # noqa: B017 - any validation failure rolls back
        register(summary="")
    assert register().serial == 2


@pytest.mark.django_db(transaction=True)
def test_thirty_concurrent_registrations_get_serials_one_to_thirty(world: Any) -> None:
    """Against a real file database (SQLite file or PostgreSQL), from 30 threads."""
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        "file:memorydb"
    ):
        pytest.skip("needs a file-based SQLite database")
    errors: list[BaseException] = []
    barrier = threading.Barrier(30)

    def worker() -> None:
        try:
            barrier.wait()
            register()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    serials = sorted(Case.objects.values_list("serial", flat=True))
    assert serials == list(range(1, 31))
    assert Case.objects.values("number").distinct().count() == 30
