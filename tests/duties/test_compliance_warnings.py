"""`duty_warnings`: warnings go out before a minimum is missed, each only once."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from minyi.duties.models import BimonthlyReport, EventState, Notification, ReportState
from minyi.people.models import Representative, User
from minyi.studios.models import Studio
from tests.duties.test_compliance_page import at, make_event


def run(day: str) -> str:
    out = StringIO()
    call_command("duty_warnings", "--date", day, stdout=out)
    return out.getvalue()


def texts(username: str) -> list[str]:
    return list(
        Notification.objects.filter(recipient__username=username)
        .order_by("text")
        .values_list("text", flat=True)
    )


def shatoujiao() -> Studio:
    return Studio.objects.get(name="沙头角社区党代表工作室")


def keep_open(studio: Studio, first: date, weeks: int) -> None:
    for week in range(weeks):
        make_event(studio, first + timedelta(weeks=week))


def test_a_window_closing_in_three_weeks_warns_the_representative_and_the_liaisons(
    world: Any,
) -> None:
    studio = shatoujiao()
    keep_open(studio, date(2026, 4, 1), 12)  # the studio itself is fine
    others = Representative.objects.exclude(name="演示代表·陈明").filter(assignments__studio=studio)
    for rep in others:  # everyone else has a session scheduled
        make_event(studio, date(2026, 6, 20), state=EventState.PUBLISHED, reps=(rep,))
    BimonthlyReport.objects.create(
        studio=studio,
        year=2026,
        period=2,
        body="…",
        state=ReportState.SUBMITTED,
        submitted_at=at(date(2026, 5, 5), 10),
    )

    run("2026-06-08")  # 22 days left: not yet
    assert texts("rep") == texts("liaison") == []
    run("2026-06-10")
    rep_texts = texts("rep")
    assert rep_texts == [
        "【履职提醒】演示代表·陈明 2026年五六月：五六月尚无半天以上的工作室活动，也未安排，"
        "窗口将于 6 月 30 日关闭。（《工作室管理办法》第九条）"
    ]
    assert texts("liaison") == rep_texts
    notification = Notification.objects.filter(recipient__username="rep").get()
    assert notification.url.startswith(f"/duties/compliance/?studio={studio.pk}#sm9:")

    # Idempotent: again the same day, and the next day, nothing new.
    count = Notification.objects.count()
    assert "新发出 0 条" in run("2026-06-10")
    run("2026-06-11")
    assert Notification.objects.count() == count
    assert len(texts("rep")) == len(texts("liaison")) == 1


def test_a_scheduled_session_means_no_warning(world: Any) -> None:
    studio = shatoujiao()
    keep_open(studio, date(2026, 4, 1), 12)
    for rep in Representative.objects.filter(assignments__studio=studio):
        make_event(studio, date(2026, 6, 20), state=EventState.PUBLISHED, reps=(rep,))
    run("2026-06-10")
    assert texts("rep") == []


def test_a_due_report_warns_the_liaisons(world: Any) -> None:
    studio = shatoujiao()
    keep_open(studio, date(2026, 2, 25), 3)
    for rep in Representative.objects.filter(assignments__studio=studio):
        make_event(studio, date(2026, 3, 4), reps=(rep,))
    run("2026-03-05")
    assert texts("liaison") == [
        "【双月报告】沙头角社区党代表工作室：2026年一二月（第 1 期）报告尚未报送，"
        "应于 3 月 10 日前报送。（《工作室管理办法》第十二条第五项）"
    ]
    assert texts("rep") == []
    run("2026-03-06")
    assert len(texts("liaison")) == 1


def test_a_missed_week_warns_the_street_department(world: Any) -> None:
    studio = shatoujiao()
    make_event(studio, date(2026, 3, 4))
    make_event(studio, date(2026, 3, 18))  # week of 9 March skipped
    for rep in Representative.objects.filter(assignments__studio=studio):
        make_event(studio, date(2026, 3, 18), reps=(rep,))
    run("2026-03-19")
    street = texts("shatoujiao")
    assert street == [
        "【开放提醒】沙头角社区党代表工作室 2026年第 11 周（3 月 9 日起）："
        "本周没有半天以上的开放活动。（《工作室管理办法》第十条）"
    ]
    assert not any("沙头角" in t for t in texts("meisha"))  # another street's department
    assert not any("第 11 周" in t for t in texts("yantian"))
    count = Notification.objects.count()
    run("2026-03-19")
    assert Notification.objects.count() == count


def test_inactive_accounts_get_nothing(world: Any) -> None:
    User.objects.filter(username__in=["rep", "liaison"]).update(is_active=False)
    run("2026-06-10")
    assert not Notification.objects.filter(recipient__username__in=["rep", "liaison"]).exists()


def test_a_bad_date_is_refused(world: Any) -> None:
    with pytest.raises(CommandError):
        call_command("duty_warnings", "--date", "2026-13-01")
