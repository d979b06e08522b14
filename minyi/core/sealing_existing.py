"""Sealing the private files written before they were sealed (`manage.py
seal_private_files`, docs/operations.md).

For each batch of rows: every plain file is sealed into `<file>.sealing` beside it and
fsynced; the batch's new keys are committed in one UPDATE; then each sealed copy replaces
its plain file (an atomic rename, and the directory fsynced). A run stopped anywhere
leaves every file readable: before the rename the plain file is still there (and reading
goes by the file's first bytes, not by the key column), after it the key is committed.
The next run seals what is still plain, with the key already committed if there is one,
and skips what is sealed, so it is idempotent and resumable. Works on FileSystemStorage
(the media folder), whose paths it needs for fsync and rename.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models, transaction

from minyi.core.sealed_files import MAGIC, SealedFileField, is_sealed, new_key, seal_stream

BATCH = 100
PENDING = ".sealing"


@dataclass
class Tally:
    sealed: int = 0
    already: int = 0
    missing: int = 0
    plain: list[str] = field(default_factory=list)  # --check: the files still plain


def sealed_fields() -> Iterator[tuple[type[models.Model], SealedFileField]]:
    for model in apps.get_models():
        for model_field in model._meta.concrete_fields:
            if isinstance(model_field, SealedFileField):
                yield model, model_field


def _fsync_directory(path: str) -> None:
    fd = os.open(os.path.dirname(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _head(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read(len(MAGIC))
    except FileNotFoundError:
        return None


def _write_sealed(path: str, key: str) -> str:
    pending = path + PENDING
    with open(path, "rb") as source, open(pending, "wb") as target:
        for chunk in seal_stream(source, key):
            target.write(chunk)
        target.flush()
        os.fsync(target.fileno())
    os.chmod(pending, os.stat(path).st_mode & 0o777)
    return pending


def seal_model(
    model: type[models.Model], file_field: SealedFileField, *, check: bool = False
) -> Tally:
    storage = file_field.storage
    name_attr, key_attr = file_field.attname, file_field.key_field
    rows = (
        model._base_manager.exclude(**{name_attr: ""})
        .order_by("pk")
        .only("pk", name_attr, key_attr)
    )
    tally = Tally()
    last = 0
    while True:
        batch = list(rows.filter(pk__gt=last)[:BATCH])
        if not batch:
            return tally
        last = batch[-1].pk
        todo: list[tuple[Any, str, str]] = []  # (row, key, path)
        for row in batch:
            name = getattr(row, name_attr).name
            path = storage.path(name)
            head = _head(path)
            if head is None:
                tally.missing += 1
            elif is_sealed(head):
                tally.already += 1
            elif check:
                tally.plain.append(name)
            else:
                todo.append((row, getattr(row, key_attr) or new_key(), path))
        if not todo:
            continue
        pending = [_write_sealed(path, key) for _row, key, path in todo]
        with transaction.atomic():
            # Only rows still pointing at the same file get a key: a purge that ran
            # meanwhile has emptied or deleted the row, and its key must stay gone.
            current = dict(
                model._base_manager.select_for_update()
                .filter(pk__in=[row.pk for row, _key, _path in todo])
                .values_list("pk", name_attr)
            )
            keep = []
            for (row, key, path), sealed_copy in zip(todo, pending, strict=True):
                if current.get(row.pk) == getattr(row, name_attr).name:
                    setattr(row, key_attr, key)
                    keep.append((row, path, sealed_copy))
                else:
                    os.remove(sealed_copy)
            model._base_manager.bulk_update([row for row, _path, _copy in keep], [key_attr])
        for _row, path, sealed_copy in keep:
            os.replace(sealed_copy, path)
            _fsync_directory(path)
        tally.sealed += len(keep)
        _remove_purged_meanwhile(model, name_attr, keep)


def _remove_purged_meanwhile(model: type[models.Model], name_attr: str, done: list) -> None:
    """A purge between the commit and the rename deleted the plain file and the key; the
    rename then put a sealed copy back that nothing can open. Tidy it away."""
    names = {getattr(row, name_attr).name: path for row, path, _copy in done}
    still = set(
        model._base_manager.filter(**{f"{name_attr}__in": list(names)}).values_list(
            name_attr, flat=True
        )
    )
    for name, path in names.items():
        if name not in still and os.path.exists(path):
            os.remove(path)
