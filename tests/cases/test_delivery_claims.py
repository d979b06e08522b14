"""deliver_feedback claims a copy, sends it outside any transaction, then records the
outcome: a slow gateway holds no transaction or row lock, a crashed run's claim is taken
over only after the bound, and two runs at once send each copy once."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import close_old_connections, connection
from django.db.models import F
from django.utils import timezone

from minyi.cases import delivery
from minyi.cases.delivery import MAX_ATTEMPTS, claim_bound, deliver_pending
from minyi.cases.models import DeliveryStatus, FeedbackCopy
from tests.online.helpers import answered, submit


class Crash(BaseException):
    """The worker dying mid-send (a kill, a lost machine): not an error the run records."""


class FakeChannel:
    def __init__(self, *, delay: float = 0.0, crash: bool = False) -> None:
        self.delay, self.crash = delay, crash
        self.sent: list[int] = []
        self.in_transaction: list[bool] = []
        self.lock = threading.Lock()

    def send(self, copy: FeedbackCopy) -> None:
        with self.lock:
            self.in_transaction.append(connection.in_atomic_block)
        if self.crash:
            raise Crash
        time.sleep(self.delay)
        with self.lock:
            self.sent.append(copy.pk)


def _copies(monkeypatch, channel: FakeChannel, cases: int = 1) -> list[int]:
    """Answered cases whose copies all go through `channel`."""
    for n in range(cases):
        answered(submit(ip=f"10.0.1.{n + 1}")[1])
    monkeypatch.setitem(delivery.CHANNELS, "fake", channel)
    FeedbackCopy.objects.update(channel="fake", status=DeliveryStatus.PENDING, delivered_at=None)
    return list(FeedbackCopy.objects.order_by("pk").values_list("pk", flat=True))


@pytest.mark.django_db(transaction=True)
def test_the_send_happens_with_no_transaction_open(world, monkeypatch):
    channel = FakeChannel()
    pks = _copies(monkeypatch, channel)
    assert deliver_pending() == (len(pks), 0)
    assert channel.sent == pks
    assert channel.in_transaction == [False] * len(pks)
    assert not FeedbackCopy.objects.filter(claimed_at__isnull=False).exists()


@pytest.mark.django_db
def test_a_crash_leaves_a_claim_taken_over_after_the_bound_and_not_before(world, monkeypatch):
    crashing = FakeChannel(crash=True)
    first, *_ = _copies(monkeypatch, crashing)
    with pytest.raises(Crash):
        deliver_pending()
    copy = FeedbackCopy.objects.get(pk=first)
    assert copy.status == DeliveryStatus.PENDING and copy.attempts == 1
    assert copy.claimed_at is not None

    working = FakeChannel()
    monkeypatch.setitem(delivery.CHANNELS, "fake", working)
    deliver_pending()
    assert first not in working.sent  # still claimed: the crashed run may be sending

    claimed = FeedbackCopy.objects.filter(pk=first)
    claimed.update(claimed_at=F("claimed_at") - claim_bound() + timedelta(seconds=30))
    deliver_pending()
    assert first not in working.sent  # 30 seconds short of the bound

    claimed.update(claimed_at=F("claimed_at") - timedelta(seconds=31))
    assert deliver_pending() == (1, 0)
    assert working.sent.count(first) == 1
    copy.refresh_from_db()
    assert copy.status == DeliveryStatus.SENT and copy.attempts == 2
    assert copy.claimed_at is None


@pytest.mark.django_db
def test_an_abandoned_claim_on_the_last_attempt_fails_the_copy(world, monkeypatch):
    channel = FakeChannel()
    first, *_ = _copies(monkeypatch, channel)
    stale = timezone.now() - claim_bound() - timedelta(seconds=1)
    FeedbackCopy.objects.filter(pk=first).update(attempts=MAX_ATTEMPTS, claimed_at=stale)
    assert deliver_pending()[1] == 1
    copy = FeedbackCopy.objects.get(pk=first)
    assert copy.status == DeliveryStatus.FAILED and "中断" in copy.last_error
    assert first not in channel.sent


@pytest.mark.django_db
def test_a_run_whose_claim_was_taken_over_does_not_record(world, monkeypatch):
    """The slow run's send ends after another run took the copy over and is sending it:
    the outcome is the other run's to record."""
    channel = FakeChannel()
    first, *_ = _copies(monkeypatch, channel)
    copy, _ = delivery.OUTBOX.claim_next(0)
    assert copy is not None
    now = timezone.now()
    FeedbackCopy.objects.filter(pk=first).update(attempts=2, claimed_at=now)
    error = "SmsError: 短信网关没有及时应答（超时）"
    assert delivery.OUTBOX.record(copy, DeliveryStatus.PENDING, error) is False
    taken_over = FeedbackCopy.objects.get(pk=first)
    assert taken_over.claimed_at == now and taken_over.last_error == ""
    assert taken_over.status == DeliveryStatus.PENDING


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs concurrent writers (PostgreSQL)"
)
def test_two_runs_at_once_send_each_copy_once(world: Any, monkeypatch: Any) -> None:
    channel = FakeChannel(delay=0.05)
    pks = _copies(monkeypatch, channel, cases=3)
    barrier = threading.Barrier(2)
    results: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(deliver_pending())
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
    assert sorted(channel.sent) == pks  # every copy, each once
    assert sum(sent for sent, _ in results) == len(pks)
    assert all(sent > 0 for sent, _ in results)  # both runs did share the work
    assert channel.in_transaction == [False] * len(pks)
    assert FeedbackCopy.objects.filter(status=DeliveryStatus.SENT, attempts=1).count() == len(pks)


class Leaky:
    """A channel whose fault quotes the recipient, as an SMTP refusal does."""

    def send(self, copy: FeedbackCopy) -> None:
        raise ValueError(
            f"550 mailbox unavailable: {copy.address} (also zhang.san@example.gov.cn, "
            "+86 138-0000-7777, 13800007777)"
        )


def test_a_channel_fault_is_kept_without_the_recipients_address(world, monkeypatch):
    answered(submit(ip="10.0.9.1")[1])
    monkeypatch.setitem(delivery.CHANNELS, "fake", Leaky())
    FeedbackCopy.objects.update(
        channel="fake", address="li.si@mail.example.cn", status=DeliveryStatus.PENDING
    )
    deliver_pending()
    errors = list(FeedbackCopy.objects.values_list("last_error", flat=True))
    assert errors and all("550 mailbox unavailable" in e for e in errors)
    for text in ("li.si@", "zhang.san", "138-0000-7777", "13800007777", "7777"):
        assert not any(text in e for e in errors), text
    assert all("***@example.gov.cn" in e for e in errors)
