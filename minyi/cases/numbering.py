"""Registration-form numbers (annex note 1): street + community studio + year + serial,
e.g. 沙头角街道沙头角社区2026001. Three digits, growing to four after 999; never reused,
never wrapped, gap-free per prefix and year. A community's prefix is its own
(`OrgUnit.number_prefix`, minyi.org.prefixes): unique in the deployment, so the
sequence is the community's. Any other studio's is its own (`Studio.number_prefix`),
unique as well, so its sequence is the studio's."""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction

from minyi.audit.models import Action
from minyi.audit.trail import object_type_of, record
from minyi.cases.models import CaseNumberCounter
from minyi.org.models import Level, OrgUnit
from minyi.org.prefixes import studio_number_prefix


def number_prefix(studio) -> str:
    """A community studio is named by its community's prefix (its street and community,
    as on the paper form, unless another community has that: minyi.org.prefixes); any
    other studio by its own (its name, unless a unit, another studio or a counter has
    that). Read from the unit's or the studio's row, no query, except at a studio's
    first number, which stores its prefix: call it in the registration's transaction."""
    unit = studio.unit
    if unit.level == Level.COMMUNITY and unit.number_prefix:
        return unit.number_prefix
    return studio_number_prefix(studio)


def format_number(prefix: str, year: int, serial: int) -> str:
    return f"{prefix}{year}{serial:03d}"


def _take_sql() -> str:
    meta = CaseNumberCounter._meta
    q = connection.ops.quote_name
    # Table and column names from the model, no input.
    return (
        f"UPDATE {q(meta.db_table)} SET {q('last_serial')} = {q('last_serial')} + 1 "  # noqa: S608
        f"WHERE {q('prefix')} = %s AND {q('year')} = %s RETURNING {q('id')}, {q('last_serial')}"
    )


def _take(prefix: str, year: int) -> tuple[int, int] | None:
    with connection.cursor() as cursor:
        cursor.execute(_take_sql(), [prefix, year])
        return cursor.fetchone()


def next_number(studio, prefix: str, year: int) -> tuple[str, int]:
    """Take the next number's prefix and serial. `prefix` is `number_prefix(studio)` as
    the request read it (the studio and its unit may come from the choices' cache).
    Must run inside the transaction that inserts the case: the counter row stays locked
    until it commits (the UPDATE's row lock on PostgreSQL; on SQLite the IMMEDIATE
    transaction already holds the database's write lock), and a rollback gives the
    serial back, so there are no gaps."""
    assert transaction.get_connection().in_atomic_block, "next_number needs a transaction"
    # One statement increments, locks and reads the row (it was a locking read and an
    # UPDATE). A concurrent transaction's UPDATE waits for the lock and then increments
    # the committed value, so serials stay gap-free and unique.
    taken = _take(prefix, year)
    if taken is None:
        # No counter this year: maybe the first number ever under the prefix, the one
        # moment a community's prefix may still change (minyi.org.prefixes).
        prefix = _prefix_at_first_number(studio, prefix)
        taken = _take(prefix, year)
    if taken is None:
        try:
            with transaction.atomic():
                CaseNumberCounter.objects.create(prefix=prefix, year=year)
        except IntegrityError:
            pass  # another transaction created the row first; the UPDATE waits for it
        taken = _take(prefix, year)
        assert taken is not None, "the counter row exists now"
    pk, serial = taken
    # The UPDATE sends no post_save: the same row the signal wrote for counter.save().
    record(
        Action.UPDATE,
        object_type=object_type_of(CaseNumberCounter),
        object_id=pk,
        fields=["last_serial"],
    )
    return prefix, serial


def _prefix_at_first_number(studio, prefix: str) -> str:
    """The community's prefix as it is now, its row share-locked to the commit. A
    community renamed before its first number takes its new name's prefix
    (`assign_number_prefix`), deciding under its row's exclusive lock whether any case
    is numbered under the old one. Sharing the row's lock with that decision makes the
    two take turns: a rename that came first has committed when this reads the row (so
    the new prefix is used: also what corrects a prefix read from a cache before the
    rename), and one that comes after waits for this counter to commit, then sees it
    and keeps the prefix. Registrations share the lock, so they never wait for each
    other; and only the first number of a year gets here, not the 100 a second at
    counters that exist. SQLite needs no lock: its IMMEDIATE transactions serialise
    writers, so the read sees every committed rename and none can come between it and
    the commit (the re-read itself is needed there too, against the cached prefix)."""
    unit = studio.unit
    if unit.level != Level.COMMUNITY or unit.number_prefix != prefix:
        return prefix  # a studio's own prefix: stored at its first number, never changed
    meta = OrgUnit._meta
    q = connection.ops.quote_name
    lock = " FOR SHARE" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        # Table and column names from the model, no input. Django's select_for_update
        # has no FOR SHARE, and FOR KEY SHARE would not hold off a rename's UPDATE.
        cursor.execute(
            f"SELECT {q('number_prefix')} FROM {q(meta.db_table)} "  # noqa: S608
            f"WHERE {q('id')} = %s{lock}",
            [unit.pk],
        )
        row = cursor.fetchone()
    if row is None or row[0] == prefix:
        return prefix  # a unit deleted meanwhile is refused by its foreign key at COMMIT
    if row[0]:
        return row[0]
    # Renamed out of any prefix (no street, or too long): its studio numbers by its own,
    # as number_prefix would now say. Its claim's lock comes after the row's lock, the
    # order a rename takes them in (assign_number_prefix).
    return studio_number_prefix(studio)
