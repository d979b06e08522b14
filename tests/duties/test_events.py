"""Events (SM 8, 10; CM 6, 8): validation, publication a week ahead, cancel, record,
the cases of the day, the public list, the list's query count and the activity
month's report."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from minyi.duties import events as services
from minyi.duties.events import EventData, Presence
from minyi.duties.models import ActivityMonth, Appointment, Event, EventKind, EventState
from minyi.people.models import Representative
from minyi.studios.models import Studio
from tests.core.helpers import client_for, text_of

SH = ZoneInfo("Asia/Shanghai")


def _studio(name: str = "沙头角社区党代表工作室") -> Studio:
    return Studio.objects.get(name=name)


def _rep(name: str = "演示代表·陈明") -> Representative:
    return Representative.objects.get(name=name)


def _at(days: float, hour: int = 9) -> datetime:
    day = timezone.localdate() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=SH)


def _data(start: datetime, hours: float = 3, **kw: Any) -> EventData:
    return EventData(
        studio=kw.pop("studio", None) or _studio(),
        kind=kw.pop("kind", EventKind.RECEPTION),
        starts_at=start,
        ends_at=start + timedelta(hours=hours),
        theme=kw.pop("theme", "接待群众"),
        place="工作室",
        **kw,
    )


def _event(actor: Any, start: datetime, reps: list[Representative] | None = None, **kw):
    return services.event_create(
        actor=actor, data=_data(start, **kw), representatives=reps or [_rep()]
    )


# --- validation ----------------------------------------------------------------------


@pytest.mark.django_db
def test_an_event_that_ends_before_it_starts_is_refused(liaison: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        _event(liaison, _at(10), hours=-1)
    assert exc.value.message_dict["ends_at"] == ["结束时间须晚于开始时间。"]
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_overlapping_events_for_one_representative_are_refused_naming_the_other(
    liaison: Any,
) -> None:
    first = _event(liaison, _at(10, 9), theme="环境整治座谈", kind=EventKind.FORUM)
    with pytest.raises(ValidationError) as exc:
        _event(liaison, _at(10, 11))  # 11:00–14:00 overlaps 09:00–12:00
    message = exc.value.message_dict["starts_at"][0]
    assert "演示代表·陈明在该时段已有活动" in message
    assert "座谈“环境整治座谈”" in message
    assert Event.objects.count() == 1
    # Back to back is fine; another representative is fine; a cancelled one frees the slot.
    _event(liaison, _at(10, 12))
    _event(liaison, _at(10, 10), reps=[_rep("演示代表·林秀英")])
    # Editing an event does not clash with itself.
    services.event_update(
        actor=liaison, event=first, data=_data(_at(10, 8), hours=4), representatives=[_rep()]
    )
    services.event_cancel(actor=liaison, event=first, reason="场地维修")
    _event(liaison, _at(10, 8), hours=1)


@pytest.mark.django_db
def test_an_overlap_at_another_studio_counts(liaison: Any, admin_user: Any) -> None:
    rep = _rep("演示代表·黄海")
    _event(admin_user, _at(5), reps=[rep], studio=_studio("大梅沙社区党代表工作室"))
    with pytest.raises(ValidationError) as exc:
        services.event_create(
            actor=admin_user,
            data=_data(_at(5, 10), studio=_studio("大梅沙社区党代表工作室")),
            representatives=[rep],
        )
    assert "时间重叠" in exc.value.message_dict["starts_at"][0]


@pytest.mark.django_db
def test_representatives_must_be_assigned_to_the_studio(liaison: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        _event(liaison, _at(10), reps=[_rep("演示代表·黄海")])
    assert (
        "演示代表·黄海未进驻沙头角社区党代表工作室" in exc.value.message_dict["representatives"][0]
    )


@pytest.mark.django_db
def test_activity_month_events_are_in_july(liaison: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        _event(liaison, datetime(2030, 8, 1, 9, tzinfo=SH), activity_month=True)
    assert "7月" in exc.value.message_dict["activity_month"][0]


@pytest.mark.django_db
def test_the_event_form_shows_errors_in_chinese_and_saves_nothing(liaison: Any) -> None:
    client = client_for(liaison)
    key = uuid4()
    response = client.post(
        reverse("duties:event_create"),
        {
            "studio": _studio().pk,
            "kind": "reception",
            "starts_at": "2030-03-04T12:00",
            "ends_at": "2030-03-04T09:00",
            "capacity": 5,
            "submission_key": str(key),
        },
    )
    assert response.status_code == 400
    assert "结束时间：结束时间须晚于开始时间。" in text_of(response)
    assert not Event.objects.exists()
    response = client.post(
        reverse("duties:event_create"),
        {
            "studio": _studio().pk,
            "kind": "reception",
            "starts_at": "2030-03-04T09:00",
            "ends_at": "2030-03-04T12:00",
            "capacity": 5,
            "representatives": [_rep().pk],
            "submission_key": str(key),  # kept by the refused form
        },
    )
    assert response.status_code == 302
    event = Event.objects.get()
    assert timezone.localtime(event.starts_at).hour == 9
    assert event.place == _studio().address


def _event_form(**overrides: Any) -> dict[str, Any]:
    data = {
        "studio": _studio().pk,
        "kind": "reception",
        "starts_at": "2030-03-04T09:00",
        "ends_at": "2030-03-04T12:00",
        "capacity": 5,
        "submission_key": str(uuid4()),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.django_db
@pytest.mark.parametrize("reps", [False, True])
def test_the_event_form_sent_twice_makes_one_event(liaison: Any, reps: bool) -> None:
    client = client_for(liaison)
    # With representatives the second post would also break the overlap rule.
    data = _event_form(representatives=[_rep().pk] if reps else None)
    assert client.post(reverse("duties:event_create"), data).status_code == 302
    event = Event.objects.get()
    again = client.post(reverse("duties:event_create"), data, follow=True)
    assert again.redirect_chain[0][0] == event.get_absolute_url()
    assert "这个活动已经保存过了" in text_of(again)
    assert Event.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("key", [None, "bad"])
def test_an_event_posted_without_a_good_key_is_an_expired_page(
    liaison: Any, key: str | None
) -> None:
    response = client_for(liaison).post(
        reverse("duties:event_create"), _event_form(submission_key=key, theme="听取意见")
    )
    assert response.status_code == 400
    page = text_of(response)
    assert "页面已过期，请核对后重新提交" in page and "听取意见" in page
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_an_event_key_of_an_event_the_account_may_not_edit_is_refused(
    liaison: Any, city_official: Any
) -> None:
    data = _event_form(studio=_studio("大梅沙社区党代表工作室").pk)
    assert client_for(city_official).post(reverse("duties:event_create"), data).status_code == 302
    response = client_for(liaison).post(
        reverse("duties:event_create"), data | {"studio": _studio().pk}
    )
    assert response.status_code == 400
    assert "页面已过期，请核对后重新提交" in text_of(response)
    assert Event.objects.count() == 1


# --- publication ---------------------------------------------------------------------


@pytest.mark.django_db
def test_publishing_a_week_ahead_needs_no_reason(liaison: Any) -> None:
    event = _event(liaison, _at(8))
    event = services.event_publish(actor=liaison, event=event)
    assert event.state == EventState.PUBLISHED and event.published_at
    assert services.is_late(event) is False


@pytest.mark.django_db
def test_late_publication_needs_a_reason_and_is_flagged(liaison: Any) -> None:
    event = _event(liaison, _at(3))
    client = client_for(liaison)
    response = client.post(reverse("duties:event_publish", args=[event.pk]), {"late_reason": ""})
    assert response.status_code == 400
    assert "不足7天" in text_of(response) and "须填写不足7天预告的理由" in text_of(response)
    event.refresh_from_db()
    assert event.state == EventState.PLANNED and event.published_at is None
    response = client.post(
        reverse("duties:event_publish", args=[event.pk]), {"late_reason": "代表临时调整行程"}
    )
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.state == EventState.PUBLISHED
    assert event.late_reason == "代表临时调整行程"
    listing = text_of(client.get(reverse("duties:event_list")))
    assert "预告不足7天" in listing
    assert "预告不足7天" in text_of(client.get(event.get_absolute_url()))


@pytest.mark.django_db
def test_publication_exactly_seven_days_ahead_is_on_time(liaison: Any) -> None:
    now = timezone.now()
    event = services.event_create(
        actor=liaison, data=_data(now + timedelta(days=7)), representatives=[]
    )
    event = services.event_publish(actor=liaison, event=event, now=now)
    assert not services.is_late(event)


@pytest.mark.django_db
def test_publishing_twice_or_in_the_past_is_refused(liaison: Any) -> None:
    event = _event(liaison, _at(10))
    services.event_publish(actor=liaison, event=event)
    with pytest.raises(ValidationError, match="当前状态为“已预告”，不能发布预告"):
        services.event_publish(actor=liaison, event=event)
    past = _event(liaison, _at(-2))
    with pytest.raises(ValidationError, match="活动已经开始"):
        services.event_publish(actor=liaison, event=past, late_reason="补录")


@pytest.mark.django_db
def test_a_representative_reads_but_does_not_publish(representative: Any, liaison: Any) -> None:
    event = _event(liaison, _at(10))
    client = client_for(representative)
    assert client.get(event.get_absolute_url()).status_code == 200
    assert client.post(reverse("duties:event_publish", args=[event.pk])).status_code == 404
    with pytest.raises(PermissionError):
        services.event_publish(actor=representative, event=event)


# --- cancel and record -----------------------------------------------------------------


@pytest.mark.django_db
def test_cancelling_needs_a_reason(liaison: Any) -> None:
    event = _event(liaison, _at(10))
    with pytest.raises(ValidationError) as exc:
        services.event_cancel(actor=liaison, event=event, reason=" ")
    assert exc.value.message_dict["reason"] == ["取消活动须写明理由。"]
    event = services.event_cancel(actor=liaison, event=event, reason="台风预警")
    assert event.state == EventState.CANCELLED and event.cancelled_reason == "台风预警"


@pytest.mark.django_db
def test_recording_what_happened_with_attendance_and_the_cases_of_the_day(
    liaison: Any,
) -> None:
    from tests.cases.helpers import register

    start = _at(-1, 9)
    event = _event(liaison, start)
    case = register()
    case.received_on = timezone.localdate(start)
    case.studio = _studio()
    case.save()
    chen = _rep()
    with pytest.raises(ValidationError) as exc:
        services.event_record(
            actor=liaison,
            event=event,
            attendance=[Presence(chen, start + timedelta(hours=3), start)],
            people_received=5,
            summary="接待群众5人",
        )
    assert "离开时间须晚于到达时间" in exc.value.message_dict["attendance"][0]
    client = client_for(liaison)
    response = client.post(
        reverse("duties:event_record", args=[event.pk]),
        {
            f"arrived_{chen.pk}": timezone.localtime(start).strftime("%Y-%m-%dT%H:%M"),
            f"left_{chen.pk}": timezone.localtime(start + timedelta(hours=3)).strftime(
                "%Y-%m-%dT%H:%M"
            ),
            "people_received": 5,
            "summary": "接待群众5人，登记意见4件",
        },
    )
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.state == EventState.HELD and event.people_received == 5
    assert event.attendances.get().representative == chen
    page = text_of(client.get(event.get_absolute_url()))
    assert case.number in page
    assert "接待群众5人，登记意见4件" in page


@pytest.mark.django_db
def test_a_future_event_cannot_be_recorded(liaison: Any) -> None:
    event = _event(liaison, _at(3))
    with pytest.raises(ValidationError, match="活动尚未开始"):
        services.event_record(
            actor=liaison, event=event, attendance=[], people_received=0, summary="x"
        )


# --- lists ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_public_list_shows_only_published_upcoming_events_and_no_phones(
    liaison: Any,
) -> None:
    published = _event(liaison, _at(9), theme="公开接待日", capacity=10)
    services.event_publish(actor=liaison, event=published)
    _event(liaison, _at(20), reps=[_rep("演示代表·林秀英")], theme="尚未预告的座谈")
    held = _event(liaison, _at(-3), theme="已经举行的活动")
    services.event_record(actor=liaison, event=held, attendance=[], people_received=1, summary="")
    response = Client().get(reverse("duties:public_events"))
    assert response.status_code == 200
    page = text_of(response)
    assert "公开接待日" in page and "演示代表·陈明（工程师）" in page
    assert "余 10 / 10" in page
    # The date as on the booking page: with its weekday, in Chinese.
    starts = timezone.localtime(published.starts_at)
    weekday = "一二三四五六日"[starts.weekday()]
    assert f"{starts.year}年{starts.month}月{starts.day}日 星期{weekday} {starts:%H:%M}—" in page
    assert "尚未预告的座谈" not in page and "已经举行的活动" not in page
    for rep in Representative.objects.all():
        assert rep.phone[-8:] not in page
    assert "138" not in page
    assert "盐田港集团" not in page  # employer is not shown either


@pytest.mark.django_db
def test_event_list_filters(liaison: Any) -> None:
    a = _event(liaison, datetime(2030, 7, 3, 9, tzinfo=SH), theme="活动月座谈", activity_month=True)
    _event(liaison, datetime(2030, 6, 3, 9, tzinfo=SH), theme="六月接待")
    services.event_publish(actor=liaison, event=a)
    client = client_for(liaison)
    url = reverse("duties:event_list")
    assert "六月接待" not in text_of(client.get(url, {"activity_month": "on"}))
    assert "活动月座谈" in text_of(client.get(url, {"activity_month": "on"}))
    page = text_of(client.get(url, {"date_from": "2030-06-01", "date_to": "2030-06-30"}))
    assert "六月接待" in page and "活动月座谈" not in page
    page = text_of(client.get(url, {"state": "published"}))
    assert "活动月座谈" in page and "六月接待" not in page


def _add_events(n: int, actor: Any) -> None:
    reps = [_rep(), _rep("演示代表·林秀英"), _rep("演示代表·何建国")]
    base = datetime(2031, 1, 1, 9, tzinfo=SH) + timedelta(days=Event.objects.count())
    for i in range(n):
        event = services.event_create(
            actor=actor,
            data=_data(base + timedelta(days=i), activity_month=False),
            representatives=reps[: 1 + i % 3],
        )
        if i % 2:
            services.event_publish(actor=actor, event=event, late_reason="x")


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["liaison", "district_official", "representative"])
def test_the_event_list_runs_a_fixed_number_of_queries(persona: str, request: Any) -> None:
    user = request.getfixturevalue(persona)
    liaison = request.getfixturevalue("liaison")
    client = client_for(user)
    url = reverse("duties:event_list")
    _add_events(3, liaison)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _add_events(20, liaison)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)


@pytest.mark.django_db
def test_the_public_list_runs_a_fixed_number_of_queries(liaison: Any) -> None:
    from django.core.cache import cache

    _add_events(3, liaison)
    client = Client()
    url = reverse("duties:public_events")
    client.get(url)
    cache.clear()  # the table is kept (public_cache): measure a fresh rendering
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    _add_events(20, liaison)
    cache.clear()
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few) > 0


@pytest.mark.django_db
def test_the_public_list_is_kept_until_what_it_shows_changes(liaison: Any) -> None:
    """Rendered once for every visitor (minyi.online.public_cache); a booking, a new or
    changed event shows at once, and a studio's list names its studio in its pages."""
    event = _event(liaison, _at(9), theme="公开接待日", capacity=10)
    services.event_publish(actor=liaison, event=event)
    client = Client()
    url = reverse("duties:public_events")
    assert "余 10 / 10" in text_of(client.get(url))
    with CaptureQueriesContext(connection) as kept:
        assert "余 10 / 10" in text_of(client.get(url))
    assert len(kept) == 0
    Appointment.objects.create(event=event, name="王女士", phone="13800138000", topic="噪声")
    assert "余 9 / 10" in text_of(client.get(url))
    other = _event(liaison, _at(10), theme="第二场接待")
    services.event_publish(actor=liaison, event=other)
    assert "第二场接待" in text_of(client.get(url))
    assert "第二场接待" in text_of(client.get(url, {"studio": event.studio_id}))
    assert text_of(client.get(url, {"page": "x" * 50})).count("公开接待日") == 1


# --- the activity month ----------------------------------------------------------------


@pytest.mark.django_db
def test_only_the_city_sets_the_activity_month(city_official: Any, district_official: Any) -> None:
    with pytest.raises(PermissionError):
        services.activity_month_set(actor=district_official, year=2030, theme="x", content="y")
    response = client_for(city_official).post(
        reverse("duties:activity_month_edit", args=[2030]),
        {"theme": "党代表在身边", "content": "走访、接待、调研"},
    )
    assert response.status_code == 302
    assert ActivityMonth.objects.get(year=2030).theme == "党代表在身边"
    response = client_for(city_official).post(
        reverse("duties:activity_month_edit", args=[2030]), {"theme": "", "content": ""}
    )
    assert response.status_code == 400
    assert ActivityMonth.objects.get(year=2030).theme == "党代表在身边"


@pytest.mark.django_db
def test_the_activity_month_report_counts_by_district_and_street(
    liaison: Any, admin_user: Any, district_official: Any, outsider: Any
) -> None:
    ActivityMonth.objects.create(year=2030, theme="党代表在身边", content="…")
    july = datetime(2030, 7, 2, 9, tzinfo=SH)
    a = _event(liaison, july, reps=[_rep(), _rep("演示代表·林秀英")], activity_month=True)
    b = _event(liaison, july + timedelta(days=1), activity_month=True)
    _event(liaison, july + timedelta(days=2), activity_month=False)  # not tagged
    c = _event(liaison, july + timedelta(days=3), activity_month=True)
    services.event_cancel(actor=liaison, event=c, reason="台风")
    meisha = _event(
        admin_user,
        july,
        reps=[_rep("演示代表·黄海")],
        studio=_studio("大梅沙社区党代表工作室"),
        activity_month=True,
    )
    for event, people in ((a, 12), (b, 3), (meisha, 7)):
        Event.objects.filter(pk=event.pk).update(state=EventState.HELD, people_received=people)

    rows, totals = services.activity_month_report(user=district_official, year=2030)
    by_street = {r.street: r for r in rows}
    assert set(by_street) == {"沙头角街道", "梅沙街道"}
    stj = by_street["沙头角街道"]
    assert (stj.district, stj.events, stj.held, stj.representatives, stj.people_received) == (
        "盐田区",
        2,
        2,
        2,
        15,
    )
    assert by_street["梅沙街道"].people_received == 7
    assert totals == {"events": 3, "held": 3, "representatives": 3, "people_received": 22}

    rows, totals = services.activity_month_report(user=outsider, year=2030)
    assert [r.street for r in rows] == ["梅沙街道"]

    client = client_for(district_official)
    client.get(
        reverse("duties:activity_month"), {"year": 2030}
    )  # the account and its unread count are read once, then kept (cache)
    with CaptureQueriesContext(connection) as queries:
        page = text_of(client.get(reverse("duties:activity_month"), {"year": 2030}))
    assert "主题：党代表在身边" in page and "沙头角街道" in page
    count = len(queries)
    for i in range(5):
        _event(liaison, july + timedelta(days=10 + i), activity_month=True)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("duties:activity_month"), {"year": 2030})
    assert len(queries) == count


@pytest.mark.django_db
def test_activity_month_events_are_tagged_with_the_theme(liaison: Any) -> None:
    ActivityMonth.objects.create(year=2030, theme="党代表在身边", content="…")
    event = _event(liaison, datetime(2030, 7, 2, 9, tzinfo=SH), activity_month=True)
    page = text_of(client_for(liaison).get(event.get_absolute_url()))
    assert "活动月·党代表在身边" in page
