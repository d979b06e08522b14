"""The bi-monthly report (SM 12.5): drafted from the period's records, edited and
submitted by the studio's liaison, acknowledged by the department in scope."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from minyi.core.text_limits import ACCOUNT_MAX, CUT, REPORT_MAX
from minyi.duties.models import BimonthlyReport, Event, HouseholdVisit, ReportState
from minyi.duties.reports import (
    SUMMARIES_SHORTENED,
    TOO_LONG,
    DraftRecords,
    ReportNotAllowed,
    fit_draft,
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
from tests.duties.test_record import TZ, held_event

STUDIO = "沙头角社区党代表工作室"


def test_periods_are_two_months():
    assert period_dates(2026, 1) == (date(2026, 1, 1), date(2026, 3, 1))
    assert period_dates(2026, 6) == (date(2026, 11, 1), date(2027, 1, 1))
    with pytest.raises(ValidationError):
        period_dates(2026, 7)


def _drafted_on_the_page(client):
    """The studio's report for March–April 2026, drafted on the page by `client`."""
    response = client.post(
        reverse("duties:report_create"),
        {"studio": Studio.objects.get(name=STUDIO).pk, "year": 2026, "period": 2},
    )
    assert response.status_code == 302
    return BimonthlyReport.objects.get()


def test_the_draft_contains_the_periods_events_attendance_and_cases(world, liaison):
    chen = Representative.objects.get(name="演示代表·陈明")
    held_event(date(2026, 3, 7), rep=chen)
    held_event(date(2026, 5, 9), rep=chen)  # next period
    case = register(received_on=date(2026, 4, 2))
    register(received_on=date(2026, 5, 2))  # next period
    client = client_for(liaison)
    report = _drafted_on_the_page(client)
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


# --- a draft within its cap ---------------------------------------------------------------


def _summary(i: int, length: int = ACCOUNT_MAX) -> str:
    """An event's summary of `length` characters: its number first, 完 last."""
    head = f"第{i:02d}场活动情况"
    return head + "情" * (length - len(head) - 1) + "完"


def test_a_period_of_maximum_summaries_drafts_within_the_cap_and_saves_unchanged(world, liaison):
    # Twelve events each with a summary at its cap (2,000) quote 24,000 characters: each
    # summary is shortened alike, the draft says so and where the whole is, and the
    # liaison saves it as drafted (as a browser sends a textarea: CR LF line breaks).
    chen = Representative.objects.get(name="演示代表·陈明")
    for i in range(1, 13):
        event = held_event(date(2026, 3, i), rep=chen)
        Event.objects.filter(pk=event.pk).update(summary=_summary(i))
    client = client_for(liaison)
    report = _drafted_on_the_page(client)
    draft = report.body
    assert REPORT_MAX - 200 < len(draft) <= REPORT_MAX
    assert SUMMARIES_SHORTENED in draft and "全文见“活动安排与预告”" in draft
    for i in range(1, 13):
        assert f"接待日2026-03-{i:02d}" in draft and f"第{i:02d}场活动情况" in draft
    assert "完" not in draft and draft.count(CUT) == 12 + 1  # each summary, and the note
    assert "六、存在问题和下一步工作" in draft  # the sections after the events are whole

    page = text_of(client.get(reverse("duties:report_detail", args=[report.pk])))
    assert f'maxlength="{REPORT_MAX}"' in page
    response = client.post(
        reverse("duties:report_edit", args=[report.pk]), {"body": draft.replace("\n", "\r\n")}
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.body == draft and report.state == ReportState.DRAFT


def test_summaries_that_fit_are_quoted_whole_and_short_ones_whole_beside_cut_ones(world):
    chen = Representative.objects.get(name="演示代表·陈明")
    studio = Studio.objects.get(name=STUDIO)
    short = held_event(date(2026, 3, 1), rep=chen)
    Event.objects.filter(pk=short.pk).update(summary=_summary(1, 300))
    long = held_event(date(2026, 3, 2), rep=chen)
    Event.objects.filter(pk=long.pk).update(summary=_summary(2))
    draft = report_draft_text(studio=studio, year=2026, period=2)
    assert _summary(1, 300) in draft and _summary(2) in draft
    assert SUMMARIES_SHORTENED not in draft
    for i in range(3, 13):
        event = held_event(date(2026, 3, i), rep=chen)
        Event.objects.filter(pk=event.pk).update(summary=_summary(i))
    draft = report_draft_text(studio=studio, year=2026, period=2)
    assert len(draft) <= REPORT_MAX and SUMMARIES_SHORTENED in draft
    assert _summary(1, 300) in draft  # shorter than what each may keep: whole
    assert _summary(2) not in draft and _summary(2)[:100] in draft


def _records(events: int, cases: int) -> DraftRecords:
    return DraftRecords(
        head=["标题", "", "一、活动开展情况", "本期安排活动……"],
        events=[(f"{i}. 接待日{i:03d}", _summary(i % 100)) for i in range(events)],
        middle=["", "五、社情民意登记办理情况"],
        cases=[f"案件{i:04d} " + "摘" * 200 + "（办理中）" for i in range(cases)],
        tail=["", "六、存在问题和下一步工作", ""],
    )


def test_a_period_too_busy_to_list_lists_what_fits_and_says_where_the_rest_is():
    # 300 events and 200 cases (each summary 200 characters) are over the cap even with
    # no summary quoted: the events and the cases listed are as many as fit.
    draft = fit_draft(_records(300, 200))
    assert len(draft) <= REPORT_MAX
    assert "接待日000" in draft and "案件0000" in draft
    assert "场活动未列出，详见“活动安排与预告”。" in draft
    assert "件未列出，详见社情民意的“跟踪明细帐”。" in draft
    assert draft.endswith("六、存在问题和下一步工作")
    # Fewer cases: every case listed, the events' summaries cut alone.
    draft = fit_draft(_records(12, 10))
    assert len(draft) <= REPORT_MAX and "案件0009" in draft and "未列出" not in draft
    assert SUMMARIES_SHORTENED in draft


def test_a_draft_that_nothing_brings_within_the_cap_is_cut_with_a_note():
    records = _records(0, 0)
    records.head = ["头" * REPORT_MAX]
    draft = fit_draft(records)
    assert len(draft) == REPORT_MAX and draft.endswith(TOO_LONG)


# --- a period still running --------------------------------------------------------------


def _on(monkeypatch, day: date) -> None:
    monkeypatch.setattr("minyi.duties.reports.timezone.localdate", lambda: day)


def test_a_draft_before_the_period_ends_says_so_far_and_names_no_one_idle(
    world, liaison, monkeypatch
):
    # Journey: the November–December report drafted on 25 November said 何建国 "本期未到
    # 工作室开展活动", though he has an event published for 9 December; and it went up as
    # if the period were over.
    from tests.duties.test_appointments import make_event

    _on(monkeypatch, date(2026, 11, 25))
    chen = Representative.objects.get(name="演示代表·陈明")
    held_event(date(2026, 11, 7), rep=chen)
    coming = make_event(reps=("演示代表·何建国",))
    december = datetime(2026, 12, 9, 9, tzinfo=TZ)
    Event.objects.filter(pk=coming.pk).update(
        starts_at=december, ends_at=december + timedelta(hours=3)
    )
    studio = Studio.objects.get(name=STUDIO)
    client = client_for(liaison)
    response = client.post(
        reverse("duties:report_create"), {"studio": studio.pk, "year": 2026, "period": 6}
    )
    assert response.status_code == 302
    report = BimonthlyReport.objects.get()
    body = report.body
    assert "以下情况截至2026年11月25日" in body
    assert "本期未到工作室开展活动" not in body
    assert "截至11月25日尚未到工作室开展活动的党代表：" in body
    assert "演示代表·何建国（已预告12月9日活动）" in body
    assert "演示代表·陈明：参加活动 1 次。" in body
    page = client.get(reverse("duties:report_detail", args=[report.pk]))
    assert "本期到12月31日才结束" in text_of(page)

    # Sent early without saying "so far": refused, with what to do, nothing changed.
    refused = client.post(
        reverse("duties:report_edit", args=[report.pk]),
        {"body": "本期未到工作室开展活动的党代表：演示代表·何建国。", "then": "submit"},
    )
    assert refused.status_code == 400
    assert "本期到12月31日才结束" in text_of(refused) and "重新生成" in text_of(refused)
    report.refresh_from_db()
    assert report.state == ReportState.DRAFT
    # Redrafted, it says so and goes up before the 31st.
    client.post(reverse("duties:report_redraft", args=[report.pk]))
    assert client.post(reverse("duties:report_submit", args=[report.pk])).status_code == 302
    report.refresh_from_db()
    assert report.state == ReportState.SUBMITTED and "截至2026年11月25日" in report.body


def test_a_running_periods_draft_reads_as_many_queries_as_an_ended_ones(
    world, liaison, monkeypatch
):
    studio = Studio.objects.get(name=STUDIO)

    def drafted_on(day: date) -> tuple[str, int]:
        _on(monkeypatch, day)
        with CaptureQueriesContext(connection) as ctx:
            text = report_draft_text(studio=studio, year=2026, period=6)
        return text, len(ctx.captured_queries)

    running, during = drafted_on(date(2026, 11, 25))
    ended, after = drafted_on(date(2027, 1, 5))
    assert during == after
    assert "截至" in running and "截至" not in ended
    assert "本期未到工作室开展活动的党代表：" in ended
    # The period's last day is still within it; the day after is not.
    assert "截至" in drafted_on(date(2026, 12, 31))[0]
    assert "截至" not in drafted_on(date(2027, 1, 1))[0]
