"""Retention and data-subject requests (issue 7, item 3): after the configured period from
closing, a case's personal data is anonymised while every statistic and year-end report
still adds up; a reporter's request to see or delete their data is served by a command an
administrator runs."""

from __future__ import annotations

import json
from datetime import date, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from minyi.cases.attachments import case_attach
from minyi.cases.models import Case, CaseAttachment, CaseStep, FeedbackCopy, Recipient
from minyi.cases.services import case_evaluate
from minyi.cases.summary import case_counts
from minyi.core.crypto import phone_digest
from minyi.duties.models import Appointment, AppointmentView
from minyi.evaluation.prefill import prefill, studios_for_prefill
from minyi.people.models import User
from tests import test_access_matrix as matrix
from tests.cases import helpers

NAME = "演示居民·赵秀兰"
PHONE = "+8613800006666"


@pytest.fixture
def reporter(monkeypatch):
    original = helpers.reporter_data

    def reporter_data(**overrides):
        data = original(
            reporter_name=NAME,
            reporter_phone=PHONE,
            reporter_employer="演示公司",
            content=f"{NAME}（电话 13800006666）反映：附近工地每晚十点后仍在施工。",
        )
        data.update(overrides)
        return data

    monkeypatch.setattr(helpers, "reporter_data", reporter_data)


def _closed_case(world, *, years_ago: float) -> Case:
    case = Case.objects.get(**matrix._case_answered(world))
    case_evaluate(
        case=case,
        actor=User.objects.get(username="shatoujiao"),
        rating="satisfied",
        reporter_confirmed=True,
        representative_confirmed=True,
        street_head_confirmed=True,
        comment=f"{NAME}表示满意",
    )
    closed = timezone.now() - timedelta(days=365.25 * years_ago)
    Case.objects.filter(pk=case.pk).update(closed_at=closed)
    return Case.objects.get(pk=case.pk)


def _statistics(world, today: date) -> dict:
    """Everything dashboards, the ledger, compliance and the year-end evaluation count,
    as they stand on `today`."""
    city = User.objects.get(username="city")
    cases = list(
        Case.objects.order_by("pk").values_list(
            "number",
            "studio",
            "category",
            "state",
            "final_rating",
            "handling_unit",
            "holder_department",
            "received_on",
            "closed_at",
            "due_on",
            "reopen_count",
            "year",
        )
    )
    steps = dict(
        CaseStep.objects.exclude(action="note")
        .values_list("action")
        .annotate(n=Count("pk"))
        .values_list("action", "n")
    )
    studios = studios_for_prefill([c[1] for c in cases])
    year_end = prefill(studios, today.year, today)
    return {
        "counts": case_counts(city),
        "cases": cases,
        "steps": steps,
        "ratings": list(
            Case.objects.order_by("pk", "evaluations__pk").values_list(
                "evaluations__rating", "evaluations__handling_unit"
            )
        ),
        "answers": list(
            Case.objects.order_by("pk", "answers__pk").values_list(
                "answers__handling_unit", "answers__on_time"
            )
        ),
        "year_end": repr(year_end),
    }


@pytest.mark.django_db
def test_closed_cases_past_retention_are_anonymised_and_statistics_stay(
    world, reporter, settings, django_capture_on_commit_callbacks, monkeypatch
):
    # One day for both readings of the statistics: a run crossing midnight (Asia/Shanghai)
    # would otherwise compare counts of overdue cases and reports due on different days.
    today = timezone.localdate()
    monkeypatch.setattr("minyi.cases.summary.today", lambda: today)
    settings.MINYI_RETENTION_YEARS = 5
    old = _closed_case(world, years_ago=6)
    recent = _closed_case(world, years_ago=1)
    open_case = Case.objects.get(**matrix._case_with_unit(world))
    upload = SimpleUploadedFile("身份证.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    attachment = case_attach(case=old, actor=old.registered_by, upload=upload)
    stored = Path(attachment.file.path)
    assert stored.exists()
    before = _statistics(world, today)

    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):  # files go after the commit
        call_command("anonymise_closed_cases", stdout=out)
    assert "已匿名化 1 件" in out.getvalue()

    old = Case.objects.get(pk=old.pk)
    assert old.anonymised_at is not None
    assert (old.reporter_name, old.reporter_phone, old.reporter_home_address) == ("已匿名", "", "")
    assert (old.reporter_phone_digest, old.reporter_employer, old.reporter_age) == ("", "", None)
    assert old.reporter_name_masked == "已**"  # what the lists print: no trace of the name
    assert NAME not in old.content and "13800006666" not in old.content
    assert "反映：附近工地每晚十点后仍在施工" in old.content  # the opinion itself stays
    assert not CaseAttachment.objects.filter(case=old).exists() and not stored.exists()
    assert not FeedbackCopy.objects.filter(answer__case=old, recipient=Recipient.REPORTER).exclude(
        address=""
    )
    assert NAME not in str(list(old.evaluations.values_list("comment", flat=True)))
    assert old.steps.filter(text__startswith="反映人个人信息已匿名化").count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM cases_case WHERE id = %s", [old.pk])
        assert "赵秀兰" not in repr(cursor.fetchall())
    # Within retention, and still open: untouched.
    for kept in (recent, open_case):
        kept = Case.objects.get(pk=kept.pk)
        assert kept.reporter_name == NAME and kept.reporter_phone == PHONE
        assert kept.reporter_name_masked == "演*******"
        assert kept.anonymised_at is None
    # Every count, ledger row, rating and year-end figure is what it was.
    assert _statistics(world, today) == before

    # Idempotent: a second run finds nothing and writes nothing.
    steps = CaseStep.objects.count()
    out = StringIO()
    call_command("anonymise_closed_cases", stdout=out)
    assert "已匿名化 0 件" in out.getvalue() and CaseStep.objects.count() == steps


@pytest.mark.django_db
def test_the_retention_period_is_a_setting(world, reporter, settings):
    case = _closed_case(world, years_ago=2)
    settings.MINYI_RETENTION_YEARS = 3
    call_command("anonymise_closed_cases", stdout=StringIO())
    assert Case.objects.get(pk=case.pk).anonymised_at is None
    settings.MINYI_RETENTION_YEARS = 1
    call_command("anonymise_closed_cases", stdout=StringIO())
    assert Case.objects.get(pk=case.pk).anonymised_at is not None


@pytest.mark.django_db
def test_a_bad_date_is_a_clear_message(world):
    with pytest.raises(CommandError, match="格式不正确"):
        call_command("anonymise_closed_cases", "--date", "2026-13-40")


def _appointment(phone: str) -> Appointment:
    from minyi.duties.models import Event

    event = Event.objects.get(pk=matrix._public_event(None)["event_pk"])
    return Appointment.objects.create(event=event, name=NAME, phone=phone, topic="噪声")


@pytest.mark.django_db
def test_a_reporter_s_data_is_exported_for_them_by_an_administrator(world, reporter):
    mine = [helpers.register(), helpers.register(reporter_phone="", reporter_home_phone=PHONE)]
    other = helpers.register(reporter_phone="+8613800001212", reporter_name="别人")
    booking = _appointment(PHONE)
    AppointmentView.objects.create(
        appointment=booking, viewer=User.objects.get(username="liaison"), purpose="确认预约"
    )
    out = StringIO()
    call_command(
        "reporter_data", "export", "--phone", "138 0000 6666", "--operator", "admin", stdout=out
    )
    data = json.loads(out.getvalue())
    assert sorted(c["number"] for c in data["cases"]) == sorted(c.number for c in mine)
    assert other.number not in out.getvalue()
    assert data["cases"][0]["reporter_name"] == NAME
    assert data["appointments"][0]["phone"] == PHONE
    assert data["appointments"][0]["name"] == NAME  # decrypted: it is their own
    # Who saw the booker's name and phone in full is theirs to know too.
    assert [v["viewer"] for v in data["appointments"][0]["viewed_in_full_by"]] == [
        str(User.objects.get(username="liaison"))
    ]
    # Recorded on each case's timeline, with who ran it.
    admin = User.objects.get(username="admin")
    for case in mine:
        assert case.steps.filter(actor=admin, text__contains="导出其个人信息").exists()


@pytest.mark.django_db
def test_a_reporter_s_data_is_erased_on_request(world, reporter):
    mine = helpers.register()
    other = helpers.register(reporter_phone="+8613800001212", reporter_name="别人")
    booking = _appointment(PHONE)
    out = StringIO()
    call_command(
        "reporter_data", "erase", "--phone", "13800006666", "--operator", "admin", stdout=out
    )
    assert "已匿名化 1 件案件、1 条预约" in out.getvalue()
    mine = Case.objects.get(pk=mine.pk)
    assert mine.reporter_name == "已匿名" and mine.reporter_phone == ""
    assert mine.steps.filter(actor__username="admin", text__contains="应反映人要求删除").exists()
    booking = Appointment.objects.get(pk=booking.pk)
    assert (booking.name, booking.phone, booking.phone_digest) == ("已匿名", "", "")
    assert booking.name_masked == "已**"  # what the lists print: no trace of the name
    assert booking.phone_masked == ""  # nor of the phone
    assert Case.objects.get(pk=other.pk).reporter_name == "别人"
    assert not Case.objects.filter(reporter_phone_digest=phone_digest(PHONE)).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args, message",
    [
        (["--phone", "13800006666", "--operator", "liaison"], "只有系统管理员"),
        (["--phone", "13800006666", "--operator", "nobody"], "没有用户名"),
        (["--phone", "12345", "--operator", "admin"], "不是有效的电话号码"),
    ],
)
def test_data_requests_need_an_administrator_and_a_valid_phone(world, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("reporter_data", "export", *args, stdout=StringIO())


@pytest.mark.django_db
def test_anonymising_takes_the_same_queries_for_one_case_or_many(world, reporter):
    from django.test.utils import CaptureQueriesContext

    from minyi.cases.retention import anonymise

    one = [Case.objects.get(**matrix._case_answered(world))]
    many = [Case.objects.get(**matrix._case_answered(world)) for _ in range(3)]
    with CaptureQueriesContext(connection) as first:
        anonymise(one, reason="测试")
    with CaptureQueriesContext(connection) as second:
        anonymise(many, reason="测试")
    assert len(second) == len(first)
