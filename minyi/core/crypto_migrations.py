"""Encrypting the rows that existed before a column became encrypted, for migrations.

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
    apps: Any, schema_editor: Any, label: str, fields: Sequence[str], digests: dict, forward: bool
) -> None:
    connection = schema_editor.connection
    qn = connection.ops.quote_name
    table, pk, columns = _columns(apps, label, fields)
    digest_columns = _columns(apps, label, list(digests))[2] if digests else []
    sources = [columns[list(fields).index(source)] for source in digests.values()]
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
            for column, source in zip(digest_columns, sources, strict=True):
                new[column] = crypto.phone_digest(plain[source] or "")
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
    label: str, fields: Sequence[str], digests: dict[str, str] | None = None
) -> migrations.RunPython:
    """A RunPython that encrypts `fields` of model `label` ("app.Model") in place and
    fills each digest column from its source ({"reporter_phone_digest": "reporter_phone"}).
    Place it after the AlterField/AddField operations of the same columns."""
    digests = digests or {}

    def forward(apps: Any, schema_editor: Any) -> None:
        _rewrite(apps, schema_editor, label, fields, digests, forward=True)

    def backward(apps: Any, schema_editor: Any) -> None:
        _rewrite(apps, schema_editor, label, fields, digests, forward=False)

    return migrations.RunPython(forward, backward, elidable=False)
