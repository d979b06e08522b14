"""Notifications: a message for one account, written in the same transaction as the
change it reports (the caller's), read on /duties/notifications/."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from minyi.audit.trail import record_bulk
from minyi.duties.models import Notification

TEXT_MAX = 300


def notification_send(*, recipients: Iterable[Any], text: str, url: str = "") -> list[Notification]:
    """One row per distinct active recipient; the text is cut to fit the column."""
    if len(text) > TEXT_MAX:
        text = text[: TEXT_MAX - 1] + "…"
    seen: set[int] = set()
    rows = []
    for user in recipients:
        if user is None or not user.is_active or user.pk in seen:
            continue
        seen.add(user.pk)
        rows.append(Notification(recipient=user, text=text, url=url))
    with transaction.atomic():
        created = Notification.objects.bulk_create(rows)
        record_bulk(Notification, len(created), cause=url)
        return created


def notification_mark_read(*, user: Any, pk: int | None = None) -> int:
    """Mark one of the user's notifications read, or all of them; returns how many
    changed. Someone else's notification is simply not found (0)."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if pk is not None:
        qs = qs.filter(pk=pk)
    with transaction.atomic():
        count = qs.update(read_at=timezone.now())
        record_bulk(Notification, count, fields=["read_at"], cause="标为已读")
        return count


def unread_count(user: Any) -> int:
    if user is None or not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
