"""Database-side protection of the audit table, per vendor.

UPDATE is always refused; DELETE only of rows older than RETENTION_FLOOR_DAYS (the six
months of Cybersecurity Law art. 21, rounded up), which is how `purge_audit` removes old rows.
The triggers are created by migration 0002 from the SQL below.

SQLite has no session settings, so its delete trigger also asks a function this module
registers on every connection, `minyi_audit_flush()`: true only inside `allow_flush()`, which
the test suite wraps around Django's table flush between transactional tests (PostgreSQL
flushes with TRUNCATE, which row triggers do not see). A connection without the function (the
sqlite3 shell) cannot delete recent rows at all.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from django.db import connection
from django.db.backends.signals import connection_created

TABLE = "audit_auditevent"
RETENTION_FLOOR_DAYS = 184
# The trail is LANES independent hash chains ("lanes"). On PostgreSQL a transaction appends
# to lane txid_current() % LANES and holds that lane's advisory lock until it commits, so
# only transactions that land in the same lane wait for each other: with one chain every
# audited write in the system was serialised on one lock (issue 8). Eight is several times
# the writers the server runs at once (4 workers, plus cron and commands), so two concurrent
# writers share a lane one time in eight; more lanes would only lengthen verify's report.
# Changing LANES is safe at any time (each row stores its lane; verify walks whatever lanes
# exist). SQLite writes everything to lane 0: its IMMEDIATE transactions serialise writers.
LANES = 8
# First key of the two-int4 pg_advisory_xact_lock(key, lane) that serialises one lane's
# appends ("audi" in ASCII; the second key is the lane).
PG_LOCK_KEY = 0x61756469
# One statement that locks the transaction's lane and returns it. The lock must be taken
# before the lane's head is read, in a separate statement: under READ COMMITTED a statement
# sees the rows committed when it started, so a head read in the statement that waited for
# the lock could miss the row the previous holder committed meanwhile. txid_current() is the
# top-level transaction's id (also inside savepoints), so every append of a transaction uses
# one lane, and a transaction never holds two lane locks (no deadlock between lanes).
PG_LANE_LOCK_SQL = (
    # Two integer constants of this module, no input:
    f"SELECT l.lane FROM (SELECT (txid_current() % {LANES})::int AS lane) l, "  # noqa: S608
    f"LATERAL pg_advisory_xact_lock({PG_LOCK_KEY}, l.lane)"
)

_flush = threading.local()


@contextlib.contextmanager
def allow_flush() -> Iterator[None]:
    _flush.on = True
    try:
        yield
    finally:
        _flush.on = False


def _flush_allowed() -> int:
    return 1 if getattr(_flush, "on", False) else 0


def _register(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function("minyi_audit_flush", 0, _flush_allowed)


def connect() -> None:
    connection_created.connect(_register, dispatch_uid="minyi.audit.db")
    # A connection opened before the app was ready (rare) gets the function too.
    if connection.vendor == "sqlite" and connection.connection is not None:
        _register(None, connection)


SQLITE_CREATE = [
    f"""CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, 'audit trail is append-only: UPDATE refused'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON {TABLE}
    WHEN OLD."at" >= strftime('%Y-%m-%d %H:%M:%f', 'now', '-{RETENTION_FLOOR_DAYS} days')
         AND minyi_audit_flush() = 0
    BEGIN SELECT RAISE(ABORT, 'audit trail is append-only: DELETE refused'); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_no_update",
    "DROP TRIGGER IF EXISTS audit_no_delete",
]

POSTGRES_CREATE = [
    f"""CREATE OR REPLACE FUNCTION audit_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            RAISE EXCEPTION 'audit trail is append-only: UPDATE refused';
        END IF;
        IF OLD."at" >= now() - interval '{RETENTION_FLOOR_DAYS} days' THEN
            RAISE EXCEPTION 'audit trail is append-only: DELETE refused';
        END IF;
        RETURN OLD;
    END $$""",
    f"""CREATE TRIGGER audit_guard BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION audit_guard()""",
]
POSTGRES_DROP = [
    f"DROP TRIGGER IF EXISTS audit_guard ON {TABLE}",
    "DROP FUNCTION IF EXISTS audit_guard()",
]


def create_sql(vendor: str) -> list[str]:
    return {"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE}.get(vendor, [])


def drop_sql(vendor: str) -> list[str]:
    return {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}.get(vendor, [])
