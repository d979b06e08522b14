"""Retention of the Excel files (docs/personal-data.md): `purge_document_files` deletes an
export's file after MINYI_EXPORT_FILE_DAYS and an uploaded sheet's once imported or after
MINYI_IMPORT_FILE_DAYS, keeps the rows as the record, and the pages say in Chinese why a
file is gone instead of failing. MEDIA_ROOT is a fresh folder per test (tests/conftest.py)."""

from __future__ import annotations

import threading
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import close_old_connections
from django.db.models.fields.files import FieldFile
from django.urls import reverse
from django.utils import timezone

from minyi.documents import retention
from minyi.documents.excel import import_jobs
from minyi.documents.models import Export, ExportState, Import, ImportState
from minyi.people.models import Liaison
from tests.core.helpers import client_for
from tests.documents.test_imports import (
    LIAISON_HEADERS,
    commit,
    liaison_row,
    sheet_bytes,
    upload,
)
from tests.documents.test_pdfs import user

pytestmark = pytest.mark.django_db

PURGED_EXPORT = "文件已按保留期限删除（保留 7 天）"


def an_export(who: str = "liaison", *, age_days: int) -> Export:
    made = timezone.now() - timedelta(days=age_days)
    export = Export.objects.create(
        owner=user(who),
        kind="cases",
        state=ExportState.DONE,
        total=3,
        written=3,
        filename="社情民意-20261101-1000.xlsx",
    )
    export.file.save(f"export-{export.pk}.xlsx", ContentFile(b"PK fake xlsx"), save=False)
    export.save(update_fields=["file", "file_key"])
    Export.objects.filter(pk=export.pk).update(created_at=made, finished_at=made)
    export.refresh_from_db()
    return export


def an_import(
    who: str = "shatoujiao", *, age_days: int, state: str = ImportState.CHECKED
) -> Import:
    record = Import(owner=user(who), kind="liaisons", original_name="联络员.xlsx", rows=2)
    record.file.save("import-liaisons.xlsx", ContentFile(b"PK fake xlsx"), save=False)
    record.state = state
    record.save()
    Import.objects.filter(pk=record.pk).update(created_at=timezone.now() - timedelta(days=age_days))
    record.refresh_from_db()
    return record


def stored_name(file: FieldFile) -> str:
    """The name the file is stored under; it has one (a file deleted from storage keeps its
    name on the row, a purged one has none)."""
    assert file.name, "no file"
    return file.name


def purge(*args: str) -> str:
    out = StringIO()
    call_command("purge_document_files", *args, stdout=out)
    return out.getvalue()


class TestPurge:
    def test_it_deletes_old_export_files_and_keeps_new_ones(self, world: Any) -> None:
        old, new = an_export(age_days=8), an_export(age_days=6)
        old_name = stored_name(old.file)
        output = purge()
        assert "已删除导出文件 1 个（保留 7 天）" in output
        assert not default_storage.exists(old_name)
        assert default_storage.exists(stored_name(new.file))
        old.refresh_from_db()
        assert old.file.name == "" and old.file_purged_at is not None
        # The row stays as the record of who exported what.
        assert old.owner.username == "liaison" and old.kind == "cases" and old.total == 3
        new.refresh_from_db()
        assert new.file and new.file_purged_at is None

    def test_it_deletes_committed_and_old_uploads_and_keeps_recent_checked_ones(
        self, world: Any
    ) -> None:
        committed = an_import(age_days=0, state=ImportState.COMMITTED)
        stale = an_import(age_days=8)
        pending = an_import(age_days=1)
        names = {r.pk: stored_name(r.file) for r in (committed, stale, pending)}
        assert "导入文件 2 个（已导入或保留 7 天）" in purge()
        assert not default_storage.exists(names[committed.pk])
        assert not default_storage.exists(names[stale.pk])
        assert default_storage.exists(names[pending.pk])
        assert Import.objects.count() == 3
        assert set(
            Import.objects.filter(file_purged_at__isnull=False).values_list("pk", flat=True)
        ) == {committed.pk, stale.pk}
        assert Import.objects.get(pk=stale.pk).rows == 2

    def test_the_periods_come_from_the_settings(self, world: Any, settings: Any) -> None:
        settings.MINYI_EXPORT_FILE_DAYS = 30
        settings.MINYI_IMPORT_FILE_DAYS = 30
        export, upload_ = an_export(age_days=8), an_import(age_days=8)
        assert "导出文件 0 个（保留 30 天），导入文件 0 个（已导入或保留 30 天）" in purge()
        assert default_storage.exists(stored_name(export.file))
        assert default_storage.exists(stored_name(upload_.file))

    def test_a_period_under_one_day_counts_as_one(self, world: Any, settings: Any) -> None:
        settings.MINYI_EXPORT_FILE_DAYS = 0
        export = an_export(age_days=0)
        purge()
        assert default_storage.exists(stored_name(export.file))

    def test_a_dry_run_deletes_nothing_and_lists_what_would_go(self, world: Any) -> None:
        export, stale = an_export(age_days=8), an_import(age_days=8)
        output = purge("--dry-run")
        assert f"将删除导出文件：#{export.pk} 社情民意（liaison，" in output
        assert f"将删除导入文件：#{stale.pk} 联络员（shatoujiao，" in output
        assert "试运行：将删除导出文件 1 个（保留 7 天），导入文件 1 个" in output
        assert "未删除任何文件" in output
        assert default_storage.exists(stored_name(export.file))
        assert default_storage.exists(stored_name(stale.file))
        assert not Export.objects.filter(file_purged_at__isnull=False).exists()
        assert not Import.objects.filter(file_purged_at__isnull=False).exists()

    def test_a_file_already_missing_from_storage_is_fine(self, world: Any) -> None:
        export = an_export(age_days=8)
        default_storage.delete(stored_name(export.file))
        assert "已删除导出文件 1 个" in purge()
        export.refresh_from_db()
        assert export.file.name == "" and export.file_purged_at is not None

    def test_it_is_idempotent(self, world: Any) -> None:
        export = an_export(age_days=8)
        purge()
        first = Export.objects.get(pk=export.pk).file_purged_at
        assert "已删除导出文件 0 个" in purge()
        assert Export.objects.get(pk=export.pk).file_purged_at == first

    def test_a_file_storage_refuses_is_left_for_the_next_run(
        self, world: Any, monkeypatch: Any
    ) -> None:
        kept, gone = an_export(age_days=9), an_export(age_days=8)
        real_delete = default_storage.delete

        def refuse_first(name: str) -> None:
            if name == kept.file.name:
                raise PermissionError(name)
            real_delete(name)

        monkeypatch.setattr(default_storage, "delete", refuse_first)
        err = StringIO()
        call_command("purge_document_files", stdout=StringIO(), stderr=err)
        assert f"无法删除文件 {kept.file.name}" in err.getvalue()
        assert Export.objects.get(pk=kept.pk).file_purged_at is None
        assert Export.objects.get(pk=gone.pk).file_purged_at is not None

    def test_the_queries_do_not_grow_with_the_rows(
        self, world: Any, monkeypatch: Any, django_assert_num_queries: Any
    ) -> None:
        monkeypatch.setattr(retention, "BATCH", 2)
        for _ in range(4):
            an_export(age_days=8)
        an_import(age_days=8)
        # Exports: two batches of (read, update) and the empty read that ends them;
        # imports: one batch and its empty read; each read with its rows locked in a
        # transaction of its own (begin and commit, savepoints here). No query per file.
        with django_assert_num_queries(5 + 3 + 2 * (3 + 2)):
            output = purge("-v", "2")
        assert output.count("已删除导出文件：") == 4


def a_queued_commit(settings: Any, names: str, phones: str) -> Import:
    """A clean sheet of three liaisons, checked as a job and its commit queued, uploaded
    eight days ago (past MINYI_IMPORT_FILE_DAYS)."""
    settings.MINYI_IMPORT_SYNC_ROWS = 2  # a job, as a large sheet's
    client = client_for(user("shatoujiao"))
    rows = [LIAISON_HEADERS] + [liaison_row(f"{names}{i}", f"{phones}{i}") for i in range(3)]
    upload(client, "liaisons", sheet_bytes(rows))
    record = Import.objects.get()
    import_jobs.check_job_run(record.pk)
    commit(client)
    Import.objects.update(created_at=timezone.now() - timedelta(days=8))
    return record


class TestAJobInFlight:
    @pytest.mark.parametrize("state", [ImportState.CHECKING, ImportState.IMPORTING])
    def test_its_file_is_kept_until_the_job_ends(self, world: Any, state: str) -> None:
        record = an_import(age_days=8, state=state)
        name = stored_name(record.file)
        assert "导入文件 0 个" in purge()
        assert default_storage.exists(name)
        record.refresh_from_db()
        assert record.file.name == name and record.file_purged_at is None
        # Once the job has ended, the next daily run deletes it.
        Import.objects.filter(pk=record.pk).update(state=ImportState.FAILED)
        assert "导入文件 1 个" in purge()
        assert not default_storage.exists(name)

    def test_a_commit_running_when_the_purge_comes_still_imports_every_row(
        self, world: Any, settings: Any, monkeypatch: Any
    ) -> None:
        # Uploaded and checked eight days ago; the commit runs as the daily purge comes.
        record = a_queued_commit(settings, "演示·留存", "1380000040")
        name = stored_name(Import.objects.get().file)
        check = import_jobs.check_file

        def purged_meanwhile(*args: Any, **kwargs: Any) -> Any:
            purge()
            return check(*args, **kwargs)

        monkeypatch.setattr(import_jobs, "check_file", purged_meanwhile)
        import_jobs.commit_job_run(record.pk)
        record.refresh_from_db()
        assert record.state == ImportState.COMMITTED, record.error
        assert Liaison.objects.filter(name__startswith="演示·留存").count() == 3
        assert record.file_purged_at is None and default_storage.exists(name)
        purge()  # the next day's run
        record.refresh_from_db()
        assert record.file_purged_at is not None and not default_storage.exists(name)


class TestAPurgeRacingACommit:
    """The purge and an import job at the same moment, on two connections: one of them
    comes first whole, never a mix."""

    @pytest.mark.django_db(transaction=True)
    def test_a_commit_taken_as_the_purge_deletes_its_file_ends_with_the_retention_reason(
        self, world: Any, settings: Any, monkeypatch: Any
    ) -> None:
        settings.MINYI_JOB_THREADS = False  # the test runs the job itself
        record = a_queued_commit(settings, "演示·竞争", "1380000041")
        assert Import.objects.get().state == ImportState.QUEUED  # waiting: not spared

        def job() -> None:
            try:
                import_jobs.commit_job_run(record.pk)
            finally:
                close_old_connections()

        runner = threading.Thread(target=job)
        real_delete = default_storage.delete

        def delete_then_the_job_starts(name: str) -> None:
            real_delete(name)
            # The job's cron run comes now, between the deletion and the row's mark. It
            # waits for the purge's lock if there is one: give it a moment, not for ever.
            runner.start()
            runner.join(timeout=2)

        monkeypatch.setattr(default_storage, "delete", delete_then_the_job_starts)
        assert "导入文件 1 个" in purge()
        runner.join()
        record.refresh_from_db()
        assert record.state == ImportState.FAILED
        # The reason the uploader reads is the retention period, not "the file is lost".
        assert record.error == retention.import_purged_message(record), record.error
        assert not Liaison.objects.filter(name__startswith="演示·竞争").exists()


class TestExportPages:
    def test_the_job_page_says_the_file_was_deleted(self, world: Any) -> None:
        export = an_export(age_days=8)
        client = client_for(user("liaison"))
        page = client.get(export.get_absolute_url()).content.decode()
        assert "下载 " in page and "保留 7 天后删除" in page
        purge()
        page = client.get(export.get_absolute_url()).content.decode()
        assert PURGED_EXPORT in page
        assert reverse("documents:export_download", args=[export.pk]) not in page

    def test_downloading_a_deleted_file_is_a_chinese_410(self, world: Any) -> None:
        export = an_export(age_days=8)
        purge()
        response = client_for(user("liaison")).get(
            reverse("documents:export_download", args=[export.pk])
        )
        assert response.status_code == 410
        assert PURGED_EXPORT in response.content.decode()

    def test_a_file_lost_from_storage_is_a_chinese_410(self, world: Any) -> None:
        export = an_export(age_days=1)
        default_storage.delete(stored_name(export.file))
        response = client_for(user("liaison")).get(
            reverse("documents:export_download", args=[export.pk])
        )
        assert response.status_code == 410
        assert "文件已不存在" in response.content.decode()

    def test_a_deleted_file_of_someone_else_is_still_404(self, world: Any) -> None:
        export = an_export(age_days=8)
        purge()
        response = client_for(user("city")).get(
            reverse("documents:export_download", args=[export.pk])
        )
        assert response.status_code == 404


class TestImportPages:
    def test_a_committed_upload_loses_its_file_and_keeps_its_record(self, world: Any) -> None:
        client = client_for(user("shatoujiao"))
        data = sheet_bytes([LIAISON_HEADERS, liaison_row("演示·保留甲", "13800000131")])
        upload(client, "liaisons", data)
        assert commit(client).status_code == 302
        record = Import.objects.get()
        assert default_storage.exists(stored_name(record.file))
        purge()
        assert not default_storage.exists(stored_name(record.file))
        page = client.get(record.get_absolute_url()).content.decode()
        assert "新增 1 条" in page and "上传的文件已在导入完成后删除" in page
        listing = client.get(reverse("documents:import", args=["liaisons"])).content.decode()
        assert "文件已删除" in listing

    def test_a_checked_upload_past_its_days_cannot_be_committed(self, world: Any) -> None:
        client = client_for(user("shatoujiao"))
        data = sheet_bytes([LIAISON_HEADERS, liaison_row("演示·保留乙", "13800000132")])
        upload(client, "liaisons", data)
        Import.objects.update(created_at=timezone.now() - timedelta(days=8))
        purge()
        record = Import.objects.get()
        page = client.get(record.get_absolute_url())
        assert page.status_code == 200
        assert "上传的文件已按保留期限删除（保留 7 天），未导入任何记录" in page.content.decode()
        assert reverse("documents:import_commit", args=[record.pk]) not in page.content.decode()
        response = commit(client)
        assert response.status_code == 400
        assert "上传的文件已按保留期限删除" in response.content.decode()
        assert not Liaison.objects.filter(name="演示·保留乙").exists()
        assert Import.objects.get().state == ImportState.CHECKED

    def test_an_upload_lost_from_storage_says_so(self, world: Any) -> None:
        client = client_for(user("shatoujiao"))
        data = sheet_bytes([LIAISON_HEADERS, liaison_row("演示·保留丙", "13800000133")])
        upload(client, "liaisons", data)
        record = Import.objects.get()
        default_storage.delete(stored_name(record.file))
        page = client.get(record.get_absolute_url())
        assert page.status_code == 200
        assert "上传的文件已不存在" in page.content.decode()
        response = commit(client)
        assert response.status_code == 400
        assert "上传的文件已不存在" in response.content.decode()
        assert not Liaison.objects.filter(name="演示·保留丙").exists()
