"""Fill the calendar tables from the chinesecalendar package.

The package is seed data, not the source of truth: once a year is in the table the
administrator owns it. Seeding therefore only creates years that are absent (with all
their days). An existing year is left exactly as it is, so a corrected, deleted or
unticked day survives any number of re-seeds. `fill_year` is the explicit way to copy
the package's days into an existing year, and it too only adds dates that have no row.

The functions take the model classes as arguments so the data migration can pass its
historical models.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import chinese_calendar

from minyi.workdays import cache

HOLIDAY = "holiday"
MAKEUP_WORKDAY = "makeup_workday"

# The package keys its tables by English names; the enum carries short Chinese ones,
# which we lengthen to the names the State Council notices use.
_OFFICIAL = {"清明": "清明节", "端午": "端午节", "中秋": "中秋节"}
# The package sets `chinese` on each member in Holiday.__new__, which a checker cannot see.
_CHINESE_NAMES = {
    h.value: _OFFICIAL.get(h.chinese, h.chinese)  # type: ignore[attr-defined]
    for h in chinese_calendar.Holiday
}


def package_source() -> str:
    return (
        f"chinesecalendar {chinese_calendar.__version__}（据国务院办公厅各年度节假日安排通知整理）"
    )


def package_years() -> range:
    """Every year the package has data for.

    The package itself treats [first year, last year] of its holiday table as supported
    (anything outside raises NotImplementedError), so we use the same bounds.
    """
    years = [d.year for d in chinese_calendar.holidays]
    return range(min(years), max(years) + 1)


def package_days(year: int) -> list[tuple[date, str, str]]:
    """(date, kind, Chinese name) for one year, read from the package's own tables.

    Reading the dicts directly, not the helper functions, avoids both the
    NotImplementedError for unknown years and get_workdays() dropping make-up days.
    """
    days = [
        (d, HOLIDAY, _CHINESE_NAMES.get(name, name))
        for d, name in chinese_calendar.holidays.items()
        if d.year == year
    ]
    days += [
        (d, MAKEUP_WORKDAY, _CHINESE_NAMES.get(name, name))
        for d, name in chinese_calendar.workdays.items()
        if d.year == year
    ]
    return sorted(days)


@dataclass
class SeedResult:
    created_years: list[int] = field(default_factory=list)
    kept_years: list[int] = field(default_factory=list)
    created_days: int = 0


def seed_from_package(calendar_year_model: Any, special_day_model: Any) -> SeedResult:
    """Create every package year that is not in the table yet, marked complete."""
    result = SeedResult()
    existing = set(calendar_year_model.objects.values_list("year", flat=True))
    for year in package_years():
        if year in existing:
            result.kept_years.append(year)
            continue
        calendar_year = calendar_year_model.objects.create(
            year=year, complete=True, source=package_source()
        )
        result.created_days += _create_missing_days(special_day_model, calendar_year)
        result.created_years.append(year)
    return result


def fill_year(calendar_year_model: Any, special_day_model: Any, year: int) -> int:
    """Add the package's days for `year` that have no row yet; returns how many.

    Never changes an existing row nor the year's `complete` flag: an administrator
    confirms the year after checking it.
    """
    if year not in package_years():
        raise ValueError(f"chinesecalendar {chinese_calendar.__version__} 没有{year}年的数据。")
    calendar_year, _ = calendar_year_model.objects.get_or_create(
        year=year, defaults={"source": package_source()}
    )
    return _create_missing_days(special_day_model, calendar_year)


def _create_missing_days(special_day_model: Any, calendar_year: Any) -> int:
    year = calendar_year.year
    taken = set(
        special_day_model.objects.filter(
            date__gte=date(year, 1, 1), date__lte=date(year, 12, 31)
        ).values_list("date", flat=True)
    )
    new = [
        special_day_model(date=d, kind=kind, name=name, calendar_year=calendar_year)
        for d, kind, name in package_days(year)
        if d not in taken
    ]
    special_day_model.objects.bulk_create(new)
    # bulk_create sends no signal (nor does a migration's model): the kept years go.
    cache.bump()
    return len(new)
