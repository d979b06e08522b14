"""Notifications: a message for one account, written in the same transaction as the
change it reports (the caller's), read on /duties/notifications/."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from minyi.audit.trail import record_bulk
from minyi.core import generations
from minyi.duties.models import Notification

TEXT_MAX = 300


def month_day(when: Any) -> str:
    """12月3日, as Chinese writes a date in running text (strftime's %m月%d日 gives
    12月03日, which no one writes)."""
    return f"{when.month}月{when.day}日"


# The navigation of every staff page shows the unread count, which was a query of its
# own on every request (issue 8). It is kept in the shared cache per account under the
# account's generation number, which every write below bumps. A write that goes round
# them (the admin, a deleted account's cascade) shows within this many seconds.
UNREAD_SECONDS = 300


def fit_text(text: str) -> str:
    """The text cut to fit the notification's column."""
    return text if len(text) <= TEXT_MAX else text[: TEXT_MAX - 1] + "…"


def notification_send(*, recipients: Iterable[Any], text: str, url: str = "") -> list[Notification]:
    """One row per distinct active recipient; the text is cut to fit the column."""
    text = fit_text(text)
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
        unread_changed(seen)
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
        if count:
            unread_changed([user.pk])
        return count


def _generation_key(user_id: int) -> str:
    return f"duties:unread-generation:{user_id}"


def _key(user_id: Any) -> str:
    return f"duties:unread:{user_id}"


def _fetched_with_account(user_id: Any) -> tuple[str, str]:
    return (_generation_key(user_id), _key(user_id))


def connect() -> None:
    # Every staff page shows the count: it comes in the account's round trip.
    from minyi.core import account_cache

    account_cache.fetch_with_account(_fetched_with_account)


def unread_count(user: Any) -> int:
    """The account's unread notifications: no round trip of its own when fetched with
    the account (core.account_cache), one while no write has bumped the account's
    generation, otherwise counted and kept."""
    if user is None or not getattr(user, "is_authenticated", False):
        return 0
    return generations.kept(
        _key(user.pk),
        [_generation_key(user.pk)],
        lambda: Notification.objects.filter(recipient=user, read_at__isnull=True).count(),
        UNREAD_SECONDS,
    )


def unread_changed(user_ids: Iterable[int]) -> None:
    """The accounts' counts are stale once the transaction commits, and until then it
    counts afresh (generations.bump_after_commit)."""
    generations.bump_after_commit(_generation_key(pk) for pk in set(user_ids))
