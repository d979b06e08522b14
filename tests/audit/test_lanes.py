"""The trail as several independent hash chains ("lanes", issue 8): each lane verifies on its
own, a break is reported with its lane, the purge leaves every lane verifiable, rows written
before there were lanes are lane 0 and still verify, and on PostgreSQL only transactions in
the same lane wait for each other."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from minyi import audit
from minyi.audit import chain
from minyi.audit import db as audit_db
from minyi.audit.models import Action, AuditEvent

pytestmark = pytest.mark.django_db


def _append(lane: int, object_id: int, at: datetime | None = None) -> AuditEvent:
    """A row chained onto `lane` exactly as record() chains it, in any lane on any vendor
    (record() picks the lane from the transaction, and SQLite has only lane 0)."""
    head = (
        AuditEvent.objects.filter(lane=lane).order_by("-id").values_list("hash", flat=True).first()
    )
    row: dict[str, Any] = {
        "at": at or timezone.now(),
        "actor_id": None,
        "actor_name": "测试",
        "actor_role": "",
        "actor_unit_id": None,
        "ip": None,
        "action": Action.EXPORT,
        "object_type": "cases.case",
        "object_id": str(object_id),
        "result": "success",
        "fields": [],
        "detail": "",
        "request_id": "",
        "lane": lane,
        "prev_hash": head or chain.GENESIS,
    }
    row["hash"] = chain.digest(row)
    return AuditEvent.objects.create(**row)


def _interleaved() -> dict[int, list[AuditEvent]]:
    lanes = [0, 3, 3, 0, 3, 0, 3]
    rows: dict[int, list[AuditEvent]] = {0: [], 3: []}
    for n, lane in enumerate(lanes):
        rows[lane].append(_append(lane, n))
    return rows


def _tamper(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        for drop in audit_db.drop_sql(connection.vendor):
            cursor.execute(drop)
        cursor.execute(sql, params)


def test_lanes_interleaved_by_id_verify(capsys):
    rows = _interleaved()
    assert rows[3][1].prev_hash == rows[3][0].hash  # linked within the lane, across lane 0's row
    assert rows[3][1].pk - rows[3][0].pk == 1 and rows[0][1].pk - rows[0][0].pk == 3
    call_command("verify_audit")
    assert "共 7 条，每条哈希链连续" in capsys.readouterr().out


def test_a_row_changed_in_lane_3_is_reported_in_lane_3_only():
    rows = _interleaved()
    _tamper(f"UPDATE {audit_db.TABLE} SET detail = 'x' WHERE id = %s", [rows[3][1].pk])
    with pytest.raises(CommandError) as error:
        call_command("verify_audit")
    message = str(error.value)
    assert f"分链 3 第 2 条（编号 {rows[3][1].pk}" in message and "内容" in message
    assert "分链 0" not in message


def test_a_row_removed_from_lane_3_breaks_the_link_of_the_next_one():
    rows = _interleaved()
    _tamper(f"DELETE FROM {audit_db.TABLE} WHERE id = %s", [rows[3][1].pk])
    with pytest.raises(CommandError, match="上一条") as error:
        call_command("verify_audit")
    assert f"分链 3 第 2 条（编号 {rows[3][2].pk}" in str(error.value)
    assert "分链 0" not in str(error.value)


def test_a_row_moved_to_another_lane_breaks_both_lanes():
    rows = _interleaved()
    _tamper(f"UPDATE {audit_db.TABLE} SET lane = 0 WHERE id = %s", [rows[3][1].pk])
    with pytest.raises(CommandError) as error:
        call_command("verify_audit")
    message = str(error.value)
    assert f"（编号 {rows[3][1].pk}" in message  # lane 0: linked to lane 3's row, not lane 0's
    assert f"分链 3 第 2 条（编号 {rows[3][2].pk}" in message  # lane 3: its link is gone


def test_verify_reports_the_first_break_of_each_lane_with_the_count():
    rows = _interleaved()
    for row in (rows[0][1], rows[3][0], rows[3][2]):
        _tamper(f"UPDATE {audit_db.TABLE} SET detail = 'x' WHERE id = %s", [row.pk])
    count, breaks = chain.verify(
        AuditEvent.objects.order_by("id").values("id", "lane", *chain.HASHED, "hash").iterator()
    )
    assert count == 7
    assert [(b.lane, b.position, b.pk) for b in breaks] == [
        (0, 2, rows[0][1].pk),
        (3, 1, rows[3][0].pk),
    ]


def test_the_purge_removes_only_a_prefix_of_each_lane(settings, capsys):
    """A row's time is taken before its transaction waits for the lane's lock, so an old row
    can follow a younger one in its lane; the purge keeps it, or the lane would break."""
    settings.MINYI_AUDIT_RETENTION_DAYS = 200
    old = timezone.now() - timedelta(days=300)
    first = _append(0, 1, at=old)
    young = _append(0, 2)
    late_old = _append(0, 3, at=old)  # older time, later in the lane
    _append(0, 4)
    gone_in_3 = [_append(3, n, at=old) for n in range(2)]
    _append(3, 9)
    call_command("purge_audit")
    assert "已删除 3 条" in capsys.readouterr().out
    left = set(AuditEvent.objects.values_list("pk", flat=True))
    assert first.pk not in left and not left & {r.pk for r in gone_in_3}
    assert {young.pk, late_old.pk} <= left
    purge = AuditEvent.objects.get(action=Action.PURGE)
    assert f"0:{first.hash[:12]}，3:{gone_in_3[1].hash[:12]}" in purge.detail
    call_command("verify_audit")


def test_record_appends_to_the_transactions_lane(world):
    with transaction.atomic():
        a = audit.record(Action.EXPORT, object_type="cases.case", object_id=1)
        b = audit.record(Action.EXPORT, object_type="cases.case", object_id=2)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT txid_current()")
                assert a.lane == cursor.fetchone()[0] % audit_db.LANES
        else:
            assert a.lane == 0  # SQLite: one lane
    assert b.lane == a.lane and b.prev_hash == a.hash


# --- rows from before the lanes ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_the_lanes_become_lane_0_and_still_verify(capsys):
    from django.db.migrations.executor import MigrationExecutor

    before, after = ("audit", "0002_append_only_triggers"), ("audit", "0003_lanes")
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    try:
        old_model = executor.loader.project_state([before]).apps.get_model("audit", "AuditEvent")
        previous = chain.GENESIS
        for n in range(3):
            row = {
                "at": timezone.now(),
                "actor_id": None,
                "actor_name": "旧",
                "actor_role": "",
                "actor_unit_id": None,
                "ip": "10.0.0.1",
                "action": "export",
                "object_type": "cases.case",
                "object_id": str(n),
                "result": "success",
                "fields": ["summary"],
                "detail": "",
                "request_id": "",
                "prev_hash": previous,
            }
            row["hash"] = previous = chain.digest(row)
            old_model.objects.create(**row)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate([after])
    assert list(AuditEvent.objects.values_list("lane", flat=True)) == [0, 0, 0]
    call_command("verify_audit")
    assert "共 3 条" in capsys.readouterr().out
    # The append-only triggers survived the migration (SQLite copies the table to add a column).
    with pytest.raises(DatabaseError, match="append-only"), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {audit_db.TABLE} SET detail = 'x'")


# --- PostgreSQL: lanes do not wait for each other ----------------------------------------

# The lane from a per-transaction setting instead of txid_current() % LANES, so that a test
# chooses each transaction's lane; the lock is taken exactly as in production.
TEST_LANE_SQL = (
    "SELECT l.lane FROM (SELECT current_setting('minyi.test_lane')::int AS lane) l, "
    f"LATERAL pg_advisory_xact_lock({audit_db.PG_LOCK_KEY}, l.lane)"
)

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="advisory locks are PostgreSQL's"
)


class Writer(threading.Thread):
    """Appends one row in `lane` on its own connection, then keeps its transaction open until
    `release` is set (at most 20 s), so that the lane's lock stays held."""

    def __init__(self, lane: int, release: threading.Event) -> None:
        super().__init__(daemon=True)
        self.lane, self.release = lane, release
        self.appended = threading.Event()
        self.pid: int | None = None
        self.event: AuditEvent | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.pid = cursor.fetchone()[0]
                # Nothing here can hang the suite: a lock not granted in 15 s is an error.
                cursor.execute("SET LOCAL lock_timeout = '15s'")
                cursor.execute("SELECT set_config('minyi.test_lane', %s, true)", [str(self.lane)])
                self.event = audit.record(Action.EXPORT, object_type="cases.case", object_id=1)
                self.appended.set()
                self.release.wait(20)
        except BaseException as error:
            self.error = error
        finally:
            connections.close_all()


def _waiting_on_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT wait_event_type = 'Lock' AND wait_event = 'advisory' "
            "FROM pg_stat_activity WHERE pid = %s",
            [pid],
        )
        found = cursor.fetchone()
    return bool(found and found[0])


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_lanes_append_concurrently(monkeypatch):
    monkeypatch.setattr(audit_db, "PG_LANE_LOCK_SQL", TEST_LANE_SQL)
    release = threading.Event()
    first, second = Writer(1, release), Writer(2, release)
    try:
        first.start()
        assert first.appended.wait(15), first.error
        second.start()  # while the first still holds lane 1's lock
        assert second.appended.wait(15), second.error
    finally:
        release.set()
        first.join(30)
        second.join(30)
    assert first.error is None and second.error is None
    assert (first.event.lane, second.event.lane) == (1, 2)
    assert first.event.prev_hash == second.event.prev_hash == chain.GENESIS
    call_command("verify_audit")


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_transactions_in_one_lane_serialise(monkeypatch):
    monkeypatch.setattr(audit_db, "PG_LANE_LOCK_SQL", TEST_LANE_SQL)
    release = threading.Event()
    first, second = Writer(5, release), Writer(5, release)
    try:
        first.start()
        assert first.appended.wait(15), first.error
        second.start()
        for _ in range(150):  # up to 15 s for the second to reach the lock
            if second.pid is not None and _waiting_on_a_lock(second.pid):
                break
            threading.Event().wait(0.1)
        else:
            pytest.fail(f"the second writer did not wait for the lane: {second.error}")
        assert not second.appended.is_set()
        release.set()  # the first commits; the second then reads its row as the head
        assert second.appended.wait(15), second.error
    finally:
        release.set()
        first.join(30)
        second.join(30)
    assert first.error is None and second.error is None
    assert second.event.lane == first.event.lane == 5
    assert second.event.prev_hash == first.event.hash
    call_command("verify_audit")
