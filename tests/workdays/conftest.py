"""Fixtures for the working-day calendar tests.

The calendar tables are filled by the data migration, so every test database already
holds the chinesecalendar years (2004–2026 with chinesecalendar 1.11.0).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from minyi.workdays.recompute import (
    register_deadline_recomputer,
    unregister_deadline_recomputer,
)
from minyi.workdays.seeding import package_years

# Well past the package's data, so it stays "unknown" across a few package upgrades.
UNKNOWN_YEAR = 2031


@pytest.fixture
def unknown_year() -> int:
    assert UNKNOWN_YEAR not in package_years(), "chinesecalendar now knows 2031: pick a later year"
    return UNKNOWN_YEAR


@pytest.fixture
def recomputed_years() -> Iterator[list[int]]:
    """Registers a dummy deadline recomputer and yields the years it was called with."""
    calls: list[int] = []

    def recompute(year: int) -> None:
        calls.append(year)

    register_deadline_recomputer(recompute)
    yield calls
    unregister_deadline_recomputer(recompute)


@pytest.fixture
def calendar_admin(client, django_user_model):
    """A logged-in superuser without hashing a password (Argon2 is slow on purpose)."""
    user = django_user_model.objects.create(
        username="calendar-admin", is_staff=True, is_superuser=True
    )
    client.force_login(user)
    return client
