"""iCalendar feeds of published events, per studio and per representative (SM 10:
time, place and participants are public). Only published and held events; no
personal data beyond the representatives' names."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.decorators import login_not_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from icalendar import Calendar
from icalendar import Event as VEvent

from minyi.duties.models import Event, EventQuerySet
from minyi.duties.plans import SHANGHAI
from minyi.people.models import Representative
from minyi.studios.models import Studio

CONTENT_TYPE = "text/calendar; charset=utf-8"


def event_uid(event: Event) -> str:
    return f"event-{event.pk}@minyi"


def _summary(event: Event) -> str:
    parts = [event.get_kind_display()]
    if event.theme:
        parts.append(event.theme)
    names = "、".join(r.name for r in event.representatives.all())
    text = "：".join(parts)
    return f"{text}（{names}）" if names else text


def build_calendar(events: Iterable[Event], name: str) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//minyi//党代表工作室活动安排//ZH")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Asia/Shanghai")
    stamp = timezone.now()
    for event in events:
        item = VEvent()
        item.add("uid", event_uid(event))
        item.add("dtstamp", event.published_at or stamp)
        item.add("dtstart", event.starts_at.astimezone(SHANGHAI))
        item.add("dtend", event.ends_at.astimezone(SHANGHAI))
        item.add("summary", _summary(event))
        item.add("location", event.place or event.studio.address or event.studio.name)
        item.add("status", "CONFIRMED")
        cal.add_component(item)
    cal.add_missing_timezones()
    return cal.to_ical()


def _published(qs: EventQuerySet) -> EventQuerySet:
    return (
        qs.published()
        .select_related("studio")
        .prefetch_related(
            Prefetch("representatives", queryset=Representative.objects.order_by("name"))
        )
        .order_by("starts_at", "pk")
    )


def _response(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@login_not_required
def studio_calendar(request: HttpRequest, pk: int) -> HttpResponse:
    studio = get_object_or_404(Studio.objects.filter(closed_at__isnull=True), pk=pk)
    events = _published(Event.objects.filter(studio=studio))
    return _response(build_calendar(events, studio.name), f"studio-{studio.pk}.ics")


@login_not_required
def representative_calendar(request: HttpRequest, pk: int) -> HttpResponse:
    rep = get_object_or_404(Representative.objects.filter(active=True), pk=pk)
    events = _published(Event.objects.filter(representatives=rep))
    return _response(
        build_calendar(events, f"{rep.name}的活动安排"), f"representative-{rep.pk}.ics"
    )
