"""The evaluation pages: scope (a street sees and assesses only its studios; anything
else is 404), the assessment form's messages, stale pages (409), a closed round (400),
the circular's readers, and the list's fixed number of queries."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from minyi.core.text_limits import REPORT_MAX
from minyi.evaluation import services, summary
from minyi.evaluation.models import Criterion, StudioOutcome
from minyi.studios.models import Studio, StudioKind
from tests.core.helpers import client_for
from tests.evaluation.helpers import (
    DAMEISHA,
    SHATOUJIAO,
    assess_all,
    assessment,
    open_round,
    scores,
    user,
)

pytestmark = pytest.mark.django_db


def names_on(response: Any) -> list[str]:
    return [a.studio.name for a in response.context["rows"]]


@pytest.mark.parametrize(
    ("persona", "seen"),
    [
        ("city", [DAMEISHA, SHATOUJIAO]),
        ("yantian", [DAMEISHA, SHATOUJIAO]),
        ("shatoujiao", [SHATOUJIAO]),
        ("meisha", [DAMEISHA]),
    ],
)
def test_each_department_lists_the_studios_in_its_scope(
    world: Any, persona: str, seen: list[str]
) -> None:
    round = open_round()
    response = client_for(user(persona)).get(round.get_absolute_url())
    assert response.status_code == 200
    assert sorted(names_on(response)) == sorted(seen)


@pytest.mark.parametrize("persona", ["liaison", "rep", "unit"])
def test_studio_people_and_units_get_404(world: Any, persona: str) -> None:
    round = open_round()
    client = client_for(user(persona))
    for url in (
        reverse("evaluation:index"),
        round.get_absolute_url(),
        assessment(round).get_absolute_url(),
    ):
        assert client.get(url).status_code == 404


def test_a_street_cannot_open_or_post_to_another_streets_studio(world: Any) -> None:
    round = open_round()
    a = assessment(round)  # 沙头角
    client = client_for(user("meisha"))
    assert client.get(a.get_absolute_url()).status_code == 404
    response = client.post(a.get_absolute_url(), {"version": a.version, "outcome": "keep"})
    assert response.status_code == 404
    assert assessment(round).outcome == ""


def _form(a: Any, **fields: Any) -> dict[str, Any]:
    data = {"version": a.version, "outcome": "", "outcome_reason": ""}
    for c in Criterion.values:
        data[f"score_{c}"] = ""
        data[f"reason_{c}"] = ""
    data.update(fields)
    return data


def test_the_page_shows_the_evidence(world: Any) -> None:
    a = assessment(open_round())
    response = client_for(user("shatoujiao")).get(a.get_absolute_url())
    text = response.content.decode()
    for label in Criterion.labels:
        assert label in text
    for line in scores(a)[Criterion.BUILDING].evidence:
        assert line in text


def test_an_adjustment_without_a_reason_is_shown_in_chinese(world: Any) -> None:
    round = open_round()
    a = assessment(round)
    client = client_for(user("shatoujiao"))
    response = client.post(
        a.get_absolute_url(),
        _form(a, score_management="16", outcome="keep", outcome_reason="良好"),
    )
    assert response.status_code == 400
    assert "调整“日常管理好”的分数须写明理由。" in response.content.decode()
    assert assessment(round).version == a.version  # nothing saved


def test_a_score_that_is_not_a_number_is_refused(world: Any) -> None:
    round = open_round()
    a = assessment(round)
    response = client_for(user("shatoujiao")).post(
        a.get_absolute_url(), _form(a, score_role="二十", reason_role="x")
    )
    assert response.status_code == 400
    assert "分数应为 0 到 20 之间的整数。" in response.content.decode()


def test_an_unknown_outcome_is_refused(world: Any) -> None:
    round = open_round()
    a = assessment(round)
    response = client_for(user("shatoujiao")).post(
        a.get_absolute_url(), _form(a, outcome="promote")
    )
    assert response.status_code == 400
    assert "请选择有效的评估结果。" in response.content.decode()


def test_an_adjustment_with_a_reason_and_an_outcome_is_saved(world: Any) -> None:
    round = open_round()
    a = assessment(round)
    response = client_for(user("shatoujiao")).post(
        a.get_absolute_url(),
        _form(
            a,
            score_management="15",
            reason_management="开放台账补录后核实",
            outcome=StudioOutcome.CORRECT,
            outcome_reason="日常开放记录不全，限期整改",
        ),
    )
    assert response.status_code == 302
    fresh = assessment(round)
    assert fresh.outcome == StudioOutcome.CORRECT and fresh.assessed_by == user("shatoujiao")
    assert scores(fresh)[Criterion.MANAGEMENT].adjusted_score == 15


def test_a_stale_form_is_refused_with_409_and_the_typing_kept(world: Any) -> None:
    round = open_round()
    a = assessment(round)
    services.assessment_save(
        actor=user("yantian"),
        assessment=a,
        version=a.version,
        criteria={},
        outcome="",
        outcome_reason="",
    )
    response = client_for(user("shatoujiao")).post(
        a.get_absolute_url(), _form(a, score_role="12", reason_role="我的理由")
    )
    assert response.status_code == 409
    text = response.content.decode()
    assert "已被他人更新" in text and "我的理由" in text
    assert scores(assessment(round))[Criterion.ROLE].adjusted_score is None


def test_a_finalised_round_cannot_be_edited_on_the_page(world: Any) -> None:
    round = open_round()
    assess_all(round)
    services.round_finalise(actor=user("city"), round=round, version=round.version)
    a = assessment(round)
    client = client_for(user("shatoujiao"))
    page = client.get(a.get_absolute_url())
    assert page.status_code == 200 and page.context["form"] is None
    response = client.post(a.get_absolute_url(), _form(a, outcome="keep", outcome_reason="x"))
    assert response.status_code == 400
    assert "评估已定稿，评估不能再修改。" in response.content.decode()


def test_the_open_form_refuses_a_repeated_year_in_chinese(world: Any) -> None:
    open_round()
    response = client_for(user("city")).post(reverse("evaluation:round_open"), {"year": "2026"})
    assert response.status_code == 400
    assert "2026年度评估已经开展，不能重复开展。" in response.content.decode()


def test_the_circular_is_for_the_city_until_approved_then_for_every_department(
    world: Any,
) -> None:
    round = open_round()
    assess_all(round)
    round = services.round_finalise(actor=user("city"), round=round, version=round.version)
    url = reverse("evaluation:circular", args=[round.pk])
    assert client_for(user("city")).get(url).status_code == 200
    assert client_for(user("meisha")).get(url).status_code == 404
    round = services.round_submit(actor=user("city"), round=round, version=round.version)
    services.round_approve(actor=user("city"), round=round, version=round.version)
    for persona in ("yantian", "shatoujiao", "meisha"):
        assert client_for(user(persona)).get(url).status_code == 200
    assert client_for(user("liaison")).get(url).status_code == 404
    # The summary (with every studio's five scores) stays with the city.
    summary = reverse("evaluation:summary", args=[round.pk])
    assert client_for(user("yantian")).get(summary).status_code == 404


def _queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("persona", ["city", "shatoujiao"])
def test_the_round_page_runs_a_fixed_number_of_queries(
    world: Any,
    persona: str,
    django_assert_num_queries: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    def add(n: int) -> None:
        for i in range(n):
            Studio.objects.create(
                name=f"测试工作室{Studio.objects.count()}-{i}",
                kind=StudioKind.COMMUNITY,
                unit=world["440308003009"],
                host_organisation="测试",
            )

    add(2)
    round = open_round()
    client = client_for(user(persona))
    url = round.get_absolute_url()
    client.get(url)  # warm up
    few = _queries(client, url)
    # The new studios as committed: the first view after them reads the organisation's
    # cached rows afresh and keeps them (minyi.core.generations), as the warm-up did.
    with django_capture_on_commit_callbacks(execute=True):
        add(20)
        round.refresh_from_db()
        services.round_refresh(actor=user("city"), round=round, version=round.version)
    client.get(url)
    assert round.assessments.count() == 24
    with django_assert_num_queries(few):
        response = client.get(url)
    assert len(response.context["rows"]) == 23 if persona == "shatoujiao" else 24


def test_a_circular_naming_more_studios_than_fit_is_drafted_within_its_cap_and_saved_unchanged(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A city where 1,200 studios are praised: their names alone (27,600 characters) are
    # over the cap. The draft names as many as fit, counts them all and points to the
    # summary's table; the city saves it as drafted (CR LF, as a browser sends it).
    round = open_round()
    assess_all(round)
    real = summary.build_summary

    def crowded(round: Any) -> summary.Summary:
        built = real(round)
        built.studios += [
            summary.StudioLine(
                district="盐田区",
                street="沙头角街道",
                studio=f"盐田区沙头角街道第{i:04d}号社区党代表工作室",
                scores=[20] * 5,
                total=100,
                outcome=StudioOutcome.COMMEND.label,
                reason="",
            )
            for i in range(1200)
        ]
        built.outcome_counts[StudioOutcome.COMMEND.label] += 1200
        return built

    monkeypatch.setattr(summary, "build_summary", crowded)
    round = services.round_finalise(actor=user("city"), round=round, version=round.version)
    body = round.circular.body
    assert len(body) <= REPORT_MAX
    assert "盐田区沙头角街道第0000号社区党代表工作室" in body and "第1199号" not in body
    praised = summary.summary_of(round).outcome_counts[StudioOutcome.COMMEND.label]
    assert praised >= 1200 and f"等 {praised} 个工作室（名单见附表）。" in body
    assert "三、受表扬的工作室要继续巩固提高" in body
    client = client_for(user("city"))
    response = client.post(
        reverse("evaluation:circular_edit", args=[round.pk]),
        {
            "version": round.version,
            "title": round.circular.title,
            "body": body.replace("\n", "\r\n"),
        },
    )
    assert response.status_code == 302
    round.refresh_from_db()
    assert round.circular.body == body
