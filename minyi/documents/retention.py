"""Retention of the Excel files (docs/personal-data.md). A background export's file holds
the rows its owner saw, reporters' and representatives' data among them, and an uploaded
sheet holds names and phones; both are only needed for a few days. `manage.py
purge_document_files` deletes from storage:

- an export's file MINYI_EXPORT_FILE_DAYS after it was written;
- an uploaded sheet's file once it is imported (the rows are in the database by then), or
  MINYI_IMPORT_FILE_DAYS after upload if it never was; never while its check or commit
  is running (the job holds the file and would fail for it): a later run deletes it
  once the job has ended, which every job does (minyi.documents.jobs.MAX_ATTEMPTS). A
  job still waiting is not spared: when it runs it ends 失败 saying the file was deleted
  by the retention period. An export has no file until its job is done.

The `Export` and `Import` rows stay as the record (who exported or imported what, when, how
many rows); the file field is cleared and `file_purged_at` set, so the pages can say why the
file is gone. Works in batches with two queries each (read with the rows locked, update) in
a transaction, whatever the batch size.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from minyi.documents.models import IMPORT_RUNNING, Export, Import, ImportState

log = logging.getLogger(__name__)

BATCH = 200


def export_file_days() -> int:
    # At least a day: a file deleted while its owner is still downloading it helps nobody.
    return max(1, settings.MINYI_EXPORT_FILE_DAYS)


def import_file_days() -> int:
    return max(1, settings.MINYI_IMPORT_FILE_DAYS)


def export_purged_message() -> str:
    return (
        f"文件已按保留期限删除（保留 {export_file_days()} 天），导出记录仍保留；如需要请重新导出。"
    )


def import_purged_message(record: Import) -> str:
    if record.state == ImportState.COMMITTED:
        return "上传的文件已在导入完成后删除，导入记录仍保留。"
    return (
        f"上传的文件已按保留期限删除（保留 {import_file_days()} 天），未导入任何记录；"
        "如需导入请重新上传。"
    )


def exports_due(now: datetime | None = None) -> QuerySet[Export]:
    cutoff = (now or timezone.now()) - timedelta(days=export_file_days())
    written_before = Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff)
    return Export.objects.exclude(file="").filter(written_before)


def imports_due(now: datetime | None = None) -> QuerySet[Import]:
    cutoff = (now or timezone.now()) - timedelta(days=import_file_days())
    return (
        Import.objects.exclude(file="")
        .filter(Q(state=ImportState.COMMITTED) | Q(created_at__lt=cutoff))
        .exclude(state__in=IMPORT_RUNNING)
    )


@dataclass
class Due:
    pk: int
    name: str
    kind: str
    owner: str
    created_at: datetime


@dataclass
class Outcome:
    files: list[Due] = field(default_factory=list)  # deleted, or due in a dry run
    failed: list[Due] = field(default_factory=list)  # storage refused; left for the next run


def purge_files(due: QuerySet[Export] | QuerySet[Import], *, dry_run: bool = False) -> Outcome:
    """Delete the files of these rows and mark the rows; idempotent. A file already missing
    from storage counts as deleted. A row is marked only after its file is gone, so a run
    stopped half-way leaves nothing that the next run would not finish.

    Each batch is read, deleted and marked in one transaction with its rows locked, so a
    row is still due when its file goes: an import job cannot be taken (its UPDATE waits
    for the lock) between the read and the deletion, and one taken before the read is no
    longer due. Without the lock a job taken in between read a file half-purged (deleted,
    the row not yet marked) and ended 失败 saying storage had lost it, or was failed while
    running. Whichever comes first now wins whole: the job imports, or it ends with the
    retention message as any job still waiting does."""
    model = due.model
    storage = model._meta.get_field("file").storage
    outcome = Outcome()
    last = 0
    while True:
        with transaction.atomic():
            batch = due.filter(pk__gt=last).order_by("pk")
            if not dry_run:
                batch = batch.select_for_update(of=("self",))
            rows = [
                Due(*values)
                for values in batch.values_list(
                    "pk", "file", "kind", "owner__username", "created_at"
                )[:BATCH]
            ]
            if not rows:
                return outcome
            last = rows[-1].pk
            if dry_run:
                outcome.files += rows
                continue
            outcome.files += _delete_and_mark(model, storage, rows, outcome)


def _delete_and_mark(
    model: type[Export | Import], storage: Any, rows: list[Due], outcome: Outcome
) -> list[Due]:
    gone = []
    for row in rows:
        try:
            storage.delete(row.name)  # a missing file is not an error
        except OSError:
            log.exception("could not delete %s", row.name)
            outcome.failed.append(row)
            continue
        gone.append(row)
    # The file's key goes with the name: a copy of the file in an earlier media
    # backup is then ciphertext nothing can open (minyi.core.sealed_files). An
    # import's kept bad rows quote the sheet (names, what was typed): they go too.
    cleared: dict[str, list[object]] = {"problems": []} if model is Import else {}
    model._default_manager.filter(pk__in=[row.pk for row in gone]).update(
        file="", file_key="", file_purged_at=timezone.now(), **cleared
    )
    return gone
