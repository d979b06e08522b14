"""The iCalendar feeds, read back with a real iCalendar library: only published and
held events, stable UIDs, times in Asia/Shanghai, no login needed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from minyi.duties import events as services
from minyi.duties.events import EventData
from minyi.duties.models import EventKind
from minyi.people.models import Representative
from minyi.studios.models import Studio

SH = ZoneInfo("Asia/Shanghai")


def _studio() -> Studio:
    return Studio.objects.get(name="沙头角社区党代表工作室")


def _make(actor: Any, start: datetime, theme: str, reps: list[str]) -> Any:
    return services.event_create(
        actor=actor,
        data=EventData(
            studio=_studio(),
            kind=EventKind.RECEPTION,
            starts_at=start,
            ends_at=start + timedelta(hours=3),
            theme=theme,
            place="沙头角社区党群服务中心二楼",
        ),
        representatives=list(Representative.objects.filter(name__in=reps)),
    )


def _vevents(response: Any) -> dict[str, Any]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    return {str(e["SUMMARY"]): e for e in cal.walk("VEVENT")}


@pytest.fixture
def calendar_world(liaison: Any) -> dict[str, Any]:
    future = timezone.localdate() + timedelta(days=10)
    start = datetime(future.year, future.month, future.day, 9, 30, tzinfo=SH)
    published = _make(liaison, start, "噪声问题接待", ["演示代表·陈明"])
    services.event_publish(actor=liaison, event=published)
    _make(liaison, start + timedelta(days=1), "尚未预告", ["演示代表·陈明"])
    past = datetime(2025, 3, 5, 14, tzinfo=SH)
    held = _make(liaison, past, "已举行座谈", ["演示代表·林秀英"])
    services.event_record(actor=liaison, event=held, attendance=[], people_received=4, summary="")
    cancelled = _make(liaison, start + timedelta(days=2), "取消的活动", ["演示代表·陈明"])
    services.event_cancel(actor=liaison, event=cancelled, reason="台风")
    return {"published": published, "held": held, "start": start}


@pytest.mark.django_db
def test_the_studio_feed_has_only_published_and_held_events(calendar_world: Any) -> None:
    response = Client().get(reverse("duties:studio_calendar", args=[_studio().pk]))
    events = _vevents(response)
    assert set(events) == {
        "接待群众：噪声问题接待（演示代表·陈明）",
        "接待群众：已举行座谈（演示代表·林秀英）",
    }
    item = events["接待群众：噪声问题接待（演示代表·陈明）"]
    assert str(item["UID"]) == f"event-{calendar_world['published'].pk}@minyi"
    assert str(item["LOCATION"]) == "沙头角社区党群服务中心二楼"
    start, end = item.decoded("DTSTART"), item.decoded("DTEND")
    assert start == calendar_world["start"]
    assert start.utcoffset() == timedelta(hours=8)
    assert str(start.tzinfo) == "Asia/Shanghai"
    assert end - start == timedelta(hours=3)
    assert item.decoded("DTSTAMP") is not None


@pytest.mark.django_db
def test_the_representative_feed_follows_the_representative(calendar_world: Any) -> None:
    chen = Representative.objects.get(name="演示代表·陈明")
    lin = Representative.objects.get(name="演示代表·林秀英")
    chen_events = _vevents(Client().get(reverse("duties:representative_calendar", args=[chen.pk])))
    assert list(chen_events) == ["接待群众：噪声问题接待（演示代表·陈明）"]
    lin_events = _vevents(Client().get(reverse("duties:representative_calendar", args=[lin.pk])))
    item = lin_events["接待群众：已举行座谈（演示代表·林秀英）"]
    assert item.decoded("DTSTART") == datetime(2025, 3, 5, 14, tzinfo=SH)


@pytest.mark.django_db
def test_uids_are_stable_between_fetches(calendar_world: Any) -> None:
    url = reverse("duties:studio_calendar", args=[_studio().pk])
    first = {str(e["UID"]) for e in Calendar.from_ical(Client().get(url).content).walk("VEVENT")}
    second = {str(e["UID"]) for e in Calendar.from_ical(Client().get(url).content).walk("VEVENT")}
    assert first == second and len(first) == 2


@pytest.mark.django_db
def test_the_feeds_carry_no_phone_numbers(calendar_world: Any) -> None:
    body = Client().get(reverse("duties:studio_calendar", args=[_studio().pk])).content.decode()
    for rep in Representative.objects.all():
        assert rep.phone[-8:] not in body


@pytest.mark.django_db
def test_an_unknown_studio_or_representative_is_not_found(world: Any) -> None:
    assert Client().get(reverse("duties:studio_calendar", args=[999999])).status_code == 404
    url = reverse("duties:representative_calendar", args=[999999])
    assert Client().get(url).status_code == 404
