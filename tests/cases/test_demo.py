from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from minyi.cases.models import Case, DeliveryStatus, FeedbackCopy, Recipient
from minyi.cases.states import CaseState
from minyi.online.demo import DEMO_PROGRESS_CODE
from minyi.online.services import find_report, rateable_answer
from minyi.people.models import User
from tests.core.helpers import client_for, text_of


@pytest.mark.django_db
def test_the_demo_has_a_case_at_each_stage_and_loads_only_once(world, capsys):
    call_command("load_demo")
    call_command("load_demo")
    states = sorted(Case.objects.values_list("state", flat=True))
    assert states == sorted(
        [
            CaseState.CLOSED,
            CaseState.REGISTERED,
            CaseState.WITH_UNIT,
            CaseState.ANSWERED,
            CaseState.ANSWERED,  # the resident's online report
        ]
    )
    overdue = Case.objects.get(state=CaseState.WITH_UNIT)
    assert overdue.due_on < timezone.localdate()
    assert "演示账号" in capsys.readouterr().out


@pytest.mark.django_db
def test_the_demo_online_report_is_followed_with_the_printed_code(world):
    out = StringIO()
    call_command("load_demo", stdout=out)
    report = find_report(Case.objects.get(channel="online").number, DEMO_PROGRESS_CODE.lower())
    assert report is not None
    assert f"查询码 {DEMO_PROGRESS_CODE}" in out.getvalue()
    assert report.case.number in out.getvalue()
    assert rateable_answer(report.case) is not None  # the resident can rate it now


@pytest.mark.django_db
def test_the_demo_writes_the_reporters_copies_to_the_log_and_says_so(world):
    """A journey walker does not find the demo's answers 待发送 for ever; the case page
    says the copy was written to the log, never that it reached the reporter."""
    out = StringIO()
    call_command("load_demo", stdout=out)
    copies = FeedbackCopy.objects.filter(recipient=Recipient.REPORTER)
    assert copies.count() == 2
    assert set(copies.values_list("channel", "status")) == {("console", DeliveryStatus.SENT)}
    assert "反映人抄送已写入日志" in out.getvalue()
    case = Case.objects.get(state=CaseState.ANSWERED, channel="in_person")
    page = text_of(client_for(User.objects.get(username="shatoujiao")).get(case.get_absolute_url()))
    assert "反映人（已写入日志 " in page and "，未发短信）" in page
    assert "反映人（已送达" not in page


@pytest.mark.django_db
@override_settings(MINYI_REPORTER_CHANNEL="http", MINYI_SMS_URL="https://sms.invalid/send")
def test_with_a_real_gateway_the_demo_sends_no_text_message(world, monkeypatch):
    def no_sms(**kwargs: object) -> None:
        raise AssertionError("the demo must not send a text message")

    monkeypatch.setattr("minyi.core.sms.send_text", no_sms)
    out = StringIO()
    call_command("load_demo", stdout=out)
    copies = FeedbackCopy.objects.filter(recipient=Recipient.REPORTER)
    assert set(copies.values_list("channel", "status")) == {("http", DeliveryStatus.PENDING)}
    assert "写入日志" not in out.getvalue()
