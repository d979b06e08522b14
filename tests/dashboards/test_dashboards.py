"""Dashboards: every number equals the count of the list it links to; the numbers are
right for a known set of opinions; each user sees only their scope (out of scope is a
404); the page runs a fixed number of queries however many opinions there are."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from minyi.duties.compliance_rules import Status
from minyi.studios.models import Studio
from tests.core.helpers import client_for
from tests.dashboards.helpers import YEAR, build_cases
from tests.duties.test_compliance_page import _grow

URL = reverse("dashboards:overview")
NUMBER_LINK = re.compile(r'<a href="([^"]+)" data-number="([a-z_]+)">(\d+)</a>')
PERSONAS = ["street_official", "district_official", "city_official", "admin_user", "liaison"]


def numbers(response: Any) -> list[tuple[str, str, int]]:
    assert response.status_code == 200
    found = NUMBER_LINK.findall(response.content.decode())
    return [(html.unescape(href), key, int(n)) for href, key, n in found]


def by_label(chart: Any) -> dict[str, int]:
    return dict(zip(chart.categories, chart.series[0].values, strict=True))


def list_count(client: Any, href: str) -> int:
    response = client.get(href)
    assert response.status_code == 200, href
    assert not response.context["form"].errors, (href, response.context["form"].errors)
    return response.context["page"].paginator.count


@pytest.fixture
def cases(world: Any) -> None:
    build_cases()


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_number_equals_the_count_of_its_list(cases: None, request: Any, persona: str) -> None:
    client = client_for(request.getfixturevalue(persona))
    response = client.get(URL, {"year": YEAR})
    found = numbers(response)
    case_links = [(href, key, n) for href, key, n in found if key != "compliance"]
    assert len(case_links) > 20
    for href, key, n in case_links:
        assert href.startswith(reverse("cases:list") + "?"), href
        assert list_count(client, href) == n, (key, href)
    # The duty minimums: the chart's numbers add up to the compliance page's counts.
    chart = response.context["dashboard"].compliance
    links = {url for series in chart.series for url in series.urls}
    assert len(links) == 1
    page = client.get(links.pop())
    assert page.status_code == 200
    summary = page.context["summary"]
    for index, status in enumerate([Status.RED, Status.AMBER, Status.GREEN, Status.NOT_DUE]):
        assert sum(s.values[index] for s in chart.series) == summary.counts[status]


def test_the_street_sees_its_numbers(cases: None, street_official: Any) -> None:
    response = client_for(street_official).get(URL, {"year": YEAR})
    dashboard = response.context["dashboard"]
    headline = {key: n for key, (n, _) in dashboard.headline.items()}
    assert headline == {"total": 8, "overdue": 1, "on_time": 2, "late": 1}
    assert dashboard.on_time_rate == "66.7%"
    charts = {chart.key: chart for chart in dashboard.charts}
    months = charts["month"].series[0].values
    assert months == [2, 0, 2, 0, 1, 2, 1, 0, 0, 0, 0, 0]
    channel = by_label(charts["channel"])
    assert channel == {"当面反映": 6, "电话反映": 1, "网上反映": 1, "其他": 0}
    category = by_label(charts["category"])
    assert category == {"城市管理": 3, "未分类": 3, "环境卫生": 2}
    level = by_label(charts["holder_level"])
    assert level["未报送（当场答复、待报送或已撤回）"] == 2
    assert level["街道组织部门"] == 5
    assert level["区（新区）组织部门"] == 1
    rating = by_label(charts["final_rating"])
    # The on-the-spot answer's rating is the case's rating too.
    assert rating == {"非常满意": 0, "满意": 2, "基本满意": 0, "不满意": 1}
    text = response.content.decode()
    assert "沙头角社区党代表工作室" in text
    assert "大梅沙" not in text  # 梅沙街道's opinion is not counted


def test_a_district_breaks_down_by_street_and_drills_down(
    cases: None, district_official: Any, world: Any
) -> None:
    client = client_for(district_official)
    response = client.get(URL, {"year": YEAR})
    lines = {line.label: line for line in response.context["dashboard"].breakdown}
    assert set(lines) == {"沙头角街道", "梅沙街道"}
    assert lines["沙头角街道"].numbers["total"][0] == 8
    assert lines["梅沙街道"].numbers["total"][0] == 1
    # Drilling into the street gives the street's dashboard, broken down by studio.
    street = client.get(lines["沙头角街道"].drill_url + f"&year={YEAR}")
    assert street.status_code == 200
    assert street.context["dashboard"].headline["total"][0] == 8
    assert [line.label for line in street.context["dashboard"].breakdown] == [
        "沙头角社区党代表工作室"
    ]
    # The trail leads back up to the district, no higher.
    assert [str(u) for u in street.context["trail"]] == ["盐田区", "沙头角街道"]
    studio = Studio.objects.get(name="沙头角社区党代表工作室")
    one = client.get(URL, {"studio": studio.pk, "year": YEAR})
    assert one.context["dashboard"].headline["total"][0] == 8
    for href, key, n in numbers(one):
        if key != "compliance" and parse_qs(urlsplit(href).query).get("studio"):
            assert list_count(client, href) == n


def test_scope(cases: None, client_factory: Any, world: Any) -> None:
    meisha = world["440308001"]
    other_studio = Studio.objects.get(name="大梅沙社区党代表工作室")
    street = client_factory("street_official")
    assert street.get(URL, {"unit": meisha.pk}).status_code == 404
    assert street.get(URL, {"studio": other_studio.pk}).status_code == 404
    assert street.get(URL, {"unit": "x"}).status_code == 404
    # The case list's unit filter answers the same way.
    assert street.get(reverse("cases:list"), {"unit": meisha.pk}).status_code == 404
    outsider = client_factory("outsider").get(URL, {"year": YEAR})
    assert outsider.context["dashboard"].headline["total"][0] == 1
    assert "沙头角社区党代表工作室" not in outsider.content.decode()
    liaison = client_factory("liaison")
    assert liaison.get(URL, {"year": YEAR}).context["dashboard"].headline["total"][0] == 8
    assert liaison.get(URL, {"unit": world["440308003"].pk}).status_code == 404
    assert liaison.get(URL, {"studio": other_studio.pk}).status_code == 404
    for persona in ("representative", "handling_unit_staff"):
        assert client_factory(persona).get(URL).status_code == 404


def test_the_navigation_links_the_dashboard_for_those_who_may_see_it(
    world: Any, client_factory: Any
) -> None:
    for persona, shown in [
        ("street_official", True),
        ("liaison", True),
        ("admin", True),
        ("representative", False),
        ("handling_unit_staff", False),
    ]:
        page = client_factory(persona).get(reverse("home")).content.decode()
        assert (f'href="{URL}"' in page) is shown, persona


def test_a_bad_year_is_explained_and_the_current_year_shown(
    world: Any, street_official: Any
) -> None:
    response = client_for(street_official).get(URL, {"year": "二〇二五"})
    assert response.status_code == 200
    assert "年度无效，已改为显示本年度。" in response.content.decode()


def test_charts_carry_their_data_for_the_script_and_no_inline_code(
    cases: None, street_official: Any
) -> None:
    response = client_for(street_official).get(URL, {"year": YEAR})
    text = response.content.decode()
    assert '<script id="dashboard-data" type="application/json">' in text
    assert "vendor/echarts/echarts.min.js" in text
    inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", text)
    assert inline == []
    assert text.count('class="chart-canvas"') == 8
    assert text.count('<details class="chart-table"') == 8


def _queries(client: Any, url: str, query: dict[str, Any]) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, query)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("persona", ["district_official", "admin_user", "liaison"])
def test_the_dashboard_runs_a_fixed_number_of_queries(
    world: Any, request: Any, persona: str, django_assert_num_queries: Any
) -> None:
    client = client_for(request.getfixturevalue(persona))
    build_cases()
    client.get(URL, {"year": YEAR})
    few = _queries(client, URL, {"year": YEAR})
    build_cases(extra=12)
    with django_assert_num_queries(few):
        response = client.get(URL, {"year": YEAR})
    assert response.context["dashboard"].headline["total"][0] > 8 + 12


@pytest.mark.parametrize("persona", ["city_official", "street_official"])
def test_the_dashboard_runs_a_fixed_number_of_queries_however_many_studios(
    world: Any, request: Any, persona: str
) -> None:
    """The duty minimums chart judges every studio in scope: its queries must not grow
    with them (a city has hundreds of studios)."""
    client = client_for(request.getfixturevalue(persona))
    year = {"year": 2026}  # the year _grow's events and reports are in
    _grow(world, 2)
    client.get(URL, year)
    few = _queries(client, URL, year)
    _grow(world, 6)
    response = client.get(URL, year)
    assert sum(sum(s.values) for s in response.context["dashboard"].compliance.series) > 0
    assert _queries(client, URL, year) == few


FILTERS = [
    {"date_from": f"{YEAR}-03-01", "date_to": f"{YEAR}-03-31"},
    {"channel": "online"},
    {"category": "城市管理"},
    {"category": "-"},
    {"level": "none"},
    {"level": "district"},
    {"answer": "on_time"},
    {"answer": "late"},
    {"answer": "none"},
    {"overdue": "on"},
    {"rating": "satisfied"},
]


@pytest.mark.parametrize("query", FILTERS)
def test_the_case_list_filters_run_a_fixed_number_of_queries(
    world: Any, district_official: Any, django_assert_num_queries: Any, query: dict[str, str]
) -> None:
    client = client_for(district_official)
    query = {**query, "unit": str(world["440308003"].pk)}
    build_cases()
    url = reverse("cases:list")
    client.get(url, query)
    few = _queries(client, url, query)
    before = client.get(url, query).context["page"].paginator.count
    build_cases(extra=12)
    with django_assert_num_queries(few):
        response = client.get(url, query)
    assert not response.context["form"].errors
    assert response.context["page"].paginator.count >= before


def test_the_case_list_refuses_dates_in_the_wrong_order(world: Any, street_official: Any) -> None:
    response = client_for(street_official).get(
        reverse("cases:list"), {"date_from": f"{YEAR}-05-01", "date_to": f"{YEAR}-04-01"}
    )
    assert response.status_code == 200
    assert "结束日期不能早于开始日期。" in response.content.decode()


def test_studios_at_a_street_or_district_itself_are_counted_in_the_right_line(
    cases: None, district_official: Any, world: Any
) -> None:
    # Their cases' column at the studio's own level holds the unit itself (Case.area
    # and Case.street are both the street): counted once, in the street's line, and a
    # district studio's as a studio of its own, not as a line for the district.
    from datetime import date

    from minyi.cases.services import case_register
    from minyi.people.models import Representative, User
    from minyi.studios.models import StudioKind
    from tests.cases.helpers import reporter_data

    for code, name in (("440308003", "沙头角街道机关工作室"), ("440308", "盐田区机关工作室")):
        studio = Studio.objects.create(unit=world[code], name=name, kind=StudioKind.AGENCY)
        case_register(
            actor=User.objects.get(username="liaison"),
            studio=studio,
            representative=Representative.objects.get(name="演示代表·陈明"),
            data=reporter_data(received_on=date(YEAR, 6, 1)),
        )
    response = client_for(district_official).get(URL, {"year": YEAR})
    lines = {
        line.label: line.numbers["total"][0] for line in response.context["dashboard"].breakdown
    }
    assert lines == {"沙头角街道": 9, "梅沙街道": 1, "盐田区机关工作室": 1}


def test_the_breakdown_is_grouped_by_line_in_the_database(
    cases: None, city_official: Any, world: Any
) -> None:
    """The city's breakdown and category chart come from rows grouped by the line they
    count for (a district) and category, not by studio (stats._per_studio): the rows
    follow the lines shown, whatever the number of studios."""
    from datetime import date

    from minyi.cases.models import Case
    from minyi.dashboards.stats import Target, _per_studio

    city = world["4403"]
    target = Target(label=city.name, unit=city)
    cases_of_year = Case.objects.filter(
        target.case_q(), received_on__gte=date(YEAR, 1, 1), received_on__lte=date(YEAR, 12, 31)
    ).order_by()
    rows = _per_studio(cases_of_year, date(YEAR, 12, 31), target)
    assert {row["child"] for row in rows} == {world["440308"].pk}
    assert len({(row["child"], row["category"]) for row in rows}) == len(rows)
    assert sum(row["total"] for row in rows) == cases_of_year.count()
