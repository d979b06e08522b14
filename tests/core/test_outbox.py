"""The shared outbox (minyi.core.outbox), run over both of its tables, answer copies and
bookers' notices: overlapping runs send each row once, a crashed run's claim is taken
over after the bound and not before, a row gives up after MAX_ATTEMPTS with a reason, a
channel's fault is recorded and never raised, and nothing is sent inside a transaction."""

from __future__ import annotations

import dataclasses
import importlib
import threading
import time
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.db import close_old_connections, connection
from django.db.models import F, Model
from django.utils import timezone

from minyi.cases import delivery
from minyi.cases.models import DeliveryStatus, FeedbackCopy
from minyi.core.outbox import Outbox, Undeliverable
from minyi.duties import booker_notices
from minyi.duties.appointments import appointment_confirm
from minyi.duties.models import BookerNotice, NoticeStatus
from tests.duties.test_appointments import book, make_event
from tests.online.helpers import answered, submit


@dataclasses.dataclass
class Box:
    outbox: Outbox[Any]
    pks: list[int]
    sent: str  # the status a sent row ends in
    address: str  # a recipient's address, as a channel's fault may quote it

    def rows(self) -> Any:
        return self.outbox.model._default_manager.order_by("pk")

    def row(self, pk: int) -> Any:
        return self.outbox.model._default_manager.get(pk=pk)

    def using(self, channel: Any) -> Outbox[Any]:
        return dataclasses.replace(self.outbox, send=channel.send)


def _copies(cases: int) -> Box:
    for n in range(cases):
        answered(submit(ip=f"10.0.2.{n + 1}")[1])
    FeedbackCopy.objects.update(status=DeliveryStatus.PENDING, delivered_at=None)
    pks = list(FeedbackCopy.objects.order_by("pk").values_list("pk", flat=True))
    return Box(delivery.OUTBOX, pks, DeliveryStatus.SENT, "+8613800007777")


def _notices(bookings: int, liaison: Any) -> Box:
    event = make_event(capacity=bookings + 1)
    for n in range(bookings):
        appointment_confirm(
            appointment=book(event, name=f"居民{n}", phone=f"1380000{n:04d}"), actor=liaison
        )
    pks = list(BookerNotice.objects.order_by("pk").values_list("pk", flat=True))
    return Box(booker_notices.OUTBOX, pks, NoticeStatus.SENT, "+8613800000000")


@pytest.fixture(params=["copies", "notices"])
def box(request: Any, world: Any, liaison: Any) -> Box:
    built = _copies(2) if request.param == "copies" else _notices(6, liaison)
    assert len(built.pks) >= 6
    return built


class Crash(BaseException):
    """The worker dying mid-send (a kill, a lost machine): not a fault a run records."""


class FakeChannel:
    """Records what it sent and whether a transaction was open; `during` runs inside
    the first send (another run overlapping this one)."""

    def __init__(self, status: str, *, delay: float = 0.0, fault: Exception | None = None):
        self.status, self.delay, self.fault = status, delay, fault
        self.sent: list[int] = []
        self.in_transaction: list[bool] = []
        self.crash = False
        self.during: Any = None
        self.lock = threading.Lock()

    def send(self, row: Model) -> str:
        with self.lock:
            self.in_transaction.append(connection.in_atomic_block)
        if self.crash:
            raise Crash
        if self.during is not None:
            during, self.during = self.during, None
            during()
        time.sleep(self.delay)
        if self.fault is not None:
            raise self.fault
        with self.lock:
            self.sent.append(row.pk)
        return self.status


# --- overlapping runs ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_run_overlapping_another_never_sends_the_row_being_sent(box: Box) -> None:
    """A second run starts while the first is sending its first row: it sends every
    other row, never that one, and each row is recorded sent after one attempt."""
    channel = FakeChannel(box.sent)
    outbox = box.using(channel)
    overlapping: list[tuple[int, int]] = []
    channel.during = lambda: overlapping.append(outbox.deliver())
    first_run = outbox.deliver()
    assert overlapping == [(len(box.pks) - 1, 0)]
    assert first_run == (1, 0)
    assert sorted(channel.sent) == box.pks  # every row, each once
    assert channel.sent[-1] == box.pks[0]  # the first run's row, recorded by it
    for row in box.rows():
        assert (row.status, row.attempts, row.claimed_at) == (box.sent, 1, None)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs concurrent writers (PostgreSQL)"
)
def test_two_runs_at_once_send_each_row_once(box: Box) -> None:
    channel = FakeChannel(box.sent, delay=0.05)
    outbox = box.using(channel)
    barrier = threading.Barrier(2)
    results: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(outbox.deliver())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(channel.sent) == box.pks  # every row, each once
    assert sum(sent for sent, _ in results) == len(box.pks)
    assert all(sent > 0 for sent, _ in results)  # both runs did share the work
    assert channel.in_transaction == [False] * len(box.pks)
    assert [(r.status, r.attempts) for r in box.rows()] == [(box.sent, 1)] * len(box.pks)


@pytest.mark.django_db(transaction=True)
def test_the_send_happens_with_no_transaction_open(box: Box) -> None:
    channel = FakeChannel(box.sent)
    assert box.using(channel).deliver() == (len(box.pks), 0)
    assert channel.sent == box.pks
    assert channel.in_transaction == [False] * len(box.pks)


# --- a crashed run's claim -------------------------------------------------------------


@pytest.mark.django_db
def test_a_crashed_runs_claim_is_taken_over_after_the_bound_and_not_before(box: Box) -> None:
    crashing = FakeChannel(box.sent)
    crashing.crash = True
    with pytest.raises(Crash):
        box.using(crashing).deliver()
    first = box.pks[0]
    crashed = box.row(first)
    assert crashed.status == box.outbox.pending and crashed.attempts == 1
    assert crashed.claimed_at is not None

    working = FakeChannel(box.sent)
    outbox = box.using(working)
    outbox.deliver()
    assert first not in working.sent  # still claimed: the crashed run may be sending

    claimed = box.outbox.model._default_manager.filter(pk=first)
    bound = box.outbox.claim_bound()
    claimed.update(claimed_at=F("claimed_at") - bound + timedelta(seconds=30))
    assert outbox.deliver() == (0, 0)  # 30 seconds short of the bound

    claimed.update(claimed_at=F("claimed_at") - timedelta(seconds=31))
    assert outbox.deliver() == (1, 0)
    assert working.sent.count(first) == 1
    taken_over = box.row(first)
    assert (taken_over.status, taken_over.attempts, taken_over.claimed_at) == (box.sent, 2, None)


@pytest.mark.django_db
def test_the_run_whose_claim_was_taken_over_does_not_record(box: Box) -> None:
    row, gave_up = box.outbox.claim_next(0)
    assert row is not None and not gave_up and row.attempts == 1
    now = timezone.now()
    # Another run took the row over (its own attempt) and is sending it.
    box.outbox.model._default_manager.filter(pk=row.pk).update(attempts=2, claimed_at=now)
    assert box.outbox.record(row, box.outbox.failed, "SmsError: 超时") is False
    assert box.outbox.record(row, box.sent) is False
    left = box.row(row.pk)
    assert (left.status, left.claimed_at, left.last_error) == (box.outbox.pending, now, "")


@pytest.mark.django_db
def test_an_abandoned_claim_on_the_last_attempt_fails_with_its_reason(box: Box) -> None:
    channel = FakeChannel(box.sent)
    first = box.pks[0]
    stale = timezone.now() - box.outbox.claim_bound() - timedelta(seconds=1)
    box.outbox.model._default_manager.filter(pk=first).update(
        attempts=box.outbox.max_attempts, claimed_at=stale
    )
    assert box.using(channel).deliver() == (len(box.pks) - 1, 1)
    assert first not in channel.sent
    row = box.row(first)
    assert row.status == box.outbox.failed and row.claimed_at is None
    assert "中断" in row.last_error and "最多尝试次数" in row.last_error


# --- giving up, faults -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_row_gives_up_after_max_attempts_with_the_reason_recorded(box: Box) -> None:
    channel = FakeChannel(box.sent, fault=RuntimeError("网关拒绝：余额不足"))
    outbox = box.using(channel)
    for attempt in range(1, outbox.max_attempts):
        assert outbox.deliver() == (0, 0)
        assert {(r.status, r.attempts) for r in box.rows()} == {(outbox.pending, attempt)}
    assert outbox.deliver() == (0, len(box.pks))
    for row in box.rows():
        assert (row.status, row.attempts) == (outbox.failed, outbox.max_attempts)
        assert row.last_error == "RuntimeError: 网关拒绝：余额不足"
    assert outbox.deliver() == (0, 0)  # given up: no further attempt
    assert len(channel.in_transaction) == outbox.max_attempts * len(box.pks)


@pytest.mark.django_db
def test_a_channel_fault_is_recorded_not_raised_and_without_the_address(box: Box) -> None:
    fault = ValueError(f"550 refused {box.address} (li.si@mail.example.cn)")
    outbox = box.using(FakeChannel(box.sent, fault=fault))
    assert outbox.deliver() == (0, 0)
    for row in box.rows():
        assert (row.status, row.attempts, row.claimed_at) == (outbox.pending, 1, None)
        assert row.last_error.startswith("ValueError: 550 refused")
        assert box.address not in row.last_error and "li.si@" not in row.last_error
    # Sent at the next run, the earlier fault no longer shown as the row's state.
    assert box.using(FakeChannel(box.sent)).deliver() == (len(box.pks), 0)
    assert [r.last_error for r in box.rows()] == [""] * len(box.pks)


@pytest.mark.django_db
def test_an_undeliverable_row_fails_at_once_with_its_reason(box: Box) -> None:
    outbox = box.using(FakeChannel(box.sent, fault=Undeliverable("没有可发送的号码。")))
    assert outbox.deliver() == (0, len(box.pks))
    for row in box.rows():
        assert (row.status, row.attempts, row.last_error) == (
            outbox.failed,
            1,
            "没有可发送的号码。",
        )


# --- the notice's former "sending" status ----------------------------------------------


@pytest.mark.django_db
def test_the_migration_turns_a_sending_notice_into_a_claim_taken_over_later(
    world: Any, liaison: Any
) -> None:
    box = _notices(1, liaison)
    [pk] = box.pks
    claimed_at = timezone.now() - timedelta(minutes=1)
    BookerNotice.objects.filter(pk=pk).update(status="sending", attempts=1, claimed_at=claimed_at)
    migration = importlib.import_module("minyi.duties.migrations.0015_booker_notice_claims")
    step = migration.Migration.operations[0]
    step.code(apps, SimpleNamespace(connection=connection))
    notice = BookerNotice.objects.get(pk=pk)
    assert (notice.status, notice.attempts, notice.claimed_at) == ("pending", 1, claimed_at)
    channel = FakeChannel(NoticeStatus.SENT)
    assert box.using(channel).deliver() == (0, 0)  # a run may still be sending it
    BookerNotice.objects.filter(pk=pk).update(claimed_at=timezone.now() - timedelta(hours=1))
    assert box.using(channel).deliver() == (1, 0)
    assert channel.sent == [pk]
    step.reverse_code(apps, SimpleNamespace(connection=connection))
    assert BookerNotice.objects.get(pk=pk).status == NoticeStatus.SENT
