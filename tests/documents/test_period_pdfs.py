"""The ledger of a studio for a period (CM 12) and the liaison's bi-monthly report
(SM 12.5) as PDF, read back with poppler-utils; page 1 of each kept as a PNG."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from minyi.cases.models import Outcome, PersonalDataView
from minyi.duties.models import BimonthlyReport
from minyi.duties.reports import report_create, report_submit
from minyi.studios.models import Studio
from tests.cases.helpers import STUDIO, register
from tests.core.helpers import client_for
from tests.documents.pdftools import compact, fonts, keep_first_page_png, pages_text, raw_text
from tests.documents.test_pdfs import get_pdf, user, walked_case

pytestmark = pytest.mark.django_db


def studio() -> Studio:
    return Studio.objects.get(name=STUDIO)


class TestStudioLedger:
    def test_the_period_with_every_column_and_reporters_masked(
        self, world: Any, tmp_path: Path
    ) -> None:
        walked = walked_case()
        register(
            outcome=Outcome.ON_THE_SPOT,
            spot_answer="已联系社区网格员当场处理。",
            spot_satisfaction="very_satisfied",
            summary="路灯不亮",
            received_on=date(2026, 5, 6),
        )
        register(summary="去年的事", received_on=date(2025, 12, 30))
        data = get_pdf(
            client_for(user("shatoujiao")),
            "documents:studio_ledger",
            studio().pk,
            "?date_from=2026-01-01&date_to=2026-06-30",
        )
        text = compact(raw_text(data, tmp_path))
        for field in (
            "办理情况跟踪明细帐",
            "沙头角街道",
            STUDIO,
            "2026年1月1日—2026年6月30日",
            walked.number,
            "演*******",  # 演示居民·王大爷, masked like the screen
            "工地夜间施工噪声扰民",
            "路灯不亮",
            "当场答复",
            "已联系社区网格员当场处理",
            "演示代表·陈明",
            "■街道",
            "沙头角街道城市管理办公室",
            "已解决",
            "满意",
            "本期间共2件",
        ):
            assert field in text, field
        assert "去年的事" not in text
        assert "王大爷" not in text
        assert "13800005678" not in text
        assert not PersonalDataView.objects.filter(case=walked, purpose__contains="明细帐").exists()
        assert all(embedded == "yes" for _, embedded in fonts(data, tmp_path))
        keep_first_page_png(data, "studio_ledger", tmp_path)

    def test_the_default_period_is_this_year(self, world: Any, tmp_path: Path) -> None:
        data = get_pdf(client_for(user("liaison")), "documents:studio_ledger", studio().pk)
        text = compact(pages_text(data, tmp_path)[0])
        assert "本期间没有登记的社情民意" in text or "本期间共" in text

    @pytest.mark.parametrize(
        "query",
        ["?date_from=2026-13-01", "?date_from=2026-06-30&date_to=2026-01-01", "?date_to=abc"],
    )
    def test_a_bad_period_is_a_chinese_400(self, world: Any, query: str) -> None:
        url = reverse("documents:studio_ledger", args=[studio().pk]) + query
        response = client_for(user("liaison")).get(url)
        assert response.status_code == 400
        assert "YYYY-MM-DD" in response.content.decode()

    def test_out_of_scope_is_404(self, world: Any) -> None:
        url = reverse("documents:studio_ledger", args=[studio().pk])
        assert client_for(user("meisha")).get(url).status_code == 404
        assert client_for(user("unit")).get(url).status_code == 404

    def test_the_studio_page_links_it(self, world: Any) -> None:
        page = client_for(user("liaison")).get(reverse("studios:detail", args=[studio().pk]))
        assert reverse("documents:studio_ledger", args=[studio().pk]) in page.content.decode()


class TestBimonthlyReport:
    def make(self) -> BimonthlyReport:
        register()
        report = report_create(actor=user("liaison"), studio=studio(), year=2026, period=2)
        return report_submit(report=report, actor=user("liaison"))

    def test_the_report_with_its_body_and_submission(self, world: Any, tmp_path: Path) -> None:
        report = self.make()
        data = get_pdf(client_for(user("shatoujiao")), "documents:bimonthly_report", report.pk)
        text = compact("".join(pages_text(data, tmp_path)))
        for field in (
            "党代表活动情况双月报告",
            STUDIO,
            "2026年第2期（3—4月）",
            "一、活动开展情况",
            "五、社情民意登记办理情况",
            "沙头角街道沙头角社区2026001",
            "工地夜间施工噪声扰民",
            "已报送",
            "联络员签名",
        ):
            assert field in text, field
        assert any("CJK" in name for name, _ in fonts(data, tmp_path))
        keep_first_page_png(data, "bimonthly_report", tmp_path)

    def test_markup_in_the_body_prints_as_text(self, world: Any, tmp_path: Path) -> None:
        report = BimonthlyReport.objects.create(
            studio=studio(), year=2026, period=1, body='<b>粗</b> =HYPERLINK("x") ＋1'
        )
        data = get_pdf(client_for(user("liaison")), "documents:bimonthly_report", report.pk)
        text = pages_text(data, tmp_path)[0]
        assert '<b>粗</b> =HYPERLINK("x") ＋1' in text

    def test_out_of_scope_is_404_and_the_page_links_it(self, world: Any) -> None:
        report = self.make()
        url = reverse("documents:bimonthly_report", args=[report.pk])
        assert client_for(user("meisha")).get(url).status_code == 404
        assert client_for(user("unit")).get(url).status_code == 404
        page = client_for(user("liaison")).get(reverse("duties:report_detail", args=[report.pk]))
        assert url in page.content.decode()
