"""The bi-monthly report (SM 12.5): drafted from the period's records, edited and
submitted by the studio's liaison, acknowledged by the department in scope."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from minyi.duties.models import BimonthlyReport, HouseholdVisit, ReportState
from minyi.duties.reports import (
    ReportNotAllowed,
    period_dates,
    report_acknowledge,
    report_create,
    report_draft_text,
    report_submit,
)
from minyi.people.models import Representative
from minyi.studios.models import Studio, StudioAssignment
from tests.cases.helpers import register
from tests.core.helpers import client_for, text_of
from tests.duties.test_plan_periods import _left_in_march
from tests.duties.test_record import held_event

STUDIO = "沙头角社区党代表工作室"


def test_periods_are_two_months():
    assert period_dates(2026, 1) == (date(2026, 1, 1), date(2026, 3, 1))
    assert period_dates(2026, 6) == (date(2026, 11, 1), date(2027, 1, 1))
    with pytest.raises(ValidationError):
        period_dates(2026, 7)


def test_the_draft_contains_the_periods_events_attendance_and_cases(world, liaison):
    chen = Representative.objects.get(name="演示代表·陈明")
    held_event(date(2026, 3, 7), rep=chen)
    held_event(date(2026, 5, 9), rep=chen)  # next period
    case = register(received_on=date(2026, 4, 2))
    register(received_on=date(2026, 5, 2))  # next period
    client = client_for(liaison)
    response = client.post(
        reverse("duties:report_create"),
        {"studio": Studio.objects.get(name=STUDIO).pk, "year": 2026, "period": 2},
    )
    assert response.status_code == 302
    report = BimonthlyReport.objects.get()
    body = report.body
    assert "2026年第2期（3—4月）" in body
    assert "已举行 1 场" in body and "接待日2026-03-07" in body
    assert "1. 3月7日 " in body  # as Chinese writes a date, not 03月07日
    assert "演示代表·陈明（09:00—12:00）" in body and "接待 5 人次" in body
    assert "演示代表·何建国" in body  # a representative with no session this period
    assert "本期登记社情民意 1 件" in body and case.number in body
    assert "接待日2026-05-09" not in body


def test_one_report_per_studio_and_period(world, liaison):
    studio = Studio.objects.get(name=STUDIO)
    report_create(actor=liaison, studio=studio, year=2026, period=1)
    response = client_for(liaison).post(
        reverse("duties:report_create"), {"studio": studio.pk, "year": 2026, "period": 1}
    )
    assert response.status_code == 400
    assert "的报告已经存在" in text_of(response)
    assert BimonthlyReport.objects.count() == 1


def test_edit_submit_and_acknowledge(world, liaison, street_official, representative):
    studio = Studio.objects.get(name=STUDIO)
    report = report_create(actor=liaison, studio=studio, year=2026, period=1)
    client = client_for(liaison)
    response = client.post(
        reverse("duties:report_edit", args=[report.pk]),
        {"body": "修改后的报告：本期接待群众 12 人次。", "then": "submit"},
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.state == ReportState.SUBMITTED and report.submitted_by == liaison
    assert report.body.startswith("修改后的报告")
    # Submitted reports are no longer edited.
    response = client.post(reverse("duties:report_edit", args=[report.pk]), {"body": "再改"})
    assert response.status_code == 400
    assert "不能修改" in text_of(response)
    # The representative reads but does not sign; the liaison does not sign either.
    assert (
        client_for(representative)
        .post(reverse("duties:report_acknowledge", args=[report.pk]))
        .status_code
        == 404
    )
    assert client.post(reverse("duties:report_acknowledge", args=[report.pk])).status_code == 404
    assert (
        client_for(street_official)
        .post(reverse("duties:report_acknowledge", args=[report.pk]))
        .status_code
        == 302
    )
    report.refresh_from_db()
    assert report.state == ReportState.ACKNOWLEDGED and report.acknowledged_by == street_official
    with pytest.raises(ReportNotAllowed):
        report_acknowledge(report=report, actor=street_official)


def test_a_draft_cannot_be_acknowledged_and_an_empty_body_not_saved(
    world, liaison, district_official
):
    report = report_create(
        actor=liaison, studio=Studio.objects.get(name=STUDIO), year=2026, period=1
    )
    with pytest.raises(ReportNotAllowed, match="不能签收"):
        report_acknowledge(report=report, actor=district_official)
    response = client_for(liaison).post(
        reverse("duties:report_edit", args=[report.pk]), {"body": ""}
    )
    assert response.status_code == 400
    assert "报告内容不能为空" in text_of(response)
    report.refresh_from_db()
    assert report.body and report.state == ReportState.DRAFT


def test_a_future_period_cannot_be_reported(world, liaison):
    with pytest.raises(ValidationError, match="尚未开始"):
        report_create(actor=liaison, studio=Studio.objects.get(name=STUDIO), year=2030, period=1)


def test_reports_are_404_outside_scope(world, liaison, outsider):
    report = report_create(
        actor=liaison, studio=Studio.objects.get(name=STUDIO), year=2026, period=1
    )
    report_submit(report=report, actor=liaison)
    client = client_for(outsider)
    assert client.get(reverse("duties:report_detail", args=[report.pk])).status_code == 404
    assert client.post(reverse("duties:report_acknowledge", args=[report.pk])).status_code == 404
    assert STUDIO not in text_of(client.get(reverse("duties:report_list")))


def test_the_report_list_runs_a_constant_number_of_queries(world, liaison, district_official):
    studio = Studio.objects.get(name=STUDIO)
    client = client_for(district_official)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("duties:report_list")).status_code == 200
        return len(ctx.captured_queries)

    report_submit(
        report=report_create(actor=liaison, studio=studio, year=2026, period=1), actor=liaison
    )
    count()  # the account and its unread count are read once, then kept (cache)
    few = count()
    for year in range(2020, 2026):
        for period in range(1, 7):
            report = report_create(actor=liaison, studio=studio, year=year, period=period)
            if period % 2:
                report_submit(report=report, actor=liaison)
    assert count() == few


def test_the_draft_lists_the_representatives_who_were_there_in_its_period(world, liaison):
    # A past period's report is about those assigned then (SM 12.5): one who left in
    # March is in the March–April report, with their visits, and not in May–June's;
    # one assigned from May is in May–June's and not in March–April's.
    studio = Studio.objects.get(name=STUDIO)
    huang = _left_in_march()
    lin = Representative.objects.get(name="演示代表·林秀英")
    StudioAssignment.objects.filter(studio=studio, representative=lin).update(
        since=date(2026, 5, 1)
    )
    HouseholdVisit.objects.create(
        representative=huang,
        community=world["440308003006"],
        visited_on=date(2026, 3, 10),
        household="王先生家",
        recorded_by=liaison,
    )
    march = report_draft_text(studio=studio, year=2026, period=2)
    assert "演示代表·黄海：参加活动 0 次。" in march
    assert "演示代表·黄海：1 户。" in march
    assert "演示代表·林秀英" not in march
    may = report_draft_text(studio=studio, year=2026, period=3)
    assert "演示代表·黄海" not in may
    assert "演示代表·林秀英：参加活动 0 次。" in may
