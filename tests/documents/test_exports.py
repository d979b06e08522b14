"""Excel exports of the lists (issue 5, item 2): the rows of the screen (scope,
filters, masking), Chinese headers, real dates, formula injection neutralised, every
export recorded; large lists become a background job with progress whose file only
its owner may download."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from minyi.cases.models import Case
from minyi.documents.excel import run
from minyi.documents.excel.safe import neutralise, restore
from minyi.documents.models import Export, ExportState
from tests.cases.helpers import register
from tests.core.helpers import client_for, streamed_body
from tests.documents.test_pdfs import user, walked_case
from tests.documents.xlsx import column, table

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export(client: Any, kind: str, query: str = "") -> bytes:
    response = client.get(reverse("documents:export", args=[kind]) + query)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == XLSX
    assert "attachment" in response["Content-Disposition"]
    return response.content


def screen_count(client: Any, url: str, query: str = "") -> int:
    return client.get(url + query).context["page"].paginator.count


LISTS = [
    ("cases", "cases:list", "编号"),
    ("ledger", "cases:ledger", "街道"),
    ("events", "duties:event_list", "开始时间"),
    ("representatives", "people:representative_list", "姓名"),
    ("liaisons", "people:liaison_list", "姓名"),
    ("studios", "studios:list", "名称"),
]


class TestEveryList:
    @pytest.mark.parametrize(("kind", "url_name", "first"), LISTS)
    @pytest.mark.parametrize("who", ["city", "shatoujiao", "meisha", "liaison"])
    def test_the_export_has_the_rows_of_the_screen(
        self, world: Any, kind: str, url_name: str, first: str, who: str
    ) -> None:
        register()
        register(summary="第二件", received_on=date(2026, 4, 1))
        client = client_for(user(who))
        headers, rows, notes = table(export(client, kind))
        assert headers[0] == first
        assert len(rows) == screen_count(client, reverse(url_name))
        assert any("导出人" in n for n in notes)
        assert Export.objects.filter(owner__username=who, kind=kind, total=len(rows)).exists()

    def test_compliance_exports_the_results_of_the_page(self, world: Any) -> None:
        client = client_for(user("shatoujiao"))
        headers, rows, notes = table(export(client, "compliance", "?year=2026"))
        assert headers[:6] == ["工作室", "对象", "事项", "依据", "期间", "结果"]
        assert rows, "the demo studio has duty results"
        assert {r[0] for r in rows} == {"沙头角社区党代表工作室"}
        assert any("2026-01-01—2026-12-31" in n for n in notes)
        assert (
            client_for(user("unit"))
            .get(reverse("documents:export", args=["compliance"]))
            .status_code
            == 404
        )

    def test_an_unknown_list_is_404(self, world: Any) -> None:
        url = reverse("documents:export", args=["accounts"])
        assert client_for(user("city")).get(url).status_code == 404


class TestFiltersScopeAndMasking:
    def test_the_filters_on_screen_apply_and_are_written_down(self, world: Any) -> None:
        register()
        register(summary="路灯不亮")
        client = client_for(user("liaison"))
        headers, rows, notes = table(export(client, "cases", "?q=路灯"))
        assert column(headers, rows, "内容摘要") == ["路灯不亮"]
        assert any("编号或摘要：路灯" in n for n in notes)

    def test_another_street_sees_none_of_shatoujiao(self, world: Any) -> None:
        register()
        _, rows, _ = table(export(client_for(user("meisha")), "cases"))
        assert rows == []

    def test_reporters_are_masked_and_dates_are_real_dates(self, world: Any) -> None:
        walked_case()
        headers, rows, _ = table(export(client_for(user("shatoujiao")), "ledger"))
        (row,) = rows
        record = dict(zip(headers, row, strict=False))
        assert record["反映人"] == "演*******"
        assert record["联系电话"] == "138****5678"
        assert isinstance(record["反映日期"], datetime)
        assert record["反映日期"].date() == date(2026, 3, 4)
        assert isinstance(record["反馈时间"], datetime)
        assert record["报送"] == "街道"
        assert record["评价"] == "满意"
        assert record["承办单位"] == "沙头角街道城市管理办公室"

    def test_a_unit_the_reporter_hides_from_sees_no_name(self, world: Any) -> None:
        walked_case(hide=True)
        headers, rows, _ = table(export(client_for(user("unit")), "cases"))
        assert column(headers, rows, "反映人") == ["身份保密"]
        assert column(headers, rows, "联系电话") == [None]

    def test_bad_filters_are_a_chinese_400(self, world: Any) -> None:
        url = reverse("documents:export", args=["ledger"]) + "?date_from=2026-02-30"
        response = client_for(user("liaison")).get(url)
        assert response.status_code == 400
        assert "反映日期从" in response.content.decode()


TRIGGERS = ["=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠"]


class TestFormulaInjection:
    @pytest.mark.parametrize("lead", TRIGGERS)
    def test_a_leading_trigger_is_quoted_and_stays_text(self, world: Any, lead: str) -> None:
        summary = f'{lead}HYPERLINK("http://example.invalid","点我")'
        register(summary=summary)
        headers, rows, _ = table(export(client_for(user("liaison")), "cases"))
        (cell,) = column(headers, rows, "内容摘要")
        assert cell == "'" + summary
        assert restore(cell) == summary

    def test_cells_are_strings_never_formulas(self, world: Any) -> None:
        register(summary='=HYPERLINK("http://example.invalid")')
        from tests.documents.xlsx import workbook

        response = client_for(user("liaison")).get(reverse("documents:export", args=["cases"]))
        sheet = workbook(response.content).worksheets[0]
        kinds = {cell.data_type for row in sheet.iter_rows() for cell in row if cell.value}
        assert "f" not in kinds

    def test_harmless_text_is_left_alone(self) -> None:
        assert neutralise("沙头角 -1") == "沙头角 -1"
        assert neutralise("") == ""
        assert restore("'普通") == "'普通"


class TestLargeExports:
    def test_a_large_list_becomes_a_job_with_progress(self, world: Any, monkeypatch: Any) -> None:
        monkeypatch.setattr(run, "SYNC_ROWS", 1)
        for day in range(1, 4):
            register(summary=f"第{day}件", received_on=date(2026, 3, day))
        client = client_for(user("liaison"))
        response = client.get(reverse("documents:export", args=["cases"]) + "?year=2026")
        assert response.status_code == 302
        job = Export.objects.get(owner__username="liaison")
        assert response["Location"] == reverse("documents:export_job", args=[job.pk])
        html = client.get(response["Location"]).content.decode()
        assert "排队中" in html and 'hx-trigger="every 1s"' in html
        assert client.get(reverse("documents:export_download", args=[job.pk])).status_code == 404

        run.export_job_run(job.pk)
        job.refresh_from_db()
        assert job.state == ExportState.DONE and job.written == 3 and job.percent == 100
        page = client.get(response["Location"], headers={"HX-Request": "true"})
        assert "已完成" in page.content.decode() and "every 1s" not in page.content.decode()

        download = client.get(reverse("documents:export_download", args=[job.pk]))
        assert download.status_code == 200
        headers, rows, notes = table(streamed_body(download))
        assert sorted(column(headers, rows, "内容摘要")) == ["第1件", "第2件", "第3件"]
        assert any("年度：2026年" in n for n in notes)

        # Only the owner sees the job or its file.
        for other in ("shatoujiao", "city"):
            other_client = client_for(user(other))
            for name in ("documents:export_job", "documents:export_download"):
                assert other_client.get(reverse(name, args=[job.pk])).status_code == 404

    def test_a_job_runs_once(self, world: Any, monkeypatch: Any) -> None:
        monkeypatch.setattr(run, "SYNC_ROWS", 0)
        register()
        client_for(user("liaison")).get(reverse("documents:export", args=["cases"]))
        job = Export.objects.get()
        run.export_job_run(job.pk)
        first = job.__class__.objects.get(pk=job.pk).file.name
        run.export_job_run(job.pk)
        assert job.__class__.objects.get(pk=job.pk).file.name == first

    def test_a_failing_job_says_so(self, world: Any, monkeypatch: Any) -> None:
        monkeypatch.setattr(run, "SYNC_ROWS", 0)
        register()
        client = client_for(user("liaison"))
        client.get(reverse("documents:export", args=["cases"]))
        job = Export.objects.get()

        def broken(*args: Any, **kwargs: Any) -> int:
            raise OSError("disk full")

        monkeypatch.setattr(run, "write_xlsx", broken)
        run.export_job_run(job.pk)
        job.refresh_from_db()
        assert job.state == ExportState.FAILED
        page = client.get(reverse("documents:export_job", args=[job.pk])).content.decode()
        assert "导出失败" in page

    def test_the_job_sees_what_its_owner_sees(self, world: Any, monkeypatch: Any) -> None:
        monkeypatch.setattr(run, "SYNC_ROWS", 0)
        register()
        client_for(user("meisha")).get(reverse("documents:export", args=["cases"]))
        job = Export.objects.get()
        run.export_job_run(job.pk)
        job.refresh_from_db()
        assert job.state == ExportState.DONE and job.written == 0


class TestListPagesLinkTheExport:
    @pytest.mark.parametrize(("kind", "url_name", "first"), LISTS)
    def test_the_link_carries_the_filters(
        self, world: Any, kind: str, url_name: str, first: str
    ) -> None:
        page = client_for(user("city")).get(reverse(url_name) + "?q=x").content.decode()
        if kind == "ledger":
            page = (
                client_for(user("city")).get(reverse(url_name) + "?state=closed").content.decode()
            )
            assert reverse("documents:export", args=[kind]) + "?state=closed" in page
        else:
            assert reverse("documents:export", args=[kind]) + "?q=x" in page

    def test_the_compliance_page_links_its_export(self, world: Any) -> None:
        page = client_for(user("shatoujiao")).get(reverse("duties:compliance") + "?year=2026")
        assert reverse("documents:export", args=["compliance"]) in page.content.decode()


class TestQueryCount:
    def test_the_export_runs_a_fixed_number_of_queries(
        self, world: Any, django_assert_max_num_queries: Any
    ) -> None:
        client = client_for(user("shatoujiao"))
        walked_case()
        url = reverse("documents:export", args=["ledger"])
        client.get(url)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as few:
            client.get(url)
        for day in range(1, 6):
            register(summary=f"第{day}件", received_on=date(2026, 3, day))
        with CaptureQueriesContext(connection) as many:
            client.get(url)
        assert len(many) == len(few)
        assert Case.objects.count() == 6


class TestRunExportsCommand:
    def test_it_writes_jobs_left_behind(self, world: Any, monkeypatch: Any) -> None:
        from datetime import timedelta

        from django.core.management import call_command
        from django.utils import timezone

        monkeypatch.setattr(run, "SYNC_ROWS", 0)
        register()
        client_for(user("liaison")).get(reverse("documents:export", args=["cases"]))
        Export.objects.update(created_at=timezone.now() - timedelta(hours=1))
        call_command("run_exports")
        job = Export.objects.get()
        assert job.state == ExportState.DONE and job.written == 1


class Crash(BaseException):
    """The process dying mid-run (memory, a killed worker): nothing in the job catches it."""


class TestAnExportThatKeepsCrashing:
    def test_it_fails_for_good_after_three_runs_with_a_message_for_its_owner(
        self, world: Any, monkeypatch: Any
    ) -> None:
        monkeypatch.setattr(run, "SYNC_ROWS", 0)
        register()
        client = client_for(user("liaison"))
        client.get(reverse("documents:export", args=["cases"]))

        def crashing(*args: Any, **kwargs: Any) -> Any:
            raise Crash

        monkeypatch.setattr(run, "export_source", crashing)
        runs = 0
        for _ in range(6):  # three hours of cron
            hour_ago = timezone.now() - timedelta(hours=1)
            Export.objects.update(created_at=hour_ago, started_at=hour_ago)
            try:
                call_command("run_exports")
            except Crash:
                runs += 1
        job = Export.objects.get()
        assert runs == 3
        assert job.state == ExportState.FAILED and job.attempts == 3 and not job.file
        page = client.get(reverse("documents:export_job", args=[job.pk])).content.decode()
        assert "连续 3 次意外中断" in page and "未生成文件" in page and "缩小筛选范围" in page

    def test_a_long_export_is_not_taken_over_while_its_run_is_young(
        self, world: Any, monkeypatch: Any
    ) -> None:
        monkeypatch.setattr(run, "SYNC_ROWS", 0)
        register()
        client_for(user("liaison")).get(reverse("documents:export", args=["cases"]))
        # Queued an hour ago (the queue was long), running for five minutes.
        now = timezone.now()
        Export.objects.update(
            state=ExportState.RUNNING,
            created_at=now - timedelta(hours=1),
            started_at=now - timedelta(minutes=5),
            attempts=1,
        )
        call_command("run_exports")
        job = Export.objects.get()
        assert job.state == ExportState.RUNNING and job.attempts == 1

    @pytest.mark.parametrize("outcome", ["given up", "taken over"])
    def test_a_run_presumed_dead_writes_nothing_when_it_wakes(
        self, world: Any, monkeypatch: Any, outcome: str
    ) -> None:
        """run_exports may give up on a run, or take it over, while that run is still
        alive (a stalled worker): the old run must not write 已完成 over the job's new
        state, nor leave its file behind."""
        monkeypatch.setattr(run, "SYNC_ROWS", 0)
        register()
        client_for(user("liaison")).get(reverse("documents:export", args=["cases"]))
        job = Export.objects.get()
        real_source = run.export_source
        later = timezone.now() + timedelta(minutes=40)

        def stalled(*args: Any, **kwargs: Any) -> Any:
            # While this run stalls, the cron job decides it is dead.
            if outcome == "given up":
                Export.objects.update(state=ExportState.FAILED, error="已放弃")
            else:
                Export.objects.update(state=ExportState.RUNNING, started_at=later, attempts=2)
            return real_source(*args, **kwargs)

        monkeypatch.setattr(run, "export_source", stalled)
        stored: list[str] = []
        real_delete = Export.file.field.storage.delete

        def delete(name: str) -> None:
            stored.append(name)
            real_delete(name)

        monkeypatch.setattr(run.Export.file.field.storage, "delete", delete)
        run.export_job_run(job.pk)
        job.refresh_from_db()
        assert not job.file and not job.file_key and job.written == 0
        if outcome == "given up":
            assert job.state == ExportState.FAILED and job.error == "已放弃"
        else:
            assert job.state == ExportState.RUNNING and job.started_at == later
        # The file it wrote is deleted (it is nobody's, and its key was never stored).
        assert len(stored) == 1 and not Export.file.field.storage.exists(stored[0])
