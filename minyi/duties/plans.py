"""The studio's annual plan (SM 10, 12.5): the check against the minimums, and every
step of its life, one function and one transaction each.

A liaison of the studio (or an official in scope) drafts it; it is submitted; a
district-level or city department in scope (or a superuser) approves or returns it.
A draft that falls short of the minimums may be saved; approving it needs a reason.
An approved plan is expanded into dated events, once.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from minyi.audit.trail import record_bulk
from minyi.core.once import made_with
from minyi.duties import openings, tallies
from minyi.duties.models import (
    AnnualPlan,
    Event,
    EventKind,
    EventState,
    PlannedSession,
    PlanState,
)
from minyi.people.models import Representative, RepresentativeLevel
from minyi.people.scopes import scope_of
from minyi.studios.models import Studio, StudioAssignment

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKDAYS = ["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"]
# SM 9: at least once every two months; the windows are fixed pairs of months.
WINDOWS = [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12)]
EDITABLE = {PlanState.DRAFT, PlanState.RETURNED}
# Session kinds: the SM 8 ways of working (the weekly opening is the plan's own row).
SESSION_KINDS = [(k.value, k.label) for k in EventKind if k != EventKind.OPENING]
# The plans whose sessions hold a representative's time, so that no other session of
# theirs may overlap one (`session_clashes`): every state a plan has. A draft is what a
# liaison means to arrange, and is first come, first served; a plan returned for revision
# (退回修改) is sent back to be changed and submitted again, not withdrawn, so its
# sessions still stand until the liaison removes them; a submitted or an approved plan is
# what the department decides or has decided. There is no withdrawn or rejected state;
# one added to PlanState must be decided here (a test fails until it is).
HOLDING_TIME = frozenset(
    {PlanState.DRAFT, PlanState.SUBMITTED, PlanState.APPROVED, PlanState.RETURNED}
)
# Of those, the plans whose sessions a plan being submitted or approved may not overlap
# (`plan_clashes`): one before the department (submitted) or decided by it (approved).
# A clash with a draft or a plan returned for revision only warns: that plan is with
# its liaison, not the department; it may never be submitted, and the district
# official could not approve anything its liaison left overlapping. When it is
# submitted, its own check meets this plan's sessions (now submitted or approved, so
# blocking) and its liaison must move: the later of two plans to go up gives way.
BLOCKING = frozenset({PlanState.SUBMITTED, PlanState.APPROVED})


def half_day_hours() -> float:
    return float(getattr(settings, "MINYI_HALF_DAY_HOURS", 3))


def window_label(index: int) -> str:
    first, last = WINDOWS[index]
    return f"{first}—{last}月"


def window_of(day: date) -> int:
    return (day.month - 1) // 2


def window_bounds(year: int, index: int) -> tuple[date, date]:
    first, last = WINDOWS[index]
    return date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1])


def hours_between(start: time, end: time) -> float:
    return (datetime.combine(date.min, end) - datetime.combine(date.min, start)).seconds / 3600


def _fmt_hours(hours: float) -> str:
    return f"{hours:g}"


@dataclass(frozen=True)
class PlanShortfall:
    """One way the plan falls short of SM 9 / SM 10. `window` is 0–5 or None."""

    message: str
    representative: Any = None
    window: int | None = None
    rule: str = "SM 9"


# SM 9 as the compliance rules judge it: a window is owed only when at least three weeks
# of it fall within the period (compliance_rules.WARN_DAYS).
OWED_DAYS = 21


def _assigned(item: Any) -> tuple[Any, date | None, date | None]:
    """A representative, or (representative, since[, until]), or a StudioAssignment
    (one period): the representative, the period's first day and its last (None: open)."""
    if isinstance(item, tuple):
        return item[0], item[1], item[2] if len(item) > 2 else None
    if isinstance(item, StudioAssignment):
        return item.representative, item.since, None if item.active else item.until
    return item, None, None


def _owes(since: date | None, until: date | None, start: date) -> bool:
    """Whether a period owes the window starting on `start`: it began by the window's
    first day and lasts at least three weeks into it."""
    if since is not None and since > start:
        return False
    return until is None or (until - start).days + 1 >= OWED_DAYS


def plan_shortfalls(
    plan: AnnualPlan,
    assigned_reps: Iterable[Any],
    half_day_hours: float,
    sessions: Sequence[PlannedSession] | None = None,
) -> list[PlanShortfall]:
    """What the plan lacks against the minimums. Pure: reads only its arguments (the
    plan's sessions when not given).

    - the weekly opening lasts at least half a day (SM 10);
    - each representative with a period at the studio in the plan's year (`in_year`,
      one who left during it too) has, in every two-month window that period owes, at
      least one session of at least half a day (SM 9). A period owes the windows that
      start on or after its first day (`since`) and that it lasts three weeks into
      (`until`); a representative with several periods owes what any of them owes;
    - July, the city representatives' activity month (CM 6), has at least one session
      of a city representative whose period owes July (activity_month_shortfall).
    """
    found: list[PlanShortfall] = []
    opening = hours_between(plan.opening_start, plan.opening_end)
    if opening < half_day_hours:
        found.append(
            PlanShortfall(
                f"每周开放时间 {_fmt_hours(opening)} 小时，不足半天"
                f"（{_fmt_hours(half_day_hours)} 小时）。",
                rule="SM 10",
            )
        )
    if sessions is None:
        sessions = list(plan.sessions.all())
    by_rep: dict[int, list[PlannedSession]] = {}
    for session in sessions:
        by_rep.setdefault(session.representative_id, []).append(session)
    periods: dict[int, tuple[Any, list[tuple[date | None, date | None]]]] = {}
    for item in assigned_reps:
        rep, since, until = _assigned(item)
        periods.setdefault(rep.pk, (rep, []))[1].append((since, until))
    for rep, spans in periods.values():
        mine = by_rep.get(rep.pk, [])
        for index in range(len(WINDOWS)):
            start, _ = window_bounds(plan.year, index)
            if not any(_owes(since, until, start) for since, until in spans):
                continue
            in_window = [s for s in mine if s.date.year == plan.year and window_of(s.date) == index]
            if any(hours_between(s.start, s.end) >= half_day_hours for s in in_window):
                continue
            if in_window:
                longest = max(hours_between(s.start, s.end) for s in in_window)
                message = (
                    f"{rep.name}：{window_label(index)}的活动只有 {_fmt_hours(longest)} 小时，"
                    f"不足半天（{_fmt_hours(half_day_hours)} 小时）。"
                )
            else:
                message = f"{rep.name}：{window_label(index)}没有安排到工作室活动。"
            found.append(PlanShortfall(message, representative=rep, window=index))
    july = activity_month_shortfall(plan.year, periods.values(), sessions)
    return found + ([july] if july else [])


def activity_month_shortfall(
    year: int,
    periods: Iterable[tuple[Any, list[tuple[date | None, date | None]]]],
    sessions: Sequence[PlannedSession],
) -> PlanShortfall | None:
    """CM 6: every July is the city representatives' activity month, a series of
    activities the city organises; the studio's plan (journey 2) carries its part. A
    plan whose city representatives are at the studio in July (as SM 9 counts a period:
    from July 1st and three weeks into it) and that has no session of theirs in July
    falls short. The sessions planned in July become activity-month events on approval
    (expand_plan). A studio with district representatives only owes nothing here."""
    july = date(year, 7, 1)
    owing = {
        rep.pk
        for rep, spans in periods
        if rep.level == RepresentativeLevel.CITY
        and any(_owes(since, until, july) for since, until in spans)
    }
    if not owing:
        return None
    if any(
        s.representative_id in owing and (s.date.year, s.date.month) == (year, 7) for s in sessions
    ):
        return None
    return PlanShortfall("七月党代表活动月：尚未安排市党代表到工作室开展活动。", rule="CM 6")


def periods_in_year(year: int) -> Q:
    """The periods at a studio that overlap the year: open ones that began by its end,
    and ended ones whose kept last day is in it or after (one ended before its day was
    kept covers no day that can be told, as in compliance)."""
    return (Q(since__isnull=True) | Q(since__lte=date(year, 12, 31))) & (
        Q(active=True) | Q(until__gte=date(year, 1, 1))
    )


def in_year(assignments: Iterable[StudioAssignment], year: int) -> list[StudioAssignment]:
    """Those of `assignments` (already read) that `periods_in_year(year)` selects."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    return [
        a
        for a in assignments
        if (a.since is None or a.since <= last)
        and (a.active or (a.until is not None and a.until >= first))
    ]


def assigned_for(studio: Studio, year: int) -> list[StudioAssignment]:
    """The periods at the studio that a plan for `year` considers: of everyone who was
    there during the year, not only those working there now."""
    return list(
        StudioAssignment.objects.filter(periods_in_year(year), studio=studio)
        .select_related("representative")
        .order_by("representative__name", "representative_id", "since")
    )


def shortfalls_of(plan: AnnualPlan) -> list[PlanShortfall]:
    return plan_shortfalls(plan, assigned_for(plan.studio, plan.year), half_day_hours())


# --- permissions ---------------------------------------------------------------------


def can_edit(actor: Any, plan: AnnualPlan) -> bool:
    return AnnualPlan.objects.for_editor(actor).filter(pk=plan.pk).exists()


def can_approve(actor: Any, plan: AnnualPlan | None = None) -> bool:
    """Approval is for a district-level or the city department (or a superuser), and
    only for plans in its scope: a street department may not approve."""
    if actor.is_superuser:
        return True
    scope = scope_of(actor)
    if scope.unit is None or scope.unit.level not in {"district", "city"}:
        return False
    return plan is None or can_edit(actor, plan)


def _refuse(message: str, field: str | None = None) -> ValidationError:
    return ValidationError({field: message} if field else message)


# What a plan that can no longer be changed tells the one who tries, with what to do
# instead: an approved plan's sessions and openings are events by then, changed one by
# one; a submitted plan comes back for changes when the department returns it.
NOT_EDITABLE_HINTS = {
    PlanState.APPROVED: "计划已批准，不能再修改。要调整某一次开放或接待，请在“活动安排与预告”中"
    "修改或取消那次活动；要增加一次，请在那里新建活动。",
    PlanState.SUBMITTED: "计划已报审，不能修改。如需修改，请联系审批的组织部门退回修改。",
}


def not_editable_message(plan: AnnualPlan) -> str:
    return NOT_EDITABLE_HINTS.get(
        PlanState(plan.state), f"计划当前状态为“{plan.get_state_display()}”，不能修改。"
    )


def _state_refusal(plan: AnnualPlan, verb: str) -> ValidationError:
    if verb == "修改":
        return _refuse(not_editable_message(plan))
    return _refuse(f"计划当前状态为“{plan.get_state_display()}”，不能{verb}。")


def _locked(plan: AnnualPlan) -> AnnualPlan:
    return AnnualPlan.objects.select_for_update().select_related("studio").get(pk=plan.pk)


def _check_editor(actor: Any, plan: AnnualPlan) -> None:
    if not can_edit(actor, plan):
        raise PermissionError


# --- one representative, one place at a time ------------------------------------------


def session_clashes(
    *,
    representative: Representative,
    date: date,
    start: time,
    end: time,
    exclude_pk: int | None = None,
    sent_with: UUID | None = None,
) -> list[PlannedSession]:
    """The representative's planned sessions on `date` whose time meets `start`–`end`,
    in any plan that holds their time (HOLDING_TIME), whichever studio's: one query.
    One that ends as this one starts (or starts as it ends) does not clash. Left out:
    `exclude_pk` (the session being changed) and the session the same page's one-time
    key `sent_with` added: that is the form sent twice, which the key's unique
    constraint answers (`added_with`), not a clash.

    Not scoped to an account on purpose: a liaison may not see another studio's plan,
    but must not put its representative there at the same time; the refusal names only
    the studio, the plan's year and the time."""
    clashes = PlannedSession.objects.filter(
        representative=representative,
        date=date,
        start__lt=end,
        end__gt=start,
        plan__state__in=HOLDING_TIME,
    ).select_related("plan", "plan__studio")
    if exclude_pk is not None:
        clashes = clashes.exclude(pk=exclude_pk)
    if sent_with is not None:
        clashes = clashes.exclude(submission_key=sent_with)
    return list(clashes.order_by("start", "pk")[:3])


def clash_message(plan: AnnualPlan, representative: Representative, other: PlannedSession) -> str:
    if other.plan_id == plan.pk:
        where = "本计划"
    else:
        where = (
            f"{other.plan.studio.name}的{other.plan.year}年度计划"
            f"（{other.plan.get_state_display()}）"
        )
    return (
        f"{representative.name}在{other.date:%Y-%m-%d} {other.start:%H:%M}—{other.end:%H:%M}"
        f"已安排在{where}，与这项安排时间重叠；同一党代表不能同时在两处活动。"
    )


def _lock_representative(representative: Representative) -> None:
    """Until the transaction ends: two sessions of one representative added at once,
    in two plans, are checked one after the other, so both cannot pass. (Events lock
    the same row, minyi.duties.events; nothing locks it before a plan, so no deadlock.)"""
    list(
        Representative.objects.select_for_update()
        .filter(pk=representative.pk)
        .values_list("pk", flat=True)
    )


@dataclass(frozen=True)
class PlanClash:
    """One of a plan's sessions overlapping another session or an event of its
    representative. A `blocking` one refuses the plan's submission and approval; the
    others are warnings (BLOCKING)."""

    day: date
    start: time
    message: str
    blocking: bool = True


def _span(day: date, start: time, end: time) -> str:
    return f"{day:%Y-%m-%d} {start:%H:%M}—{end:%H:%M}"


def _session_clashes_of(plan: AnnualPlan) -> tuple[list[PlanClash], set[tuple]]:
    """The plan's sessions against every session of their representatives in a plan
    that holds the time, in one query: the other sessions, each joined (through the
    representative) to the session of this plan it overlaps. A pair within the plan is
    named once. Also the keys (this plan's session, the other plan, day, start, end) by
    which `plan_clashes` knows an event expanded from one of those other sessions."""
    mine = "representative__planned_sessions"
    others = (
        PlannedSession.objects.filter(
            **{
                f"{mine}__plan": plan,
                f"{mine}__date": F("date"),
                f"{mine}__start__lt": F("end"),
                f"{mine}__end__gt": F("start"),
            },
            plan__state__in=HOLDING_TIME,
        )
        # The annotations read the join the filter made: the session of this plan.
        .annotate(mine_pk=F(f"{mine}__pk"), mine_start=F(f"{mine}__start"))
        .annotate(mine_end=F(f"{mine}__end"))
        .filter(~Q(plan=plan) | Q(pk__gt=F("mine_pk")))
        .select_related("plan__studio", "representative")
        .order_by("date", "mine_start", "start", "pk")
    )
    found: list[PlanClash] = []
    keys: set[tuple] = set()
    for other in others:
        mine_span = _span(other.date, other.mine_start, other.mine_end)
        theirs = f"{other.start:%H:%M}—{other.end:%H:%M}"
        if other.plan_id == plan.pk:
            message = f"{other.representative.name}：{mine_span}与本计划的另一项安排（{theirs}）"
            found.append(PlanClash(other.date, other.mine_start, message + "时间重叠。"))
            continue
        keys.add((other.mine_pk, other.plan_id, other.date, other.start, other.end))
        blocking = other.plan.state in BLOCKING
        message = (
            f"{other.representative.name}：{mine_span}与{other.plan.studio.name}的"
            f"{other.plan.year}年度计划（{other.plan.get_state_display()}）中的安排"
            f"（{theirs}）时间重叠。"
        )
        if not blocking:
            message += "该计划未在报审中，不妨碍本计划报审和批准；它报审前须调整。"
        found.append(PlanClash(other.date, other.mine_start, message, blocking))
    return found, keys


def plan_clashes(
    plan: AnnualPlan, sessions: Sequence[PlannedSession] | None = None
) -> list[PlanClash]:
    """Where the plan puts a representative in two places at once (SM 9, 10): each of
    its sessions that overlaps another planned session of the representative (in this
    plan, or in another that holds the time, HOLDING_TIME), or an event of theirs that
    is not cancelled and did not come from this plan (`plan_expand` marks its events with
    the plan). Blocking: a session in this plan, in a submitted or approved plan
    (BLOCKING), an event; a draft's or a returned plan's only warns. By day and time.

    Two queries whatever the number of sessions (one more when `sessions`, with their
    representatives, are not given; none for events when there are no sessions). Not
    scoped to an account, as `session_clashes`: another studio is named with its plan's
    year and state, or its event's kind, time and state, never a theme."""
    found, expanded = _session_clashes_of(plan)
    if sessions is None:
        sessions = list(plan.sessions.select_related("representative"))
    if not sessions:
        return found
    by_rep: dict[int, list[PlannedSession]] = {}
    by_day: dict[date, list[PlannedSession]] = {}
    for s in sessions:
        by_rep.setdefault(s.representative_id, []).append(s)
        by_day.setdefault(s.date, []).append(s)
    # One window a day (its sessions' representatives, first start to last end), not one
    # a session: at most a year's days OR'd, within SQLite's expression depth (1000),
    # however many sessions. The exact pairs are told below.
    windows = Q()
    for day, those in by_day.items():
        windows |= Q(
            representative_id__in={s.representative_id for s in those},
            event__starts_at__lt=_aware(day, max(s.end for s in those)),
            event__ends_at__gt=_aware(day, min(s.start for s in those)),
        )
    through: Any = Event.representatives.through
    rows = (
        through.objects.filter(windows)
        .exclude(event__state=EventState.CANCELLED)
        .exclude(event__plan=plan)
        .select_related("event__studio")
        .order_by("event__starts_at", "event_id")
    )
    for row in rows:
        event = row.event
        starts, ends = event.starts_at.astimezone(SHANGHAI), event.ends_at.astimezone(SHANGHAI)
        for s in by_rep[row.representative_id]:
            if not (
                _aware(s.date, s.start) < event.ends_at and event.starts_at < _aware(s.date, s.end)
            ):
                continue
            if (s.pk, event.plan_id, starts.date(), starts.time(), ends.time()) in expanded:
                continue  # the event of another plan's session, already named above
            until = f"{ends:%H:%M}" if ends.date() == starts.date() else f"{ends:%Y-%m-%d %H:%M}"
            found.append(
                PlanClash(
                    s.date,
                    s.start,
                    f"{s.representative.name}：{_span(s.date, s.start, s.end)}与"
                    f"{event.studio.name}的活动（{event.get_kind_display()}，"
                    f"{starts:%Y-%m-%d %H:%M}—{until}，状态：{event.get_state_display()}）"
                    "时间重叠。",
                )
            )
    return sorted(found, key=lambda c: (c.day, c.start))


def _clashes_locked(plan: AnnualPlan) -> list[PlanClash]:
    """`plan_clashes` after the plan's representatives' rows are locked (in order, as
    `events._check` does): an event or a session added for one of them at the same
    moment is checked before or after this, never alongside."""
    sessions = list(plan.sessions.select_related("representative"))
    list(
        Representative.objects.select_for_update()
        .filter(pk__in={s.representative_id for s in sessions})
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return plan_clashes(plan, sessions)


def _clash_refusal(clashes: list[PlanClash], verb: str) -> list[str]:
    blocking = [c.message for c in clashes if c.blocking]
    if not blocking:
        return []
    return [
        f"计划中有 {len(blocking)} 处时间重叠，同一党代表不能同时在两处活动，须先调整才能{verb}：",
        *blocking,
    ]


# --- steps ---------------------------------------------------------------------------


def _check_opening(opening_start: time, opening_end: time, weekday: int) -> None:
    errors: dict[str, str] = {}
    if opening_end <= opening_start:
        errors["opening_end"] = "每周开放的结束时间须晚于开始时间。"
    if not 0 <= weekday <= 6:
        errors["opening_weekday"] = "每周开放日须为星期一至星期日之一。"
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def plan_create(
    *,
    actor: Any,
    studio: Studio,
    year: int,
    opening_weekday: int,
    opening_start: time,
    opening_end: time,
    place: str = "",
    notes: str = "",
) -> AnnualPlan:
    if not Studio.objects.for_editor(actor).filter(pk=studio.pk).exists():
        raise PermissionError
    _check_opening(opening_start, opening_end, opening_weekday)
    if AnnualPlan.objects.filter(studio=studio, year=year).exists():
        raise _refuse(f"{studio.name}已有{year}年度计划，每个工作室每年只有一份计划。", "year")
    try:
        with transaction.atomic():
            return AnnualPlan.objects.create(
                studio=studio,
                year=year,
                opening_weekday=opening_weekday,
                opening_start=opening_start,
                opening_end=opening_end,
                place=place,
                notes=notes,
            )
    except IntegrityError as exc:  # two drafts at once: the second is told
        raise _refuse(
            f"{studio.name}已有{year}年度计划，每个工作室每年只有一份计划。", "year"
        ) from exc


@transaction.atomic
def plan_update(
    *,
    actor: Any,
    plan: AnnualPlan,
    opening_weekday: int,
    opening_start: time,
    opening_end: time,
    place: str = "",
    notes: str = "",
) -> AnnualPlan:
    _check_editor(actor, plan)
    plan = _locked(plan)
    if plan.state not in EDITABLE:
        raise _state_refusal(plan, "修改")
    _check_opening(opening_start, opening_end, opening_weekday)
    plan.opening_weekday = opening_weekday
    plan.opening_start, plan.opening_end = opening_start, opening_end
    plan.place, plan.notes = place, notes
    plan.save()
    return plan


@transaction.atomic
def plan_session_add(
    *,
    actor: Any,
    plan: AnnualPlan,
    representative: Representative,
    date: date,
    start: time,
    end: time,
    kind: str = EventKind.RECEPTION,
    theme: str = "",
    submission_key: UUID | None = None,
) -> PlannedSession:
    """A session in the plan. A second one with the page's `submission_key` (the form
    sent twice) is refused by the unique constraint, an IntegrityError: `added_with`."""
    _check_editor(actor, plan)
    plan = _locked(plan)
    if plan.state not in EDITABLE:
        raise _state_refusal(plan, "修改")
    errors: dict[str, str] = {}
    periods = [
        (a.since, None if a.active else a.until)
        for a in StudioAssignment.objects.filter(
            periods_in_year(plan.year), studio=plan.studio, representative=representative
        )
    ]
    if not periods:
        errors["representative"] = (
            f"{representative.name}{plan.year}年未进驻本工作室，不能安排其活动。"
        )
    elif date.year == plan.year and not any(
        (since is None or since <= date) and (until is None or date <= until)
        for since, until in periods
    ):
        errors["date"] = f"{representative.name}该日不在本工作室进驻期间，不能安排其活动。"
    if date.year != plan.year:
        errors["date"] = f"日期须在{plan.year}年内。"
    if end <= start:
        errors["end"] = "结束时间须晚于开始时间。"
    if kind not in dict(SESSION_KINDS):
        errors["kind"] = "请选择有效的活动方式。"
    if errors:
        raise ValidationError(errors)
    _lock_representative(representative)
    clashes = session_clashes(
        representative=representative, date=date, start=start, end=end, sent_with=submission_key
    )
    if clashes:
        raise ValidationError(
            {"start": [clash_message(plan, representative, other) for other in clashes]}
        )
    return PlannedSession.objects.create(
        plan=plan,
        representative=representative,
        date=date,
        start=start,
        end=end,
        kind=kind,
        theme=theme,
        submission_key=submission_key,
    )


def added_with(submission_key: UUID | None) -> PlannedSession | None:
    """The session a page's one-time key added, if any. Not scoped: the caller shows it
    only on its own plan."""
    return made_with(PlannedSession, submission_key, "pk", "plan_id")


@transaction.atomic
def plan_session_remove(*, actor: Any, plan: AnnualPlan, session_pk: int) -> None:
    _check_editor(actor, plan)
    plan = _locked(plan)
    if plan.state not in EDITABLE:
        raise _state_refusal(plan, "修改")
    deleted, _ = PlannedSession.objects.filter(plan=plan, pk=session_pk).delete()
    if not deleted:
        raise _refuse("该活动安排已不存在。")


def _warn(clashes: list[PlanClash], warn: Callable[[str], None] | None) -> None:
    if warn is not None:
        for clash in clashes:
            if not clash.blocking:
                warn(clash.message)


@transaction.atomic
def plan_submit(
    *, actor: Any, plan: AnnualPlan, warn: Callable[[str], None] | None = None
) -> AnnualPlan:
    """Submit for approval. Refused while the plan's sessions clash (`plan_clashes`);
    a clash that only warns is passed to `warn` once the plan is submitted."""
    _check_editor(actor, plan)
    plan = _locked(plan)
    if plan.state not in EDITABLE:
        raise _state_refusal(plan, "报审")
    clashes = _clashes_locked(plan)
    refusal = _clash_refusal(clashes, "报审")
    if refusal:
        raise ValidationError(refusal)
    plan.state = PlanState.SUBMITTED
    plan.submitted_at, plan.submitted_by = timezone.now(), actor
    plan.save()
    _warn(clashes, warn)
    return plan


@transaction.atomic
def plan_approve(
    *,
    actor: Any,
    plan: AnnualPlan,
    shortfall_reason: str = "",
    note: str = "",
    warn: Callable[[str], None] | None = None,
) -> AnnualPlan:
    """Approve and expand into events. With shortfalls, a reason is required. Refused
    while the plan's sessions clash (`plan_clashes`: checked again, since events and
    other plans change after submission, and the expansion's bulk insert skips the
    events' own overlap check); a clash that only warns is passed to `warn` once the
    plan is approved."""
    if not can_approve(actor, plan):
        raise PermissionError
    plan = _locked(plan)
    if plan.state != PlanState.SUBMITTED:
        raise _state_refusal(plan, "批准")
    clashes = _clashes_locked(plan)
    errors: dict[str, list[str]] = {}
    refusal = _clash_refusal(clashes, "批准")
    if refusal:
        errors[NON_FIELD_ERRORS] = refusal
    shortfalls = shortfalls_of(plan)
    reason = shortfall_reason.strip()
    if shortfalls and not reason:
        errors["shortfall_reason"] = [
            # The example is a sentence of its own: its 。 would stand before the bracket.
            f"计划有 {len(shortfalls)} 项未达到最低要求"
            f"（如：{shortfalls[0].message.rstrip('。')}），"
            "批准须填写未达最低要求的理由。"
        ]
    if errors:
        raise ValidationError(errors)
    plan.state = PlanState.APPROVED
    plan.shortfall_reason = reason if shortfalls else ""
    plan.decision_note = note.strip()
    plan.decided_at, plan.decided_by = timezone.now(), actor
    plan.save()
    plan_expand(plan=plan)
    _warn(clashes, warn)
    note = openings.opening_schedule(plan.year, plan.opening_weekday).note
    if note and warn is not None:
        warn(note)
    return plan


@transaction.atomic
def plan_return(*, actor: Any, plan: AnnualPlan, note: str) -> AnnualPlan:
    if not can_approve(actor, plan):
        raise PermissionError
    plan = _locked(plan)
    if plan.state != PlanState.SUBMITTED:
        raise _state_refusal(plan, "退回")
    if not note.strip():
        raise _refuse("退回须写明审批意见（需要修改什么）。", "decision_note")
    plan.state = PlanState.RETURNED
    plan.decision_note = note.strip()
    plan.decided_at, plan.decided_by = timezone.now(), actor
    plan.save()
    return plan


def opening_dates(year: int, weekday: int) -> list[date]:
    """Every `weekday` of the year, holidays included (see openings.opening_schedule)."""
    return openings.weekdays_of_year(year, weekday)


def _aware(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=SHANGHAI)


@transaction.atomic
def plan_expand(*, plan: AnnualPlan) -> int:
    """Turn an approved plan into planned events: one opening per week on the plan's
    weekday unless that day is a statutory holiday (openings.opening_schedule), and one
    event per planned session with its representative. Idempotent:
    a plan already expanded creates nothing. Returns how many events were created."""
    plan = _locked(plan)
    if plan.state != PlanState.APPROVED:
        raise _state_refusal(plan, "生成活动安排")
    if plan.expanded_at is not None:
        return 0
    place = plan.place or plan.studio.address
    schedule = openings.opening_schedule(plan.year, plan.opening_weekday)
    events = [
        Event(
            studio=plan.studio,
            plan=plan,
            kind=EventKind.OPENING,
            theme="工作室定期开放",
            starts_at=_aware(day, plan.opening_start),
            ends_at=_aware(day, plan.opening_end),
            place=place,
            state=EventState.PLANNED,
        )
        for day in schedule.days
    ]
    sessions = list(plan.sessions.select_related("representative"))
    session_events = [
        Event(
            studio=plan.studio,
            plan=plan,
            kind=s.kind if s.kind in EventKind.values else EventKind.RECEPTION,
            theme=s.theme,
            starts_at=_aware(s.date, s.start),
            ends_at=_aware(s.date, s.end),
            place=place,
            activity_month=s.date.month == 7,
            state=EventState.PLANNED,
        )
        for s in sessions
    ]
    Event.objects.bulk_create(events)
    created = Event.objects.bulk_create(session_events)
    if created and created[0].pk is None:  # backends without RETURNING
        created = list(
            Event.objects.filter(plan=plan).exclude(kind=EventKind.OPENING).order_by("pk")
        )[-len(session_events) :]
    through = Event.representatives.through
    through.objects.bulk_create(
        [
            through(event_id=event.pk, representative_id=s.representative_id)
            for event, s in zip(created, sessions, strict=True)
        ]
    )
    # bulk_create() sends no signals: the tallies these events change are marked here.
    tallies.mark_studios([plan.studio_id])
    tallies.mark_representatives([s.representative_id for s in sessions])
    record_bulk(
        Event, len(events) + len(session_events), cause=f"展开年度计划 duties.annualplan#{plan.pk}"
    )
    plan.expanded_at = timezone.now()
    plan.save(update_fields=["expanded_at", "updated_at"])
    return len(events) + len(session_events)
