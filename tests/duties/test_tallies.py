"""The compliance tallies (minyi.duties.tallies): the dashboard's counts added up from
a row per studio and per representative must be what compliance.count() gives from
the facts, after every kind of change to the facts, on a new day, and when a change
commits while the tallies are being recomputed; a dashboard whose tallies are fresh
judges nobody."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from minyi.duties import tallies
from minyi.duties.compliance import count, make_rules
from minyi.duties.events import Presence, event_record
from minyi.duties.models import (
    AnnualPlan,
    Attendance,
    BimonthlyReport,
    Event,
    EventState,
    HouseholdVisit,
    PlannedSession,
    PlanState,
    ReportState,
    RepresentativeTally,
    StudioTally,
)
from minyi.duties.plans import plan_expand
from minyi.people.models import (
    Representative,
    RepresentativeCategory,
    RepresentativeLevel,
    User,
)
from minyi.studios.models import Studio, StudioAssignment
from tests.duties.test_compliance_counts import PERIODS, varied
from tests.duties.test_compliance_page import _grow, at, make_event

TODAY = date(2026, 6, 17)


def studios() -> Any:
    return Studio.objects.active().select_related("unit")


def expected(today: date = TODAY, qs: Any = None) -> tuple[dict, dict]:
    found = count(
        qs if qs is not None else studios(), make_rules(date(2026, 1, 1), date(2026, 12, 31), today)
    )
    return found.representatives, found.studios


def from_tallies(today: date = TODAY, qs: Any = None) -> tuple[dict, dict]:
    found = tallies.count(qs if qs is not None else studios(), 2026, today)
    return found.representatives, found.studios


@pytest.mark.parametrize("today", sorted({p[2] for p in PERIODS if p[0] == date(2026, 1, 1)}))
def test_the_tallies_add_up_to_the_counts_of_the_facts(world: Any, today: date) -> None:
    varied(world)
    assert from_tallies(today) == expected(today)
    # A part of the scope: a district's studios, one studio.
    district = studios().filter(world["440308"].subtree_q("unit__"))
    assert from_tallies(today, district) == expected(today, district)
    one = studios().filter(pk=studios().order_by("pk").last().pk)
    assert from_tallies(today, one) == expected(today, one)
    # And again from the rows now kept.
    assert from_tallies(today) == expected(today)


def _first(world: Any) -> tuple[Studio, Representative]:
    rep = Representative.objects.get(name="测试代表·两站")
    first = rep.assignments.order_by("since").first()
    assert first is not None
    return first.studio, rep


def _new_event(world: Any) -> None:
    studio, rep = _first(world)
    make_event(studio, date(2026, 5, 6), reps=(rep,))


def _cancel_event(world: Any) -> None:
    event = Event.objects.filter(state=EventState.HELD).order_by("starts_at").first()
    assert event is not None
    event.state = EventState.CANCELLED
    event.save()


def _absentee(world: Any) -> None:
    studio, _ = _first(world)
    absentee = Representative.objects.create(
        name="测试代表·缺席",
        level=RepresentativeLevel.DISTRICT,
        category=RepresentativeCategory.DISTRICT,
        unit=world["440308"],
        employer="测试",
        phone="+8613900004444",
    )
    StudioAssignment.objects.create(studio=studio, representative=absentee, since=date(2025, 1, 1))


def _link_representative(world: Any) -> None:
    # From the representative's side: their first session, in January, where they had none.
    absentee = Representative.objects.get(name="测试代表·缺席")
    first = Event.objects.filter(state=EventState.HELD).order_by("starts_at").first()
    assert first is not None
    absentee.events.add(first)


_link_representative.prepare = _absentee  # type: ignore[attr-defined]


def _absentee_at_the_first_event(world: Any) -> None:
    _absentee(world)
    _link_representative(world)


def _unlink_representative(world: Any) -> None:
    absentee = Representative.objects.get(name="测试代表·缺席")
    absentee.events.get().representatives.remove(absentee)


def _clear_links(world: Any) -> None:
    Representative.objects.get(name="测试代表·缺席").events.get().representatives.clear()


_unlink_representative.prepare = _absentee_at_the_first_event  # type: ignore[attr-defined]
_clear_links.prepare = _absentee_at_the_first_event  # type: ignore[attr-defined]


def _attendance(world: Any) -> None:
    # An hour at a three-hour event: not the half day a session needs.
    absentee = Representative.objects.get(name="测试代表·缺席")
    event = absentee.events.get()
    Attendance.objects.create(
        event=event,
        representative=absentee,
        arrived_at=event.starts_at,
        left_at=event.starts_at + timedelta(hours=1),
    )


def _delete_event(world: Any) -> None:
    Representative.objects.get(name="测试代表·缺席").events.get().delete()


def _recorded(world: Any) -> None:
    # Through the service, which writes attendance with bulk_create() (no signals): the
    # whole of the studio's first event, the absentee's first session.
    absentee = Representative.objects.get(name="测试代表·缺席")
    event = absentee.assignments.get().studio.events.order_by("starts_at").first()
    assert event is not None
    event_record(
        actor=User.objects.create_superuser("tally-admin", password="x" * 12),
        event=event,
        attendance=[Presence(absentee, event.starts_at, event.ends_at)],
        people_received=3,
        summary="接待群众",
    )


_recorded.prepare = _absentee  # type: ignore[attr-defined]
_attendance.prepare = _absentee_at_the_first_event  # type: ignore[attr-defined]
_delete_event.prepare = _absentee_at_the_first_event  # type: ignore[attr-defined]


def _report(world: Any) -> None:
    report = BimonthlyReport.objects.get(state=ReportState.DRAFT)
    report.state = ReportState.SUBMITTED
    report.submitted_at = at(date(2026, 3, 6), 9)
    report.save()


def _visits(world: Any) -> None:
    # Four of the eight visits made by mid-June: behind the pace of ten a year.
    _, rep = _first(world)
    for visit in HouseholdVisit.objects.filter(representative=rep).order_by("visited_on")[:4]:
        visit.delete()


def _assignment(world: Any) -> None:
    # Assigned from March on: January–February is no longer owed.
    absentee = Representative.objects.get(name="测试代表·缺席")
    assignment = absentee.assignments.get()
    assignment.since = date(2026, 3, 1)
    assignment.save()


_assignment.prepare = _absentee  # type: ignore[attr-defined]


def _level(world: Any) -> None:
    _, rep = _first(world)
    rep.level = RepresentativeLevel.DISTRICT
    rep.save()


def _studio_opened(world: Any) -> None:
    studio, _ = _first(world)
    studio.established_on = date(2026, 3, 1)
    studio.save()


def _plan_expanded(world: Any) -> None:
    # bulk_create(): no signals, so the expansion marks its tallies itself.
    studio, rep = _first(world)
    plan = AnnualPlan.objects.create(
        studio=studio,
        year=2026,
        state=PlanState.APPROVED,
        opening_weekday=2,
        opening_start=time(9),
        opening_end=time(13),
    )
    PlannedSession.objects.create(
        plan=plan, representative=rep, date=date(2026, 7, 8), start=time(9), end=time(13)
    )
    plan_expand(plan=plan)


CHANGES: list[Callable[[Any], None]] = [
    _new_event,
    _cancel_event,
    _link_representative,
    _unlink_representative,
    _clear_links,
    _attendance,
    _recorded,
    _delete_event,
    _report,
    _visits,
    _assignment,
    _level,
    _studio_opened,
    _plan_expanded,
]


@pytest.mark.parametrize("change", CHANGES, ids=lambda f: f.__name__.strip("_"))
def test_a_change_to_the_facts_makes_its_tallies_stale(world: Any, change: Any) -> None:
    varied(world)
    if hasattr(change, "prepare"):
        change.prepare(world)
    before = from_tallies()
    assert before == expected()
    change(world)
    after = expected()
    assert after != before, "the change should move the counts, or the test proves nothing"
    assert from_tallies() == after


def test_a_new_day_recomputes_every_tally(world: Any) -> None:
    varied(world)
    from_tallies(TODAY)
    later = TODAY + timedelta(days=30)
    assert expected(later) != expected(TODAY)
    assert from_tallies(later) == expected(later)
    assert set(StudioTally.objects.values_list("as_of", flat=True)) == {later}


def test_fresh_tallies_judge_nobody_and_cost_a_fixed_number_of_queries(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    varied(world)
    _grow(world, 2)
    from_tallies()

    def judged(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("fresh tallies were recomputed")

    monkeypatch.setattr(tallies, "refresh", judged)
    with CaptureQueriesContext(connection) as few:
        from_tallies()
    monkeypatch.undo()
    _grow(world, 6)
    from_tallies()
    monkeypatch.setattr(tallies, "refresh", judged)
    with CaptureQueriesContext(connection) as many:
        found = from_tallies()
    assert found == expected()
    assert len(many) == len(few) == 2


@pytest.mark.parametrize("row_existed", [True, False])
def test_a_change_committed_while_the_facts_are_read_leaves_its_tally_stale(
    world: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
    row_existed: bool,
) -> None:
    """A recomputation reads the facts, another request commits a change to them, then
    the recomputation writes its (now old) counts: the row must come out stale."""
    varied(world)
    studio, rep = _first(world)
    if row_existed:
        from_tallies(TODAY - timedelta(days=1))  # rows for yesterday: all stale today
    else:
        assert not StudioTally.objects.exists()
    real_load = tallies.load_facts

    def load_then_someone_writes(*args: Any, **kwargs: Any) -> Any:
        facts = real_load(*args, **kwargs)
        with django_capture_on_commit_callbacks(execute=True):
            make_event(studio, date(2026, 5, 20), reps=(rep,))  # a week it missed
        return facts

    monkeypatch.setattr(tallies, "load_facts", load_then_someone_writes)
    first = from_tallies()
    monkeypatch.undo()
    assert first != expected()  # counted from the facts as read, before the change
    assert StudioTally.objects.get(studio=studio, year=2026).dirtied_at is not None
    assert from_tallies() == expected()


def test_the_cron_job_computes_every_active_studio(world: Any, monkeypatch: Any) -> None:
    varied(world)
    call_command("refresh_compliance_tallies", "--date", TODAY.isoformat(), stdout=StringIO())
    assert StudioTally.objects.filter(year=2026, as_of=TODAY).count() == studios().count()
    assert RepresentativeTally.objects.filter(year=2026, as_of=TODAY).count() == (
        tallies.scope_representatives(studios(), 2026).count()
    )
    monkeypatch.setattr(tallies, "refresh", lambda *a, **k: pytest.fail("recomputed"))
    assert from_tallies() == expected()


def test_the_cron_job_refuses_a_bad_date_in_chinese(world: Any) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="日期格式应为"):
        call_command("refresh_compliance_tallies", "--date", "2026-13-01")
    with pytest.raises(CommandError, match="年度应在"):
        call_command("refresh_compliance_tallies", "--year", "1999")


def test_the_dashboard_counts_the_same_with_and_without_rows(world: Any, client: Any) -> None:
    varied(world)
    official = User.objects.filter(role="city_official").first()
    client.force_login(official)
    first = client.get("/dashboards/?year=2026")
    assert first.status_code == 200
    assert StudioTally.objects.exists()
    again = client.get("/dashboards/?year=2026")
    assert (
        again.context["dashboard"].compliance.as_json()
        == first.context["dashboard"].compliance.as_json()
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL only")
@pytest.mark.django_db(transaction=True)
def test_a_writer_never_waits_inside_its_transaction_for_a_recomputation(world: Any) -> None:
    """A recomputation holds a tally's row lock while it writes it; a writer changing
    that studio's facts must not wait for it inside its own transaction (the writer's
    locks come in no particular order, so waiting could deadlock): it skips the row,
    and its stamp after the commit marks it."""
    import threading

    from django.db import connections, transaction

    studio = studios().order_by("pk").first()
    tallies.refresh([studio.pk], [], 2026, TODAY)
    locked, release, saved = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def recomputation() -> None:
        try:
            with transaction.atomic():
                StudioTally.objects.select_for_update().get(studio=studio, year=2026)
                locked.set()
                release.wait(20)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    def writer() -> None:
        try:
            with transaction.atomic():
                make_event(studio, date(2026, 5, 20))
                saved.set()  # the change and its in-transaction stamp, before the commit
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    holder = threading.Thread(target=recomputation)
    holder.start()
    assert locked.wait(10)
    changer = threading.Thread(target=writer)
    changer.start()
    try:
        assert saved.wait(10), "the writer waited for the recomputation's lock"
    finally:
        release.set()
        holder.join(20)
        changer.join(20)
    assert not errors
    row = StudioTally.objects.get(studio=studio, year=2026)
    assert row.dirtied_at is not None and row.dirtied_at > row.computed_at
    assert from_tallies() == expected()
