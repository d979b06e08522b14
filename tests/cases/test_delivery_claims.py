"""Answer copies through the shared outbox (minyi.core.outbox), by way of
`minyi.cases.delivery`'s channels: sent outside any transaction, a channel's fault kept
without the recipient's address. The outbox's own rules (overlapping runs, stale claims,
giving up) are tested once for every table that uses it, in tests/core/test_outbox.py."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from minyi.cases import delivery
from minyi.cases.delivery import deliver_pending
from minyi.cases.models import DeliveryStatus, FeedbackCopy
from tests.online.helpers import answered, submit


class FakeChannel:
    def __init__(self, *, delay: float = 0.0) -> None:
        self.delay = delay
        self.sent: list[int] = []
        self.in_transaction: list[bool] = []
        self.lock = threading.Lock()

    def send(self, copy: FeedbackCopy) -> None:
        with self.lock:
            self.in_transaction.append(connection.in_atomic_block)
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
