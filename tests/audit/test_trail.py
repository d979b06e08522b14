"""The audit trail: what gets recorded, append-only in the code and in the database, the hash
chain that verify_audit checks, retention, and the search page."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from minyi import audit
from minyi.audit import chain
from minyi.audit import db as audit_db
from minyi.audit.models import Action, AppendOnlyError, AuditEvent, Result
from minyi.audit.trail import batched, forget_head
from minyi.people.models import User
from tests.security.conftest import PASSWORD

LOGIN = reverse("login")


def _events(**filters: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(**filters).order_by("id"))


# --- what is recorded ----------------------------------------------------------------------


def test_a_model_write_records_who_what_which_fields_but_no_values(world, street_official):
    from tests.cases.helpers import register

    client = Client()
    client.force_login(street_official)
    case = register()
    created = _events(action=Action.CREATE, object_type="cases.case", object_id=str(case.pk))
    assert len(created) == 1
    assert "reporter_name" in created[0].fields and "reporter_phone" in created[0].fields
    # Names only: the reporter's name and phone appear nowhere in the row.
    row = AuditEvent.objects.filter(pk=created[0].pk).values().get()
    flat = repr(row)
    assert case.reporter_name not in flat and case.reporter_phone not in flat

    case.summary = "改过的摘要"
    case.save()
    updated = _events(action=Action.UPDATE, object_type="cases.case", object_id=str(case.pk))
    assert updated[-1].fields == ["summary", "updated_at"]


def test_a_request_records_actor_unit_address_and_request_id(world, street_official, settings):
    settings.MINYI_TRUSTED_PROXY_COUNT = 1
    client = Client()
    client.force_login(street_official)
    from minyi.duties.notify import notification_send

    notification_send(recipients=[street_official], text="测试", url="/")
    response = client.post(
        reverse("duties:notification_read"),
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7",
    )
    assert response.status_code == 302
    event = _events(action=Action.BULK_WRITE, object_type="duties.notification")[-1]
    assert event.fields == ["read_at"]
    assert event.actor_id == street_official.pk
    assert event.actor_name == "shatoujiao"
    assert event.actor_role == "street_official"
    assert event.actor_unit_id == street_official.unit_id
    assert event.ip == "198.51.100.7"
    assert event.request_id and response["X-Request-ID"] == event.request_id


def test_logins_failures_and_logouts_are_recorded(account):
    client = Client()
    client.post(LOGIN, {"username": "anquan", "password": "wrong-one-x"}, REMOTE_ADDR="10.1.1.1")
    failed = _events(action=Action.LOGIN_FAILED)[-1]
    assert failed.result == Result.FAILURE
    assert failed.actor_name == "anquan" and failed.ip == "10.1.1.1"
    assert "wrong-one-x" not in repr(AuditEvent.objects.filter(pk=failed.pk).values().get())

    client.post(LOGIN, {"username": "anquan", "password": PASSWORD}, REMOTE_ADDR="10.1.1.1")
    login = _events(action=Action.LOGIN)[-1]
    assert login.actor_id == account.pk and login.result == Result.SUCCESS
    # Django's own last_login stamp is not recorded a second time as an update.
    assert not _events(action=Action.UPDATE, object_type="people.user", object_id=str(account.pk))

    client.post(reverse("logout"), REMOTE_ADDR="10.1.1.1")
    assert _events(action=Action.LOGOUT)[-1].actor_id == account.pk


def test_lockout_is_recorded(account):
    client = Client()
    for _ in range(5):
        client.post(
            LOGIN, {"username": "anquan", "password": "nope-nope-1"}, REMOTE_ADDR="10.2.2.2"
        )
    locked = _events(action=Action.LOCKED_OUT)
    assert locked and locked[-1].result == Result.DENIED and locked[-1].ip == "10.2.2.2"


def test_role_unit_and_activation_changes_are_permission_changes(world, city_official, account):
    client = Client()
    client.force_login(city_official)
    account.role = "district_official"
    account.unit = world["440308"]
    account.save()
    change = _events(action=Action.PERMISSION_CHANGE, object_id=str(account.pk))[-1]
    assert change.fields == ["role", "unit"]
    account.is_active = False
    account.save()
    assert _events(action=Action.PERMISSION_CHANGE)[-1].fields == ["is_active"]
    from django.contrib.auth.models import Group

    account.groups.add(Group.objects.create(name="审计测试组"))
    assert _events(action=Action.PERMISSION_CHANGE)[-1].fields == ["groups"]


def test_full_view_of_a_reporter_and_pdf_export_are_recorded(world, street_official):
    from tests.cases.helpers import register

    case = register()
    client = Client()
    client.force_login(street_official)
    assert client.get(reverse("documents:case_form", args=[case.pk])).status_code == 200
    viewed = _events(action=Action.VIEW_PERSONAL, object_id=str(case.pk))
    exported = _events(action=Action.EXPORT, object_id=str(case.pk))
    assert viewed and viewed[-1].actor_id == street_official.pk
    assert viewed[-1].object_type == "cases.case"
    assert exported and exported[-1].detail.startswith("PDF")


def test_bulk_writes_are_recorded_explicitly(world, street_official):
    from minyi.duties.notify import notification_mark_read, notification_send

    notification_send(recipients=[street_official, street_official], text="测试", url="/")
    assert "1 条" in _events(action=Action.BULK_WRITE, object_type="duties.notification")[-1].detail
    assert notification_mark_read(user=street_official) == 1
    last = _events(action=Action.BULK_WRITE)[-1]
    assert last.fields == ["read_at"]


def test_a_write_that_rolls_back_leaves_no_audit_row(world):
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        User.objects.create_user(username="gone", password="x")
        raise RuntimeError
    assert AuditEvent.objects.count() == before


def test_record_is_one_insert_after_reading_the_chain_head(world, django_assert_num_queries):
    forget_head()  # the world's rows were appended in this test's transaction
    expected = 3 if connection.vendor == "postgresql" else 2  # + the lane's advisory lock
    with transaction.atomic(), django_assert_num_queries(expected) as captured:
        audit.record(Action.EXPORT, object_type="cases.case", object_id=1, detail="测试")
    # The head is read from the append's lane only (the (lane, id) index).
    head = captured.captured_queries[-2]["sql"]
    assert '"lane" = ' in head and "LIMIT 1" in head


def test_a_transactions_next_append_is_one_insert(world, django_assert_num_queries):
    """The lane stays locked until the transaction ends: its next append chains onto the
    row it just wrote without locking or reading again."""
    with transaction.atomic():
        first = audit.record(Action.EXPORT, object_type="cases.case", object_id=1)
        with django_assert_num_queries(1):
            second = audit.record(Action.EXPORT, object_type="cases.case", object_id=2)
    assert (second.lane, second.prev_hash) == (first.lane, first.hash)
    call_command("verify_audit")


def test_an_append_rolled_back_to_a_savepoint_is_not_chained_onto(world):
    with transaction.atomic():
        kept = audit.record(Action.EXPORT, object_type="cases.case", object_id=1)
        try:
            with transaction.atomic():
                audit.record(Action.EXPORT, object_type="cases.case", object_id=2)
                raise RuntimeError
        except RuntimeError:
            pass
        after = audit.record(Action.EXPORT, object_type="cases.case", object_id=3)
    assert after.prev_hash == kept.hash
    call_command("verify_audit")


def test_an_append_in_a_released_savepoint_is_chained_onto(world):
    with transaction.atomic():
        with transaction.atomic():
            inner = audit.record(Action.EXPORT, object_type="cases.case", object_id=1)
        after = audit.record(Action.EXPORT, object_type="cases.case", object_id=2)
    assert after.prev_hash == inner.hash
    call_command("verify_audit")


def test_rows_recorded_in_a_batch_are_one_insert_chained_in_their_order(
    world, django_assert_num_queries
):
    """audit.batched (a workflow step's two rows, a registration's three): the rows one
    record each would have written, in one INSERT, their ids in the order recorded."""
    with transaction.atomic():
        first = audit.record(Action.EXPORT, object_type="cases.case", object_id=1)
        with django_assert_num_queries(1) as captured, batched():
            held = [
                audit.record(Action.EXPORT, object_type="cases.case", object_id=n)
                for n in (2, 3, 4)
            ]
            assert all(event.pk is None for event in held)  # nothing written yet
        (insert,) = [q["sql"] for q in captured.captured_queries]
        assert insert.startswith('INSERT INTO "audit_auditevent"')
        after = audit.record(Action.EXPORT, object_type="cases.case", object_id=5)
    rows = _events(pk__gte=first.pk)
    assert [row.object_id for row in rows] == ["1", "2", "3", "4", "5"]
    assert [row.pk for row in rows[1:4]] == [event.pk for event in held]
    for previous, row in pairwise(rows):
        assert row.prev_hash == previous.hash and row.lane == previous.lane
    assert after.prev_hash == held[-1].hash
    call_command("verify_audit")


def test_a_batch_left_by_an_exception_appends_nothing(world):
    before = AuditEvent.objects.count()
    with transaction.atomic(), pytest.raises(RuntimeError), batched():
        audit.record(Action.EXPORT, object_type="cases.case", object_id=1)
        raise RuntimeError
    assert AuditEvent.objects.count() == before


def test_a_batch_opens_with_the_lanes_lock_and_head(world, django_assert_num_queries):
    forget_head()  # the world's rows were appended in this test's transaction
    expected = 3 if connection.vendor == "postgresql" else 2  # + the lane's advisory lock
    with transaction.atomic(), django_assert_num_queries(expected), batched():
        for n in (1, 2):
            audit.record(Action.EXPORT, object_type="cases.case", object_id=n)
    call_command("verify_audit")


def test_a_row_written_without_record_moves_the_head(world):
    with transaction.atomic():
        head = audit.record(Action.EXPORT, object_type="cases.case", object_id=1)
        row = {name: getattr(head, name) for name in (*chain.HASHED, "lane")}
        row["prev_hash"] = head.hash
        row["hash"] = chain.digest(row)
        other = AuditEvent.objects.create(**row)
        after = audit.record(Action.EXPORT, object_type="cases.case", object_id=2)
    assert after.prev_hash == other.hash
    call_command("verify_audit")


# --- append-only ------------------------------------------------------------------------


def test_the_model_refuses_updates_and_deletes(world):
    event = audit.record(Action.EXPORT, object_type="cases.case", object_id=1)
    event.detail = "改"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(detail="改")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


def test_the_database_refuses_update_and_delete_even_in_raw_sql(world):
    event = audit.record(Action.EXPORT, object_type="cases.case", object_id=1)
    for sql in (
        f"UPDATE {audit_db.TABLE} SET detail = 'x' WHERE id = %s",
        f"DELETE FROM {audit_db.TABLE} WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk, detail="").exists()


def _backdate(days: int) -> None:
    """Move every row back in time (tests only: drops the trigger inside the test's
    transaction, which the rollback restores) and re-seal each lane's chain."""
    with connection.cursor() as cursor:
        for sql in audit_db.drop_sql(connection.vendor):
            cursor.execute(sql)
        previous: dict[int, str] = {}
        rows = AuditEvent.objects.order_by("id").values("id", "lane", *chain.HASHED)
        for row in rows:
            row["at"] = row["at"] - timedelta(days=days)
            row["prev_hash"] = previous.get(row["lane"], chain.GENESIS)
            previous[row["lane"]] = chain.digest(row)
            cursor.execute(
                f"UPDATE {audit_db.TABLE} SET at = %s, prev_hash = %s, hash = %s WHERE id = %s",
                [row["at"], row["prev_hash"], previous[row["lane"]], row["id"]],
            )
        for sql in audit_db.create_sql(connection.vendor):
            cursor.execute(sql)


def test_retention_purges_only_rows_older_than_six_months(world, settings, capsys):
    settings.MINYI_AUDIT_RETENTION_DAYS = 30  # below the floor: six months still apply
    audit.record(Action.EXPORT, object_type="cases.case", object_id=1)
    _backdate(days=200)
    old = AuditEvent.objects.count()
    kept = audit.record(Action.EXPORT, object_type="cases.case", object_id=2)
    # The trigger lets an old row go, and still refuses a young one.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {audit_db.TABLE} WHERE id = %s", [kept.pk])
    call_command("purge_audit")
    assert f"已删除 {old} 条" in capsys.readouterr().out
    assert AuditEvent.objects.filter(pk=kept.pk).exists()
    assert _events(action=Action.PURGE)
    call_command("verify_audit")  # the oldest remaining row anchors the chain


def test_nothing_younger_than_the_retention_setting_is_purged(world, settings):
    settings.MINYI_AUDIT_RETENTION_DAYS = 400
    audit.record(Action.EXPORT, object_type="cases.case", object_id=1)
    _backdate(days=200)
    before = AuditEvent.objects.count()
    call_command("purge_audit")
    assert AuditEvent.objects.count() == before


# --- the hash chain ---------------------------------------------------------------------


def test_each_row_chains_onto_the_previous_one(world):
    a = audit.record(Action.EXPORT, object_type="cases.case", object_id=1)
    b = audit.record(Action.EXPORT, object_type="cases.case", object_id=2)
    assert b.prev_hash == a.hash and len(b.hash) == 64 and b.hash != a.hash
    assert a.lane == b.lane  # one transaction, one lane


def test_verify_passes_on_an_intact_trail(world, capsys):
    audit.record(Action.EXPORT, object_type="cases.case", object_id=1)
    call_command("verify_audit")
    assert "哈希链连续" in capsys.readouterr().out


def _tamper(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        for drop in audit_db.drop_sql(connection.vendor):
            cursor.execute(drop)
        cursor.execute(sql, params)


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        (f"UPDATE {audit_db.TABLE} SET actor_name = 'someone-else' WHERE id = %s", "内容"),
        (f"DELETE FROM {audit_db.TABLE} WHERE id = %s", "上一条"),
    ],
)
def test_verify_finds_a_row_changed_or_removed_behind_the_triggers(world, sql, reason):
    rows = [audit.record(Action.EXPORT, object_type="cases.case", object_id=n) for n in range(3)]
    call_command("verify_audit")
    _tamper(sql, [rows[1].pk])
    with pytest.raises(CommandError, match=reason) as error:
        call_command("verify_audit")
    broken = rows[1].pk if reason == "内容" else rows[2].pk
    assert f"编号 {broken}" in str(error.value)


def test_verify_command_exits_non_zero(world):
    audit.record(Action.EXPORT, object_type="cases.case", object_id=1)
    row = AuditEvent.objects.order_by("-id").first()
    _tamper(f"UPDATE {audit_db.TABLE} SET detail = 'x' WHERE id = %s", [row.pk])
    with pytest.raises(SystemExit) as exited:
        from django.core.management import execute_from_command_line

        execute_from_command_line(["manage.py", "verify_audit"])
    assert exited.value.code == 1


# --- the search page --------------------------------------------------------------------


def test_search_filters_by_actor_action_object_dates_and_address(world, city_official):
    audit.record(Action.EXPORT, object_type="cases.case", object_id=7, actor_name="甲")
    audit.record(Action.LOGIN_FAILED, object_type="people.user", actor_name="乙", result="failure")
    client = Client()
    client.force_login(city_official)
    url = reverse("audit:event_list")
    today = timezone.localdate().isoformat()
    page = client.get(url, {"action": "export", "object_type": "cases.case", "object_id": "7"})
    assert page.status_code == 200
    rows = page.context["rows"]
    assert [e.object_id for e in rows] == ["7"]
    assert [e.actor_name for e in client.get(url, {"actor": "乙"}).context["rows"]] == ["乙"]
    assert client.get(url, {"since": today, "until": today}).context["page"].paginator.count >= 2
    assert not client.get(url, {"until": "2000-01-01"}).context["rows"]
    assert not client.get(url, {"ip": "192.0.2.1"}).context["rows"]
    bad = client.get(url, {"since": today, "until": "2000-01-01"})
    assert bad.status_code == 200 and "截止日期不能早于起始日期" in bad.content.decode()


def test_search_runs_a_fixed_number_of_queries(world, city_official, django_assert_num_queries):
    client = Client()
    client.force_login(city_official)
    url = reverse("audit:event_list")
    client.get(url)

    def count() -> int:
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, {"action": "export"}).status_code == 200
        return len(ctx.captured_queries)

    for n in range(3):
        audit.record(Action.EXPORT, object_type="cases.case", object_id=n, actor=city_official)
    few = count()
    for n in range(40):
        audit.record(Action.EXPORT, object_type="cases.case", object_id=n, actor=city_official)
    with django_assert_num_queries(few):
        client.get(url, {"action": "export"})


def test_only_city_officials_see_the_trail_link(world, city_official, admin_user):
    client = Client()
    client.force_login(city_official)
    assert reverse("audit:event_list") in client.get(reverse("home")).content.decode()
    client.force_login(admin_user)
    assert reverse("audit:event_list") not in client.get(reverse("home")).content.decode()
    assert client.get(reverse("audit:event_list")).status_code == 404
