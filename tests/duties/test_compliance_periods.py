"""A representative is owed the duty minimums only within their periods at studios:
one who left and came back owes nothing for the gap, one who left during the year is
still judged (for the windows before leaving) on the compliance page, the dashboards'
counts and the warnings; a studio shows only the windows of their periods there; the
year's household visits follow the whole months of the year at studios."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from django.urls import reverse

from minyi.duties import tallies
from minyi.duties.compliance import (
    count,
    evaluate,
    make_rules,
    representative_row,
    visits_minimum,
    warnings_for,
)
from minyi.duties.compliance_rules import (
    RepresentativeFacts,
    Session,
    Status,
    owed_at,
    representative_results,
    visits_owed,
)
from minyi.duties.models import HouseholdVisit
from minyi.people.models import Role, User
from minyi.studios.models import Studio, StudioAssignment
from tests.api.conftest import api_for
from tests.core.helpers import client_for, text_of
from tests.duties.test_compliance_counts import counts_of
from tests.duties.test_compliance_page import chen, make_event, studio
from tests.studios.factories import make_studio

YEAR = (date(2026, 1, 1), date(2026, 12, 31))


def sm9(facts: RepresentativeFacts, today: date) -> dict[str, Any]:
    rules = make_rules(*YEAR, today)
    return {
        r.key.rsplit(":", 1)[1]: r for r in representative_results(facts, rules) if r.rule == "SM 9"
    }


def test_nothing_is_owed_for_the_gap_between_two_periods() -> None:
    # Left on 10 June, back on 1 October; a long session in the gap, at another studio.
    facts = RepresentativeFacts(
        id=1,
        name="甲",
        city_level=True,
        periods=((date(2025, 3, 1), date(2026, 6, 10)), (date(2026, 10, 1), None)),
        sessions=(Session(date(2026, 9, 20), 4, True, "别处"),),
    )
    found = sm9(facts, date(2027, 1, 15))
    # Jul–Aug is not owed; Sep–Oct is (31 days of it), and the gap's session does not
    # count in it.
    assert sorted(found) == ["2026-1", "2026-2", "2026-3", "2026-5", "2026-6"]
    assert found["2026-5"].status is Status.RED
    results = representative_results(facts, make_rules(*YEAR, date(2027, 1, 15)))
    assert sum(r.rule == "CM 4" for r in results) == 1


def test_a_window_left_in_its_first_three_weeks_is_not_owed() -> None:
    facts = RepresentativeFacts(id=1, name="甲", periods=((None, date(2026, 7, 20)),))
    assert sorted(sm9(facts, date(2027, 1, 15))) == [f"2026-{i}" for i in range(1, 4)]
    facts = RepresentativeFacts(id=1, name="甲", periods=((None, date(2026, 7, 21)),))
    assert "2026-4" in sm9(facts, date(2027, 1, 15))


def test_a_window_whose_period_ended_is_missed_once_it_ended() -> None:
    facts = RepresentativeFacts(id=1, name="甲", periods=((None, date(2026, 6, 10)),))
    june = sm9(facts, date(2026, 6, 20))["2026-3"]
    assert june.status is Status.RED and not june.warn
    assert "进驻期间（至 6 月 10 日）" in june.reason


def test_periods_at_two_studios_at_once_count_each_day_once() -> None:
    facts = RepresentativeFacts(
        id=1,
        name="甲",
        periods=((date(2026, 4, 20), date(2026, 4, 25)), (date(2026, 4, 22), date(2026, 5, 3))),
    )
    assert facts.spans(date(2026, 3, 1), date(2026, 4, 30)) == [
        (date(2026, 4, 20), date(2026, 4, 30))
    ]
    # 11 days in Mar–Apr: not owed; 3 days in May–Jun: not owed.
    assert sm9(facts, date(2027, 1, 15)) == {}


def _left_in_june(world: Any) -> tuple[Studio, Any]:
    """Chen leaves 沙头角 on 10 June 2026 and works at another studio from 1 October."""
    rep = chen()
    StudioAssignment.objects.filter(representative=rep, studio=studio()).update(
        since=date(2025, 1, 1), active=False, until=date(2026, 6, 10)
    )
    other = make_studio(world["440308001002"])
    StudioAssignment.objects.create(studio=other, representative=rep, since=date(2026, 10, 1))
    make_event(studio(), date(2026, 1, 14), reps=(rep,))
    make_event(other, date(2026, 8, 12), reps=(rep,))  # before they came: not counted
    return other, rep


def test_one_who_left_is_judged_where_they_were_for_the_windows_before(world: Any) -> None:
    other, rep = _left_in_june(world)
    rules = make_rules(*YEAR, date(2027, 1, 15))
    evaluation = evaluate(Studio.objects.active().select_related("unit"), rules)
    rows = {row.studio.pk: row for row in evaluation.studios}
    left = [r for r in rows[studio().pk].representatives if r.representative.pk == rep.pk]
    assert len(left) == 1 and rep.pk not in rows[studio().pk].working
    assert rep.pk in rows[other.pk].working
    # The studio left shows the windows before leaving, not those owed at the new one;
    # the new one shows those, and the representative's own view all of them.
    assert sm9_keys(left[0]) == ["2026-1", "2026-2", "2026-3"]
    (now,) = [r for r in rows[other.pk].representatives if r.representative.pk == rep.pk]
    assert sm9_keys(now) == ["2026-5", "2026-6"]
    assert sm9_keys(evaluation.representatives[rep.pk]) == [
        "2026-1",
        "2026-2",
        "2026-3",
        "2026-5",
        "2026-6",
    ]
    assert left[0].by_key()[f"sm9:r{rep.pk}:2026-1"].status is Status.GREEN
    assert now.by_key()[f"sm9:r{rep.pk}:2026-5"].status is Status.RED  # August is before October
    # The year's household visits: at both, a period at each touches the year.
    assert any(r.rule == "CM 4" for r in left[0].results)
    assert any(r.rule == "CM 4" for r in now.results)
    # The dashboards' counts agree, from the same periods, and so do the kept tallies.
    counted = count(Studio.objects.active().select_related("unit"), rules)
    assert counted.representatives == counts_of(evaluation)[0]
    kept = tallies.count(Studio.objects.active(), 2026, date(2027, 1, 15))
    assert kept.representatives == counted.representatives
    # One studio alone: the one left counts the three windows there, not the two after.
    for one in (studio(), other):
        alone = Studio.objects.active().select_related("unit").filter(pk=one.pk)
        counted = count(alone, rules)
        assert counted.representatives == counts_of(evaluate(alone, rules))[0]
        assert tallies.count(alone, 2026, date(2027, 1, 15)) == counted
    left_alone = Studio.objects.active().filter(pk=studio().pk)
    assert sum(count(left_alone, rules).representatives.values()) < sum(
        count(Studio.objects.active(), rules).representatives.values()
    )


def sm9_keys(row: Any) -> list[str]:
    return sorted(r.key.rsplit(":", 1)[1] for r in row.results if r.rule == "SM 9")


def test_the_studio_they_left_shows_them_on_its_compliance_page(
    world: Any, street_official: User
) -> None:
    _left_in_june(world)
    url = reverse("duties:compliance")
    page = text_of(client_for(street_official).get(url, {"studio": studio().pk, "year": "2026"}))
    line = page.split("演示代表·陈明")[1].split("演示代表")[0]
    assert "已离开" in line and "不考核" in line


def test_no_warning_for_a_window_after_leaving_nor_to_the_studio_left(world: Any) -> None:
    rep = chen()
    StudioAssignment.objects.filter(representative=rep, studio=studio()).update(
        since=date(2025, 1, 1), active=False, until=date(2026, 4, 30)
    )
    other = make_studio(world["440308001002"])
    StudioAssignment.objects.create(studio=other, representative=rep, since=date(2026, 5, 1))
    found = [w for w in warnings_for(date(2026, 6, 10)) if f":r{rep.pk}:" in w.url]
    assert found, "the May–June window at the new studio warns"
    liaisons_left = set(
        studio().liaisons.filter(active=True, user__isnull=False).values_list("user_id", flat=True)
    )
    assert liaisons_left and not liaisons_left & {w.recipient_id for w in found}
    assert all(f"?studio={other.pk}#" in w.url for w in found)


def cm4(facts: RepresentativeFacts, today: date) -> list[Any]:
    return [r for r in representative_results(facts, make_rules(*YEAR, today)) if r.rule == "CM 4"]


def test_household_visits_are_owed_for_the_whole_months_of_the_year_at_a_studio() -> None:
    # Assigned on 1 November: two whole months of twelve, floor(10 × 2 / 12) = 1 visit.
    november = RepresentativeFacts(
        id=1,
        name="甲",
        city_level=True,
        periods=((date(2026, 11, 1), None),),
        visits=(date(2026, 11, 20),),
    )
    assert visits_owed(november, 2026) == (1, 2)
    (result,) = cm4(november, date(2026, 12, 1))
    assert result.status is Status.GREEN  # not amber for a whole year's ten
    (result,) = cm4(november, date(2026, 6, 1))
    assert result.status is Status.NOT_DUE  # not amber for the months before they came
    assert result.reason == "11 月 1 日进驻后开始考核（进驻 2 个月，应不少于 1 户）。"
    (result,) = cm4(replace(november, visits=()), date(2027, 1, 5))
    assert result.status is Status.RED
    assert "不足 1 户（进驻 2 个月，应不少于 1 户）" in result.reason
    # From 15 November: only December is whole, floor(10 / 12) = 0: nothing is owed.
    late = replace(november, periods=((date(2026, 11, 15), None),))
    assert visits_owed(late, 2026) == (0, 1)
    assert cm4(late, date(2026, 12, 1)) == []
    # Left on 31 March: three whole months, floor(2.5) = 2; a whole year stays ten.
    left = replace(november, periods=((date(2025, 1, 1), date(2026, 3, 31)),), visits=())
    assert visits_owed(left, 2026) == (2, 3)
    whole = replace(november, periods=((date(2025, 1, 1), None),))
    assert visits_owed(whole, 2026) == (10, 12)
    (result,) = cm4(whole, date(2027, 1, 5))
    assert result.reason == "2026年入户走访 1 户，不足 10 户。"


def test_a_studio_shows_the_windows_of_its_own_periods() -> None:
    facts = RepresentativeFacts(
        id=1,
        name="甲",
        periods=((date(2025, 1, 1), date(2026, 3, 15)), (date(2026, 4, 15), None)),
        studio_periods=(
            (10, (date(2025, 1, 1), date(2026, 3, 15))),
            (20, (date(2026, 4, 15), None)),
        ),
    )
    found = sm9(facts, date(2027, 1, 15))
    assert owed_at(facts, found["2026-1"]) == {10}
    # Mar–Apr: 15 days at the first, 16 at the second, 31 in all: owed, and shown where
    # most of it was spent.
    assert owed_at(facts, found["2026-2"]) == {20}
    assert owed_at(facts, found["2026-3"]) == {20}
    # At two studios at once: both show the window.
    both = replace(
        facts, periods=((None, None),), studio_periods=((10, (None, None)), (20, (None, None)))
    )
    assert owed_at(both, sm9(both, date(2027, 1, 15))["2026-4"]) == {10, 20}


def test_one_representative_s_row_at_the_studio_they_left_shows_only_its_windows(
    world: Any, liaison: User, street_official: User, district_official: User
) -> None:
    # representative_row (the API's duty record) shows the results the compliance page
    # shows the account: to those who see only the studio left (its liaison, its
    # street), the windows of the period there, not those owed at the new one.
    _other, rep = _left_in_june(world)
    rules = make_rules(*YEAR, date(2027, 1, 15))
    for user in (liaison, street_official):
        row = representative_row(user, rep, rules)
        assert row is not None
        assert sm9_keys(row) == ["2026-1", "2026-2", "2026-3"], user.username
        page = evaluate(Studio.objects.filter(pk=studio().pk).select_related("unit"), rules)
        (shown,) = [r for r in page.studios[0].representatives if r.representative.pk == rep.pk]
        assert [r.key for r in row.results] == [r.key for r in shown.results]
    # And so does the duty record over the API (this year's rules: the same windows).
    path = f"/representatives/{rep.pk}/duty-record"
    body = api_for("liaison").get(path, {"year": 2026}).json()
    assert [r["period"] for r in body["compliance"]["results"] if r["rule"] == "SM 9"] == [
        "2026年一二月",
        "2026年三四月",
        "2026年五六月",
    ]
    # Whoever sees both studios sees all of them, as the representative does.
    whole = representative_row(district_official, rep, rules)
    assert whole is not None
    assert sm9_keys(whole) == ["2026-1", "2026-2", "2026-3", "2026-5", "2026-6"]
    own = User.objects.create_user(username="chen", role=Role.REPRESENTATIVE, full_name="陈明")
    type(rep).objects.filter(pk=rep.pk).update(user=own)
    mine = representative_row(own, rep, rules)
    assert mine is not None and sm9_keys(mine) == sm9_keys(whole)


def test_one_who_moved_mid_year_owes_one_year_s_visits_across_both_studios(
    world: Any, liaison: User
) -> None:
    # At 沙头角 until 30 June, at another studio (another street) from 1 July: the
    # periods cover the year whole, so ten visits are owed in all, once: the same
    # result at both studios, counted once where both are counted, and the API's
    # minimum is that one.
    rep = chen()
    StudioAssignment.objects.filter(representative=rep, studio=studio()).update(
        since=date(2025, 1, 1), active=False, until=date(2026, 6, 30)
    )
    other = make_studio(world["440308001002"])
    StudioAssignment.objects.create(studio=other, representative=rep, since=date(2026, 7, 1))
    HouseholdVisit.objects.filter(representative=rep).delete()
    for day in (date(2026, 3, 2), date(2026, 9, 8)):
        HouseholdVisit.objects.create(
            representative=rep,
            community=world["440308003006"],
            visited_on=day,
            household="王先生家",
            recorded_by=liaison,
        )
    rules = make_rules(*YEAR, date(2027, 1, 15))
    evaluation = evaluate(Studio.objects.active().select_related("unit"), rules)
    rows = {row.studio.pk: row for row in evaluation.studios}
    shown = [
        [r for r in rep_row.results if r.rule == "CM 4"]
        for row in (rows[studio().pk], rows[other.pk])
        for rep_row in row.representatives
        if rep_row.representative.pk == rep.pk
    ]
    assert len(shown) == 2 and shown[0] == shown[1] and len(shown[0]) == 1
    assert shown[0][0].status is Status.RED
    assert shown[0][0].reason == "2026年入户走访 2 户，不足 10 户。"
    assert sum(r.rule == "CM 4" and f":r{rep.pk}:" in r.key for r in evaluation.results()) == 1
    # The dashboards' counts of the two studios (and the kept tallies) count it once.
    both = Studio.objects.active().select_related("unit").filter(pk__in=[studio().pk, other.pk])
    counted = count(both, rules)
    assert counted.representatives == counts_of(evaluate(both, rules))[0]
    assert tallies.count(both, 2026, date(2027, 1, 15)) == counted
    assert visits_minimum(rep, 2026) == 10
    # With a gap (left on 10 June, back elsewhere on 1 October) the whole months are
    # January to May and October to December: floor(10 × 8 / 12) = 6, at both, and the
    # same in the API.
    StudioAssignment.objects.filter(representative=rep, studio=studio()).update(
        until=date(2026, 6, 10)
    )
    StudioAssignment.objects.filter(representative=rep, studio=other).update(
        since=date(2026, 10, 1)
    )
    assert visits_minimum(rep, 2026) == 6
    for row in evaluate(Studio.objects.active().select_related("unit"), rules).studios:
        for rep_row in row.representatives:
            if rep_row.representative.pk == rep.pk:
                (cm4,) = [r for r in rep_row.results if r.rule == "CM 4"]
                assert "不足 6 户（进驻 8 个月，应不少于 6 户）" in cm4.reason
    path = f"/representatives/{rep.pk}/duty-record"
    body = api_for("liaison").get(path, {"year": 2026}).json()
    assert body["minimums"]["visits_per_year"] == 6
