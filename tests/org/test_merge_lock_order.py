"""A street merge locks its units' rows and the prefix claims before its first audit lane
(`minyi.org.services._lock_tree`), the order a registration takes them in. A
community's first registration of a year holds the community's row FOR SHARE and then
takes a lane; a merge that wrote audit rows for one moved community before updating
the next one's row waited for the registration while the registration waited for the
lane: PostgreSQL ended it as a deadlock (a 503, nothing saved)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import close_old_connections, connection

from minyi.audit import db as audit_db
from minyi.cases.models import Case
from minyi.org.models import OrgUnit
from minyi.org.prefixes import PG_CLAIM_KEY
from minyi.org.services import unit_merge
from minyi.studios.models import Studio
from tests.cases.helpers import STUDIO
from tests.cases.test_prefix_claims import _register

# Transactional: inside a test's transaction the fixtures' audit rows would already hold
# a lane, and nothing would be committed for the other thread to meet.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row and advisory locks: PostgreSQL only"
    ),
]

SOURCE, TARGET = "440308003", "440308001"  # 沙头角街道 into 梅沙街道


def test_a_street_merge_locks_rows_and_claims_before_its_first_audit_lane(world: Any) -> None:
    source, target = world[SOURCE], world[TARGET]
    # The moved communities are not numbered yet: each save claims a prefix under the
    # target street, the second after the first one's audit rows took a lane.
    assert OrgUnit.objects.filter(parent=source).count() == 3
    locks: list[str] = []

    def spy(execute, sql, params, many, context):
        if sql == audit_db.PG_LANE_LOCK_SQL:
            locks.append("lane")
        elif "pg_advisory_xact_lock(" in sql and list(params or ()) == [PG_CLAIM_KEY]:
            locks.append("claims")
        elif "FOR NO KEY UPDATE" in sql:
            locks.append("rows")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        unit_merge(source=source, target=target)
    assert locks[:2] == ["rows", "claims"], locks
    assert "lane" in locks
    moved = OrgUnit.objects.filter(parent=target, code__startswith=SOURCE)
    assert {unit.number_prefix for unit in moved} == {
        "梅沙街道沙头角社区",
        "梅沙街道田心社区",
        "梅沙街道桥东社区",
    }


def _waiting_for_a_lock(seconds: float = 10) -> bool:
    """Whether another connection of this database is waiting for a lock."""
    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.05)
    return False


def test_a_street_merge_and_a_first_registration_of_one_of_its_communities_both_commit(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target = world[SOURCE], world[TARGET]
    studio = Studio.objects.select_related("unit").get(name=STUDIO)
    children = list(source.children.all())
    # The studio's community is not the first child moved: the merge has written audit
    # rows for the first before it comes to the studio's.
    assert studio.unit in children[1:]
    # Every transaction on one audit lane (it is txid % 8 otherwise: one time in eight).
    monkeypatch.setattr(
        audit_db,
        "PG_LANE_LOCK_SQL",
        f"SELECT l.lane FROM (SELECT 0 AS lane) l, "
        f"LATERAL pg_advisory_xact_lock({audit_db.PG_LOCK_KEY}, l.lane)",
    )
    at_lane, go_on = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold_before_the_lane(execute, sql, params, many, context):
        if sql == audit_db.PG_LANE_LOCK_SQL:
            at_lane.set()  # the community's row is held FOR SHARE by now
            assert go_on.wait(20)
        return execute(sql, params, many, context)

    def registration() -> None:
        try:
            with connection.execute_wrapper(hold_before_the_lane):
                _register(studio, None)
        except BaseException as exc:  # reported below
            errors.append(exc)
            go_on.set()
        finally:
            close_old_connections()
            connection.close()

    def merge() -> None:
        try:
            unit_merge(source=source, target=target)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=registration), threading.Thread(target=merge)]
    threads[0].start()
    assert at_lane.wait(20)
    threads[1].start()
    assert _waiting_for_a_lock()  # the merge waits for the community's row
    go_on.set()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    case = Case.objects.get()
    assert case.number == "沙头角街道沙头角社区2026001"
    assert OrgUnit.objects.get(pk=source.pk).merged_into_id == target.pk
    # Numbered before the move, the community keeps its prefix for ever.
    assert OrgUnit.objects.get(pk=studio.unit.pk).number_prefix == "沙头角街道沙头角社区"
