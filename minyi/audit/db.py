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
# pg_advisory_xact_lock key that serialises appends to the chain ("audit" in ASCII).
PG_LOCK_KEY = 0x6175646974

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
