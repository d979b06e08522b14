"""The duty record (履职档案, SM 12.5): a representative's year of sessions (with
attendance times), household visits (masked), appointments and cases; printable;
visible to the representative, their studio's liaisons and their departments."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from minyi.duties.models import Appointment, Attendance, Event, EventState, HouseholdVisit
from minyi.duties.record import duty_record
from minyi.people.models import Representative, User
from tests.cases.helpers import register
from tests.core.helpers import client_for, text_of
from tests.duties.test_appointments import make_event

TZ = timezone.get_fixed_timezone(8 * 60)


def held_event(day: date, *, rep: Representative, arrived: int = 9, left: int = 12) -> Event:
    event = make_event(reps=(rep.name,), state=EventState.HELD, theme=f"接待日{day}")
    start = datetime(day.year, day.month, day.day, 9, tzinfo=TZ)
    Event.objects.filter(pk=event.pk).update(
        starts_at=start, ends_at=start + timedelta(hours=3), people_received=5
    )
    Attendance.objects.create(
        event=event,
        representative=rep,
        arrived_at=start.replace(hour=arrived),
        left_at=start.replace(hour=left),
    )
    return event


def a_year_of_work(world):
    chen = Representative.objects.get(name="演示代表·陈明")
    held_event(date(2026, 3, 7), rep=chen)
    held_event(date(2026, 5, 9), rep=chen, arrived=10)
    held_event(date(2025, 11, 1), rep=chen)  # another year
    HouseholdVisit.objects.create(
        representative=chen,
        community=world["440308003006"],
        visited_on=date(2026, 3, 4),
        household="演示·王先生家",
        address="沙头角演示小区 3 栋 501",
        recorded_by=User.objects.get(username="rep"),
    )
    first = Event.objects.filter(theme="接待日2026-03-07").get()
    Appointment.objects.create(
        event=first,
        name="演示居民",
        phone="+8613800005678",
        topic="加装电梯",
        preferred_representative=chen,
        state="attended",
    )
    case = register(received_on=date(2026, 3, 7))
    return chen, case


def test_the_record_lists_sessions_visits_appointments_and_cases_with_totals(world, representative):
    chen, case = a_year_of_work(world)
    record = duty_record(representative=chen, year=2026)
    assert [e.theme for e in record.events] == ["接待日2026-03-07", "接待日2026-05-09"]
    assert record.totals == {
        "events": 2,
        "attended": 2,
        "hours": 5.0,
        "visits": 1,
        "appointments": 1,
        "appointments_met": 1,
        "cases": 1,
        "cases_closed": 0,
    }
    response = client_for(representative).get(
        reverse("duties:duty_record", args=[chen.pk]), {"year": 2026}
    )
    html = text_of(response)
    assert response.status_code == 200
    assert "接待日2026-03-07" in html and "10:00—12:00" in html
    assert "接待日2025-11-01" not in html
    assert "沙头角演示小****" in html and "3 栋 501" not in html
    assert "加装电梯" in html and case.number in html
    assert "data-print" in html


def test_the_record_is_for_the_representative_their_liaisons_and_departments_only(
    world, liaison, street_official, district_official, outsider, handling_unit_staff
):
    chen, _ = a_year_of_work(world)
    url = reverse("duties:duty_record", args=[chen.pk])
    for user in (liaison, street_official, district_official):
        assert client_for(user).get(url).status_code == 200
    for user in (outsider, handling_unit_staff):
        assert client_for(user).get(url).status_code == 404


def test_a_bad_year_is_refused_in_chinese(world, representative):
    chen = Representative.objects.get(name="演示代表·陈明")
    response = client_for(representative).get(
        reverse("duties:duty_record", args=[chen.pk]), {"year": "abc"}
    )
    assert response.status_code == 400
    assert "年度应为" in text_of(response)


def test_the_record_runs_a_constant_number_of_queries(world, representative):
    chen, _ = a_year_of_work(world)
    client = client_for(representative)
    url = reverse("duties:duty_record", args=[chen.pk])

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, {"year": 2026}).status_code == 200
        return len(ctx.captured_queries)

    count()  # the first view also counts the unread notifications, then kept (cache)
    few = count()
    for month in range(6, 12):
        held_event(date(2026, month, 6), rep=chen)
    assert count() == few


def test_the_record_is_four_reads_of_rows_that_carry_their_printed_texts(
    world, representative, django_assert_num_queries
):
    # Issue 8: the events with the representative's own attendance joined in (no
    # prefetch), and every list read as values, each row holding what the page and
    # the PDF print, so that the templates run no date filter or get_FOO_display().
    chen, case = a_year_of_work(world)
    with django_assert_num_queries(4):
        record = duty_record(representative=chen, year=2026)
    first, second = record.events
    assert (first.day, first.scheduled, first.present) == (
        "2026-03-07",
        "09:00—12:00",
        "09:00—12:00",
    )
    assert second.present == "10:00—12:00"
    assert first.activity.endswith("：接待日2026-03-07") and first.state == "已举行"
    (visit,) = record.visits
    assert (visit.day, visit.address_masked) == ("2026-03-04", "沙头角演示小****")
    (appointment,) = record.appointments
    assert (appointment.day, appointment.topic, appointment.state) == (
        "2026-03-07",
        "加装电梯",
        "已接待",
    )
    (row,) = record.cases
    assert (row.pk, row.number, row.day) == (case.pk, case.number, "2026-03-07")
    assert not row.closed and row.state == case.get_state_display()
    Appointment.objects.update(case=case)
    (appointment,) = duty_record(representative=chen, year=2026).appointments
    assert appointment.state == f"已接待（{case.number}）"


def test_the_record_page_reads_the_record_in_four_queries(world, representative):
    chen, _ = a_year_of_work(world)
    client = client_for(representative)
    url = reverse("duties:duty_record", args=[chen.pk])
    client.get(url)  # the account and its unread count are read once, then kept (cache)
    with CaptureQueriesContext(connection) as empty:
        assert client.get(url, {"year": "abc"}).status_code == 400
    with CaptureQueriesContext(connection) as full:
        assert client.get(url, {"year": 2026}).status_code == 200
    # The bad year's page is the same page without the record.
    assert len(full.captured_queries) - len(empty.captured_queries) == 4


# The page's tables as the template wrote them before minyi.duties.record_rows: the
# oracle the Python rows are checked against (a visit's day has since linked to its
# page, where it is corrected or withdrawn; each cell has since carried its column's
# name as data-label, for the phone's cards).
OLD_TABLE_LOOPS = """
{% for e in record.events %}
<tr>
  <td class="when" data-label="日期">{{ e.day }}</td>
  <td data-label="工作室">{{ e.studio }}</td>
  <td data-label="活动">{{ e.activity }}</td>
  <td class="when" data-label="安排时间">{{ e.scheduled }}</td>
  <td data-label="到场时间">{% if e.present %}{{ e.present }}{% else %}
  <span class="muted">未登记</span>{% endif %}</td>
  <td data-label="状态">{{ e.state }}</td>
</tr>
{% empty %}<tr><td colspan="6" class="muted">本年度没有活动记录。</td></tr>
{% endfor %}|
{% for v in record.visits %}
<tr><td class="when" data-label="日期">
<a href="{% url 'duties:visit_detail' v.pk %}">{{ v.day }}</a></td>
<td data-label="社区">{{ v.community }}</td><td data-label="住户">{{ v.household }}</td>
<td data-label="住址">{{ v.address_masked }}</td></tr>
{% empty %}<tr><td colspan="4" class="muted">本年度没有入户走访记录。</td></tr>
{% endfor %}|
{% for a in record.appointments %}
<tr><td class="when" data-label="活动日期">{{ a.day }}</td>
<td data-label="工作室">{{ a.studio }}</td>
<td data-label="预约方">{{ a.requester }}</td><td data-label="反映事项">{{ a.topic }}</td>
<td data-label="状态">{{ a.state }}</td></tr>
{% empty %}<tr><td colspan="5" class="muted">本年度没有约见该代表的预约。</td></tr>
{% endfor %}|
{% for c in record.cases %}
<tr><td data-label="编号">{{ c.number }}</td><td class="when" data-label="反映日期">{{ c.day }}</td>
<td data-label="内容摘要">{{ c.summary }}</td><td data-label="状态">{{ c.state }}</td></tr>
{% empty %}<tr><td colspan="4" class="muted">本年度没有接待登记的社情民意。</td></tr>
{% endfor %}"""


def _tables_both_ways(record) -> tuple[list[str], list[str]]:
    import re

    from django.template import Context, Template

    from minyi.duties.record_rows import table_bodies

    def tight(html: str) -> str:
        return re.sub(r">\s+<", "><", html.strip())

    old = Template(OLD_TABLE_LOOPS).render(Context({"record": record})).split("|")
    bodies = table_bodies(record)
    new = [bodies[name] for name in ("events", "visits", "appointments", "cases")]
    return [tight(part) for part in old], [tight(part) for part in new]


def test_the_python_rows_print_what_the_template_printed(world):
    chen, _case = a_year_of_work(world)
    # A value to escape, and an event the representative was listed on but not seen at.
    listed = make_event(reps=(chen.name,), state=EventState.HELD, theme='<b>"旧改" & 加装</b>')
    start = datetime(2026, 6, 6, 9, tzinfo=TZ)
    Event.objects.filter(pk=listed.pk).update(starts_at=start, ends_at=start + timedelta(hours=2))
    record = duty_record(representative=chen, year=2026)
    old, new = _tables_both_ways(record)
    assert new == old
    assert len(record.events) >= 2 and record.visits and record.appointments and record.cases
    assert "&lt;b&gt;&quot;旧改&quot; &amp; 加装&lt;/b&gt;" in new[0] and "未登记" in new[0]


def test_an_empty_year_prints_the_empty_rows(world):
    chen = Representative.objects.get(name="演示代表·陈明")
    old, new = _tables_both_ways(duty_record(representative=chen, year=2001))
    assert new == old and "本年度没有活动记录。" in new[0]


def test_a_malformed_year_is_explained_on_the_page(world, representative):
    # The API's duty record reads the year through the same function (record_year).
    chen = Representative.objects.get(name="演示代表·陈明")
    client = client_for(representative)
    for year in ("1999", "去年", "2101"):
        response = client.get(reverse("duties:duty_record", args=[chen.pk]), {"year": year})
        assert response.status_code == 400
        assert "年度应为 2000 到 2100 之间的四位数字。" in text_of(response)
    ok = client.get(reverse("duties:duty_record", args=[chen.pk]), {"year": "2026"})
    assert ok.status_code == 200
