"""Checking and committing an uploaded sheet: at once in the request for a small sheet
(up to MINYI_IMPORT_SYNC_ROWS rows), as a job for a larger one. A job runs in a
background thread of the web process (minyi/documents/jobs.py, as exports do), and
`manage.py run_imports` runs the jobs a restarted server left behind; the check's
progress is saved every few hundred rows for the page that polls it.

A job is taken by one UPDATE from its waiting state (待检查, 待导入) to its running one
(检查中, 导入中), stamping `state_at`; everything it writes afterwards is filtered on
that stamp, so a job the command took over from a server presumed dead writes nothing
if it wakes up. The commit saves every row and marks the import 已导入 in one
transaction: a crash leaves all rows or none, and the import 导入中 for the command."""

from __future__ import annotations

import logging
from collections.abc import Callable
from io import BytesIO
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from minyi.core.sealed_files import SealBroken, read_plain
from minyi.documents.excel.importers import IMPORTERS, Importer, Report, RowResult
from minyi.documents.excel.reading import Rejected, Sheet, read_sheet
from minyi.documents.jobs import MAX_ATTEMPTS, acting_as, job_request, start_in_background
from minyi.documents.models import Import, ImportState
from minyi.documents.retention import import_purged_message

log = logging.getLogger(__name__)

MAX_SHOWN = 500  # bad rows listed on the page (and kept); the count always covers all
MISSING = "上传的文件已不存在，未导入任何记录；如需导入请重新上传。"
CHANGED = "数据已发生变化，重新检查发现以下问题，未导入任何记录。"
GAVE_UP = (
    f"后台处理这份文件时程序连续 {MAX_ATTEMPTS} 次意外中断，已停止重试，未导入任何记录。"
    "请重新上传；文件较大时可拆成几份较小的文件分别导入。如仍失败，请联系系统管理员。"
)


def sync_rows() -> int:
    """Sheets up to this many rows are checked and committed inside the request."""
    return int(getattr(settings, "MINYI_IMPORT_SYNC_ROWS", 2000))


def sheet_of(importer_class: type[Importer], upload: IO[bytes]) -> Sheet:
    """The sheet's rows, or Rejected with the reason (the cheap checks: format,
    password, merged cells, header, too many rows, no rows)."""
    sheet = read_sheet(upload, required=importer_class.required(), known=importer_class.known())
    if not sheet.rows:
        raise Rejected("表中没有数据行。")
    return sheet


def check_file(
    importer: Importer, upload: IO[bytes], progress: Callable[[int], None] | None = None
) -> tuple[Report | None, str]:
    try:
        sheet = sheet_of(type(importer), upload)
    except Rejected as exc:
        return None, str(exc)
    return importer.check(sheet, progress), ""


def read_upload(record: Import) -> tuple[bytes | None, str]:
    """The uploaded file's bytes, decrypted (minyi.core.sealed_files), or None and why:
    the retention job deleted it, storage lost it, or it no longer decrypts."""
    if record.file_purged_at or not record.file:
        return None, import_purged_message(record) if record.file_purged_at else MISSING
    try:
        return read_plain(record.file), ""
    except FileNotFoundError:
        return None, MISSING
    except SealBroken as exc:
        return None, f"上传的文件无法读取，未导入任何记录：{exc.message}也可以重新上传。"


def kept_problems(report: Report) -> list[dict[str, Any]]:
    return [
        {"number": row.number, "label": row.label, "errors": row.errors}
        for row in report.bad[:MAX_SHOWN]
    ]


def problem_rows(record: Import) -> list[RowResult]:
    return [RowResult(p["number"], p["label"], list(p["errors"])) for p in record.problems]


def _outcome(report: Report) -> dict[str, Any]:
    return {
        "rows": len(report.rows),
        "checked": len(report.rows),
        "bad_rows": len(report.bad),
        "created": report.created,
        "updated": report.updated,
        "problems": kept_problems(report),
    }


def _take(pk: int, waiting: str, running: str) -> QuerySet[Import] | None:
    """The job's own row (filtered on its stamp), or None if another run took it. Each
    take is one of the job's attempts (run_imports gives up after MAX_ATTEMPTS)."""
    stamp = timezone.now()
    taken = Import.objects.filter(pk=pk, state=waiting).update(
        state=running, state_at=stamp, checked=0, attempts=F("attempts") + 1
    )
    return Import.objects.filter(pk=pk, state=running, state_at=stamp) if taken else None


def _check(record: Import, mine: QuerySet[Import]) -> tuple[Importer, Report | None, str]:
    importer = IMPORTERS[record.kind](record.owner)  # the uploader's scope, as on the page
    data, why = read_upload(record)
    if data is None:
        return importer, None, why

    def progress(count: int) -> None:
        mine.update(checked=count)

    report, error = check_file(importer, BytesIO(data), progress)
    return importer, report, error


def _failed(mine: QuerySet[Import], message: str) -> None:
    mine.update(state=ImportState.FAILED, error=message, state_at=timezone.now())


def check_job_run(pk: int) -> None:
    """The dry run of one pending upload. Safe to call twice: only a pending job is taken."""
    mine = _take(pk, ImportState.PENDING, ImportState.CHECKING)
    if mine is None:
        return
    record = Import.objects.select_related("owner").get(pk=pk)
    try:
        _, report, error = _check(record, mine)
        if report is None:
            _failed(mine, error)
            return
        mine.update(
            state=ImportState.CHECKED, state_at=timezone.now(), error="", **_outcome(report)
        )
    except Exception as exc:  # the job must end in a state the page can show
        log.exception("import %s: check failed", pk)
        _failed(mine, f"检查失败（{type(exc).__name__}），未导入任何记录。请稍后重新上传。")


def commit_job_run(pk: int) -> None:
    """Check every row again, then save all rows or none. Safe to call twice: only a
    queued commit is taken, and the save happens only while the job still holds it."""
    mine = _take(pk, ImportState.QUEUED, ImportState.IMPORTING)
    if mine is None:
        return
    record = Import.objects.select_related("owner").get(pk=pk)
    request = job_request(record.owner, client_ip=record.client_ip, request_id=record.request_id)
    try:
        with acting_as(request):  # the rows' audit entries name the uploader, as on the page
            importer, report, error = _check(record, mine)
            if report is None:
                _failed(mine, error)
            elif report.bad:
                # Something changed since the dry run (a record, the user's scope):
                # nothing is saved, and the page lists what is wrong now.
                mine.update(
                    state=ImportState.CHECKED,
                    state_at=timezone.now(),
                    error=CHANGED,
                    **_outcome(report),
                )
            else:
                _save(pk, mine, importer, report)
    except ValidationError as exc:  # a row broke a database constraint: all rolled back
        _failed(mine, exc.messages[0])
    except Exception as exc:
        log.exception("import %s: commit failed", pk)
        _failed(mine, f"导入失败（{type(exc).__name__}），未导入任何记录。请重新上传后再试。")


def _save(pk: int, mine: QuerySet[Import], importer: Importer, report: Report) -> None:
    with transaction.atomic():
        # Locked: the retention job cannot mark the file purged, nor the command take
        # the job over, while the rows are being saved.
        locked = mine.filter(file_purged_at__isnull=True).select_for_update().first()
        if locked is None:
            gone = Import.objects.get(pk=pk)
            if gone.file_purged_at:
                _failed(mine, import_purged_message(gone))
            return  # else taken over by run_imports: that run commits
        importer.commit(report)
        locked.state = ImportState.COMMITTED
        locked.committed_at = locked.state_at = timezone.now()
        locked.created, locked.updated = report.created, report.updated
        locked.checked, locked.error = len(report.rows), ""
        fields = ["state", "committed_at", "state_at", "created", "updated", "checked", "error"]
        locked.save(update_fields=fields)


def check_in_background(pk: int) -> None:
    start_in_background(check_job_run, pk, "import-check")


def commit_in_background(pk: int) -> None:
    start_in_background(commit_job_run, pk, "import-commit")


def queue_commit(record: Import, *, client_ip: str | None, request_id: str) -> bool:
    """Queue the commit of a checked, clean upload; False if it is no longer that (a
    second click, another tab): one UPDATE, so two requests never queue it twice."""
    queued = Import.objects.filter(
        pk=record.pk, state=ImportState.CHECKED, bad_rows=0, file_purged_at__isnull=True
    ).update(
        state=ImportState.QUEUED,
        state_at=timezone.now(),
        checked=0,
        attempts=0,  # the commit is a job of its own, with its own attempts
        error="",
        client_ip=client_ip,
        request_id=request_id,
    )
    if queued:
        commit_in_background(record.pk)
    return bool(queued)
