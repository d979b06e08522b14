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

A row with a file and no key is one still to seal (`unsealed`, the deploy check of
minyi.core.checks, read through a partial index), and so is a row whose key is committed
and whose rename is not yet done: a `PendingSeal` marks it from the key's transaction
until the rename is on disk, for the check to count (a run killed in between would
otherwise leave a plain file that the check, reading no files, passed). A row whose file
is missing from storage keeps no key, so the check goes on reporting it, unless the
operator confirms the file is lost (`forget_missing`): a media folder not mounted must
not pass for sealed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.utils import timezone

from minyi.core.models import PendingSeal
from minyi.core.sealed_files import MAGIC, SealedFileField, is_sealed, new_key, seal_stream

BATCH = 100
PENDING = ".sealing"


@dataclass
class Tally:
    sealed: int = 0
    already: int = 0
    missing: int = 0
    forgotten: int = 0  # missing files given a key (forget_missing)
    plain: list[str] = field(default_factory=list)  # --check: the files still plain


def sealed_fields() -> Iterator[tuple[type[models.Model], SealedFileField]]:
    for model in apps.get_models():
        for model_field in model._meta.concrete_fields:
            if isinstance(model_field, SealedFileField):
                yield model, model_field


def unsealed(model: type[models.Model], file_field: SealedFileField) -> models.QuerySet[Any]:
    """The rows with a file and no key: stored before sealing and not sealed since (or
    missing from storage). The partial index `*_unsealed` holds exactly these rows."""
    return model._base_manager.filter(**{file_field.key_field: ""}).exclude(
        **{file_field.attname: ""}
    )


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
    model: type[models.Model],
    file_field: SealedFileField,
    *,
    check: bool = False,
    forget_missing: bool = False,
) -> Tally:
    started = timezone.now()
    tally = _seal_rows(model, file_field, check=check, forget_missing=forget_missing)
    if not check:
        # Every row has been read and every plain one sealed, so a mark older than this
        # run is stale: its rename was done by a run killed before the mark's deletion,
        # or its row has been purged since. A run started after this one keeps its own.
        PendingSeal.objects.filter(label=model._meta.label, since__lt=started).delete()
    return tally


def _seal_rows(
    model: type[models.Model],
    file_field: SealedFileField,
    *,
    check: bool,
    forget_missing: bool,
) -> Tally:
    storage = file_field.storage
    name_attr, key_attr = file_field.attname, file_field.key_field
    label = model._meta.label
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
                if forget_missing and not check and not getattr(row, key_attr):
                    # No file to seal: the key only records that the operator knows it
                    # is lost. Should a plain copy come back, it is read by its first
                    # bytes as before, and the next run seals it under this key.
                    todo.append((row, new_key(), ""))
            elif is_sealed(head):
                tally.already += 1
            elif check:
                tally.plain.append(name)
            else:
                todo.append((row, getattr(row, key_attr) or new_key(), path))
        if not todo:
            continue
        pending = [_write_sealed(path, key) if path else "" for _row, key, path in todo]
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
                elif sealed_copy:
                    os.remove(sealed_copy)
            model._base_manager.bulk_update([row for row, _path, _copy in keep], [key_attr])
            renames = [entry for entry in keep if entry[2]]
            PendingSeal.objects.bulk_create(
                [PendingSeal(label=label, row=row.pk) for row, _path, _copy in renames],
                ignore_conflicts=True,  # left by a killed run: this run finishes its file
            )
        forgotten = [entry for entry in keep if not entry[2]]
        keep = renames
        for _row, path, sealed_copy in keep:
            os.replace(sealed_copy, path)
            _fsync_directory(path)
        PendingSeal.objects.filter(label=label, row__in=[row.pk for row, _p, _c in keep]).delete()
        tally.sealed += len(keep)
        tally.forgotten += len(forgotten)
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
