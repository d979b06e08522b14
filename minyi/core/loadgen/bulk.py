"""Bulk writing of model rows: COPY on PostgreSQL, batched INSERTs on SQLite.

Every value goes through its field exactly as `bulk_create` would send it: the field's
`pre_save` (so a field that derives its value, such as a digest column, derives it)
and then `get_db_prep_save` (so an encrypted field encrypts). Nothing here builds a
database value by hand. Primary keys are assigned here, so that rows of one table can
point at rows of another without reading them back; sequences are reset at the end.

What makes it fast enough for millions of rows (docs/performance.md, section 1):

- a field is asked once per distinct value and its answer remembered. For Django's own
  fields the answer is the same every time; an encrypted field's answer is a Fernet
  token, which decrypts to its value wherever it is stored, so one person's phone is
  one token on each of their rows (as if the rows had been copied). A derived column
  (a phone digest, a masked name) depends on its source value alone
  (minyi.core.crypto.DerivedField), so it is remembered per value;
- on PostgreSQL the COPY runs in a thread of its own while the next batch is
  prepared (the server ingests on one core while Python prepares on the other), and
  the secondary indexes and foreign keys of the loaded tables are dropped for the load
  and re-created at its end, in the same transaction (`deferred_indexes`): building an
  index once is far cheaper than updating it row by row, and re-adding a foreign key
  checks every row, so nothing is left unchecked.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models.base import ModelState

from minyi.core.crypto import DerivedField
from minyi.core.models import column_of

SQLITE_BATCH = 2000
CACHE_LIMIT = 50_000
# Fields whose pre_save would overwrite a historical value we pass in.
_AUTO_TIME = (models.DateTimeField, models.DateField)


_SAMPLE_INT = 123_456_789
_SAMPLE_TIME = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


def conversions(field: models.Field, db: Any) -> dict[type, Callable[[Any], Any]]:
    """How `field` prepares an int or an aware datetime, where that is a plain
    conversion the same for every value: Django's integer and foreign-key columns on
    PostgreSQL wrap the int in psycopg's Int4/Int8, date-time columns send an aware
    datetime as it is. Checked once on a sample, then applied to every value of the
    type without asking the field (ids and times are nearly all distinct, so
    remembering answers would not help)."""
    found: dict[type, Callable[[Any], Any]] = {}
    try:
        prepared = field.get_db_prep_save(_SAMPLE_INT, db)
    except Exception:  # a field for other kinds of values
        prepared = None
    if isinstance(prepared, int) and not isinstance(prepared, bool) and prepared == _SAMPLE_INT:
        found[int] = type(prepared)
    try:
        prepared = field.get_db_prep_save(_SAMPLE_TIME, db)
    except Exception:
        prepared = None
    if prepared is _SAMPLE_TIME:

        def as_is(value: datetime) -> Any:
            # A naive datetime is made aware by the field (with a warning): ask it.
            return value if value.tzinfo is not None else field.get_db_prep_save(value, db)

        found[datetime] = as_is
    return found


def next_id(model: type[models.Model]) -> int:
    # The default manager is `objects` for every model written here (none declares another).
    last = model._default_manager.order_by("-pk").values_list("pk", flat=True).first()
    return (last or 0) + 1


class CopyPipe:
    """Runs the COPYs of a phase, in order, in a thread of its own, on the same
    connection and transaction, while the caller prepares the next batch. The caller
    must not read the database while the pipe is open (its rows may not have arrived);
    leaving the `with` block waits for every COPY and raises the first error."""

    def __init__(self) -> None:
        self.raw = connection.connection  # psycopg's connection, which takes a lock per call
        self.queue: queue.Queue[tuple[str, list[list[Any]] | bytes] | None] = queue.Queue(maxsize=6)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="copy-pipe", daemon=True)

    def __enter__(self) -> CopyPipe:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None and exc[0] is None:
            raise self.error

    def put(self, sql: str, rows: list[list[Any]] | bytes) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put((sql, rows))

    def _run(self) -> None:
        while (item := self.queue.get()) is not None:
            if self.error is not None:
                continue  # the transaction is lost; drain until the caller notices
            sql, rows = item
            try:
                with self.raw.cursor() as cursor, cursor.copy(sql) as copy:
                    if isinstance(rows, bytes):
                        copy.write(rows)  # COPY text made by a worker (CopyText)
                    else:
                        for row in rows:
                            copy.write_row(row)
            except BaseException as exc:
                self.error = exc


class CopyText:
    """Stands in for the COPY pipe in a worker process: turns a batch of prepared rows
    into COPY text with psycopg's own formatter (the same text `write_row` sends) and
    hands it on, so the process feeding the database only passes bytes along."""

    def __init__(self, send: Callable[[str, bytes], object]) -> None:
        from psycopg._copy_base import TextFormatter  # the formatter behind write_row
        from psycopg.adapt import Transformer

        self.send = send
        self.formatter = TextFormatter
        self.transformer = Transformer()

    def put(self, sql: str, rows: list[list[Any]]) -> None:
        formatter = self.formatter(self.transformer)
        chunks = [formatter.write_row(row) for row in rows]
        chunks.append(formatter.end())
        self.send(sql, b"".join(chunks))


class BulkWriter:
    """`add(**values)` one row (attnames; the rest take the field defaults)."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.names = [f.attname for f in self.fields]
        self.defaults = {f.attname: f.get_default() for f in self.fields if not f.primary_key}
        # A unique column whose default is drawn anew for each row (a booking's 预约号):
        # the defaults above are drawn once, so every row would share one; each row must
        # bring its own.
        self.drawn = frozenset(
            f.attname for f in self.fields if f.unique and f.has_default() and callable(f.default)
        )
        self.timed = {
            f.attname
            for f in self.fields
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        }
        # Every field's answer for a value is remembered (see the module's docstring):
        # Django's own fields answer the same every time, an encrypted field's token
        # decrypts to the value on every row it is stored in.
        self.plan: list[tuple[models.Field, str, dict[Any, Any]]] = [
            (f, f.attname, {}) for f in self.fields
        ]
        # The connection itself, not the thread-local proxy: resolving the proxy for
        # every value cost more than the values.
        self.db = connections[DEFAULT_DB_ALIAS]
        # A derived column (a phone digest, a masked name) is a function of its source
        # value alone: remembered per value.
        self.digests: list[tuple[DerivedField, int, str, dict[Any, str]]] = [
            (f, i, f.source, {}) for i, f in enumerate(self.fields) if isinstance(f, DerivedField)
        ]
        # pre_save matters only where a field computes its value; auto_now fields take
        # the historical value we pass and fall back to pre_save when none is given.
        self.computing = [
            f
            for f in self.fields
            if type(f).pre_save is not models.Field.pre_save
            and not isinstance(f, DerivedField)
            and not (isinstance(f, _AUTO_TIME) and not (f.auto_now or f.auto_now_add))
        ]
        self.timed_computing = [f.attname for f in self.computing if f.attname in self.timed]
        self.computing_always = [f for f in self.computing if f.attname not in self.timed]
        self.slots = {
            name: (i, f, cache, conversions(f, self.db))
            for i, (f, name, cache) in enumerate(self.plan)
        }
        self.postgresql = connection.vendor == "postgresql"
        self.batch: list[list[Any]] = []
        self.count = 0
        # The defaults, prepared once; a row replaces the values it is given.
        pk = model._meta.pk.attname
        self.template = [] if self.computing_always else self._row_through_instance({pk: None})
        quote = connection.ops.quote_name
        columns = ", ".join(quote(column_of(f)) for f in self.fields)
        placeholders = ", ".join(["%s"] * len(self.fields))
        # Table and column names come from the model, never from input.
        table = quote(model._meta.db_table)
        self.insert_sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
        self.copy_sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"

    def _instance(self, data: dict[str, Any]) -> models.Model:
        obj = self.model.__new__(self.model)
        obj._state = ModelState()
        obj.__dict__.update(data)
        return obj

    def _prepare(self, field: models.Field, value: Any, cache: dict[Any, Any]) -> Any:
        try:
            return cache[value]
        except KeyError:
            if len(cache) > CACHE_LIMIT:
                cache.clear()
            cache[value] = prepared = field.get_db_prep_save(value, self.db)
            return prepared
        except TypeError:  # unhashable
            return field.get_db_prep_save(value, self.db)

    def _digest(self, field: DerivedField, phone: Any, known: dict[Any, str]) -> str:
        try:
            return known[phone]
        except KeyError:
            if len(known) > CACHE_LIMIT:
                known.clear()
            known[phone] = value = field.pre_save(self._instance({field.source: phone}), True)
            return value

    def row(self, values: dict[str, Any]) -> list[Any]:
        """The row as the database receives it. The common case (no field computes
        its value from the others, apart from the phone digests) starts from the
        prepared defaults and prepares only the values given."""
        if self.computing_always or any(values.get(n) is None for n in self.timed_computing):
            return self._row_through_instance(values)
        out = self.template.copy()
        slots = self.slots
        for name, value in values.items():
            i, field, cache, convert = slots[name]
            if convert and (conversion := convert.get(type(value))) is not None:
                out[i] = conversion(value)
                continue
            try:
                out[i] = cache[value]
            except (KeyError, TypeError):
                out[i] = self._prepare(field, value, cache)
        for field, i, source, known in self.digests:
            if source in values:
                prepared = self._digest(field, values[source], known)
                out[i] = self._prepare(field, prepared, slots[field.attname][2])
        return out

    def _row_through_instance(self, values: dict[str, Any]) -> list[Any]:
        data = {**self.defaults, **values}
        computing = [
            f for f in self.computing if f.attname not in self.timed or data[f.attname] is None
        ]
        # A field that computes its value reads it from a model instance.
        obj = self._instance(data)
        for field in computing:
            data[field.attname] = field.pre_save(obj, True)
        for field, _, source, known in self.digests:
            data[field.attname] = self._digest(field, data[source], known)
        return [self._prepare(field, data[name], cache) for field, name, cache in self.plan]

    def add(self, **values: Any) -> None:
        if self.drawn and not self.drawn <= values.keys():
            missing = ", ".join(sorted(self.drawn - values.keys()))
            raise ValueError(f"{self.model.__name__}: each row needs its own {missing}")
        self.batch.append(self.row(values))
        self.count += 1
        if not self.postgresql and len(self.batch) >= SQLITE_BATCH:
            self.flush()

    def flush(self, pipe: CopyPipe | CopyText | None = None) -> None:
        """Write the rows held so far: one COPY on PostgreSQL (a connection runs one
        COPY at a time, so tables are flushed one after the other; through the pipe
        when one is open), batched INSERTs on SQLite."""
        if not self.batch:
            return
        if self.postgresql and pipe is not None:
            pipe.put(self.copy_sql, self.batch)
            self.batch = []
            return
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(self.copy_sql) as copy:
                    for row in self.batch:
                        copy.write_row(row)
            else:
                cursor.executemany(self.insert_sql, self.batch)
        self.batch = []


@contextmanager
def deferred_indexes(*model_list: type[models.Model]) -> Iterator[None]:
    """PostgreSQL: drop the secondary indexes and foreign keys of these tables, load,
    then re-create them exactly as they were (their definitions as PostgreSQL prints
    them). Must run inside the load's transaction: if the load fails, the
    rollback restores the dropped ones too. Indexes that back a constraint (primary
    keys, unique constraints) stay, and keep checking during the load. Elsewhere a
    no-op."""
    if connection.vendor != "postgresql":
        yield
        return
    assert connection.in_atomic_block, "deferred_indexes needs the load's transaction"
    tables = [m._meta.db_table for m in model_list]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            WHERE i.indrelid = ANY (SELECT to_regclass(t) FROM unnest(%s::text[]) t)
              AND NOT i.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
            """,
            [tables],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            """
            SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid)
            FROM pg_constraint
            WHERE contype = 'f'
              AND conrelid = ANY (SELECT to_regclass(t) FROM unnest(%s::text[]) t)
            """,
            [tables],
        )
        foreign_keys = cursor.fetchall()
        # Names and definitions come from the catalogue, never from input.
        for table, name, _ in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for _, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")


def reset_sequences(*model_list: type[models.Model]) -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
