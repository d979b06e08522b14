"""The duty side over the API, read-only: annual plans, bi-monthly reports and a
representative's duty record with their compliance. Each answers what its page shows
the same account — the page's scoping (another studio's liaison: 404 or an empty list),
its filters, its shortfalls and totals from the same functions — with bad parameters
refused in Chinese (422) and the lists in a fixed number of queries."""

from __future__ import annotations

from datetime import date, time
from typing import Any

import pytest
from django.utils import timezone

from minyi.duties import plans
from minyi.duties.compliance import make_rules, representative_row
from minyi.duties.models import AnnualPlan, BimonthlyReport, PlanState, ReportState
from minyi.duties.record import duty_record
from minyi.people.models import Representative, User
from minyi.studios.models import Studio, StudioAssignment
from tests.api.conftest import ApiClient, refused
from tests.duties.test_record import a_year_of_work

pytestmark = pytest.mark.django_db

STUDIO = "沙头角社区党代表工作室"


def _studio(name: str = STUDIO) -> Studio:
    return Studio.objects.get(name=name)


def _plan(year: int = 2030, state: str = PlanState.DRAFT, studio: Studio | None = None) -> Any:
    return AnnualPlan.objects.create(
        studio=studio or _studio(),
        year=year,
        state=state,
        opening_weekday=2,
        opening_start=time(9),
        opening_end=time(12),
        place="工作室一楼",
    )


def _report(year: int = 2026, period: int = 1, **values: Any) -> BimonthlyReport:
    values.setdefault("studio", _studio())
    values.setdefault("body", f"{year}年第{period}期：代表到工作室活动情况")
    return BimonthlyReport.objects.create(year=year, period=period, **values)


def _ids(client: ApiClient, path: str, **params: Any) -> list[int]:
    response = client.get(path, params)
    assert response.status_code == 200, response.content.decode()
    return [item["id"] for item in response.json()["items"]]


# --- annual plans ----------------------------------------------------------------------


def test_the_plan_list_has_the_page_s_filters_and_shortfalls(
    api: Any, world: Any, other_liaison: ApiClient
) -> None:
    draft, approved = _plan(2030), _plan(2029, PlanState.APPROVED)
    liaison = api("liaison")
    assert _ids(liaison, "/annual-plans") == [approved.pk, draft.pk]
    assert _ids(liaison, "/annual-plans", year=2030) == [draft.pk]
    assert _ids(liaison, "/annual-plans", state="approved") == [approved.pk]
    assert _ids(liaison, "/annual-plans", studio=_studio().pk) == [approved.pk, draft.pk]
    first = liaison.get("/annual-plans", {"limit": 1}).json()
    rest = liaison.get("/annual-plans", {"cursor": first["next_cursor"]}).json()
    assert [i["id"] for i in first["items"] + rest["items"]] == [approved.pk, draft.pk]
    # The page's count: three representatives without a session in six windows.
    item = liaison.get("/annual-plans", {"year": 2030}).json()["items"][0]
    assert len(item["shortfalls"]) == 19 and item["state_label"] == "草稿"
    expected = plans.plan_shortfalls(draft, plans.assigned_for(draft.studio, draft.year), 3.0)
    assert sorted(s["message"] for s in item["shortfalls"]) == sorted(s.message for s in expected)
    # Another studio's liaison sees none of them and may not filter by the studio.
    assert _ids(other_liaison, "/annual-plans") == []
    refused(other_liaison.get("/annual-plans", {"studio": _studio().pk}), 422, "studio")
    refused(liaison.get("/annual-plans", {"state": "done"}), 422, "state")
    refused(liaison.get("/annual-plans", {"year": 1999}), 422, "year")
    refused(liaison.get("/annual-plans", {"q": "沙头角"}), 422, "q")  # the page has no search


def test_the_plan_shows_its_sessions_and_shortfalls_as_its_page(
    api: Any, world: Any, other_liaison: ApiClient
) -> None:
    plan = _plan(2030)
    chen = Representative.objects.get(name="演示代表·陈明")
    plan.sessions.create(
        representative=chen, date=date(2030, 1, 9), start=time(9), end=time(12), theme="接待日"
    )
    response = api("shatoujiao").get(f"/annual-plans/{plan.pk}")
    assert response.status_code == 200, response.content.decode()
    body = response.json()
    assert body["opening_weekday_label"] == plans.WEEKDAYS[2] and body["opening_hours"] == 3.0
    (session,) = body["sessions"]
    assert session["representative_name"] == "演示代表·陈明" and session["theme"] == "接待日"
    assert session["kind_label"] == "接待群众"
    assert len(body["representatives"]) == 3
    assert len(body["shortfalls"]) == 18  # 陈明's January–February is covered now
    assert body["submitted_by"] is None and body["event_count"] == 0
    refused(other_liaison.get(f"/annual-plans/{plan.pk}"), 404)
    refused(api("meisha").get(f"/annual-plans/{plan.pk}"), 404)


# --- bi-monthly reports ----------------------------------------------------------------


def test_the_report_list_has_the_page_s_filters_and_no_text(
    api: Any, world: Any, other_liaison: ApiClient
) -> None:
    liaison = User.objects.get(username="liaison")
    draft = _report(2026, 1)
    sent = _report(2026, 2, state=ReportState.SUBMITTED, submitted_by=liaison)
    sent.submitted_at = sent.created_at
    sent.save()
    old = _report(2025, 6, body="去年的报告：加装电梯")
    client = api("liaison")
    assert _ids(client, "/bimonthly-reports") == [old.pk, sent.pk, draft.pk]
    assert _ids(client, "/bimonthly-reports", year=2025) == [old.pk]
    assert _ids(client, "/bimonthly-reports", state="submitted") == [sent.pk]
    assert _ids(client, "/bimonthly-reports", q="加装电梯") == [old.pk]
    items = client.get("/bimonthly-reports", {"state": "submitted"}).json()["items"]
    assert items[0]["submitted_by"] == "演示联络员·林芳" and "body" not in items[0]
    assert items[0]["period_label"] == "第2期（3—4月）"
    assert _ids(other_liaison, "/bimonthly-reports") == []
    refused(client.get("/bimonthly-reports", {"state": "lost"}), 422, "state")
    refused(client.get("/bimonthly-reports", {"studio": 1}), 422, "studio")


def test_the_report_shows_its_text_and_is_404_out_of_scope(
    api: Any, world: Any, other_liaison: ApiClient
) -> None:
    report = _report(2026, 1)
    body = api("yantian").get(f"/bimonthly-reports/{report.pk}").json()
    assert body["body"] == report.body and body["state_label"] == "草稿"
    assert body["acknowledged_by"] is None
    refused(other_liaison.get(f"/bimonthly-reports/{report.pk}"), 404)
    refused(api("unit").get(f"/bimonthly-reports/{report.pk}"), 404)


# --- the duty record -------------------------------------------------------------------


def test_the_duty_record_has_the_page_s_totals_and_the_compliance_results(
    api: Any, world: Any, other_liaison: ApiClient
) -> None:
    chen, _case = a_year_of_work(world)
    path = f"/representatives/{chen.pk}/duty-record"
    response = api("liaison").get(path, {"year": 2026})
    assert response.status_code == 200, response.content.decode()
    body = response.json()
    assert body["year"] == 2026
    assert body["totals"] == duty_record(representative=chen, year=2026).totals
    assert body["totals"]["visits"] == 1 and body["totals"]["hours"] == 5.0
    # The compliance page's results for the year, one for each minimum and window.
    liaison = User.objects.get(username="liaison")
    row = representative_row(liaison, chen, make_rules(date(2026, 1, 1), date(2026, 12, 31)))
    assert row is not None
    assert [(r["rule"], r["period"], r["status"]) for r in body["compliance"]["results"]] == [
        (r.rule, r.period, r.status.value) for r in row.results
    ]
    sm9 = [r for r in body["compliance"]["results"] if r["rule"] == "SM 9"]
    assert len(sm9) == 6 and sm9[1]["status"] == "green"  # 3月7日, three hours
    assert body["minimums"]["half_day_hours"] == 3.0
    # No personal data: the household's address and the requester are not in it.
    text = response.content.decode()
    assert "沙头角演示小区" not in text and "演示居民" not in text and "13800005678" not in text
    refused(other_liaison.get(path), 404)
    refused(api("meisha").get(path), 404)


def test_a_representative_sees_a_colleague_s_record_but_only_their_own_compliance(
    api: Any, world: Any
) -> None:
    # As on the pages: the duty record of a representative of the same studio is open to
    # them, the compliance page shows them only their own results.
    chen = Representative.objects.get(name="演示代表·陈明")
    lin = Representative.objects.get(name="演示代表·林秀英")
    assert chen.user is not None and chen.user.username == "rep"
    client = api("rep")
    own = client.get(f"/representatives/{chen.pk}/duty-record", {"year": 2026}).json()
    assert len(own["compliance"]["results"]) >= 6
    colleague = client.get(f"/representatives/{lin.pk}/duty-record", {"year": 2026})
    assert colleague.status_code == 200 and colleague.json()["compliance"] is None
    # Their studio's liaison sees both.
    theirs = api("liaison").get(f"/representatives/{lin.pk}/duty-record", {"year": 2026})
    assert theirs.json()["compliance"]["results"]


def test_the_duty_record_refuses_a_bad_year_in_chinese(api: Any, world: Any) -> None:
    chen = Representative.objects.get(name="演示代表·陈明")
    path = f"/representatives/{chen.pk}/duty-record"
    client = api("rep")
    assert "2000 到 2100" in refused(client.get(path, {"year": 1999}), 422, "year")["message"]
    refused(client.get(path, {"year": "去年"}), 422, "year")
    refused(client.get(path, {"years": 2026}), 422, "years")
    # The year in Shanghai (the project's TIME_ZONE): date.today() is the machine's, which
    # is still the old year for the first eight hours of a new one.
    assert client.get(path).json()["year"] == timezone.localdate().year


def test_the_visits_minimum_is_the_one_the_compliance_page_judges_against(
    api: Any, world: Any
) -> None:
    # CM 4 pro-rated as on the compliance page: floor(10 × whole months served / 12).
    chen = Representative.objects.get(name="演示代表·陈明")  # city level
    he = Representative.objects.get(name="演示代表·何建国")  # district level
    client = api("liaison")

    def minimum(rep: Representative, year: int) -> Any:
        path = f"/representatives/{rep.pk}/duty-record"
        response = client.get(path, {"year": year})
        assert response.status_code == 200, response.content.decode()
        return response.json()["minimums"]["visits_per_year"]

    def page_reason(rep: Representative, year: int) -> str:
        liaison = User.objects.get(username="liaison")
        rules = make_rules(date(year, 1, 1), date(year, 12, 31))
        row = representative_row(liaison, rep, rules)
        assert row is not None
        (cm4,) = [r for r in row.results if r.rule == "CM 4"]
        return cm4.reason

    assert minimum(chen, 2026) == 10  # always at the studio: a whole year
    # Joined on 15 April 2026 (after a first period from March 2025 to the end of 2025):
    # May to December are whole, 8 months, floor(80 / 12) = 6; 2025 has March to
    # December, 10 months, floor(100 / 12) = 8.
    assignment = StudioAssignment.objects.get(representative=chen)
    StudioAssignment.objects.filter(pk=assignment.pk).update(since=date(2026, 4, 15))
    StudioAssignment.objects.create(
        studio=assignment.studio,
        representative=chen,
        since=date(2025, 3, 1),
        until=date(2025, 12, 31),
        active=False,
    )
    assert minimum(chen, 2026) == 6
    assert "应不少于 6 户" in page_reason(chen, 2026)
    assert minimum(chen, 2025) == 8
    assert "应不少于 8 户" in page_reason(chen, 2025)
    assert minimum(chen, 2024) == 0  # at no studio that year: nothing owed, none shown
    assert minimum(he, 2026) is None and minimum(he, 2025) is None


# --- query counts ----------------------------------------------------------------------


def test_the_plan_list_runs_a_fixed_number_of_queries(
    api: Any, world: Any, django_assert_num_queries: Any
) -> None:
    client = api("city")
    client.get("/annual-plans")  # warm up: the token lookup and scope
    studios = list(Studio.objects.active().order_by("pk")[:6])

    def page() -> int:
        with django_assert_num_queries(PLAN_QUERIES):
            response = client.get("/annual-plans", {"limit": 100})
        assert response.status_code == 200
        return len(response.json()["items"])

    for studio in studios[:2]:
        _plan(2030, studio=studio)
    assert page() == 2
    for studio in studios[2:]:
        _plan(2030, studio=studio).sessions.create(
            representative=Representative.objects.first(),
            date=date(2030, 3, 3),
            start=time(9),
            end=time(12),
        )
    assert page() == len(studios)


# The token, its last-use stamp, the official's unit (the scope), the page of plans,
# their sessions, their studios' assignments with the representatives, the call log.
PLAN_QUERIES = 7


def test_the_report_list_runs_a_fixed_number_of_queries(
    api: Any, world: Any, django_assert_num_queries: Any
) -> None:
    client = api("liaison")
    client.get("/bimonthly-reports")

    def page() -> int:
        with django_assert_num_queries(REPORT_QUERIES):
            response = client.get("/bimonthly-reports", {"limit": 100})
        assert response.status_code == 200
        return len(response.json()["items"])

    _report(2026, 1)
    assert page() == 1
    for period in range(2, 7):
        _report(2025, period, submitted_by=User.objects.get(username="liaison"))
    assert page() == 6


# The token, its last-use stamp, the page of reports (studio and people joined in), the
# call log.
REPORT_QUERIES = 4


def test_the_openapi_document_lists_the_duty_operations(api: Any) -> None:
    paths = ApiClient(None).get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/annual-plans",
        "/api/v1/annual-plans/{plan_id}",
        "/api/v1/bimonthly-reports",
        "/api/v1/bimonthly-reports/{report_id}",
        "/api/v1/representatives/{representative_id}/duty-record",
    ):
        assert set(paths[path]) == {"get"}, path
