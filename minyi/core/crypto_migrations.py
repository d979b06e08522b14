"""Encrypting the rows that existed before a column became encrypted, and filling a
column derived from an encrypted one, for migrations.

Works on raw SQL, not on models: the historical model's field already decrypts on read,
and the rows still hold plain values at that point. Idempotent (a value that is already a
token is left alone) and reversible (the reverse decrypts, before the column type is
changed back).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import migrations

from minyi.core import crypto


def _columns(apps: Any, label: str, fields: Sequence[str]) -> tuple[str, str, list[str]]:
    model = apps.get_model(label)
    meta = model._meta
    return meta.db_table, meta.pk.column, [meta.get_field(name).column for name in fields]


def _rewrite(
    apps: Any, schema_editor: Any, label: str, fields: Sequence[str], derived: dict, forward: bool
) -> None:
    connection = schema_editor.connection
    qn = connection.ops.quote_name
    table, pk, columns = _columns(apps, label, fields)
    derived_columns = _columns(apps, label, list(derived))[2] if derived else []
    # Each derived column (a phone digest, a masked name) as its field derives it
    # (minyi.core.crypto.DerivedField), from the plain value of its source.
    derive = [apps.get_model(label)._meta.get_field(name).derive for name in derived]
    sources = [columns[list(fields).index(source)] for source in derived.values()]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {qn(pk)}, {', '.join(qn(c) for c in columns)} FROM {qn(table)}"  # noqa: S608
        )
        rows = cursor.fetchall()
    updates = []
    for key, *stored in rows:
        values = dict(zip(columns, stored, strict=True))
        if forward:
            plain = {c: crypto.decrypt(v) if crypto.is_token(v) else v for c, v in values.items()}
            new = {
                c: v if not v or crypto.is_token(v) else crypto.encrypt(v)
                for c, v in values.items()
            }
            for column, source, make in zip(derived_columns, sources, derive, strict=True):
                new[column] = make(plain[source] or "")
        else:
            new = {c: crypto.decrypt(v) if crypto.is_token(v) else v for c, v in values.items()}
        updates.append((new, key))
    if not updates:
        return
    names = list(updates[0][0])
    sql = (
        f"UPDATE {qn(table)} SET {', '.join(f'{qn(n)} = %s' for n in names)} "  # noqa: S608
        f"WHERE {qn(pk)} = %s"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [[new[n] for n in names] + [key] for new, key in updates])


def encrypt_existing(
    label: str, fields: Sequence[str], derived: dict[str, str] | None = None
) -> migrations.RunPython:
    """A RunPython that encrypts `fields` of model `label` ("app.Model") in place and
    fills each derived column from its source ({"reporter_phone_digest": "reporter_phone",
    "reporter_name_masked": "reporter_name"}); a source must be one of `fields`.
    Place it after the AlterField/AddField operations of the same columns."""
    derived = derived or {}

    def forward(apps: Any, schema_editor: Any) -> None:
        _rewrite(apps, schema_editor, label, fields, derived, forward=True)

    def backward(apps: Any, schema_editor: Any) -> None:
        _rewrite(apps, schema_editor, label, fields, derived, forward=False)

    return migrations.RunPython(forward, backward, elidable=False)


def _fill(
    apps: Any, schema_editor: Any, label: str, derived: dict[str, str], batch_size: int
) -> None:
    connection = schema_editor.connection
    qn = connection.ops.quote_name
    meta = apps.get_model(label)._meta
    fields = [meta.get_field(name) for name in derived]
    sources = [meta.get_field(source).column for source in derived.values()]
    table, pk = qn(meta.db_table), qn(meta.pk.column)
    select = (
        f"SELECT {pk}, {', '.join(qn(c) for c in sources)} FROM {table} "  # noqa: S608
        f"WHERE {pk} > %s ORDER BY {pk} LIMIT %s"
    )
    update = (
        f"UPDATE {table} SET {', '.join(f'{qn(f.column)} = %s' for f in fields)} "  # noqa: S608
        f"WHERE {pk} = %s"
    )
    last: Any = 0
    # By primary key, a batch at a time: a city's table (500,000 cases) is never held in
    # memory at once, and each batch is one SELECT and one executemany.
    while True:
        with connection.cursor() as cursor:
            cursor.execute(select, [last, batch_size])
            rows = cursor.fetchall()
        if not rows:
            return
        params = []
        for key, *stored in rows:
            plain = [crypto.decrypt(v) if crypto.is_token(v) else (v or "") for v in stored]
            params.append([f.derive(v) for f, v in zip(fields, plain, strict=True)] + [key])
        with connection.cursor() as cursor:
            cursor.executemany(update, params)
        last = rows[-1][0]


def fill_derived(
    label: str, derived: dict[str, str], batch_size: int = 2000
) -> migrations.RunPython:
    """A RunPython that fills each derived column of model `label` ("app.Model") from its
    encrypted source ({"phone_masked": "phone"}), as its field derives it, `batch_size`
    rows at a time. Place it after the AddField of the derived columns. Reversible: the
    reverse has nothing to undo, since the AddField's reverse drops the columns (and
    emptying them first would rewrite every row of a large table for nothing); run
    again, it derives the same values."""

    def forward(apps: Any, schema_editor: Any) -> None:
        _fill(apps, schema_editor, label, derived, batch_size)

    return migrations.RunPython(forward, migrations.RunPython.noop, elidable=False)
