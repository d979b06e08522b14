"""Excel exports of the lists (issue 5, item 2). The export link on a list page
carries the page's query string; the rows are the page's own (see lists.py)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from minyi import audit
from minyi.audit.models import Action as AuditAction
from minyi.core.requests import AuthenticatedHttpRequest
from minyi.core.sealed_files import SealBroken, open_plain
from minyi.documents.excel import run
from minyi.documents.lists import BadFilters
from minyi.documents.models import Export, ExportState
from minyi.documents.retention import export_file_days, export_purged_message

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def export_list(request: AuthenticatedHttpRequest, kind: str) -> HttpResponse:
    query = urlencode(list(request.GET.lists()), doseq=True)
    try:
        source = run.export_source(kind, request)
    except BadFilters as exc:
        return render(request, "documents/export_refused.html", {"message": str(exc)}, status=400)
    if source.total <= run.SYNC_ROWS:
        data = run.export_bytes(source, request.user)
        export = Export.objects.create(
            owner=request.user,
            kind=kind,
            query=query,
            state=ExportState.DONE,
            total=source.total,
            written=source.total,
            filename=run.filename(source.spec),
        )
        audit.record(AuditAction.EXPORT, export, detail=f"Excel：{kind}，{source.total} 行")
        return xlsx_response(data, run.filename(source.spec))
    export = Export.objects.create(
        owner=request.user,
        kind=kind,
        query=query,
        total=source.total,
        filename=run.filename(source.spec),
    )
    run.export_in_background(export.pk)
    return redirect(export)


def _own(request: AuthenticatedHttpRequest, pk: int) -> Export:
    return get_object_or_404(Export.objects.filter(owner=request.user), pk=pk)


@require_GET
def export_job(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    export = _own(request, pk)
    spec = run.SPECS[export.kind]
    template = "documents/export_job.html"
    if getattr(request, "htmx", False):
        template += "#progress"
    context = {
        "export": export,
        "spec": spec,
        "States": ExportState,
        "purged": export_purged_message() if export.file_purged_at else "",
        "file_days": export_file_days(),
    }
    return render(request, template, context)


def _file_gone(request: AuthenticatedHttpRequest, export: Export, message: str) -> HttpResponse:
    context = {"message": message, "back": export.get_absolute_url()}
    return render(request, "documents/file_gone.html", context, status=410)


@require_GET
def export_download(request: AuthenticatedHttpRequest, pk: int) -> HttpResponseBase:
    export = _own(request, pk)
    if export.file_purged_at:
        return _file_gone(request, export, export_purged_message())
    if export.state != ExportState.DONE or not export.file:
        raise Http404
    try:
        handle, size = open_plain(export.file)  # decrypted on the fly (minyi.core.sealed_files)
    except FileNotFoundError:
        # Lost from storage (a restored backup, a disk cleaned by hand): the owner can
        # export again; the row stays as the record.
        return _file_gone(request, export, "文件已不存在，导出记录仍保留；如需要请重新导出。")
    except SealBroken as exc:
        return _file_gone(request, export, f"{exc.message}也可以重新导出。")
    audit.record(AuditAction.EXPORT, export, detail=f"Excel：{export.kind}，{export.total} 行")
    response = FileResponse(handle, as_attachment=True, filename=export.filename, content_type=XLSX)
    response["Content-Length"] = size
    response["Cache-Control"] = "no-store"
    return response
