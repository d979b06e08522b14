"""Registration-form numbers (annex note 1): street + community studio + year + serial,
e.g. 沙头角街道沙头角社区2026001. Three digits, growing to four after 999; never reused,
never wrapped, gap-free per studio and year."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from minyi.cases.models import CaseNumberCounter
from minyi.org.models import Level


def number_prefix(studio) -> str:  # type: ignore[no-untyped-def]
    """A community studio is named by its street and community, as on the paper form;
    any other studio by its own name."""
    unit = studio.unit
    if unit.level == Level.COMMUNITY and unit.street is not None:
        return f"{unit.street.name}{unit.short_name}"
    return studio.name


def format_number(prefix: str, year: int, serial: int) -> str:
    return f"{prefix}{year}{serial:03d}"


def next_serial(prefix: str, year: int) -> int:
    """Take the next serial. Must run inside the transaction that inserts the case: the
    counter row stays locked until it commits (select_for_update on PostgreSQL; on
    SQLite the IMMEDIATE transaction already holds the database's write lock), and a
    rollback gives the serial back, so there are no gaps."""
    assert transaction.get_connection().in_atomic_block, "next_serial needs a transaction"
    counters = CaseNumberCounter.objects.select_for_update()
    # Usually the row exists: one locking read, no savepoint around a get_or_create.
    counter = counters.filter(prefix=prefix, year=year).first()
    if counter is None:
        try:
            with transaction.atomic():
                CaseNumberCounter.objects.create(prefix=prefix, year=year)
        except IntegrityError:
            pass  # another transaction created the row first; the lock below waits for it
        counter = counters.get(prefix=prefix, year=year)
    counter.last_serial += 1
    counter.save(update_fields=["last_serial"])
    return counter.last_serial
