"""Large imports as jobs: a sheet over MINYI_IMPORT_SYNC_ROWS rows is neither checked nor
committed inside the request; the job finds what the request would have, the commit job
saves all rows or none and only once, `run_imports` takes over what a crash left, and
the cheap refusals (password, merged cells, too many rows) still come at upload."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from minyi.audit.models import AuditEvent
from minyi.documents.excel import import_jobs, reading
from minyi.documents.excel.importers import Importer
from minyi.documents.models import Import, ImportState
from minyi.documents.retention import imports_due, purge_files
from minyi.org.models import OrgUnit
from minyi.people.forms import LiaisonForm
from minyi.people.models import Liaison
from minyi.studios.models import Studio
from tests.core.helpers import client_for
from tests.documents.test_imports import (
    LIAISON_HEADERS,
    STUDIO_HEADERS,
    commit,
    liaison_row,
    sheet_bytes,
    upload,
)
from tests.documents.test_pdfs import user

pytestmark = pytest.mark.django_db

MIXED = [
    LIAISON_HEADERS,
    liaison_row("演示·好甲", "13800000201"),
    liaison_row("", "13800000202"),
    liaison_row("演示·重复", "13800000203"),
    liaison_row("演示·重复", "13800000203"),
    liaison_row("演示·乙", "13800000204", 类型="临时联络员", 在岗="也许"),
    liaison_row("演示·丙", "12345"),
    liaison_row("演示·丁", "13800000205", 工作室="梅沙社区党代表工作室"),
    liaison_row("演示·好乙", "13800000206"),
]
CLEAN = [LIAISON_HEADERS] + [liaison_row(f"演示·后台{i}", f"1380000030{i}") for i in range(3)]


@pytest.fixture
def jobs_over_two(settings: Any) -> None:
    settings.MINYI_IMPORT_SYNC_ROWS = 2


def new_studio(name: str, community: str) -> list[Any]:
    return [f"演示·新工作室{name}", "社区工作室", community, "社区党委", "", 30, ""]


def detail(client: Any, record: Import, **kwargs: Any) -> Any:
    return client.get(reverse("documents:import_detail", args=[record.pk]), **kwargs)


def result_section(page: str) -> str:
    match = re.search(r'<section class="card" aria-label="检查结果">.*?</section>', page, re.S)
    assert match, page
    return match.group(0)


def checked_upload(client: Any, rows: list[list[Any]]) -> Import:
    response = upload(client, "liaisons", sheet_bytes(rows))
    assert response.status_code == 302
    record = Import.objects.latest("pk")
    import_jobs.check_job_run(record.pk)
    record.refresh_from_db()
    return record


class TestLargeSheetsAreJobs:
    def test_the_upload_does_not_check(self, world: Any, jobs_over_two: None, monkeypatch: Any):
        def no_check(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("checked inside the request")

        monkeypatch.setattr(Importer, "check", no_check)
        client = client_for(user("shatoujiao"))
        response = upload(client, "liaisons", sheet_bytes(CLEAN))
        record = Import.objects.get()
        assert response.status_code == 302
        assert response["Location"] == record.get_absolute_url()
        assert record.in_background and record.state == ImportState.PENDING
        assert record.rows == 3 and record.file
        page = detail(client, record).content.decode()
        assert "待检查" in page and 'hx-trigger="every 1s"' in page
        assert "确认导入（全部" not in page
        assert commit(client).status_code == 400  # nothing to commit before the check

    def test_the_job_finds_what_the_request_would(self, world: Any, settings: Any) -> None:
        client = client_for(user("shatoujiao"))
        at_once = upload(client, "liaisons", sheet_bytes(MIXED))
        assert at_once.status_code == 400
        expected = result_section(at_once.content.decode())
        assert "其中 <strong>5</strong> 行有问题" in expected

        settings.MINYI_IMPORT_SYNC_ROWS = 2
        record = checked_upload(client, MIXED)
        assert record.state == ImportState.CHECKED and record.checked == 8
        assert (record.rows, record.bad_rows, record.created) == (8, 5, 3)
        page = detail(client, record).content.decode()
        assert result_section(page) == expected
        assert "every 1s" not in page
        # The polled part alone, once done, has the result and stops polling.
        part = detail(client, record, headers={"HX-Request": "true"}).content.decode()
        assert "<html" not in part and result_section(part) == expected
        refused = commit(client)
        assert "检查时有 5 行有问题，未导入任何记录" in refused.content.decode()
        assert not Liaison.objects.filter(name__startswith="演示·好").exists()

    def test_progress_is_saved_while_checking(
        self, world: Any, jobs_over_two: None, monkeypatch: Any
    ) -> None:
        monkeypatch.setattr("minyi.documents.excel.importers.PROGRESS_EVERY", 1)
        seen: list[int] = []
        original = import_jobs.check_file

        def watched(*args: Any, **kwargs: Any) -> Any:
            progress = args[2]

            def counted(n: int) -> None:
                progress(n)
                seen.append(n)

            return original(args[0], args[1], counted)

        monkeypatch.setattr(import_jobs, "check_file", watched)
        record = checked_upload(client_for(user("shatoujiao")), CLEAN)
        assert seen == [1, 2] and record.checked == 3


class TestTheCommitJob:
    def test_all_rows_once(self, world: Any, jobs_over_two: None) -> None:
        client = client_for(user("shatoujiao"))
        record = checked_upload(client, CLEAN)
        assert "确认导入（全部 3 行）" in detail(client, record).content.decode()
        response = commit(client)
        assert response.status_code == 302
        record.refresh_from_db()
        assert record.state == ImportState.QUEUED
        assert not Liaison.objects.filter(name__startswith="演示·后台").exists()
        # A second click (another tab) while it waits queues nothing more.
        again = commit(client)
        assert again.status_code == 400
        assert "正在检查或导入" in again.content.decode()
        page = detail(client, record).content.decode()
        assert "待导入" in page and "every 1s" in page
        # Two requests that both found it 已检查 (at the same moment): one UPDATE queues it.
        assert not import_jobs.queue_commit(record, client_ip=None, request_id="")

        import_jobs.commit_job_run(record.pk)
        import_jobs.commit_job_run(record.pk)
        assert Liaison.objects.filter(name__startswith="演示·后台").count() == 3
        record.refresh_from_db()
        assert record.state == ImportState.COMMITTED and (record.created, record.updated) == (3, 0)
        assert "已导入" in detail(client, record).content.decode()
        assert "导入：新增 3 条，更新 0 条" in detail(client, record).content.decode()
        assert commit(client).status_code == 400
        # The rows' audit entries name the uploader, as when committed in the request.
        new = Liaison.objects.filter(name__startswith="演示·后台").values_list("pk", flat=True)
        created = AuditEvent.objects.filter(
            object_type="people.liaison", action="create", object_id__in=[str(pk) for pk in new]
        )
        assert [event.actor_name for event in created] == ["shatoujiao"] * 3

    def test_a_row_the_database_refuses_saves_nothing(
        self, world: Any, jobs_over_two: None, monkeypatch: Any
    ) -> None:
        client = client_for(user("shatoujiao"))
        checked_upload(client, CLEAN)
        commit(client)
        saved = LiaisonForm.save
        calls: list[int] = []

        def second_fails(self: Any, *args: Any, **kwargs: Any) -> Any:
            calls.append(1)
            if len(calls) == 2:
                raise IntegrityError("unique")
            return saved(self, *args, **kwargs)

        monkeypatch.setattr(LiaisonForm, "save", second_fails)
        record = Import.objects.get()
        import_jobs.commit_job_run(record.pk)
        record.refresh_from_db()
        assert record.state == ImportState.FAILED
        assert "违反数据约束，未导入任何记录" in record.error
        assert not Liaison.objects.filter(name__startswith="演示·后台").exists()
        assert "违反数据约束" in detail(client, record).content.decode()

    def test_a_sheet_gone_bad_since_the_check_saves_nothing(
        self, world: Any, settings: Any
    ) -> None:
        settings.MINYI_IMPORT_SYNC_ROWS = 1
        client = client_for(user("shatoujiao"))
        rows = [
            STUDIO_HEADERS,
            new_studio("甲", "桥东社区（440308003003）"),
            new_studio("乙", "田心社区（440308003009）"),
        ]
        upload(client, "studios", sheet_bytes(rows))
        record = Import.objects.get()
        import_jobs.check_job_run(record.pk)
        assert commit(client).status_code == 302
        # Meanwhile 田心社区 is retired: the commit job finds its row no longer valid.
        OrgUnit.objects.filter(code="440308003009").update(retired_at=timezone.now())
        import_jobs.commit_job_run(record.pk)
        record.refresh_from_db()
        assert record.state == ImportState.CHECKED and record.bad_rows == 1
        page = detail(client, record).content.decode()
        assert "数据已发生变化" in page and "第 3 行" in page and "确认导入（全部" not in page
        assert not Studio.objects.filter(name__startswith="演示·新工作室").exists()

    def test_only_the_uploader_sees_or_commits(self, world: Any, jobs_over_two: None) -> None:
        record = checked_upload(client_for(user("shatoujiao")), CLEAN)
        other = client_for(user("yantian"))
        assert detail(other, record).status_code == 404
        assert commit(other).status_code == 404
        record.refresh_from_db()
        assert record.state == ImportState.CHECKED

    def test_a_purged_file_cannot_be_committed(self, world: Any, jobs_over_two: None) -> None:
        client = client_for(user("shatoujiao"))
        record = checked_upload(client, MIXED)
        assert record.problems
        purge_files(imports_due(timezone.now() + timedelta(days=30)))
        record.refresh_from_db()
        assert record.problems == [] and record.file_purged_at  # they quote the sheet
        record = checked_upload(client, CLEAN)
        commit(client)
        purge_files(imports_due(timezone.now() + timedelta(days=30)))
        import_jobs.commit_job_run(record.pk)
        record.refresh_from_db()
        assert record.state == ImportState.FAILED and "按保留期限删除" in record.error
        assert not Liaison.objects.filter(name__startswith="演示·后台").exists()


class TestRunImports:
    def test_it_resumes_a_check_and_a_commit_left_by_a_crash(
        self, world: Any, jobs_over_two: None
    ) -> None:
        client = client_for(user("shatoujiao"))
        upload(client, "liaisons", sheet_bytes(CLEAN))
        record = Import.objects.get()
        call_command("run_imports")  # just uploaded: its own thread's job
        record.refresh_from_db()
        assert record.state == ImportState.PENDING
        # The server stopped mid-check.
        long_ago = timezone.now() - timedelta(hours=1)
        Import.objects.update(state=ImportState.CHECKING, state_at=long_ago, checked=1)
        call_command("run_imports")
        record.refresh_from_db()
        assert record.state == ImportState.CHECKED and record.created == 3

        commit(client)
        # The server stopped mid-commit: the transaction never committed, nothing saved.
        Import.objects.update(state=ImportState.IMPORTING, state_at=long_ago)
        call_command("run_imports")
        record.refresh_from_db()
        assert record.state == ImportState.COMMITTED
        assert Liaison.objects.filter(name__startswith="演示·后台").count() == 3

    def test_a_job_taken_over_writes_nothing(self, world: Any, jobs_over_two: None) -> None:
        client = client_for(user("shatoujiao"))
        record = checked_upload(client, CLEAN)
        commit(client)
        # A run that took the job, then stalled; the command put it back and a new run
        # took it (as run_imports does after 30 minutes).
        stalled = import_jobs._take(record.pk, ImportState.QUEUED, ImportState.IMPORTING)
        assert stalled is not None
        Import.objects.update(state=ImportState.QUEUED)
        current = import_jobs._take(record.pk, ImportState.QUEUED, ImportState.IMPORTING)
        assert current is not None
        # The stalled run wakes up with its rows checked: it no longer holds the job.
        importer, report, _ = import_jobs._check(Import.objects.get(), stalled)
        assert report is not None and not report.bad
        import_jobs._save(record.pk, stalled, importer, report)
        assert not Liaison.objects.filter(name__startswith="演示·后台").exists()
        assert Import.objects.get().state == ImportState.IMPORTING
        importer, report, _ = import_jobs._check(Import.objects.get(), current)
        assert report is not None
        import_jobs._save(record.pk, current, importer, report)
        assert Liaison.objects.filter(name__startswith="演示·后台").count() == 3
        assert Import.objects.get().state == ImportState.COMMITTED


class TestRefusedAtUpload:
    @pytest.mark.parametrize(
        ("rows", "merge", "reason"),
        [
            ([["名称", "类型", "所在社区或单位", None, "依托党组织"]], "C1:D1", "表头有合并单元格"),
            ([STUDIO_HEADERS, ["甲"] * 7, ["乙"] * 7, ["丙"] * 7], "A3:A4", "有合并单元格"),
            ([STUDIO_HEADERS] + [[f"甲{i}"] * 7 for i in range(6)], "", "一次最多导入 5 行"),
        ],
    )
    def test_cheap_checks_stay_in_the_request(
        self, world: Any, monkeypatch: Any, settings: Any, rows: Any, merge: str, reason: str
    ) -> None:
        settings.MINYI_IMPORT_SYNC_ROWS = 0
        monkeypatch.setattr(reading, "MAX_ROWS", 5)
        response = upload(client_for(user("shatoujiao")), "studios", sheet_bytes(rows, merge=merge))
        assert response.status_code == 400
        assert reason in response.content.decode()
        assert not Import.objects.exists()

    def test_a_password_protected_file(self, world: Any, settings: Any) -> None:
        settings.MINYI_IMPORT_SYNC_ROWS = 0
        data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
        response = upload(client_for(user("shatoujiao")), "studios", data)
        assert response.status_code == 400
        assert "文件设有打开密码" in response.content.decode()
        assert not Import.objects.exists()


class Crash(BaseException):
    """The process dying mid-run (memory, a killed worker): nothing in the job catches it."""


def crashing(*args: Any, **kwargs: Any) -> Any:
    raise Crash


class TestAJobThatKeepsCrashing:
    def test_it_fails_for_good_after_three_runs_with_a_message_for_the_uploader(
        self, world: Any, jobs_over_two: None, monkeypatch: Any
    ) -> None:
        client = client_for(user("shatoujiao"))
        record = checked_upload(client, CLEAN)
        assert record.attempts == 1
        commit(client)
        record.refresh_from_db()
        assert record.state == ImportState.QUEUED and record.attempts == 0  # a job of its own
        monkeypatch.setattr(import_jobs, "_check", crashing)
        runs = 0
        for _ in range(6):  # three hours of cron
            Import.objects.update(state_at=timezone.now() - timedelta(hours=1))
            try:
                call_command("run_imports")
            except Crash:
                runs += 1
        record.refresh_from_db()
        assert runs == 3
        assert record.state == ImportState.FAILED and record.attempts == 3
        assert record.error == import_jobs.GAVE_UP
        assert not Liaison.objects.filter(name__startswith="演示·后台").exists()
        page = detail(client, record).content.decode()
        assert "连续 3 次意外中断" in page and "未导入任何记录" in page and "重新上传" in page

    def test_a_job_that_crashed_twice_still_gets_its_third_run(
        self, world: Any, jobs_over_two: None
    ) -> None:
        client = client_for(user("shatoujiao"))
        upload(client, "liaisons", sheet_bytes(CLEAN))
        long_ago = timezone.now() - timedelta(hours=1)
        Import.objects.update(state=ImportState.CHECKING, state_at=long_ago, attempts=2)
        call_command("run_imports")
        record = Import.objects.get()
        assert record.state == ImportState.CHECKED and record.attempts == 3
