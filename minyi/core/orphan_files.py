"""Sealed files that no row refers to: written by a process that died before the row
naming the file was committed (an export job killed between writing its file and
marking itself done, a worker killed mid-upload) or the `.sealing` copy of a
`seal_private_files` run stopped before its rename. Nothing would ever read or delete
them, and each holds personal data (sealed, but under a key that may still be in an
earlier database backup). `purge_document_files` (cron, daily) deletes them.

A file is an orphan only once it is older than ORPHAN_AGE: a file being written now has
no row yet, and the row comes within seconds of the file (an upload's request, an
export's last UPDATE, a sealing batch); a day is far beyond any of them, and beyond the
runs a job gets (minyi.documents.jobs: 30 minutes each, three of them). Only the folders
of the sealed fields are walked (representatives' photos and everything else in the
media folder are left alone), and a name is looked up in every sealed model, in batches.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.files.storage import Storage
from django.utils import timezone

from minyi.core.sealed_files import SealedFileField
from minyi.core.sealing_existing import sealed_fields

log = logging.getLogger(__name__)

ORPHAN_AGE = timedelta(days=1)
BATCH = 500


def folder_of(file_field: SealedFileField) -> str:
    """The folder a sealed field's files go under: its `upload_to` up to the first date
    placeholder, or the `folder` a callable `upload_to` declares."""
    upload_to = file_field.upload_to
    folder = getattr(upload_to, "folder", None) if callable(upload_to) else upload_to
    if not folder:
        raise ValueError(f"{file_field}: a callable upload_to must declare its folder")
    return str(folder).split("%", 1)[0].rstrip("/")


def _walk(storage: Storage, folder: str) -> Iterator[str]:
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:  # nothing stored there yet
        return
    for name in sorted(files):
        yield f"{folder}/{name}"
    for sub in sorted(folders):
        yield from _walk(storage, f"{folder}/{sub}")


def _old_files(storage: Storage, folders: set[str], cutoff: datetime) -> Iterator[str]:
    for folder in sorted(folders):
        for name in _walk(storage, folder):
            try:
                if storage.get_modified_time(name) < cutoff:
                    yield name
            except FileNotFoundError:  # deleted meanwhile (a purge, a sealing rename)
                continue


def _batches(names: Iterator[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    for name in names:
        batch.append(name)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass
class Swept:
    files: list[str] = field(default_factory=list)  # deleted, or due in a dry run
    failed: list[str] = field(default_factory=list)  # storage refused; tried again next run


def sweep_orphans(*, dry_run: bool = False, now: datetime | None = None) -> Swept:
    cutoff = (now or timezone.now()) - ORPHAN_AGE
    fields = list(sealed_fields())
    by_storage: dict[Storage, set[str]] = {}
    for _model, file_field in fields:
        by_storage.setdefault(file_field.storage, set()).add(folder_of(file_field))
    swept = Swept()
    for storage, folders in by_storage.items():
        for batch in _batches(_old_files(storage, folders, cutoff)):
            referred: set[str] = set()
            for model, file_field in fields:  # one query per sealed model and batch
                name = file_field.attname
                referred.update(
                    model._base_manager.filter(**{f"{name}__in": batch}).values_list(
                        name, flat=True
                    )
                )
            for orphan in (name for name in batch if name not in referred):
                if dry_run:
                    swept.files.append(orphan)
                    continue
                try:
                    storage.delete(orphan)
                except OSError:
                    log.exception("could not delete the orphan file %s", orphan)
                    swept.failed.append(orphan)
                    continue
                swept.files.append(orphan)
    return swept
