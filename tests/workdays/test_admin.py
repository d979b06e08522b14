"""A superuser corrects and extends the calendar through the admin; every change that
can move a deadline reaches the registered recomputers."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from minyi.workdays.calendar import add_workdays
from minyi.workdays.models import CalendarYear, DayKind, SpecialDay

pytestmark = pytest.mark.django_db


def day_form(day: date, kind: str, name: str) -> dict[str, str]:
    return {"date": day.isoformat(), "kind": kind, "name": name}


def year_form(year: CalendarYear, **changes) -> dict[str, str]:
    data = {"year": str(year.year), "source": year.source}
    if year.complete:
        data["complete"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_list_pages_and_filters_load(calendar_admin):
    days = reverse("admin:workdays_specialday_changelist")
    years = reverse("admin:workdays_calendaryear_changelist")
    assert calendar_admin.get(years).status_code == 200
    assert calendar_admin.get(years, {"complete__exact": "1"}).status_code == 200
    assert "2026" in calendar_admin.get(years, {"q": "2026"}).text
    response = calendar_admin.get(days, {"kind__exact": "makeup_workday", "date__year": "2026"})
    assert response.status_code == 200
    assert "2026年2月14日" in response.text or "2026-02-14" in response.text


def test_correcting_a_day_in_a_complete_year_announces_it(calendar_admin, recomputed_years):
    holiday = SpecialDay.objects.get(date=date(2025, 10, 8))
    url = reverse("admin:workdays_specialday_change", args=[holiday.pk])
    response = calendar_admin.post(
        url, day_form(date(2025, 10, 8), DayKind.HOLIDAY, "国庆节（核）")
    )
    assert response.status_code == 302
    assert SpecialDay.objects.get(pk=holiday.pk).name == "国庆节（核）"
    assert recomputed_years == [2025]


def test_deleting_a_day_announces_it_and_changes_deadlines(calendar_admin, recomputed_years):
    holiday = SpecialDay.objects.get(date=date(2025, 10, 8))
    url = reverse("admin:workdays_specialday_delete", args=[holiday.pk])
    assert calendar_admin.post(url, {"post": "yes"}).status_code == 302
    assert recomputed_years == [2025]
    assert add_workdays(date(2025, 9, 30), 1).due == date(2025, 10, 8)


def test_a_weekday_makeup_day_is_refused_in_chinese(calendar_admin, recomputed_years):
    url = reverse("admin:workdays_specialday_add")
    response = calendar_admin.post(url, day_form(date(2031, 10, 8), DayKind.MAKEUP_WORKDAY, "x"))
    assert response.status_code == 200
    assert "调休上班日必须是周六或周日" in response.text
    assert not SpecialDay.objects.filter(date=date(2031, 10, 8)).exists()
    assert recomputed_years == []


def test_a_duplicate_date_is_refused(calendar_admin):
    url = reverse("admin:workdays_specialday_add")
    response = calendar_admin.post(url, day_form(date(2025, 10, 1), DayKind.HOLIDAY, "国庆节"))
    assert response.status_code == 200
    assert SpecialDay.objects.filter(date=date(2025, 10, 1)).count() == 1


def test_entering_a_new_year_through_the_admin(calendar_admin, unknown_year, recomputed_years):
    received = date(unknown_year, 9, 26)
    assert add_workdays(received, 10).provisional

    add = reverse("admin:workdays_specialday_add")
    for day in range(1, 8):
        form = day_form(date(unknown_year, 10, day), DayKind.HOLIDAY, "国庆节")
        assert calendar_admin.post(add, form).status_code == 302
    form = day_form(date(unknown_year, 9, 27), DayKind.MAKEUP_WORKDAY, "国庆节")
    assert calendar_admin.post(add, form).status_code == 302
    assert add_workdays(received, 10).provisional  # entered, not yet confirmed complete

    year = CalendarYear.objects.get(year=unknown_year)
    url = reverse("admin:workdays_calendaryear_change", args=[year.pk])
    form = year_form(year, complete="on", source="国办发明电（测试）")
    assert calendar_admin.post(url, form).status_code == 302

    deadline = add_workdays(received, 10)
    assert (deadline.due, deadline.provisional) == (date(unknown_year, 10, 16), False)
    # Eight day saves, then the year marked complete.
    assert recomputed_years == [unknown_year] * 9


def test_saving_a_year_without_touching_complete_is_quiet(calendar_admin, recomputed_years):
    year = CalendarYear.objects.get(year=2025)
    url = reverse("admin:workdays_calendaryear_change", args=[year.pk])
    assert calendar_admin.post(url, year_form(year, source="已核对")).status_code == 302
    assert recomputed_years == []


def test_unticking_complete_announces_it(calendar_admin, recomputed_years):
    year = CalendarYear.objects.get(year=2025)
    url = reverse("admin:workdays_calendaryear_change", args=[year.pk])
    form = year_form(year)
    del form["complete"]
    assert calendar_admin.post(url, form).status_code == 302
    assert recomputed_years == [2025]
    assert add_workdays(date(2025, 9, 26), 10).provisional


def test_mark_complete_action(calendar_admin, recomputed_years):
    CalendarYear.objects.filter(year__in=[2024, 2025]).update(complete=False)
    pks = CalendarYear.objects.filter(year__in=[2024, 2025, 2026]).values_list("pk", flat=True)
    url = reverse("admin:workdays_calendaryear_changelist")
    data = {"action": "mark_complete", "_selected_action": [str(pk) for pk in pks]}
    assert calendar_admin.post(url, data).status_code == 302
    assert CalendarYear.objects.filter(year__in=[2024, 2025], complete=True).count() == 2
    assert sorted(recomputed_years) == [2024, 2025]  # 2026 was complete already
