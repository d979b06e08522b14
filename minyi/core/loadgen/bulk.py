"""Bulk writing of model rows: COPY on PostgreSQL, batched INSERTs on SQLite.

Every value goes through its field exactly as `bulk_create` would send it: the field's
`pre_save` (so a field that derives its value, such as a digest column, derives it)
and then `get_db_prep_save` (so an encrypted field encrypts). Nothing here builds a
database value by hand. Primary keys are assigned here, so that rows of one table can
point at rows of another without reading them back; sequences are reset at the end.
"""

from __future__ import annotations

from typing import Any

from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models.base import ModelState

SQLITE_BATCH = 2000
CACHE_LIMIT = 50_000
# Fields whose pre_save would overwrite a historical value we pass in.
_AUTO_TIME = (models.DateTimeField, models.DateField)


def next_id(model: type[models.Model]) -> int:
    last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
    return (last or 0) + 1


class BulkWriter:
    """`add(**values)` one row (attnames; the rest take the field defaults)."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.names = [f.attname for f in self.fields]
        self.defaults = {f.attname: f.get_default() for f in self.fields if not f.primary_key}
        self.timed = {
            f.attname
            for f in self.fields
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        }
        # Django's own fields prepare a value the same way every time, so their answer
        # for a repeated value (a state, a foreign key, a date) is remembered. Any other
        # field (an encrypted one: a fresh nonce per value) is asked for every row.
        self.plan = [
            (f, f.attname, {} if type(f).__module__.startswith("django.db.models.") else None)
            for f in self.fields
        ]
        # The connection itself, not the thread-local proxy: resolving the proxy for
        # every value cost more than the values.
        self.db = connections[DEFAULT_DB_ALIAS]
        # pre_save matters only where a field computes its value; auto_now fields take
        # the historical value we pass and fall back to pre_save when none is given.
        self.computing = [
            f
            for f in self.fields
            if type(f).pre_save is not models.Field.pre_save
            and not (isinstance(f, _AUTO_TIME) and not (f.auto_now or f.auto_now_add))
        ]
        self.batch: list[list[Any]] = []
        self.count = 0
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in self.fields)
        placeholders = ", ".join(["%s"] * len(self.fields))
        # Table and column names come from the model, never from input.
        table = quote(model._meta.db_table)
        self.insert_sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
        self.copy_sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"

    def row(self, values: dict[str, Any]) -> list[Any]:
        data = {**self.defaults, **values}
        computing = [
            f for f in self.computing if f.attname not in self.timed or data[f.attname] is None
        ]
        if computing:
            # A field that computes its value reads it from a model instance.
            obj = self.model.__new__(self.model)
            obj._state = ModelState()
            obj.__dict__.update(data)
            for field in computing:
                data[field.attname] = field.pre_save(obj, True)
        db = self.db
        out = []
        for field, name, cache in self.plan:
            value = data[name]
            if cache is None:
                out.append(field.get_db_prep_save(value, db))
                continue
            try:
                out.append(cache[value])
            except KeyError:
                if len(cache) > CACHE_LIMIT:
                    cache.clear()
                cache[value] = prepared = field.get_db_prep_save(value, db)
                out.append(prepared)
            except TypeError:  # unhashable
                out.append(field.get_db_prep_save(value, db))
        return out

    def add(self, **values: Any) -> None:
        self.batch.append(self.row(values))
        self.count += 1
        if connection.vendor != "postgresql" and len(self.batch) >= SQLITE_BATCH:
            self.flush()

    def flush(self) -> None:
        """Write the rows held so far: one COPY on PostgreSQL (a connection runs one
        COPY at a time, so tables are flushed one after the other), batched INSERTs
        on SQLite."""
        if not self.batch:
            return
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(self.copy_sql) as copy:
                    for row in self.batch:
                        copy.write_row(row)
            else:
                cursor.executemany(self.insert_sql, self.batch)
        self.batch.clear()


def reset_sequences(*model_list: type[models.Model]) -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
