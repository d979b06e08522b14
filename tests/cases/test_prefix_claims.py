"""A studio's first number and a community created by hand at the same moment, with the
same prefix wanted: no constraint spans the two tables, so both claims take one lock
(`minyi.org.prefixes.lock_claims`) and the later one sees the earlier one's prefix."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import close_old_connections, connection, transaction

from minyi.cases.numbering import number_prefix
from minyi.org.models import Level, OrgUnit
from minyi.studios.models import Studio

STREET = "440308003"
HOLD_SECONDS = 1.0  # the first claim stays open this long after it read the tables


def _claim_studio(studio: Studio, hold: threading.Event | None) -> str:
    with transaction.atomic():  # as the registration's transaction
        prefix = number_prefix(studio)
        if hold is not None:
            hold.set()
            time.sleep(HOLD_SECONDS)
    return prefix


def _claim_community(street: OrgUnit, hold: threading.Event | None) -> str | None:
    with transaction.atomic():  # as the unit page's transaction
        unit = OrgUnit(name="新村社区", short_name="新村", level=Level.COMMUNITY)
        unit.set_ancestors_from(street)
        unit.save()
        if hold is not None:
            hold.set()
            time.sleep(HOLD_SECONDS)
    return unit.number_prefix


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", ["studio", "community"])
def test_a_studio_s_first_number_and_a_new_community_never_share_a_prefix(
    world: Any, first: str
) -> None:
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        "file:memorydb"
    ):
        pytest.skip("needs a file-based SQLite database")
    street = OrgUnit.objects.get(code=STREET)
    # The studio's own name is the community's first candidate (its street and name).
    studio = Studio.objects.create(
        name=f"{street.name}新村", kind="agency", unit=street, host_organisation="机关党委"
    )
    claimed = threading.Event()
    found: dict[str, str | None] = {}
    errors: list[BaseException] = []

    def worker(kind: str) -> None:
        try:
            hold = claimed if kind == first else None
            if hold is None:
                assert claimed.wait(10)  # the other claim has read the tables, not committed
            if kind == "studio":
                found[kind] = _claim_studio(studio, hold)
            else:
                found[kind] = _claim_community(street, hold)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            claimed.set()
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in ("studio", "community")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert found["studio"] and found["community"]
    assert found["studio"] != found["community"], found
    # The first claim got the short form, the later one the longer.
    assert found[first] == f"{street.name}新村"
    stored = Studio.objects.values_list("number_prefix", flat=True).get(pk=studio.pk)
    assert stored == found["studio"]
    assert OrgUnit.objects.get(short_name="新村").number_prefix == found["community"]
