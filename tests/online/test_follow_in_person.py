"""A reporter who came to the studio (or phoned, or whose 12345 work order came through
the API) follows the case online like one who sent it online (journeys 4 and 7): with a
progress code the studio gives them on a slip, or a one-time code sent to the phone the
case was registered with."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from minyi.cases import services as case_services
from minyi.cases.models import Case, CaseStep, Outcome
from minyi.cases.states import Action
from minyi.online import services
from minyi.online.models import OnlineReport
from minyi.people.models import User
from tests.cases.helpers import register
from tests.core.helpers import client_for, found
from tests.online.helpers import answered, codes_sent

pytestmark = pytest.mark.django_db

PHONE = "13800005678"  # tests.cases.helpers.reporter_data's phone
LANDLINE = "+8675512345678"  # 0755-12345678, as the form stores it
CODE = re.compile(r'id="slip-code">([^<]+)<')


def _give_code(user: User, case: Case) -> str:
    client = client_for(user)
    response = client.post(reverse("cases:progress_code", args=[case.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:progress_slip", args=[case.pk])
    slip = client.get(response["Location"])
    assert slip.status_code == 200 and slip["Cache-Control"] == "no-store"
    text = slip.content.decode()
    assert case.number in text and "/online/progress/find/" in text
    # Shown once: the same page again no longer has it.
    again = client.get(response["Location"]).content.decode()
    assert "查询码只显示一次" in again and not CODE.search(again)
    return found(CODE.pattern, text)


def _lookup(number: str, code: str) -> Client:
    client = Client()
    response = client.post(reverse("online:lookup"), {"number": number, "code": code})
    assert response.status_code == 302, response.content.decode()[:500]
    return client


class TestOneTimeCode:
    def test_a_case_registered_at_the_studio_gets_a_code_on_its_phone(
        self, world: Any, monkeypatch: Any
    ) -> None:
        sent = codes_sent(monkeypatch)
        case = answered(register())
        client = Client()
        response = client.post(
            reverse("online:code_request"), {"number": case.number, "phone": "138 0000 5678"}
        )
        assert response.status_code == 302
        assert [phone for phone, _ in sent] == ["+8613800005678"]
        code = found(r"验证码是 (\d{6})", sent[0][1])
        assert client.post(reverse("online:code_check"), {"code": code}).status_code == 302
        page = client.get(reverse("online:progress")).content.decode()
        assert "您的意见已登记" in page and "已责令工地晚上十点后停止施工" in page
        assert "请评价办理结果" in page
        # It was not sent online: nothing to withdraw, and no progress code exists yet.
        report = OnlineReport.objects.get(case=case)
        assert not report.sent_online and report.progress_code_hash == ""
        assert not services.can_withdraw(report) and "撤回这次反映" not in page

    def test_the_phone_the_case_has_now_counts(self, world: Any, monkeypatch: Any) -> None:
        """A number the studio corrected is the one that gets the code, not the old one."""
        sent = codes_sent(monkeypatch)
        case = register()
        case.reporter_phone = "+8613900001111"
        case.save()
        for phone in (PHONE, "13900001111"):
            Client().post(reverse("online:code_request"), {"number": case.number, "phone": phone})
        assert [phone for phone, _ in sent] == ["+8613900001111"]

    def test_no_code_for_a_case_without_a_phone_or_anonymised(
        self, world: Any, monkeypatch: Any
    ) -> None:
        sent = codes_sent(monkeypatch)
        without = register(reporter_phone="")
        gone = register()
        Case.objects.filter(pk=gone.pk).update(
            reporter_phone="", reporter_phone_digest="", anonymised_at=timezone.now()
        )
        for case in (without, gone):
            response = Client().post(
                reverse("online:code_request"), {"number": case.number, "phone": PHONE}
            )
            assert response.status_code == 302  # the same answer as a match
        assert sent == [] and not OnlineReport.objects.exists()

    def test_a_landline_is_refused_with_what_to_do_instead(
        self, world: Any, monkeypatch: Any
    ) -> None:
        """The registration form takes a landline; no text reaches it, so the page says
        to use the progress code rather than answering as if a code were on its way."""
        sent = codes_sent(monkeypatch)
        case = register(reporter_phone=LANDLINE)
        response = Client().post(
            reverse("online:code_request"), {"number": case.number, "phone": "0755-12345678"}
        )
        assert response.status_code == 400
        text = response.content.decode()
        assert "短信验证码只能发到手机" in text and "请用工作室给您的查询码查询" in text
        # A mistyped number is not told that a landline would do.
        response = Client().post(
            reverse("online:code_request"), {"number": case.number, "phone": "12345"}
        )
        text = response.content.decode()
        assert response.status_code == 400 and "“12345”不是有效的手机号码" in text
        assert "带区号的固定电话" not in text
        assert sent == []


class TestProgressCode:
    def test_the_liaison_gives_a_code_and_the_reporter_follows_from_home(self, world: Any) -> None:
        liaison = User.objects.get(username="liaison")
        case = register()
        detail = client_for(liaison).get(case.get_absolute_url()).content.decode()
        assert "给反映人发网上查询码" in detail
        code = _give_code(liaison, case)
        client = _lookup(case.number, code)
        page = client.get(reverse("online:progress")).content.decode()
        assert case.number in page and "您的意见已登记" in page
        # The timeline says a code was given, never the code itself.
        step = CaseStep.objects.filter(case=case, action=Action.NOTE).get()
        assert "已向反映人发放网上查询码" in step.text and code not in step.text
        assert code.replace("-", "") not in OnlineReport.objects.get(case=case).progress_code_hash

    def test_the_slip_offers_a_text_only_for_a_mobile(self, world: Any) -> None:
        liaison = client_for(User.objects.get(username="liaison"))
        for phone, offered in (("+8613800005678", True), (LANDLINE, False)):
            case = register(reporter_phone=phone)
            liaison.post(reverse("cases:progress_code", args=[case.pk]))
            slip = liaison.get(reverse("cases:progress_slip", args=[case.pk])).content.decode()
            assert CODE.search(slip)
            assert ("忘记查询码" in slip) is offered, phone

    def test_an_answer_given_on_the_spot_can_be_read_again(self, world: Any) -> None:
        """The reporter's page showed only 党代表当场作了答复, never what was answered."""
        case = register(
            outcome=Outcome.ON_THE_SPOT,
            spot_answer="已联系物业，本周内增加四个垃圾桶。",
            spot_satisfaction="satisfied",
        )
        client = _lookup(case.number, _give_code(User.objects.get(username="rep"), case))
        page = client.get(reverse("online:progress")).content.decode()
        assert "党代表的当场答复" in page and "已联系物业，本周内增加四个垃圾桶。" in page
        assert "您当时的满意度：<strong>满意</strong>" in page

    def test_a_new_code_replaces_the_old_one(self, world: Any) -> None:
        case = register()
        street = User.objects.get(username="shatoujiao")
        first = _give_code(User.objects.get(username="rep"), case)
        second = _give_code(street, case)
        assert first != second
        old = Client().post(reverse("online:lookup"), {"number": case.number, "code": first})
        assert old.status_code == 400 and "编号或查询码不对" in old.content.decode()
        _lookup(case.number, second)

    def test_an_online_report_s_lost_code_can_be_given_again(self, world: Any) -> None:
        from tests.online.helpers import submit

        _, case, code = submit()
        new = _give_code(User.objects.get(username="liaison"), case)
        old = Client().post(reverse("online:lookup"), {"number": case.number, "code": code})
        assert old.status_code == 400
        _lookup(case.number, new)
        # Still an online report: its withdrawal window is its own.
        assert OnlineReport.objects.get(case=case).sent_online

    def test_the_handling_unit_cannot_give_one(self, world: Any) -> None:
        case = answered(register())
        unit = client_for(User.objects.get(username="unit"))
        assert "给反映人发网上查询码" not in unit.get(case.get_absolute_url()).content.decode()
        assert unit.post(reverse("cases:progress_code", args=[case.pk])).status_code == 404
        assert not OnlineReport.objects.exists()

    def test_none_for_an_anonymised_case(self, world: Any) -> None:
        case = case_services.case_send_to_street(
            case=register(), actor=User.objects.get(username="liaison")
        )
        Case.objects.filter(pk=case.pk).update(anonymised_at=timezone.now())
        client = client_for(User.objects.get(username="shatoujiao"))
        response = client.post(reverse("cases:progress_code", args=[case.pk]), follow=True)
        assert "已按保存期限匿名化，不能再发放查询码" in response.content.decode()
        assert not OnlineReport.objects.exists()
        assert not CaseStep.objects.filter(case=case, action=Action.NOTE).exists()


def test_the_official_who_rates_sees_the_reporter_s_own_rating_beside_the_form(
    world: Any,
) -> None:
    case = answered(register())
    report = services.follow_record(case)
    services.resident_rate(report=report, rating="very_satisfied", comment="路灯修好了")
    street = client_for(User.objects.get(username="shatoujiao"))
    page = street.get(case.get_absolute_url()).content.decode()
    form = page[page.index('class="card step-evaluate"') :]
    assert "反映人已在网上评价本次答复：<strong>非常满意</strong>，意见：路灯修好了" in form
    # Not offered to one who does not rate (the unit sees no form, nor the line).
    unit = client_for(User.objects.get(username="unit"))
    assert "反映人已在网上评价本次答复" not in unit.get(case.get_absolute_url()).content.decode()


def test_the_slip_s_qr_code_opens_the_lookup_with_the_number_filled_in(world: Any) -> None:
    """The lookup's address is long to type on a phone: the slip carries a QR code of it
    with the case number (never the code, which an address would leave in histories
    and logs), and the page it opens has the number in its box."""
    from urllib.parse import quote

    from minyi.online.qr import QR_ALT, qr_data_uri

    liaison = client_for(User.objects.get(username="liaison"))
    case = register()
    liaison.post(reverse("cases:progress_code", args=[case.pk]))
    slip = liaison.get(reverse("cases:progress_slip", args=[case.pk])).content.decode()
    code = found(CODE.pattern, slip)
    address = f"http://testserver/online/progress/find/?number={quote(case.number)}"
    image = found(r'<img class="slip-qr" src="([^"]+)" alt="([^"]+)"', slip)
    assert image == qr_data_uri(address) and image.startswith("data:image/png;base64,")
    assert f'alt="{QR_ALT}"' in slip and code not in address
    opened = Client().get(address.removeprefix("http://testserver")).content.decode()
    assert f'value="{case.number}"' in opened
