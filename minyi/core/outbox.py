"""An outbox: rows written in the transaction of the step they announce (an answer's
copies, a booker's notices) and sent later by `deliver_feedback` (cron) through a
channel. One mechanism for every such table, so the rules below are written once:

- claim, send, record: a row is claimed in one short transaction (a lock that skips rows
  another run holds this instant, then pending + `claimed_at` + one more attempt,
  committed); the send happens with no transaction open, since a slow gateway would
  otherwise hold a transaction and a row lock for as long as it takes; the outcome is
  one UPDATE that applies only while the claim is still ours (same attempt number);
- two runs at once never send one row twice: a claimed row is left alone until its
  claim is older than `claim_bound()`, which only a crashed run leaves; the row is then
  taken over, may go out twice, and the idempotency key sent with it is what makes that
  safe at the gateway;
- a row gives up after `max_attempts` with a recorded reason, a sender may say a row can
  never be sent (`Undeliverable`) and it fails at once with that reason;
- a channel's fault is recorded, never raised, without the recipient's address.

A table that uses it has `status`, `attempts`, `claimed_at` and `last_error` fields and a
field set when it was sent (`done_at`); the sender returns the status a sent row ends in.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone


class Undeliverable(Exception):
    """Raised by a sender for a row that no later attempt could send (a landline cannot
    take a text message): the row fails at once, its message recorded as the reason."""


class _Claimable(Protocol):
    pk: Any
    status: str
    attempts: int
    claimed_at: datetime | None


# What a channel's exception may quote of the recipient: an SMTP server names the mailbox
# it refused, a gateway may echo the number.
_EMAIL = re.compile(r"[\w.+-]+@([\w-]+(?:\.[\w-]+)+)")
_NUMBER = re.compile(r"\+?\d[\d \-]{5,}\d")


def scrubbed(error: str, address: str) -> str:
    """A channel's error as `last_error` may keep it (shown to staff, kept with the row):
    without the recipient's address, mailboxes or long numbers. The SMS gateway's errors
    are clean already; an SMTP or third-party channel's need not be."""
    if address:
        error = error.replace(address, "***")
    error = _EMAIL.sub(lambda m: "***@" + m.group(1), error)
    return _NUMBER.sub("***", error)


@dataclass(frozen=True)
class Outbox[Row: models.Model]:
    model: type[Row]
    # Sends one claimed row; returns the status it ends in, raises on a fault.
    send: Callable[[Row], str]
    # The recipient's address, kept out of a recorded error.
    address: Callable[[Row], str]
    claim_bound: Callable[[], timedelta]
    pending: str
    failed: str
    done_at: str  # the field set when the row was sent
    name: str  # a row is named "<name>-<pk>" in the log, as in its idempotency key
    label: str  # what the row is, in a log line
    logger: logging.Logger
    max_attempts: int = 5
    related: tuple[str, ...] = ()
    # Exceptions whose message is written for staff (the SMS gateway's): kept as is.
    plain_errors: tuple[type[Exception], ...] = ()

    def _rows(self) -> models.QuerySet[Row]:
        return self.model._default_manager.all()

    def _due(self, now: datetime) -> Q:
        return Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - self.claim_bound())

    def claim_next(self, after_pk: int, where: Q | None = None) -> tuple[Row | None, bool]:
        """Claim the next pending row after `after_pk` that no run is sending. Returns
        (row, gave up): a row whose last attempt was cut short by a crash and has no
        attempt left is marked failed instead of claimed."""
        while True:
            now = timezone.now()
            with transaction.atomic():
                row = (
                    self._rows()
                    .select_for_update(skip_locked=True, of=("self",))
                    .select_related(*self.related)
                    .filter(self._due(now), where or Q(), status=self.pending, pk__gt=after_pk)
                    .order_by("pk")
                    .first()
                )
                if row is None:
                    return None, False
                seen = cast(_Claimable, row)
                # The lock makes this UPDATE ours on PostgreSQL; the conditions make it
                # so where there is no row lock (SQLite): another run's claim since the
                # read changes the attempt number and this one updates nothing.
                mine = self._rows().filter(
                    self._due(now), pk=seen.pk, status=self.pending, attempts=seen.attempts
                )
                if seen.attempts >= self.max_attempts:  # only an abandoned claim gets here
                    error = f"第 {seen.attempts} 次发送中断，没有结果；已达最多尝试次数"
                    if mine.update(status=self.failed, claimed_at=None, last_error=error):
                        seen.status, seen.claimed_at = self.failed, None
                        self.logger.warning("%s未能发出（%s-%s）", self.label, self.name, seen.pk)
                        return row, True
                elif mine.update(attempts=seen.attempts + 1, claimed_at=now):
                    seen.attempts, seen.claimed_at = seen.attempts + 1, now
                    return row, False
            after_pk = seen.pk  # claimed by another run meanwhile: the next one

    def describe(self, row: Row, exc: Exception) -> str:
        text = str(exc) if isinstance(exc, self.plain_errors) else f"{type(exc).__name__}: {exc}"
        return scrubbed(text, self.address(row))

    def record(self, row: Row, status: str, error: str = "") -> bool:
        """Write the outcome of the attempt `row` claimed; one UPDATE, so its own short
        transaction. It applies only while the claim is still ours (same attempt number):
        if a run took over a claim it thought abandoned, that run records. Returns whether
        it was written."""
        seen = cast(_Claimable, row)
        limit = getattr(self.model._meta.get_field("last_error"), "max_length", None) or 1000
        changes: dict[str, object] = {
            "status": status,
            "claimed_at": None,
            "last_error": error[:limit],
        }
        if status not in (self.pending, self.failed):
            changes[self.done_at] = timezone.now()
        ours = self._rows().filter(pk=seen.pk, status=self.pending, attempts=seen.attempts)
        if ours.update(**changes):
            if status == self.failed:
                self.logger.warning("%s未能发出（%s-%s）", self.label, self.name, seen.pk)
            return True
        self.logger.warning(
            "%s %s-%s 的发送认领已被接管，结果由接管的一方记录", self.label, self.name, seen.pk
        )
        return False

    def deliver(self, limit: int = 500, *, where: Q | None = None) -> tuple[int, int]:
        """Try every pending row once (or those `where` selects), oldest first; returns
        (sent, failed for good). Rows are claimed one at a time, so that a claim is never
        older than the send it covers; a run walks the outbox once, so a row that failed
        waits for the next run."""
        sent = failed = 0
        after_pk = 0
        for _ in range(limit):
            row, gave_up = self.claim_next(after_pk, where)
            if row is None:
                break
            after_pk = row.pk
            if gave_up:
                failed += 1
                continue
            status, error = self._outcome(row)
            if self.record(row, status, error):
                if status == self.failed:
                    failed += 1
                elif status != self.pending:
                    sent += 1
        return sent, failed

    def _outcome(self, row: Row) -> tuple[str, str]:
        try:
            return self.send(row), ""
        except Undeliverable as exc:
            return self.failed, str(exc)
        except Exception as exc:  # any channel fault is recorded, never raised
            attempts = cast(_Claimable, row).attempts
            status = self.failed if attempts >= self.max_attempts else self.pending
            return status, self.describe(row, exc)
