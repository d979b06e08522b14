"""The case pages: registration through the form (bad input refused in Chinese, nothing
saved, no serial consumed), scoping, the logged view of the reporter's details, the
steps (refused in Chinese when the state does not allow them, 409 on a stale page),
and the list and the ledger (masked reporters, constant query counts)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import uuid4

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from minyi.cases import services
from minyi.cases.models import (
    Answer,
    Case,
    CaseNumberCounter,
    CaseStep,
    DeliveryStatus,
    FeedbackCopy,
    Outcome,
    PersonalDataView,
    Recipient,
    Satisfaction,
)
from minyi.cases.states import Action, CaseState
from minyi.core.phones import display_phone
from minyi.org.models import HandlingUnit
from minyi.people.models import Representative, User
from minyi.studios.models import Studio
from tests.cases.helpers import STUDIO, register
from tests.core.helpers import client_for, text_of

URBAN = "沙头角街道城市管理办公室"
FULL_PHONE = "13800005678"
MASKED_PHONE = "138****5678"


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _urban() -> HandlingUnit:
    return HandlingUnit.objects.get(name=URBAN)


def form_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "studio": Studio.objects.get(name=STUDIO).pk,
        "representative": Representative.objects.get(name="演示代表·陈明").pk,
        "channel": "in_person",
        "channel_note": "",
        "occasion": "reception",
        "received_on": (services.today() - timedelta(days=2)).isoformat(),
        "category": "城市管理",
        "reporter_name": "演示居民·李阿姨",
        "reporter_gender": "female",
        "reporter_age": "70",
        "reporter_phone": "138 0000 5678",
        "reporter_employer": "演示公司",
        "reporter_employer_address": "演示路 2 号",
        "reporter_home_address": "沙头角演示小区 5 栋 302",
        "reporter_home_phone": "0755-12345678",
        "summary": "小区门口占道经营",
        "content": "每天傍晚小区门口摊贩占道，行人难以通过。",
        "target_level": "street",
        "outcome": "sent_on",
        "spot_answer": "",
        "spot_satisfaction": "",
        # The page's one-time key (minyi.core.once): each call is a new blank form.
        "submission_key": str(uuid4()),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def refer(case: Case) -> Case:
    case = services.case_send_to_street(case=case, actor=_user("liaison"))
    return services.case_refer(case=case, actor=_user("shatoujiao"), handling_unit=_urban())


class TestRegistration:
    def test_the_liaison_registers_and_sees_the_number(self, liaison: User) -> None:
        client = client_for(liaison)
        page = client.get(reverse("cases:create"))
        assert page.status_code == 200
        form = page.context["form"]
        assert list(form.fields["studio"].queryset) == [Studio.objects.get(name=STUDIO)]
        assert {r.name for r in form.fields["representative"].queryset} == {
            "演示代表·陈明",
            "演示代表·林秀英",
            "演示代表·何建国",
        }
        assert form["received_on"].value() == services.today()

        data = form_data()
        response = client.post(reverse("cases:create"), data, follow=True)
        case = Case.objects.get()
        assert response.redirect_chain == [(case.get_absolute_url(), 302)]
        # The number carries the year the opinion was received (two days ago), which on
        # 1 and 2 January is last year.
        year = date.fromisoformat(data["received_on"]).year
        assert case.number == f"沙头角街道沙头角社区{year}001"
        assert f"登记成功，编号：沙头角街道沙头角社区{year}001" in text_of(response)
        assert case.reporter_phone == "+8613800005678"
        assert case.reporter_home_phone == "+867551234567" + "8"
        assert case.reporter_age == 70
        assert case.representative_name == "演示代表·陈明"
        assert case.registered_by == liaison
        assert case.state == CaseState.REGISTERED
        assert list(case.steps.values_list("action", flat=True)) == [Action.REGISTER]

    def test_answered_on_the_spot_it_is_closed_with_the_satisfaction(self, liaison: User) -> None:
        data = form_data(
            outcome="on_the_spot", spot_answer="已当场联系城管到场。", spot_satisfaction="satisfied"
        )
        response = client_for(liaison).post(reverse("cases:create"), data)
        assert response.status_code == 302
        case = Case.objects.get()
        assert case.state == CaseState.CLOSED
        assert case.final_rating == Satisfaction.SATISFIED

    def test_a_paper_form_keeps_its_original_date(self, liaison: User) -> None:
        client_for(liaison).post(reverse("cases:create"), form_data(received_on="2025-12-30"))
        assert Case.objects.get().number == "沙头角街道沙头角社区2025001"

    @pytest.mark.parametrize(
        ("overrides", "label", "message"),
        [
            ({"reporter_age": "150"}, "年龄", "年龄应在 1 到 120 岁之间，请核对。"),
            ({"reporter_age": "0"}, "年龄", "年龄应在 1 到 120 岁之间，请核对。"),
            ({"reporter_phone": "12345"}, "联系电话", "“12345”不是有效的电话号码"),
            (
                {"reporter_home_phone": "0755-1234"},
                "住宅电话",
                "“0755-1234”不是有效的电话号码",
            ),
            ({"summary": ""}, "内容摘要", "请填写内容摘要。"),
            ({"summary": "   "}, "内容摘要", "请填写内容摘要。"),
            ({"reporter_name": ""}, "反映人姓名", "请填写反映人姓名。"),
            (
                {"outcome": "on_the_spot", "spot_answer": "已答复"},
                "反映人对当场答复的满意度",
                "当场答复的，请记录反映人的满意度。",
            ),
            (
                {"outcome": "on_the_spot", "spot_satisfaction": "satisfied"},
                "当场答复内容",
                "当场答复的，请填写答复内容。",
            ),
            ({"received_on": "2099-01-01"}, "反映日期", "反映日期不能晚于今天。"),
            ({"channel": "other"}, "反映方式说明", "通过其他途径反映的，请注明途径"),
        ],
    )
    def test_bad_input_is_refused_in_chinese_and_nothing_is_saved(
        self, liaison: User, overrides: dict[str, str], label: str, message: str
    ) -> None:
        client = client_for(liaison)
        response = client.post(reverse("cases:create"), form_data(**overrides))
        assert response.status_code == 400
        page = text_of(response)
        assert 'class="error-summary"' in page
        assert f"{label}：{message}" in page
        assert "小区门口占道经营" in page or overrides.get("summary") is not None  # input kept
        assert 'value="沙头角演示小区 5 栋 302"' in page
        assert not Case.objects.exists()
        assert not CaseNumberCounter.objects.filter(last_serial__gt=0).exists()
        # The serial was not consumed: the next good form is number 001.
        client.post(reverse("cases:create"), form_data())
        assert Case.objects.get().serial == 1

    def test_a_representative_not_working_at_the_studio_is_refused(
        self, street_official: User
    ) -> None:
        # 何建国 works at the studio; 林秀英 too; remove 林秀英's assignment.
        rep = Representative.objects.get(name="演示代表·林秀英")
        rep.assignments.update(active=False)
        response = client_for(street_official).post(
            reverse("cases:create"), form_data(representative=rep.pk)
        )
        assert response.status_code == 400
        assert "演示代表·林秀英 没有进驻沙头角社区党代表工作室。" in text_of(response)
        assert not Case.objects.exists()

    def test_a_representative_registers_as_themselves(self, representative: User) -> None:
        form = client_for(representative).get(reverse("cases:create")).context["form"]
        assert [r.name for r in form.fields["representative"].queryset] == ["演示代表·陈明"]

    def test_choosing_a_studio_reloads_its_representatives(self, city_official: User) -> None:
        studio = Studio.objects.get(name="大梅沙社区党代表工作室")
        response = client_for(city_official).get(
            reverse("cases:create"),
            {"studio": studio.pk},
            HTTP_HX_REQUEST="true",
            HTTP_HX_TARGET="representative-field",
        )
        page = text_of(response)
        assert "<html" not in page
        assert 'id="representative-field"' in page
        assert "演示代表·黄海" in page
        assert "演示代表·陈明" not in page

    def test_handling_units_register_nothing(self, handling_unit_staff: User) -> None:
        client = client_for(handling_unit_staff)
        assert client.get(reverse("cases:create")).status_code == 404
        assert client.post(reverse("cases:create"), form_data()).status_code == 404


class TestScope:
    def test_the_outsider_gets_404_on_the_case_and_its_steps(self, outsider: User) -> None:
        case = register()
        client = client_for(outsider)
        assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 404
        assert client.post(reverse("cases:reporter", args=[case.pk])).status_code == 404
        response = client.post(
            reverse("cases:note", args=[case.pk]), {"version": case.version, "text": "看看"}
        )
        assert response.status_code == 404
        assert case.steps.count() == 1

    def test_the_unit_sees_a_case_only_once_referred_to_it(self, handling_unit_staff: User) -> None:
        case = register()
        client = client_for(handling_unit_staff)
        assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 404
        refer(case)
        assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 200


class TestReporterDetails:
    def test_the_detail_page_masks_the_reporter(self, liaison: User) -> None:
        case = register()
        page = text_of(client_for(liaison).get(case.get_absolute_url()))
        assert MASKED_PHONE in page
        assert FULL_PHONE not in page
        assert "演示居民·王大爷" not in page
        assert "沙头角演示小区" not in page
        assert "查看反映人完整信息" in page

    def test_viewing_the_full_details_is_logged(self, liaison: User) -> None:
        case = register()
        response = client_for(liaison).post(
            reverse("cases:reporter", args=[case.pk]), HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 200
        page = text_of(response)
        assert "<html" not in page
        assert "演示居民·王大爷" in page
        assert FULL_PHONE in page
        assert "沙头角演示小区 3 栋 501" in page
        assert response["Cache-Control"] == "no-store"
        view = PersonalDataView.objects.get()
        assert (view.case, view.viewer) == (case, liaison)

    def test_the_unit_sees_the_reporter_of_an_ordinary_case(
        self, handling_unit_staff: User
    ) -> None:
        case = refer(register())
        client = client_for(handling_unit_staff)
        assert "查看反映人完整信息" in text_of(client.get(case.get_absolute_url()))
        assert client.post(reverse("cases:reporter", args=[case.pk])).status_code == 200
        assert PersonalDataView.objects.filter(viewer=handling_unit_staff).count() == 1

    @pytest.mark.parametrize("why", ["hide_identity_from_unit", "about_unit"])
    def test_the_unit_never_sees_a_protected_reporter(
        self, handling_unit_staff: User, why: str
    ) -> None:
        overrides: dict[str, Any] = (
            {"hide_identity_from_unit": True} if why == "hide_identity_from_unit" else {}
        )
        if why == "about_unit":
            overrides["about_unit"] = _urban()
        case = refer(register(**overrides))
        client = client_for(handling_unit_staff)
        for url in [case.get_absolute_url(), reverse("cases:list"), reverse("cases:ledger")]:
            page = text_of(client.get(url))
            assert FULL_PHONE not in page
            assert MASKED_PHONE not in page  # not even masked
        assert "身份保密" in page
        assert "查看反映人完整信息" not in text_of(client.get(case.get_absolute_url()))
        assert client.post(reverse("cases:reporter", args=[case.pk])).status_code == 404
        assert not PersonalDataView.objects.exists()


class TestSteps:
    def test_a_case_walks_from_registration_to_evaluation(
        self, liaison: User, street_official: User, handling_unit_staff: User
    ) -> None:
        case = register()

        def post(user: User, name: str, data: dict[str, Any]) -> Any:
            version = Case.objects.get(pk=case.pk).version
            url = reverse(f"cases:{name}", args=[case.pk])
            return client_for(user).post(url, {"version": version, **data})

        assert post(liaison, "confirm", {"who": "representative"}).status_code == 302
        assert post(liaison, "confirm", {"who": "reporter"}).status_code == 302
        assert post(liaison, "send", {}).status_code == 302
        page = text_of(client_for(street_official).get(case.get_absolute_url()))
        assert "转办本级承办单位" in page
        assert post(street_official, "refer", {"handling_unit": _urban().pk}).status_code == 302
        case.refresh_from_db()
        assert case.state == CaseState.WITH_UNIT
        assert case.due_on is not None
        page = text_of(client_for(handling_unit_staff).get(case.get_absolute_url()))
        assert "个工作日" in page
        assert post(handling_unit_staff, "plan", {"plan": "三日内现场处置"}).status_code == 302
        response = post(
            handling_unit_staff, "answer", {"text": "已清理占道摊贩。", "result": "已解决"}
        )
        assert response.status_code == 302
        response = post(
            street_official,
            "evaluate",
            {
                "rating": "very_satisfied",
                "reporter_confirmed": "on",
                "representative_confirmed": "on",
                "street_head_confirmed": "on",
            },
        )
        assert response.status_code == 302
        case.refresh_from_db()
        assert case.state == CaseState.CLOSED
        assert case.final_rating == Satisfaction.VERY_SATISFIED
        page = text_of(client_for(liaison).get(case.get_absolute_url()))
        for words in [
            "党代表确认",
            "反映人确认",
            "将登记表报送沙头角街道组织部门",
            "转办给沙头角街道城市管理办公室",
            "办理计划",
            "书面答复",
            "满意度评议",
            "评议结果：非常满意",
            "状态：承办单位办理中 → 已答复（待评议）",
        ]:
            assert words in page, words

    def test_only_permitted_steps_are_offered(
        self, liaison: User, street_official: User, handling_unit_staff: User
    ) -> None:
        case = refer(register())

        def offered(user: User) -> set[str]:
            return set(client_for(user).get(case.get_absolute_url()).context["step_forms"])

        assert offered(handling_unit_staff) == {"plan", "answer", "extension", "return", "note"}
        assert offered(street_official) == {"urge", "consult", "note"}
        assert offered(liaison) == {"note"}
        page = text_of(client_for(liaison).get(case.get_absolute_url()))
        assert "提交答复" not in page

    def test_a_provisional_deadline_is_called_so_only_while_it_still_runs(
        self, street_official: User, handling_unit_staff: User
    ) -> None:
        """Only the open cases' deadlines are recomputed when a year's holidays are
        entered: a closed case's page does not promise it."""
        case = refer(register())
        Case.objects.filter(pk=case.pk).update(due_provisional=True)
        note = "录入后自动重算"
        assert note in text_of(client_for(street_official).get(case.get_absolute_url()))
        services.case_answer(case=case, actor=handling_unit_staff, text="已处理。")
        case.refresh_from_db()
        services.case_evaluate(
            case=case,
            actor=street_official,
            rating="satisfied",
            reporter_confirmed=True,
            representative_confirmed=True,
            street_head_confirmed=True,
        )
        case.refresh_from_db()
        assert case.state == CaseState.CLOSED and case.due_provisional
        assert note not in text_of(client_for(street_official).get(case.get_absolute_url()))

    def test_dissatisfied_sends_it_back_to_the_unit(
        self, street_official: User, handling_unit_staff: User
    ) -> None:
        case = refer(register())
        services.case_answer(case=case, actor=handling_unit_staff, text="已处理。")
        case.refresh_from_db()
        response = client_for(street_official).post(
            reverse("cases:evaluate", args=[case.pk]),
            {"version": case.version, "rating": "dissatisfied", "reopen": "on"},
        )
        assert response.status_code == 302
        case.refresh_from_db()
        assert (case.state, case.reopen_count) == (CaseState.WITH_UNIT, 1)

    def test_an_answer_given_again_after_reopening_has_its_own_heading(
        self, street_official: User, handling_unit_staff: User
    ) -> None:
        case = refer(register())
        for round_ in (1, 2, 3):
            services.case_answer(case=case, actor=handling_unit_staff, text=f"第{round_}稿答复")
            case.refresh_from_db()
            if round_ < 3:
                case = services.case_evaluate(
                    case=case,
                    actor=street_official,
                    rating=Satisfaction.DISSATISFIED,
                    reporter_confirmed=True,
                    representative_confirmed=True,
                    street_head_confirmed=True,
                    reopen=True,
                ).case
        page = text_of(client_for(street_official).get(case.get_absolute_url()))
        unit = "沙头角街道城市管理办公室"  # handling_unit_staff's
        today = f"{services.today():%Y-%m-%d}"
        # All three the same day by the same unit: the heading says which is which.
        headings = [
            f"<strong>{unit}的答复</strong>，{today}",
            f"<strong>{unit}重新办理后的答复</strong>，{today}",
            f"<strong>{unit}第 2 次重新办理后的答复</strong>，{today}",
        ]
        for heading in headings:
            assert page.count(heading) == 1, heading
        positions = [page.index(h) for h in headings]
        assert positions == sorted(positions)

    def test_htmx_gets_the_refreshed_case(self, liaison: User) -> None:
        case = register()
        response = client_for(liaison).post(
            reverse("cases:note", args=[case.pk]),
            {"version": 1, "text": "已电话回访"},
            HTTP_HX_REQUEST="true",
            HTTP_HX_TARGET="case",
        )
        assert response.status_code == 200
        page = text_of(response)
        assert "<html" not in page
        assert "已电话回访" in page
        assert "备注已记录。" in page
        assert 'name="version" value="2"' in page

    def test_answering_before_referral_is_explained_in_chinese(self, admin_user: User) -> None:
        case = register()
        response = client_for(admin_user).post(
            reverse("cases:answer", args=[case.pk]), {"version": 1, "text": "已处理"}
        )
        assert response.status_code == 400
        assert "案件当前状态为“已登记（待报送街道）”，不能进行“书面答复”。" in text_of(response)
        assert not Answer.objects.exists()
        case.refresh_from_db()
        assert (case.state, case.version) == (CaseState.REGISTERED, 1)

    def test_the_answer_message_says_the_copies_are_on_their_way(
        self, handling_unit_staff: User
    ) -> None:
        """The copies wait in the outbox for deliver_feedback; the page lists them as
        待发送, so the message must not say they were sent already."""
        case = refer(register())
        response = client_for(handling_unit_staff).post(
            reverse("cases:answer", args=[case.pk]),
            {"version": case.version, "text": "已处理。"},
            follow=True,
        )
        page = text_of(response)
        assert "书面答复已提交，将抄送反映人、党代表和工作室。" in page
        assert "（待发送）" in page

    @pytest.mark.parametrize(
        ("channel", "shown"),
        [("console", "反映人（已写入日志 "), ("http", "反映人（已送达 ")],
    )
    def test_a_copy_only_written_to_the_log_is_not_called_delivered(
        self, handling_unit_staff: User, street_official: User, channel: str, shown: str
    ) -> None:
        """The console channel (development, or no SMS gateway) writes the reporter's
        copy to the log: the page says so, and never that it reached the reporter."""
        case = refer(register())
        services.case_answer(case=case, actor=handling_unit_staff, text="已处理。")
        FeedbackCopy.objects.filter(recipient=Recipient.REPORTER).update(
            channel=channel, status=DeliveryStatus.SENT, delivered_at=timezone.now()
        )
        page = text_of(client_for(street_official).get(case.get_absolute_url()))
        assert shown in page
        assert ("，未发短信）" in page) == (channel == "console")

    def test_answering_twice_is_explained_to_the_unit(self, handling_unit_staff: User) -> None:
        case = refer(register())
        services.case_answer(case=case, actor=handling_unit_staff, text="已处理。")
        case.refresh_from_db()
        response = client_for(handling_unit_staff).post(
            reverse("cases:answer", args=[case.pk]), {"version": case.version, "text": "再答"}
        )
        assert response.status_code == 400
        assert "不能进行“书面答复”" in text_of(response)
        assert Answer.objects.count() == 1

    def test_a_step_the_role_never_takes_is_404(self, liaison: User) -> None:
        case = refer(register())
        response = client_for(liaison).post(
            reverse("cases:answer", args=[case.pk]), {"version": case.version, "text": "x"}
        )
        assert response.status_code == 404

    def test_a_refusal_by_the_service_is_explained(self, liaison: User) -> None:
        case = register()
        services.case_confirm(case=case, actor=liaison, who="representative")
        response = client_for(liaison).post(
            reverse("cases:confirm", args=[case.pk]), {"version": 2, "who": "representative"}
        )
        assert response.status_code == 400
        assert "党代表已确认过本登记表。" in text_of(response)

    def test_a_case_closed_after_handling_offers_and_takes_no_confirmation(
        self, liaison: User, street_official: User, handling_unit_staff: User
    ) -> None:
        """The form is confirmed at the studio; once the case has been handled, rated
        and closed, a confirmation would be a signature added after its end: the page
        offers none and refuses one posted, saying why (the state table alone allows
        it, for a case answered on the spot)."""
        case = refer(register())
        services.case_answer(case=case, actor=handling_unit_staff, text="已处理。")
        services.case_evaluate(
            case=case,
            actor=street_official,
            rating=Satisfaction.SATISFIED,
            reporter_confirmed=True,
            representative_confirmed=True,
            street_head_confirmed=True,
        )
        case.refresh_from_db()
        assert case.state == CaseState.CLOSED
        client = client_for(liaison)
        page = client.get(case.get_absolute_url())
        assert not {"confirm_representative", "confirm_reporter"} & set(page.context["step_forms"])
        response = client.post(
            reverse("cases:confirm", args=[case.pk]),
            {"version": case.version, "who": "representative"},
        )
        assert response.status_code == 400
        assert "本件已办结，不能再记录“党代表确认”。" in text_of(response)
        case.refresh_from_db()
        assert case.representative_confirmed_at is None

    def test_a_case_answered_on_the_spot_is_still_confirmed_after_it_closed(
        self, liaison: User
    ) -> None:
        case = register(
            outcome=Outcome.ON_THE_SPOT, spot_answer="已当场解释。", spot_satisfaction="satisfied"
        )
        client = client_for(liaison)
        page = client.get(case.get_absolute_url())
        assert {"confirm_representative", "confirm_reporter"} <= set(page.context["step_forms"])
        response = client.post(
            reverse("cases:confirm", args=[case.pk]), {"version": case.version, "who": "reporter"}
        )
        assert response.status_code == 302
        assert Case.objects.get(pk=case.pk).reporter_confirmed_at is not None

    def test_a_consent_recorded_for_the_representative_says_so_on_the_timeline(
        self, street_official: User, handling_unit_staff: User
    ) -> None:
        """The timeline names the official who recorded it: without saying it was for
        the representative, 党代表同意延期 under an official's name reads as if the
        official were the representative."""
        case = services.case_request_extension(
            case=refer(register()), actor=handling_unit_staff, reason="需协调"
        )
        client = client_for(street_official)
        url = reverse("cases:extension_decide", args=[case.pk])
        refused = client.post(url, {"version": case.version, "consent": "yes", "note": ""})
        assert refused.status_code == 400
        assert "请写明党代表是如何表示同意的（电话、书面或当面）" in text_of(refused)
        assert (
            client.post(
                url, {"version": case.version, "consent": "yes", "note": "党代表电话表示同意"}
            ).status_code
            == 302
        )
        page = text_of(client.get(case.get_absolute_url()))
        name = street_official.full_name or street_official.username
        assert "党代表同意延期" in page
        assert f"（由{name}代为记录党代表的同意）" in page
        assert "党代表电话表示同意" in page

    def test_an_empty_note_is_refused_and_nothing_saved(self, liaison: User) -> None:
        case = register()
        response = client_for(liaison).post(
            reverse("cases:note", args=[case.pk]), {"version": 1, "text": " "}
        )
        assert response.status_code == 400
        assert "请填写备注内容。" in text_of(response)
        assert case.steps.count() == 1

    def test_bad_step_input_is_kept(self, handling_unit_staff: User) -> None:
        case = refer(register())
        response = client_for(handling_unit_staff).post(
            reverse("cases:answer", args=[case.pk]),
            {"version": case.version, "text": "", "result": "部分解决"},
        )
        assert response.status_code == 400
        page = text_of(response)
        assert "请填写书面答复内容。" in page
        assert 'value="部分解决"' in page

    def test_a_stale_page_is_refused_and_nothing_changes(
        self, liaison: User, representative: User
    ) -> None:
        case = register()
        services.case_note(case=case, actor=representative, text="代表已知悉", version=1)
        response = client_for(liaison).post(
            reverse("cases:note", args=[case.pk]), {"version": 1, "text": "联络员的备注"}
        )
        assert response.status_code == 409
        page = text_of(response)
        assert "已被他人更新" in page
        assert "代表已知悉" in page  # the page shows the case as it is now
        assert "联络员的备注" in page  # and keeps what was typed
        assert 'name="version" value="2"' in page
        assert not CaseStep.objects.filter(text="联络员的备注").exists()
        case.refresh_from_db()
        assert case.version == 2

    def test_a_stale_page_for_a_step_no_longer_allowed_is_409(
        self, liaison: User, street_official: User
    ) -> None:
        case = register()
        services.case_send_to_street(case=case, actor=street_official, version=1)
        response = client_for(liaison).post(reverse("cases:send", args=[case.pk]), {"version": 1})
        assert response.status_code == 409
        assert "已被他人更新" in text_of(response)
        assert CaseStep.objects.filter(action=Action.SEND_TO_STREET).count() == 1


def _variety(n: int) -> None:
    """n cases in a mix of states, with answers and evaluations."""
    for i in range(n):
        case = register(summary=f"第{i}件")
        if i % 3 == 1:
            case = refer(case)
        elif i % 3 == 2:
            case = refer(case)
            unit_staff = _user("unit")
            services.case_answer(case=case, actor=unit_staff, text="已处理", result="已解决")
            services.case_evaluate(
                case=case,
                actor=_user("shatoujiao"),
                rating=Satisfaction.SATISFIED,
                reporter_confirmed=True,
                representative_confirmed=True,
                street_head_confirmed=False,
            )


def _queries(user: User, url: str) -> int:
    client = client_for(user)
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


class TestListAndLedger:
    @pytest.mark.parametrize("name", ["cases:list", "cases:ledger"])
    @pytest.mark.parametrize("persona", ["liaison", "shatoujiao", "unit"])
    def test_query_count_does_not_grow_with_the_cases(
        self, world: Any, name: str, persona: str
    ) -> None:
        user = _user(persona)
        _variety(3)
        few = _queries(user, reverse(name))
        _variety(9)
        assert _queries(user, reverse(name)) == few

    @pytest.mark.parametrize("name", ["cases:list", "cases:ledger"])
    def test_reporters_are_masked(self, street_official: User, name: str) -> None:
        refer(register())
        page = text_of(client_for(street_official).get(reverse(name)))
        assert MASKED_PHONE in page
        assert FULL_PHONE not in page
        assert "+8613800005678" not in page
        assert "演示居民·王大爷" not in page
        assert "工地夜间施工噪声扰民" in page

    def test_overdue_cases_are_marked_in_words(self, liaison: User) -> None:
        late = refer(register(summary="已超期的一件"))
        Case.objects.filter(pk=late.pk).update(due_on=services.today() - timedelta(days=5))
        soon = refer(register(summary="快到期的一件"))
        Case.objects.filter(pk=soon.pk).update(due_on=services.today() + timedelta(days=2))
        register(summary="刚登记的一件")
        client = client_for(liaison)
        page = text_of(client.get(reverse("cases:list")))
        assert 'class="overdue"' in page
        assert "已超期" in page
        overdue = client.get(reverse("cases:list"), {"overdue": "on"})
        assert [c.summary for c in overdue.context["rows"]] == ["已超期的一件"]
        due_soon = client.get(reverse("cases:list"), {"due_soon": "on"})
        assert [c.summary for c in due_soon.context["rows"]] == ["快到期的一件"]
        detail = text_of(client.get(late.get_absolute_url()))
        assert "已超期" in detail
        assert "个工作日" in detail

    def test_a_list_row_prints_what_the_case_holds(self, street_official: User) -> None:
        """The row's texts are made in the view (cases.views._mark_row_texts), not by
        the template's filters: the same link, ISO dates and Chinese labels."""
        case = refer(register())
        Case.objects.filter(pk=case.pk).update(final_rating=Satisfaction.SATISFIED)
        case.refresh_from_db()
        response = client_for(street_official).get(reverse("cases:list"))
        html = response.content.decode()
        (row,) = response.context["rows"]
        assert f'<a href="{case.get_absolute_url()}">{case.number}</a>' in html
        assert (
            f'<td class="hide-sm when" data-label="反映日期">{case.received_on:%Y-%m-%d}</td>'
            in html
        )
        assert f"{case.due_on:%Y-%m-%d}" in html
        assert (row.state_label, row.rating_label) == (
            case.get_state_display(),
            case.get_final_rating_display(),
        )
        assert (
            f'<td data-label="状态">{case.get_state_display()}<div class="muted">满意</div></td>'
            in html
        )

    def test_a_list_row_reads_only_what_it_prints(self, street_official: User) -> None:
        """The page's rows (CaseList.page_rows) are cases of the printed columns with
        the three names joined in, not whole cases with their related objects; the
        names still print, and nothing is fetched row by row afterwards."""
        case = refer(register())
        client = client_for(street_official)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("cases:list"))
        (row,) = response.context["rows"]
        html = response.content.decode()
        assert f'<div class="muted">{case.studio.name}</div>' in html
        assert case.handling_unit is not None and case.holder_department is not None
        assert f"<div>承办：{case.handling_unit.name}</div>" in html
        assert case.holder_department.name in html
        (rows_sql,) = [
            q["sql"]
            for q in queries
            if '"cases_case"."summary"' in q["sql"] and "LIMIT" in q["sql"]
        ]
        assert '"reporter_home_address"' not in rows_sql
        assert '"address"' not in rows_sql  # no studio built for the row
        assert row.get_deferred_fields() >= {"content", "reporter_home_address"}

    def test_list_rows_escape_what_people_typed(self, street_official: User) -> None:
        """The rows are written in Python (minyi.cases.rows), not by the autoescaping
        template engine: every value must still be escaped."""
        refer(register(summary='<script>alert("x")</script> & 噪声'))
        html = client_for(street_official).get(reverse("cases:list")).content.decode()
        assert "<script>alert" not in html
        assert (
            '<td data-label="内容摘要">'
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; 噪声</td>" in html
        )

    def test_the_list_filters(self, liaison: User) -> None:
        register(summary="噪声")
        refer(register(summary="占道"))
        client = client_for(liaison)

        def rows(**query: Any) -> list[str]:
            response = client.get(reverse("cases:list"), query)
            return [c.summary for c in response.context["rows"]]

        assert rows(q="占道") == ["占道"]
        assert rows(state=CaseState.REGISTERED) == ["噪声"]
        assert rows(handling_unit=_urban().pk) == ["占道"]
        assert rows(year=2026) == ["占道", "噪声"]
        number = Case.objects.get(summary="噪声").number
        assert rows(q=number) == ["噪声"]

    def test_the_htmx_list_returns_the_results_only(self, liaison: User) -> None:
        register()
        response = client_for(liaison).get(
            reverse("cases:list"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results"
        )
        page = text_of(response)
        assert "<html" not in page
        assert "<table" in page

    def test_the_ledger_follows_annex_2(self, street_official: User) -> None:
        case = refer(register())
        services.case_answer(case=case, actor=_user("unit"), text="已处理", result="已停工")
        case.refresh_from_db()
        services.case_evaluate(
            case=case,
            actor=street_official,
            rating=Satisfaction.BASICALLY_SATISFIED,
            reporter_confirmed=True,
            representative_confirmed=True,
            street_head_confirmed=True,
        )
        response = client_for(street_official).get(reverse("cases:ledger"))
        page = text_of(response)
        row = response.context["rows"][0]
        assert row.sent == [("街道", True), ("区", False), ("市", False)]
        for words in [
            "沙头角街道",
            STUDIO,
            case.number,
            "演示代表·陈明",
            URBAN,
            "已停工",
            "基本满意",
        ]:
            assert words in page, words
        filtered = client_for(street_official).get(
            reverse("cases:ledger"), {"rating": "very_satisfied"}
        )
        assert filtered.context["rows"] == []

    def test_a_ledger_row_prints_the_cells_of_annex_2(self, street_official: User) -> None:
        """The page's rows are written in Python (minyi.cases.ledger_rows) from the
        answers and evaluations read as tuples: the markup the template printed, cell by
        cell, for a case answered late and evaluated, and for one reopened."""
        case = refer(register())
        services.case_answer(case=case, actor=_user("unit"), text="已处理", result="已停工")
        Answer.objects.filter(case=case).update(on_time=False)
        case.refresh_from_db()
        services.case_evaluate(
            case=case,
            actor=street_official,
            rating=Satisfaction.BASICALLY_SATISFIED,
            reporter_confirmed=True,
            representative_confirmed=False,
            street_head_confirmed=True,
        )
        reopened = refer(register(summary="第二件"))
        services.case_answer(case=reopened, actor=_user("unit"), text="已回复居民")
        reopened.refresh_from_db()
        services.case_evaluate(
            case=reopened,
            actor=street_official,
            rating=Satisfaction.DISSATISFIED,
            reporter_confirmed=False,
            representative_confirmed=False,
            street_head_confirmed=False,
            reopen=True,
        )
        case.refresh_from_db()
        response = client_for(street_official).get(reverse("cases:ledger"))
        first, second = response.context["rows"]
        today = f"{services.today():%Y-%m-%d}"
        rep = case.representative_position
        signed = case.representative_confirmed_at
        assert first.row_html == (
            '<tr><td data-label="街道">沙头角街道</td>'
            f'<td data-label="工作室">{STUDIO}</td>'
            f'<td data-label="编号"><a href="{case.get_absolute_url()}">{case.number}</a></td>'
            f'<td data-label="反映人">演*******<div class="muted">{MASKED_PHONE}</div></td>'
            '<td data-label="内容摘要">工地夜间施工噪声扰民</td>'
            '<td class="when" data-label="日期">2026-03-04</td>'
            f'<td data-label="党代表">演示代表·陈明{f"<div>{rep}</div>" if rep else ""}'
            f'<div class="muted">{display_phone(case.representative_contact)}</div></td>'
            '<td class="sent" data-label="报送">'
            "<div>☑ 街道</div><div>☐ 区</div><div>☐ 市</div></td>"
            '<td class="when" data-label="党代表签名">'
            f"{f'☑ {timezone.localtime(signed):%Y-%m-%d}' if signed else '☐'}</td>"
            f'<td data-label="承办单位">{URBAN}</td>'
            f'<td class="when" data-label="反馈时间">{today}'
            '<div><span class="badge overdue">逾期</span></div></td>'
            '<td data-label="办理结果">已停工</td>'
            '<td data-label="评价">基本满意</td>'
            '<td data-label="签名确认">'
            "<div>☑ 反映人</div><div>☐ 党代表</div><div>☑ 街道负责人</div>"
            f'<div class="muted">{today}</div></td></tr>'
        )
        assert (
            '<td data-label="办理结果">已回复居民</td><td data-label="评价">不满意（重办中）</td>'
            in second.row_html
        )
        assert "<div>☐ 反映人</div><div>☐ 党代表</div><div>☐ 街道负责人</div>" in (second.row_html)
        assert first.row_html in response.content.decode()

    def test_ledger_rows_escape_what_people_typed(self, street_official: User) -> None:
        """The rows are written in Python, not by the autoescaping template engine:
        every value typed by people (the summary, the reporter's name, the answer, the
        on-the-spot answer) must still be escaped."""
        typed = '<script>alert("x")</script> & 噪声'
        escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; 噪声"
        case = refer(register(summary=typed, reporter_name="<王>"))
        services.case_answer(case=case, actor=_user("unit"), text="已处理", result='<i>"停"</i>')
        register(
            summary="当场答复的一件",
            outcome=Outcome.ON_THE_SPOT,
            spot_answer="<b>已解释</b> &",
            spot_satisfaction=Satisfaction.SATISFIED,
        )
        html = client_for(street_official).get(reverse("cases:ledger")).content.decode()
        assert "<script>alert" not in html
        assert "<b>" not in html
        assert "<i>" not in html
        assert f'<td data-label="内容摘要">{escaped}</td>' in html
        assert '<td data-label="反映人">&lt;**<div class="muted">' in html
        assert '<td data-label="办理结果">&lt;i&gt;&quot;停&quot;&lt;/i&gt;</td>' in html
        assert '<td data-label="办理结果">&lt;b&gt;已解释&lt;/b&gt; &amp;</td>' in html

    def test_the_ledger_marks_escalation(self, street_official: User) -> None:
        case = services.case_send_to_street(case=register(), actor=street_official)
        services.case_escalate(case=case, actor=street_official, reason="超出街道权限")
        row = client_for(street_official).get(reverse("cases:ledger")).context["rows"][0]
        assert row.sent == [("街道", True), ("区", True), ("市", False)]


@pytest.mark.django_db
def test_the_home_page_counts_open_and_overdue_cases_in_scope(world, liaison, street_official):
    from datetime import date
    from unittest import mock

    from django.test import Client

    from minyi.cases import services as case_services
    from minyi.org.models import HandlingUnit
    from tests.cases.helpers import register as register_case

    case = case_services.case_send_to_street(case=register_case(), actor=liaison)
    with mock.patch("minyi.cases.services.today", return_value=date(2026, 3, 2)):
        case_services.case_refer(
            case=case,
            actor=street_official,
            handling_unit=HandlingUnit.objects.get(name="沙头角街道城市管理办公室"),
        )
    client = Client()
    client.force_login(street_official)
    with mock.patch("minyi.cases.summary.today", return_value=date(2026, 4, 1)):
        page = client.get("/").content.decode()
    assert "已超期，需督办" in page
    client.force_login(User.objects.get(username="meisha"))
    assert "已超期，需督办" not in client.get("/").content.decode()
