"""Running an export: small lists are written at once into the response; large ones
become an `Export` job written in a background thread (and by `manage.py
run_exports` for any job a restarted server left behind), with its progress saved
every few hundred rows for the page that polls it. Every export is recorded."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F
from django.http import Http404, HttpRequest
from django.utils import timezone

from minyi.documents.excel.exports import SPECS, ExportSpec
from minyi.documents.excel.writer import write_xlsx
from minyi.documents.jobs import MAX_ATTEMPTS, job_request, start_in_background
from minyi.documents.lists import decorated, describe, filtered
from minyi.documents.models import Export, ExportState
from minyi.people.scopes import scope_of

log = logging.getLogger(__name__)

GAVE_UP = (
    f"后台生成这份导出时程序连续 {MAX_ATTEMPTS} 次意外中断，已停止重试，未生成文件。"
    "请缩小筛选范围后重新导出；如仍失败，请联系系统管理员。"
)

# Lists up to this many rows download at once; longer ones become a job.
SYNC_ROWS = getattr(settings, "MINYI_EXPORT_SYNC_ROWS", 2000)


@dataclass
class Source:
    spec: ExportSpec
    total: int
    rows: Iterable[Any]
    notes: list[str]


def _compliance(request: HttpRequest, spec: ExportSpec) -> Source:
    from minyi.duties.compliance import make_rules
    from minyi.duties.views_compliance import parse_period, select

    scope = scope_of(request.user)
    if not (scope.everything or scope.unit or scope.studio_ids or scope.representative_ids):
        raise Http404
    today = timezone.localdate()
    start, end, period_error = parse_period(request.GET, today)
    context: dict[str, Any] = {}
    evaluation = select(request, make_rules(start, end, today), context)
    rows, seen = [], set()
    for studio_row in evaluation.studios:
        for result in studio_row.all_results:
            if result.key not in seen:
                seen.add(result.key)
                rows.append((studio_row.studio.name, result))
    notes = [f"{context.get('title', '')}　期间：{start:%Y-%m-%d}—{end:%Y-%m-%d}"]
    if period_error:
        notes.append(period_error)
    return Source(spec, len(rows), rows, notes)


def export_source(kind: str, request: HttpRequest) -> Source:
    """The rows the list page shows for the request's filters (BadFilters if they do
    not validate; Http404 for an unknown list or one the user has no page of)."""
    spec = SPECS.get(kind)
    if spec is None:
        raise Http404
    if spec.view is None:
        return _compliance(request, spec)
    view, qs, form = filtered(spec.view, request)
    filters = describe(form)
    notes = [f"筛选条件：{filters}" if filters else "筛选条件：无（本人权限范围内全部）"]
    return Source(spec, qs.count(), decorated(view, qs), notes)


def _notes(source: Source, user: Any) -> list[str]:
    stamp = f"导出人：{user}　导出时间：{timezone.localtime():%Y-%m-%d %H:%M}"
    return [*source.notes, stamp]


def export_bytes(source: Source, user: Any) -> bytes:
    buffer = BytesIO()
    write_xlsx(
        buffer,
        title=source.spec.title,
        columns=source.spec.columns,
        rows=source.rows,
        notes=_notes(source, user),
    )
    return buffer.getvalue()


def filename(spec: ExportSpec) -> str:
    return f"{spec.title}-{timezone.localtime():%Y%m%d-%H%M}.xlsx"


def export_job_run(export_id: int) -> None:
    """Write one job's file. Safe to call twice: only a pending job is taken. Each take
    is one of the job's attempts (run_exports gives up after MAX_ATTEMPTS).

    Every write after the take is filtered on the take's stamp (`started_at`), as the
    import jobs do: a run presumed dead and taken over (or given up on) by run_exports
    may still be alive, and must then write nothing, its file included."""
    stamp = timezone.now()
    with transaction.atomic():
        taken = Export.objects.filter(pk=export_id, state=ExportState.PENDING).update(
            state=ExportState.RUNNING, started_at=stamp, attempts=F("attempts") + 1
        )
    if not taken:
        return
    mine = Export.objects.filter(pk=export_id, state=ExportState.RUNNING, started_at=stamp)
    export = Export.objects.select_related("owner").get(pk=export_id)
    done = 0
    try:
        source = export_source(export.kind, job_request(export.owner, export.query))
        mine.update(total=source.total)

        def progress(count: int) -> None:
            mine.update(written=count)

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "export.xlsx"
            written = write_xlsx(
                str(path),
                title=source.spec.title,
                columns=source.spec.columns,
                rows=source.rows,
                notes=_notes(source, export.owner),
                progress=progress,
            )
            with path.open("rb") as handle:
                export.file.save(f"export-{export.pk}.xlsx", File(handle), save=False)
        done = mine.update(
            state=ExportState.DONE,
            written=written,
            total=max(written, source.total),
            file=export.file.name,
            file_key=export.file_key,
            finished_at=timezone.now(),
        )
        if not done and export.file.name:  # taken over meanwhile: the file is nobody's
            log.warning("export %s was taken over while it ran; its file is dropped", export_id)
            export.file.storage.delete(export.file.name)
    except Exception as exc:  # the job must end in a state the page can show
        log.exception("export %s failed", export_id)
        if export.file.name and not done:
            # Written but never the row's: nothing would ever read or delete it.
            export.file.storage.delete(export.file.name)
        mine.update(
            state=ExportState.FAILED,
            error=f"导出失败：{type(exc).__name__}。请稍后重试或缩小筛选范围。",
            finished_at=timezone.now(),
        )


def export_in_background(export_id: int) -> None:
    """After the job row is committed, write it in a thread of this process."""
    start_in_background(export_job_run, export_id, "export")
