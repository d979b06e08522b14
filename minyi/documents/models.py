"""Exports are recorded: who exported which list with which filters, how many rows.
A large export is also a job with progress, written in the background; its file is
kept outside the web root and handed only to its owner.

The files hold personal data and are kept only for a few days (`manage.py
purge_document_files`, docs/personal-data.md); the rows stay as the record and
`file_purged_at` tells the pages why the file is gone."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from minyi.core.crypto import EncryptedCharField
from minyi.core.links import pk_url
from minyi.core.sealed_files import UNSEALED, SealedFileField


class ExportState(models.TextChoices):
    PENDING = "pending", "排队中"
    RUNNING = "running", "生成中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class Export(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="exports"
    )
    kind = models.CharField("清单", max_length=24)
    query = models.TextField("筛选条件", blank=True)
    state = models.CharField(
        "状态", max_length=16, choices=ExportState.choices, default=ExportState.PENDING
    )
    total = models.PositiveIntegerField("总行数", default=0)
    written = models.PositiveIntegerField("已写行数", default=0)
    file = SealedFileField(upload_to="exports/%Y/%m/", blank=True)
    # The file's own key (minyi.core.sealed_files), emptied with the file at purge.
    file_key = EncryptedCharField(max_length=64, blank=True, default="", editable=False)
    filename = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the job's current run took it (run_exports: running since then is abandoned).
    started_at = models.DateTimeField(null=True, blank=True)
    # Runs so far (minyi.documents.jobs.MAX_ATTEMPTS); no CHECK constraint, so adding
    # the column to a big table is a catalogue change on PostgreSQL.
    attempts = models.SmallIntegerField("尝试次数", default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    file_purged_at = models.DateTimeField(
        "文件删除时间",
        null=True,
        blank=True,
        help_text="文件已按保留期限删除（purge_document_files），记录保留。",
    )

    class Meta:
        verbose_name = "导出记录"
        verbose_name_plural = "导出记录"
        indexes = [
            models.Index(fields=["owner", "created_at"], name="export_owner_created"),
            models.Index(fields=["state", "created_at"], name="export_state_created"),
            # The rows still to seal (minyi.core.checks); empty once sealing has run.
            models.Index(fields=["id"], condition=UNSEALED, name="export_unsealed"),
        ]

    def __str__(self) -> str:
        return f"{self.owner} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"

    def get_absolute_url(self) -> str:
        return pk_url("documents:export_job", self.pk)

    @property
    def percent(self) -> int:
        if self.state == ExportState.DONE:
            return 100
        return min(99, self.written * 100 // self.total) if self.total else 0


class ImportState(models.TextChoices):
    # A large sheet's check and commit are jobs (minyi/documents/excel/import_jobs.py).
    PENDING = "pending", "待检查"
    CHECKING = "checking", "检查中"
    CHECKED = "checked", "已检查，待确认"
    QUEUED = "queued", "待导入"
    IMPORTING = "importing", "导入中"
    COMMITTED = "committed", "已导入"
    FAILED = "failed", "失败"


# The states a job is waiting in or running in; the page polls while the import is in one.
IMPORT_WAITING = (ImportState.PENDING, ImportState.QUEUED)
IMPORT_RUNNING = (ImportState.CHECKING, ImportState.IMPORTING)


class Import(models.Model):
    """An uploaded sheet: checked (dry run) first, committed by its owner only when
    every row is clean, all rows in one transaction. A large sheet is checked and
    committed as a job in the background (`in_background`), its result kept here."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="imports"
    )
    kind = models.CharField("清单", max_length=24)
    # Blank once the retention job has deleted the file (file_purged_at says when).
    file = SealedFileField(upload_to="imports/%Y/%m/", blank=True)
    # The file's own key (minyi.core.sealed_files), emptied with the file at purge.
    file_key = EncryptedCharField(max_length=64, blank=True, default="", editable=False)
    original_name = models.CharField("文件名", max_length=200, blank=True)
    state = models.CharField(
        "状态", max_length=16, choices=ImportState.choices, default=ImportState.CHECKED
    )
    rows = models.PositiveIntegerField("行数", default=0)
    bad_rows = models.PositiveIntegerField("有问题的行数", default=0)
    created = models.PositiveIntegerField("新增", default=0)
    updated = models.PositiveIntegerField("更新", default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    committed_at = models.DateTimeField(null=True, blank=True)
    file_purged_at = models.DateTimeField(
        "文件删除时间",
        null=True,
        blank=True,
        help_text="上传的文件已删除（导入后或超过保留期限，purge_document_files），记录保留。",
    )
    # --- a large sheet's job -----------------------------------------------------------
    in_background = models.BooleanField("后台检查与导入", default=False)
    # When the state last changed: a job queued this long ago, or running since, is left
    # behind (run_imports). A running job also holds it as its token: a job whose token
    # changed under it (taken again after a restart) writes nothing.
    state_at = models.DateTimeField("状态时间", null=True, blank=True)
    checked = models.PositiveIntegerField("已检查行数", default=0)
    # Runs of the current job (the check, then the commit: queueing it starts again at 0),
    # minyi.documents.jobs.MAX_ATTEMPTS.
    attempts = models.SmallIntegerField("尝试次数", default=0)
    # The bad rows the check found (at most the page's 500: number, first column, reasons);
    # emptied with the file, as they quote the sheet.
    problems = models.JSONField("问题行", default=list, blank=True)
    error = models.TextField(blank=True)
    # The commit request's address and id, so the job's audit rows read as the request's.
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=32, blank=True)

    class Meta:
        verbose_name = "导入记录"
        verbose_name_plural = "导入记录"
        indexes = [
            models.Index(fields=["owner", "created_at"], name="import_owner_created"),
            models.Index(fields=["state", "state_at"], name="import_state_at"),
            models.Index(fields=["id"], condition=UNSEALED, name="import_unsealed"),
        ]

    def __str__(self) -> str:
        return f"{self.owner} {self.kind} {self.original_name}"

    def get_absolute_url(self) -> str:
        return pk_url("documents:import_detail", self.pk)

    @property
    def busy(self) -> bool:
        return self.state in IMPORT_WAITING or self.state in IMPORT_RUNNING

    @property
    def percent(self) -> int:
        return min(99, self.checked * 100 // self.rows) if self.rows else 0
