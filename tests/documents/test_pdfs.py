"""Printable documents (issue 5, item 1): the registration form in its three copies
(annex note 8), the tracking-ledger sheet (annex 2) and the duty record, as PDF.

Each PDF is read back with poppler-utils: the fields it must carry, the page count,
the embedded CJK font; page 1 of each is kept as a PNG under test-artifacts/documents/."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from minyi.cases.models import Case, Outcome, PersonalDataView
from minyi.cases.services import (
    case_answer,
    case_confirm,
    case_evaluate,
    case_refer,
    case_send_to_street,
)
from minyi.documents.views import COPIES
from minyi.duties.models import HouseholdVisit
from minyi.org.models import HandlingUnit
from minyi.people.models import Representative, User
from tests.cases.helpers import register
from tests.core.helpers import client_for
from tests.documents.pdftools import (
    compact,
    fonts,
    images_per_page,
    keep_first_page_png,
    page_count,
    pages_text,
)

pytestmark = pytest.mark.django_db

NUMBER = "沙头角街道沙头角社区2026001"
LANDLINE = "+8675512345678"  # 0755-12345678, as the form stores it
UNIT = "沙头角街道城市管理办公室"


def user(name: str) -> User:
    return User.objects.get(username=name)


def get_pdf(client: Any, name: str, pk: int, query: str = "") -> bytes:
    response = client.get(reverse(name, args=[pk]) + query)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"
    assert response.content.startswith(b"%PDF-")
    return response.content


def walked_case(*, hide: bool = False) -> Case:
    """Registered, confirmed, sent to the street, referred, answered and rated."""
    case = register(hide_identity_from_unit=hide)
    case = case_confirm(case=case, actor=user("rep"), who="representative")
    case = case_send_to_street(case=case, actor=user("liaison"))
    unit = HandlingUnit.objects.get(name=UNIT)
    case = case_refer(case=case, actor=user("shatoujiao"), handling_unit=unit)
    case_answer(
        case=Case.objects.get(pk=case.pk),
        actor=user("unit"),
        text="已责令工地夜间停工，并安排夜间巡查。",
        result="已解决",
    )
    case_evaluate(
        case=Case.objects.get(pk=case.pk),
        actor=user("shatoujiao"),
        rating="satisfied",
        reporter_confirmed=True,
        representative_confirmed=True,
        street_head_confirmed=True,
    )
    return Case.objects.get(pk=case.pk)


class TestRegistrationForm:
    def test_three_copies_one_page_each_with_every_field(self, world: Any, tmp_path: Path) -> None:
        case = register(
            reporter_employer="演示单位",
            reporter_employer_address="沙头角演示路 1 号",
            reporter_home_phone="+8675525550000",
        )
        case_confirm(case=case, actor=user("rep"), who="representative")
        data = get_pdf(client_for(user("liaison")), "documents:case_form", case.pk)

        assert page_count(data, tmp_path) == 3
        pages = pages_text(data, tmp_path)
        assert len(pages) == 3
        rep = Representative.objects.get(name="演示代表·陈明")
        for page, mark in zip(pages, COPIES, strict=True):
            text = compact(page)
            assert mark in text
            for other in set(COPIES) - {mark}:
                assert f"本联：{other}" not in text
            for field in (
                "深圳市党代表社情民意登记表",
                NUMBER,
                "沙头角社区党代表工作室",
                "沙头角街道",
                "演示居民·王大爷",
                "男",
                "68",
                "138",  # the full phone, not masked
                "5678",
                "演示单位",
                "沙头角演示路1号",
                "沙头角演示小区3栋501",
                "■当面反映",
                "□电话反映",
                "工地夜间施工噪声扰民",
                "影响休息，希望依法管理",
                "演示代表·陈明",
                "■报送街道组织部门",
                "反映人签名",
                "党代表签名",
                "党代表已于",  # the recorded confirmation
                "2026年3月4日",
            ):
                assert field in text, (mark, field)
            if rep.position:
                assert compact(rep.position) in text
        assert "****" not in compact(pages[0])
        keep_first_page_png(data, "case_form", tmp_path)

    def test_the_reporter_s_copy_says_where_to_follow_the_case(
        self, world: Any, tmp_path: Path
    ) -> None:
        data = get_pdf(client_for(user("liaison")), "documents:case_form", register().pk)
        reporter, studio, street = (compact(page) for page in pages_text(data, tmp_path))
        assert "网上查询办理进度" in reporter and "/online/progress/find/" in reporter
        assert "网上查询办理进度" not in studio + street
        assert "本表登记的手机号码获取短信验证码" in reporter
        # Beside the address, a QR code (minyi.online.qr) on the reporter's copy alone,
        # and the form still fits one page a copy.
        assert images_per_page(data, tmp_path) == [1]
        assert page_count(data, tmp_path) == 3

    def test_a_reporter_with_a_landline_is_not_sent_to_ask_for_a_text(
        self, world: Any, tmp_path: Path
    ) -> None:
        """A text message cannot reach 0755-…: the copy names only the progress code."""
        case = register(reporter_phone=LANDLINE)
        data = get_pdf(client_for(user("liaison")), "documents:case_form", case.pk)
        reporter = compact(pages_text(data, tmp_path)[0])
        assert "工作室发给您的查询码" in reporter and "短信验证码" not in reporter

    def test_an_on_the_spot_answer_and_satisfaction(self, world: Any, tmp_path: Path) -> None:
        case = register(
            outcome=Outcome.ON_THE_SPOT,
            spot_answer="已联系社区网格员当场处理。",
            spot_satisfaction="very_satisfied",
        )
        data = get_pdf(client_for(user("rep")), "documents:case_form", case.pk)
        text = compact(pages_text(data, tmp_path)[0])
        assert "■当场答复" in text
        assert "已联系社区网格员当场处理" in text
        assert "■非常满意" in text
        assert "□满意" in text

    def test_fonts_are_embedded_noto_cjk(self, world: Any, tmp_path: Path) -> None:
        data = get_pdf(client_for(user("liaison")), "documents:case_form", register().pk)
        listed = fonts(data, tmp_path)
        assert any("Noto" in name and "CJK" in name for name, _ in listed), listed
        assert listed and all(embedded == "yes" for _, embedded in listed), listed

    def test_each_download_is_recorded(self, world: Any) -> None:
        case = register()
        client = client_for(user("shatoujiao"))
        get_pdf(client, "documents:case_form", case.pk)
        get_pdf(client, "documents:case_form", case.pk)
        views = PersonalDataView.objects.filter(case=case, purpose="打印登记表")
        assert views.count() == 2
        assert set(views.values_list("viewer__username", flat=True)) == {"shatoujiao"}


class TestLedger:
    def test_every_annex_2_field(self, world: Any, tmp_path: Path) -> None:
        case = walked_case()
        data = get_pdf(client_for(user("shatoujiao")), "documents:case_ledger", case.pk)
        assert page_count(data, tmp_path) == 1
        text = compact(pages_text(data, tmp_path)[0])
        for field in (
            "办理情况跟踪明细帐",
            NUMBER,
            "演示居民·王大爷",
            "沙头角演示小区3栋501",
            "工地夜间施工噪声扰民",
            "演示代表·陈明",
            "■送街道组织部门",
            "□送区委组织部门",
            "□送市委组织部",
            UNIT,
            "反馈时间",
            "已解决",
            "已责令工地夜间停工",
            "■满意",
            "□非常满意",
            "□基本满意",
            "□不满意",
            "反映人签名",
            "市党代表签名",
            "街道组织部门负责人签名",
        ):
            assert field in text, field
        assert text.count("（已确") == 3  # the three signatures recorded as confirmed
        assert "沙头角街道街道" not in text
        assert PersonalDataView.objects.filter(case=case, purpose="打印跟踪明细帐").count() == 1
        keep_first_page_png(data, "case_ledger", tmp_path)

    def test_the_unit_prints_it_when_the_reporter_is_not_hidden(self, world: Any) -> None:
        case = walked_case()
        get_pdf(client_for(user("unit")), "documents:case_ledger", case.pk)
        assert PersonalDataView.objects.filter(case=case, viewer__username="unit").count() == 1


class TestPrivacy:
    @pytest.mark.parametrize("name", ["documents:case_form", "documents:case_ledger"])
    def test_the_outsider_gets_404(self, world: Any, name: str) -> None:
        case = register()
        response = client_for(user("meisha")).get(reverse(name, args=[case.pk]))
        assert response.status_code == 404
        assert not PersonalDataView.objects.filter(case=case).exists()

    @pytest.mark.parametrize("name", ["documents:case_form", "documents:case_ledger"])
    def test_the_unit_gets_404_when_the_reporter_is_hidden(self, world: Any, name: str) -> None:
        case = walked_case(hide=True)
        response = client_for(user("unit")).get(reverse(name, args=[case.pk]))
        assert response.status_code == 404
        assert not PersonalDataView.objects.filter(case=case).exists()
        # The case itself is still the unit's to read; only the reporter is withheld.
        assert client_for(user("unit")).get(case.get_absolute_url()).status_code == 200

    def test_the_case_page_links_the_pdfs_only_for_those_who_may_see_the_reporter(
        self, world: Any
    ) -> None:
        case = walked_case(hide=True)
        form = reverse("documents:case_form", args=[case.pk])
        ledger = reverse("documents:case_ledger", args=[case.pk])
        page = client_for(user("liaison")).get(case.get_absolute_url()).content.decode()
        assert form in page and ledger in page and "打印登记表" in page
        page = client_for(user("unit")).get(case.get_absolute_url()).content.decode()
        assert form not in page and ledger not in page


class TestEscaping:
    def test_markup_and_formulas_print_as_text(self, world: Any, tmp_path: Path) -> None:
        case = register(
            summary="<script>alert(1)</script><b>粗</b>",
            content='=HYPERLINK("x") 请核实',
            reporter_name="<i>王</i>",
        )
        data = get_pdf(client_for(user("liaison")), "documents:case_form", case.pk)
        text = pages_text(data, tmp_path)[0]
        assert "<script>alert(1)</script><b>粗</b>" in text
        assert '=HYPERLINK("x")' in text
        assert "<i>王</i>" in text

    def test_the_html_behind_the_pdf_is_escaped(self, world: Any) -> None:
        from django.template.loader import render_to_string

        from minyi.documents.views import _common

        case = register(summary="<script>alert(1)</script>")
        html = render_to_string(
            "documents/case_form.html",
            _common(case) | {"copies": [("第一联", COPIES[0])], "channels": [], "outcomes": []},
        )
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


class TestDutyRecord:
    def make_year(self, world: Any) -> Representative:
        chen = Representative.objects.get(name="演示代表·陈明")
        HouseholdVisit.objects.create(
            representative=chen,
            community=world["440308003006"],
            visited_on=date(2026, 3, 4),
            household="演示·王先生家",
            address="沙头角演示小区 3 栋 501",
            recorded_by=user("rep"),
        )
        register()
        return chen

    def test_the_year_with_addresses_masked(self, world: Any, tmp_path: Path) -> None:
        chen = self.make_year(world)
        data = get_pdf(client_for(user("liaison")), "documents:duty_record", chen.pk, "?year=2026")
        text = compact("".join(pages_text(data, tmp_path)))
        assert "演示代表·陈明2026年履职档案" in text
        assert NUMBER in text
        assert "工地夜间施工噪声扰民" in text
        assert "演示·王先生家" in text
        assert "****" in text
        assert "3栋501" not in text
        assert any("CJK" in name for name, _ in fonts(data, tmp_path))
        keep_first_page_png(data, "duty_record", tmp_path)

    def test_another_year_is_empty(self, world: Any, tmp_path: Path) -> None:
        chen = self.make_year(world)
        data = get_pdf(client_for(user("rep")), "documents:duty_record", chen.pk, "?year=2025")
        text = compact("".join(pages_text(data, tmp_path)))
        assert NUMBER not in text
        assert "本年度没有入户走访记录" in text

    def test_out_of_scope_and_bad_year(self, world: Any) -> None:
        chen = self.make_year(world)
        url = reverse("documents:duty_record", args=[chen.pk])
        assert client_for(user("meisha")).get(url).status_code == 404
        assert client_for(user("unit")).get(url).status_code == 404
        assert client_for(user("rep")).get(url + "?year=abc").status_code == 400

    def test_the_record_page_links_the_pdf(self, world: Any) -> None:
        chen = self.make_year(world)
        page = client_for(user("rep")).get(
            reverse("duties:duty_record", args=[chen.pk]) + "?year=2026"
        )
        assert reverse("documents:duty_record", args=[chen.pk]) + "?year=2026" in (
            page.content.decode()
        )
