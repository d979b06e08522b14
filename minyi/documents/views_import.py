"""Imports from .xlsx (issue 5, item 2): a template to download, an upload that is
checked as a dry run (every bad row with its reasons, nothing saved), and a commit
by the uploader that checks every row again and saves all rows or none. A large
sheet's check and commit run as jobs the page polls (excel/import_jobs.py).

Only officials (and the administrator) import, as only they create these records on
the pages; the forms then limit every row to the units the official may edit."""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

import xlsxwriter
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from minyi.audit.trail import request_id_of
from minyi.core.requests import AuthenticatedHttpRequest
from minyi.core.security import client_ip
from minyi.documents.excel import import_jobs as jobs
from minyi.documents.excel.import_jobs import MAX_SHOWN
from minyi.documents.excel.importers import IMPORTERS, Importer, Report
from minyi.documents.excel.reading import Rejected
from minyi.documents.excel.safe import neutralise
from minyi.documents.models import Import, ImportState
from minyi.documents.retention import import_file_days, import_purged_message
from minyi.documents.views_excel import xlsx_response


@dataclass
class Summary:
    """What the result section counts: a live check's report or a job's kept result."""

    rows: int
    bad: int
    created: int
    updated: int


def _importer_class(request: AuthenticatedHttpRequest, kind: str) -> type[Importer]:
    user = request.user
    if kind not in IMPORTERS or not (user.is_superuser or getattr(user, "is_official", False)):
        raise Http404
    return IMPORTERS[kind]


def _page(
    request: AuthenticatedHttpRequest,
    cls: type[Importer],
    *,
    record: Import | None = None,
    report: Report | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    summary, bad = None, []
    if report is not None:
        summary = Summary(len(report.rows), len(report.bad), report.created, report.updated)
        bad = report.bad[:MAX_SHOWN]
    elif record and record.in_background and record.state == ImportState.CHECKED:
        summary = Summary(record.rows, record.bad_rows, record.created, record.updated)
        bad = jobs.problem_rows(record)
    context = {
        "cls": cls,
        "record": record,
        "States": ImportState,
        "purged": import_purged_message(record) if record and record.file_purged_at else "",
        "file_days": import_file_days(),
        "summary": summary,
        "bad": bad,
        "error": error,
        "max_shown": MAX_SHOWN,
        # Without the files' keys: the list shows none of the files.
        "recent": Import.objects.filter(owner=request.user, kind=cls.kind)
        .defer("file_key")
        .order_by("-pk")[:5],
    }
    template = "documents/import.html"
    if getattr(request, "htmx", False):
        template += "#result"  # the polled part
    return render(request, template, context, status=status)


def import_start(request: AuthenticatedHttpRequest, kind: str) -> HttpResponse:
    cls = _importer_class(request, kind)
    if request.method != "POST":
        return _page(request, cls)
    upload = request.FILES.get("file")
    if upload is None:
        return _page(request, cls, error="请选择要上传的 .xlsx 文件。", status=400)
    try:
        sheet = jobs.sheet_of(cls, upload)  # the cheap checks stay in the request
    except Rejected as exc:
        return _page(request, cls, error=str(exc), status=400)
    upload.seek(0)
    record = Import(owner=request.user, kind=kind, original_name=(upload.name or "")[:200])
    if len(sheet.rows) > jobs.sync_rows():
        # Too many rows to check within the request's time: a job, the page polls it.
        record.in_background, record.state = True, ImportState.PENDING
        record.rows, record.state_at = len(sheet.rows), timezone.now()
        record.file.save(f"import-{kind}.xlsx", upload, save=False)
        record.save()
        jobs.check_in_background(record.pk)
        return redirect(record)
    report = cls(request.user).check(sheet)
    record.rows, record.bad_rows = len(report.rows), len(report.bad)
    record.created, record.updated = report.created, report.updated
    record.file.save(f"import-{kind}.xlsx", upload, save=False)
    record.save()
    return _page(request, cls, record=record, report=report, status=400 if report.bad else 200)


def _own(request: AuthenticatedHttpRequest, pk: int) -> Import:
    return get_object_or_404(Import.objects.filter(owner=request.user), pk=pk)


@require_GET
def import_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    record = _own(request, pk)
    cls = _importer_class(request, record.kind)
    if record.state == ImportState.COMMITTED:
        return _page(request, cls, record=record)
    if record.in_background:
        # The job's kept result (or its progress): never a check inside the request.
        return _page(request, cls, record=record, error=record.error)
    data, why = jobs.read_upload(record)
    if data is None:
        return _page(request, cls, record=record, error="" if record.file_purged_at else why)
    report, error = jobs.check_file(cls(request.user), BytesIO(data))
    return _page(request, cls, record=record, report=report, error=error)


def _refusal(record: Import) -> str:
    """Why this upload cannot be committed now ("" if it can be)."""
    if record.state == ImportState.COMMITTED:
        return "这份文件已经导入过了。"
    if record.busy:
        return "这份文件正在检查或导入，请稍候查看结果。"
    if record.state == ImportState.FAILED:
        return record.error or "这份文件检查或导入失败，未导入任何记录；请重新上传。"
    if record.bad_rows:
        return f"检查时有 {record.bad_rows} 行有问题，未导入任何记录：请修改后重新上传。"
    if record.file_purged_at:
        return import_purged_message(record)
    return ""


@require_POST
def import_commit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    record = _own(request, pk)
    cls = _importer_class(request, record.kind)
    if record.in_background:
        return _commit_in_background(request, cls, record)
    importer = cls(request.user)
    try:
        with transaction.atomic():
            locked = Import.objects.select_for_update().get(pk=record.pk)
            refused = _refusal(locked)
            if refused:
                return _page(request, cls, record=locked, error=refused, status=400)
            data, why = jobs.read_upload(locked)
            if data is None:
                return _page(request, cls, record=locked, error=why, status=400)
            report, error = jobs.check_file(importer, BytesIO(data))
            if report is None or report.bad:
                # Something changed since the dry run (a record, the user's scope):
                # nothing is saved, and the page says what is wrong now.
                message = error or jobs.CHANGED
                return _page(request, cls, record=locked, report=report, error=message, status=400)
            importer.commit(report)
            locked.state = ImportState.COMMITTED
            locked.committed_at = timezone.now()
            locked.created, locked.updated = report.created, report.updated
            locked.save(update_fields=["state", "committed_at", "created", "updated"])
    except ValidationError as exc:
        return _page(request, cls, record=record, error=exc.messages[0], status=400)
    messages.success(
        request, f"已导入{cls.title}：新增 {report.created} 条，更新 {report.updated} 条。"
    )
    return redirect(record)


def _commit_in_background(
    request: AuthenticatedHttpRequest, cls: type[Importer], record: Import
) -> HttpResponse:
    refused = _refusal(record)
    if not refused and not jobs.queue_commit(
        record, client_ip=client_ip(request), request_id=request_id_of(request)
    ):
        record.refresh_from_db()
        refused = _refusal(record) or "这份文件已经导入过了。"
    if refused:
        return _page(request, cls, record=record, error=refused, status=400)
    return redirect(record)


@require_GET
def import_template(request: AuthenticatedHttpRequest, kind: str) -> HttpResponse:
    cls = _importer_class(request, kind)
    buffer = BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    bold = workbook.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1})
    text = workbook.add_format({"num_format": "@"})
    sheet = workbook.add_worksheet(cls.title)
    for index, header in enumerate(cls.headers):
        sheet.write_string(0, index, header.name, bold)
        # Columns as text, so phone numbers and codes keep their leading digits.
        sheet.set_column(
            index,
            index,
            max(12, len(header.name) * 2.2),
            None if header.name.endswith("日期") else text,
        )
    sheet.freeze_panes(1, 0)
    notes = workbook.add_worksheet("填写说明")
    for index, title in enumerate(["列名", "必填", "说明", "示例"]):
        notes.write_string(0, index, title, bold)
    for row, (header, example) in enumerate(zip(cls.headers, cls.example, strict=True), 1):
        notes.write_string(row, 0, header.name)
        notes.write_string(row, 1, "是" if header.required else "")
        notes.write_string(row, 2, neutralise(header.hint))
        notes.write_string(row, 3, neutralise(example))
    notes.write_string(
        len(cls.headers) + 2,
        0,
        "在第一张工作表第 1 行表头下逐行填写，不要合并单元格；日期可填日期格式或 YYYY-MM-DD。"
        "姓名与电话（工作室为名称与所在单位）相同的记录将被更新，其余新增。",
    )
    notes.set_column(0, 0, 20)
    notes.set_column(2, 3, 48)
    workbook.close()
    return xlsx_response(buffer.getvalue(), f"{cls.title}导入模板.xlsx")
