"""The extension point the cases app will use to refresh provisional deadlines."""

from __future__ import annotations

import pytest

from minyi.workdays.recompute import (
    calendar_year_completed,
    recompute_provisional_deadlines,
    register_deadline_recomputer,
    unregister_deadline_recomputer,
)


@pytest.fixture(autouse=True)
def _only_this_tests_recomputers(monkeypatch):
    # Apps register their own recomputers (minyi.cases does); these tests are about the
    # registry itself, so each starts from an empty one.
    from minyi.workdays import recompute

    monkeypatch.setattr(recompute, "_recomputers", [])


def test_every_registered_recomputer_runs_once_in_order() -> None:
    calls: list[tuple[str, int]] = []

    def first(year: int) -> None:
        calls.append(("first", year))

    def second(year: int) -> None:
        calls.append(("second", year))

    register_deadline_recomputer(first)
    register_deadline_recomputer(second)
    register_deadline_recomputer(first)  # a second registration is ignored
    try:
        calendar_year_completed(2027)
        recompute_provisional_deadlines(2028)
    finally:
        unregister_deadline_recomputer(first)
        unregister_deadline_recomputer(second)
    calendar_year_completed(2029)  # nobody listens any more
    assert calls == [("first", 2027), ("second", 2027), ("first", 2028), ("second", 2028)]


def test_register_works_as_a_decorator(recomputed_years):
    @register_deadline_recomputer
    def recompute(year: int) -> None:
        raise RuntimeError(year)

    try:
        with pytest.raises(RuntimeError):
            calendar_year_completed(2027)
    finally:
        unregister_deadline_recomputer(recompute)
    assert recomputed_years == [2027]
