"""Compliance with the duty minimums for a set of studios: load the facts in a fixed
number of queries, apply `compliance_rules`, roll the results up the tree.

Who is judged: the active studios asked for, and the active representatives with a
period at one of them during the windows judged (`judged_periods`: working there now,
or left on a kept day within them; one who has no studio has none to be judged at and
is not listed). They are judged on the days of all their periods at any studio
(`RepresentativeFacts.periods`), but a studio's row shows only their results within
their periods at that studio (`compliance_rules.owed_at`). A representative's sessions
at any studio count, so events are loaded for the studios and for the representatives.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, Final

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from minyi.audit.trail import record_bulk
from minyi.core.regulations import cite
from minyi.duties.compliance_rules import (
    DEFAULT_HALF_DAY_HOURS,
    EventFacts,
    EventStatus,
    Period,
    ReportFacts,
    RepresentativeFacts,
    Result,
    Rules,
    Session,
    Status,
    StudioFacts,
    Summary,
    covering_range,
    owed_at,
    representative_results,
    studio_counts,
    studio_results,
    visits_owed,
    window_of,
)
from minyi.duties.models import (
    Attendance,
    BimonthlyReport,
    Event,
    EventState,
    HouseholdVisit,
    Notification,
    ReportState,
)
from minyi.duties.notify import unread_changed
from minyi.org.models import OrgUnit
from minyi.people.models import Liaison, Representative, RepresentativeLevel, Role, User
from minyi.people.scopes import Scope, scope_of
from minyi.studios.models import Studio, StudioAssignment

# Keyed by the plain state too: values_list gives the column's str.
_EVENT_STATUS: dict[str, EventStatus] = {
    EventState.HELD: EventStatus.HELD,
    EventState.PLANNED: EventStatus.SCHEDULED,
    EventState.PUBLISHED: EventStatus.SCHEDULED,
    EventState.CANCELLED: EventStatus.CANCELLED,
}


def half_day_hours() -> float:
    return float(getattr(settings, "MINYI_HALF_DAY_HOURS", DEFAULT_HALF_DAY_HOURS))


def make_rules(start: date, end: date, today: date | None = None) -> Rules:
    return Rules(
        today=today or timezone.localdate(),
        start=start,
        end=end,
        half_day_hours=half_day_hours(),
    )


@dataclass
class RepresentativeRow:
    representative: Representative
    results: list[Result]

    @property
    def summary(self) -> Summary:
        return Summary().add(self.results)

    def by_key(self) -> dict[str, Result]:
        return {r.key: r for r in self.results}


@dataclass
class StudioRow:
    studio: Studio
    results: list[Result]  # the studio's own (SM 10, SM 12.5)
    representatives: list[RepresentativeRow] = field(default_factory=list)
    # Those of `representatives` working here now; the others left within the period.
    working: set[int] = field(default_factory=set)

    @property
    def all_results(self) -> list[Result]:
        found = list(self.results)
        for row in self.representatives:
            found.extend(row.results)
        return found

    @property
    def summary(self) -> Summary:
        return Summary().add(self.all_results)


@dataclass
class Evaluation:
    rules: Rules
    studios: list[StudioRow]
    # Each representative judged, with all their results (wherever shown).
    representatives: dict[int, RepresentativeRow] = field(default_factory=dict)

    def results(self) -> list[Result]:
        seen: dict[str, Result] = {}
        for row in self.studios:
            for result in row.all_results:
                seen.setdefault(result.key, result)
        return list(seen.values())

    @property
    def summary(self) -> Summary:
        return Summary().add(self.results())

    def problems(self, limit: int | None = None) -> list[Result]:
        """Red, then amber, soonest first. With `limit`, at most that many of each: one
        cap over both let a district's year of missed weeks (red, past mending) fill the
        list, and the warnings that can still be acted on (amber) were never shown."""
        found = sorted(
            (r for r in self.results() if r.status in (Status.RED, Status.AMBER)),
            key=lambda r: (-r.status.severity, r.due or date.max, r.key),
        )
        if limit is None:
            return found
        red = [r for r in found if r.status is Status.RED]
        amber = [r for r in found if r.status is Status.AMBER]
        return red[:limit] + amber[:limit]


def judged_periods(start: date, end: date) -> QuerySet[StudioAssignment]:
    """The periods for which their representative is judged at their studio from `start`
    to `end`: those touching the two-month windows the rules look at (open, or ended on
    a kept day). `_in_judged` is the same test for a row already read."""
    low, high = window_of(start).first, window_of(end).last
    # Excludes, not ORs: the statements that read events take this as a sub-query, and
    # test_compliance_counts keeps ORs out of them.
    return (
        StudioAssignment.objects.filter(representative__active=True)
        .exclude(since__gt=high)
        .exclude(until__lt=low)
        .exclude(active=False, until__isnull=True)  # ended on a day not kept
    )


def _in_judged(since: date | None, until: date | None, active: bool, rules: Rules) -> bool:
    low, high = window_of(rules.start).first, window_of(rules.end).last
    return (since is None or since <= high) and (active or (until is not None and until >= low))


def _period(since: date | None, until: date | None, active: bool) -> Period | None:
    """A row's period for the rules; None for one ended before its day was kept."""
    if active:
        return (since, None)
    return (since, until) if until is not None else None


# Positions in the event rows evaluate() loads.
# Final, so that the type checker knows each column's type when a row is indexed.
_STUDIO_NAME: Final = 2
_STARTS: Final = 5
_ENDS: Final = 6
_STATE: Final = 7


def _kind_labels() -> dict[str, str]:
    """What Event.get_kind_display() says for each kind, looked up once per evaluation
    instead of building an Event per event without a theme."""
    return {value: str(label) for value, label in Event._meta.get_field("kind").flatchoices}


def _local_date(value: datetime, tz: tzinfo) -> date:
    # The zone is looked up once per evaluation: timezone.localtime() asks the
    # request-local current zone on every call, tens of thousands of times for a city.
    return value.astimezone(tz).date()


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


@dataclass
class _Facts:
    """What the rules are applied to, loaded in a fixed number of queries."""

    studios: list[Studio]
    representatives: dict[int, Representative]  # empty unless asked for
    reps_at: dict[int, list[int]]  # studio → its representatives, in assignment order
    working_at: dict[int, set[int]]  # studio → those of them working there now
    rep_facts: dict[int, RepresentativeFacts]
    studio_facts: dict[int, StudioFacts]  # empty when only representatives are judged


def load_facts(
    studios: Iterable[Studio],
    rules: Rules,
    representative_ids: Iterable[int] | None,
    *,
    objects: bool = True,
) -> _Facts:
    """The facts for `studios`; with `objects`, the representatives' own rows too
    (for the rows of the compliance page), else only what the rules need."""
    studio_list = list(studios)
    studio_ids = [s.pk for s in studio_list]
    only_reps = set(representative_ids) if representative_ids is not None else None
    # A queryset of studios goes into the statements as a subquery: a city's hundreds
    # of studio ids (and thousands of representative ids) written into every statement
    # cost more to bind than the statements take to run.
    studio_filter: Any = studios.values("pk") if isinstance(studios, QuerySet) else studio_ids

    # All periods of the representatives judged at these studios: where they are judged
    # here, and the days they were at any studio.
    here = judged_periods(rules.start, rules.end).filter(studio_id__in=studio_filter)
    if only_reps is not None:
        here = here.filter(representative_id__in=only_reps)
    # Every representative with an assignment here has at least this one: the same
    # set as the keys of `reps` below.
    rep_filter = here.values("representative_id")
    assignments = StudioAssignment.objects.filter(representative_id__in=rep_filter)
    representatives: dict[int, Representative] = {}
    if objects:
        rows = []
        for a in assignments.select_related("representative__user"):
            representatives[a.representative_id] = a.representative
            rep = a.representative
            rows.append(
                (a.representative_id, a.studio_id, a.since, a.until, a.active, rep.name, rep.level)
            )
    else:
        rows = list(
            assignments.values_list(
                "representative_id",
                "studio_id",
                "since",
                "until",
                "active",
                "representative__name",
                "representative__level",
            )
        )
    reps: dict[int, tuple[str, str]] = {}  # name, level
    periods: dict[int, list[tuple[int, Period]]] = defaultdict(list)
    reps_at: dict[int, list[int]] = defaultdict(list)
    working_at: dict[int, set[int]] = defaultdict(set)
    in_scope = set(studio_ids)
    for rep_id, studio_id, since, until, active, name, level in rows:
        reps[rep_id] = (name, level)
        period = _period(since, until, active)
        if period is not None:
            periods[rep_id].append((studio_id, period))
        if studio_id in in_scope and _in_judged(since, until, active, rules):
            reps_at[studio_id].append(rep_id)
            if active:
                working_at[studio_id].add(rep_id)

    first, last = covering_range(rules.start, rules.end)
    tz = timezone.get_current_timezone()
    low = datetime.combine(first, time.min, tzinfo=tz)
    high = datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz)
    through = Event.representatives.through
    # The studios' events and the representatives' events, as one IN over a UNION of
    # two indexed reads: `studio IN … OR pk IN …` cannot use an index, and read every
    # event of the year in the country (4.9 s per statement at 6.2 million events).
    in_range = {"starts_at__gte": low, "starts_at__lt": high}
    ids = (
        Event.objects.filter(studio_id__in=studio_filter, **in_range)
        .values("pk")
        .union(
            through.objects.filter(
                representative_id__in=rep_filter,
                **{f"event__{name}": value for name, value in in_range.items()},
            ).values("event_id")
        )
    )
    events_qs = Event.objects.filter(pk__in=ids)
    # Tuples, not dicts: a city's year is tens of thousands of events.
    events = {
        row[0]: row
        for row in events_qs.values_list(
            "pk",
            "studio_id",
            "studio__name",
            "kind",
            "theme",
            "starts_at",
            "ends_at",
            "state",
            "published_at",
            "late_reason",
        )
    }
    event_pks = events_qs.values("pk")
    links = set(
        through.objects.filter(
            event_id__in=event_pks, representative_id__in=rep_filter
        ).values_list("event_id", "representative_id")
    )
    attended = {
        (e, r): (arrived, left)
        for e, r, arrived, left in Attendance.objects.filter(
            event_id__in=event_pks, representative_id__in=rep_filter
        ).values_list("event_id", "representative_id", "arrived_at", "left_at")
    }
    visits: dict[int, list[date]] = defaultdict(list)
    for rep_id, day in (
        HouseholdVisit.objects.counted()
        .filter(
            representative_id__in=rep_filter,
            representative__level=RepresentativeLevel.CITY,
            visited_on__gte=date(rules.start.year, 1, 1),
            visited_on__lte=date(rules.end.year, 12, 31),
        )
        .values_list("representative_id", "visited_on")
    ):
        visits[rep_id].append(day)
    reports: dict[int, list[ReportFacts]] = defaultdict(list)
    if only_reps is None:
        for studio_id, year, report_period, state, submitted_at in BimonthlyReport.objects.filter(
            studio_id__in=studio_filter, year__gte=first.year, year__lte=last.year
        ).values_list("studio_id", "year", "period", "state", "submitted_at"):
            on = None
            if state != ReportState.DRAFT and submitted_at is not None:
                on = _local_date(submitted_at, tz)
            reports[studio_id].append(ReportFacts(year, report_period, on))

    # Sessions per representative: attendance when recorded, else a held event.
    sessions: dict[int, list[Session]] = defaultdict(list)
    for event_id, rep_id in links | set(attended):
        event = events.get(event_id)
        if event is None or event[_STATE] == EventState.CANCELLED:
            continue
        if (event_id, rep_id) in attended:
            arrived, left = attended[(event_id, rep_id)]
            session = Session(
                _local_date(arrived, tz), _hours(arrived, left), True, event[_STUDIO_NAME]
            )
        else:
            held = event[_STATE] == EventState.HELD
            session = Session(
                _local_date(event[_STARTS], tz),
                _hours(event[_STARTS], event[_ENDS]),
                held,
                event[_STUDIO_NAME],
            )
        sessions[rep_id].append(session)

    rep_facts: dict[int, RepresentativeFacts] = {}
    for rep_id, (name, level) in reps.items():
        rep_facts[rep_id] = RepresentativeFacts(
            id=rep_id,
            name=name,
            city_level=level == RepresentativeLevel.CITY,
            periods=tuple(period for _, period in periods[rep_id]),
            studio_periods=tuple(periods[rep_id]),
            sessions=tuple(sessions[rep_id]),
            visits=tuple(visits[rep_id]),
        )

    studio_facts: dict[int, StudioFacts] = {}
    if only_reps is None:
        studio_events: dict[int, list[EventFacts]] = defaultdict(list)
        kinds = _kind_labels()
        for pk, studio_id, _, kind, theme, begins, ends, state, published, late in events.values():
            if studio_id not in in_scope:
                continue
            studio_events[studio_id].append(
                EventFacts(
                    id=pk,
                    title=theme or kinds.get(kind, kind),
                    day=_local_date(begins, tz),
                    hours=_hours(begins, ends),
                    status=_EVENT_STATUS[state],
                    published_on=_local_date(published, tz) if published else None,
                    late_reason=late,
                )
            )
        for studio in studio_list:
            studio_facts[studio.pk] = StudioFacts(
                id=studio.pk,
                name=studio.name,
                # Its 设立日期, else the day it was entered: weeks before owe nothing.
                established_on=studio.judged_from,
                events=tuple(studio_events[studio.pk]),
                reports=tuple(reports[studio.pk]),
            )
    return _Facts(studio_list, representatives, reps_at, working_at, rep_facts, studio_facts)


def evaluate(
    studios: Iterable[Studio],
    rules: Rules,
    *,
    representative_ids: Iterable[int] | None = None,
) -> Evaluation:
    """Compliance of the given studios and their representatives: each studio's row
    shows a representative's results within their periods there (`owed_at`). With
    `representative_ids`, only those representatives are judged, each row shows all
    their results (a representative's own view, across their studios), and the studios'
    own results are left out."""
    own_view = representative_ids is not None
    facts = load_facts(studios, rules, representative_ids)
    judged = {rep_id: representative_results(f, rules) for rep_id, f in facts.rep_facts.items()}
    whole = {
        rep_id: RepresentativeRow(facts.representatives[rep_id], results)
        for rep_id, results in judged.items()
    }
    rows = []
    for studio in facts.studios:
        own: list[Result] = []
        if studio.pk in facts.studio_facts:
            own = studio_results(facts.studio_facts[studio.pk], rules)
        members = []
        for rep_id in dict.fromkeys(facts.reps_at[studio.pk]):
            if own_view:
                members.append(whole[rep_id])
                continue
            at = _shown_at(facts.rep_facts[rep_id], judged[rep_id], {studio.pk})
            members.append(RepresentativeRow(facts.representatives[rep_id], at))
        members.sort(key=lambda row: (row.representative.name, row.representative.pk))
        rows.append(StudioRow(studio, own, members, facts.working_at[studio.pk]))
    return Evaluation(rules, rows, whole)


def _shown_at(rep: RepresentativeFacts, results: list[Result], studios: set[int]) -> list[Result]:
    """Those of a representative's results that one of `studios` shows."""
    return [r for r in results if owed_at(rep, r) & studios]


@dataclass
class Counts:
    """How many results of each status `evaluate()` would give, each result once."""

    representatives: dict[Status, int]  # SM 9, CM 4
    studios: dict[Status, int]  # the studios' own: SM 10, SM 12.5


def listed_at(facts: _Facts) -> dict[int, set[int]]:
    """Representative → the studios of `facts` that list them."""
    found: dict[int, set[int]] = defaultdict(set)
    for studio_id, rep_ids in facts.reps_at.items():
        for rep_id in rep_ids:
            found[rep_id].add(studio_id)
    return found


def count(studios: Iterable[Studio], rules: Rules) -> Counts:
    """The status counts of `evaluate(studios, rules).results()`, split into the
    representatives' results and the studios' own, for a dashboard that shows only the
    counts: the same facts and the same rules, without building the studios' weekly
    results. tests/duties/test_compliance_counts.py holds the two together."""
    facts = load_facts(studios, rules, None, objects=False)
    reps = dict.fromkeys(Status, 0)
    listed = listed_at(facts)
    # Each representative once, however many of the studios they work at: results()
    # counts each key once, and a representative's keys are theirs alone. Only the
    # results one of the studios shows (not the windows of a studio left for another).
    for rep_id, f in facts.rep_facts.items():
        for result in _shown_at(f, representative_results(f, rules), listed[rep_id]):
            reps[result.status] += 1
    own = dict.fromkeys(Status, 0)
    for studio in facts.studios:
        studio_counts(facts.studio_facts[studio.pk], rules, own)
    return Counts(reps, own)


# --- Roll-up along the tree -----------------------------------------------------------


def _chain(unit: OrgUnit) -> list[int]:
    ids = [unit.province_id, unit.city_id, unit.district_id, unit.street_id, unit.pk]
    return [i for i in ids if i]


def child_of(studio: Studio, unit: OrgUnit) -> int | None:
    """The child unit of `unit` under which the studio lies, or None when the studio
    belongs to `unit` itself."""
    chain = _chain(studio.unit)
    index = chain.index(unit.pk)
    return chain[index + 1] if index + 1 < len(chain) else None


@dataclass
class RollupRow:
    """One line of a unit's page: a child unit (all its studios) or a studio."""

    label: str
    unit: OrgUnit | None
    studio: Studio | None
    summary: Summary
    studio_count: int


def rollup_rows(evaluation: Evaluation, unit: OrgUnit) -> list[RollupRow]:
    groups: dict[int, list[StudioRow]] = defaultdict(list)
    direct: list[StudioRow] = []
    for row in evaluation.studios:
        child = child_of(row.studio, unit)
        if child is None:
            direct.append(row)
        else:
            groups[child].append(row)
    units = OrgUnit.objects.in_bulk(list(groups))
    lines = []
    for pk, rows in groups.items():
        summary = Summary()
        for row in rows:
            summary.add(row.all_results)
        lines.append(RollupRow(str(units[pk]), units[pk], None, summary, len(rows)))
    # Every line so far is a child unit's, so `unit` is set.
    lines.sort(
        key=lambda line: (
            -line.summary.worst.severity,
            (line.unit.code if line.unit is not None else "") or "",
            line.label,
        )
    )
    lines.extend(RollupRow(row.studio.name, None, row.studio, row.summary, 1) for row in direct)
    return lines


def studio_queryset(user: Any) -> Any:
    return Studio.objects.for_user(user).active().select_related("unit")


def sees_own_only(scope: Scope) -> bool:
    """A representative's own view: the page judges only them, not their studios'
    other representatives (whom their scope lets them read elsewhere)."""
    return bool(scope.representative_ids) and not (scope.everything or scope.unit)


def representative_row(
    user: Any, representative: Representative, rules: Rules
) -> RepresentativeRow | None:
    """One representative's results as the compliance page shows them to `user`: their
    own view, all of them; anyone else, those that the studios of theirs the page lists
    for the user show (`owed_at`), so the liaison of a studio they left does not see the
    windows owed at the new one. None where the page lists none of their studios, where
    it is a representative's own view of someone else, or where the representative has
    no period in the windows judged (so is not judged)."""
    scope = scope_of(user)
    own_view = sees_own_only(scope)
    if own_view and representative.pk not in scope.representative_ids:
        return None
    theirs = judged_periods(rules.start, rules.end).filter(representative=representative)
    studios = studio_queryset(user).filter(pk__in=theirs.values("studio_id"))
    facts = load_facts(studios, rules, [representative.pk])
    rep_facts = facts.rep_facts.get(representative.pk)
    if rep_facts is None:
        return None
    results = representative_results(rep_facts, rules)
    if not own_view:
        results = _shown_at(rep_facts, results, listed_at(facts)[representative.pk])
    return RepresentativeRow(facts.representatives[representative.pk], results)


def visits_minimum(representative: Representative, year: int) -> int | None:
    """CM 4's minimum for `year` as the compliance page judges this representative:
    `visits_owed` on all their periods at any studio (as `load_facts` reads them), so
    pro-rated for a year they served in part. None for one not at city level."""
    if representative.level != RepresentativeLevel.CITY:
        return None
    rows = StudioAssignment.objects.filter(representative=representative)
    periods = (_period(*row) for row in rows.values_list("since", "until", "active"))
    facts = RepresentativeFacts(
        id=representative.pk,
        name=representative.name,
        city_level=True,
        periods=tuple(p for p in periods if p is not None),
    )
    owed, _months = visits_owed(facts, year)
    return owed


# --- Warnings before a minimum is missed ----------------------------------------------

LOOK_BACK_DAYS = 70  # the previous two-month window, for its report and last weeks
MISSED_WEEK_NOTICE_DAYS = 14  # a missed week is reported while it is this recent


@dataclass(frozen=True)
class DutyWarning:
    recipient_id: int
    text: str
    url: str  # carries the result's key: the same warning is never sent twice


def warnings_for(today: date) -> list[DutyWarning]:
    """Who should be warned today, from the compliance of every active studio:

    - a representative's two-month window closes within three weeks with nothing
      held or scheduled: the representative and the liaisons of their studios;
    - a bi-monthly report is due (or has just become overdue): the studio's liaisons;
    - a studio missed a week: the organisation department of its street (of its
      district when the studio hangs directly under a district).
    """
    rules = make_rules(today - timedelta(days=LOOK_BACK_DAYS), today + timedelta(days=21), today)
    evaluation = evaluate(Studio.objects.active().select_related("unit"), rules)
    studio_ids = [row.studio.pk for row in evaluation.studios]
    liaisons: dict[int, set[int]] = defaultdict(set)
    for studio_id, user_id in Liaison.objects.filter(
        studio_id__in=studio_ids, active=True, user__isnull=False, user__is_active=True
    ).values_list("studio_id", "user_id"):
        liaisons[studio_id].add(user_id)

    def department_unit(studio: Studio) -> int | None:
        unit = studio.unit
        if unit.level == "street":
            return unit.pk
        return unit.street_id or (unit.pk if unit.level == "district" else unit.district_id)

    officials: dict[int, set[int]] = defaultdict(set)
    for user_id, unit_id in User.objects.filter(
        is_active=True,
        role__in=[Role.STREET_OFFICIAL, Role.DISTRICT_OFFICIAL, Role.COMMITTEE_OFFICIAL],
        unit_id__in={department_unit(row.studio) for row in evaluation.studios} - {None},
    ).values_list("pk", "unit_id"):
        officials[unit_id].add(user_id)

    base = reverse_compliance()
    found: list[DutyWarning] = []

    def add(recipients: Iterable[int], text: str, url: str) -> None:
        found.extend(DutyWarning(r, text[:300], url[:200]) for r in sorted(set(recipients)))

    rep_studios: dict[int, set[int]] = defaultdict(set)
    listed: dict[int, set[int]] = defaultdict(set)
    for row in evaluation.studios:
        for rep_row in row.representatives:
            listed[rep_row.representative.pk].add(row.studio.pk)
            if rep_row.representative.pk in row.working:
                # Not the liaisons of a studio they have left: it no longer answers
                # for their sessions.
                rep_studios[rep_row.representative.pk].add(row.studio.pk)
    # All of a representative's results: a window about to close may be owed at a
    # studio they have just come to, shown there only.
    for rep_id, rep_row in evaluation.representatives.items():
        for r in rep_row.results:
            if r.rule == "SM 9" and r.warn:
                recipients = set().union(*(liaisons[s] for s in rep_studios[rep_id]))
                account = rep_row.representative.user
                if account is not None and account.is_active:
                    recipients.add(account.pk)
                studio_pk = min(rep_studios[rep_id] or listed[rep_id])
                add(
                    recipients,
                    f"【履职提醒】{r.subject} {r.period}：{r.reason}（{cite(r.rule)}）",
                    f"{base}?studio={studio_pk}#{r.key}",
                )
    for row in evaluation.studios:
        for r in row.results:
            if r.topic == "双月报告" and r.status is Status.AMBER:
                add(
                    liaisons[row.studio.pk],
                    f"【双月报告】{row.studio.name}：{r.reason}（{cite(r.rule)}）",
                    f"{base}?studio={row.studio.pk}#{r.key}:due",
                )
            elif (
                r.topic == "双月报告"
                and r.status is Status.RED
                and r.due
                and (today - r.due).days <= MISSED_WEEK_NOTICE_DAYS
            ):
                add(
                    liaisons[row.studio.pk],
                    f"【双月报告】{row.studio.name}：{r.reason}（{cite(r.rule)}）",
                    f"{base}?studio={row.studio.pk}#{r.key}:overdue",
                )
            elif (
                r.topic == "每周开放"
                and r.status is Status.RED
                and r.due
                and (today - r.due).days <= MISSED_WEEK_NOTICE_DAYS
            ):
                unit_id = department_unit(row.studio)
                add(
                    officials[unit_id] if unit_id else (),
                    f"【开放提醒】{row.studio.name} {r.period}：{r.reason}（{cite(r.rule)}）",
                    f"{base}?studio={row.studio.pk}#{r.key}",
                )
    return found


def reverse_compliance() -> str:
    return reverse("duties:compliance")


def send_warnings(today: date) -> int:
    """Create the notifications `warnings_for(today)` asks for, each (recipient, url)
    once ever, so running again the same day, or the next, adds nothing twice."""
    wanted = warnings_for(today)
    if not wanted:
        return 0
    with transaction.atomic():
        existing = set(
            Notification.objects.filter(
                recipient_id__in={w.recipient_id for w in wanted},
                key__in={w.url for w in wanted},
            ).values_list("recipient_id", "key")
        )
        new: dict[tuple[int, str], DutyWarning] = {}
        for w in wanted:
            if (w.recipient_id, w.url) not in existing:
                new.setdefault((w.recipient_id, w.url), w)
        # The unique (recipient, key) constraint settles a race between two runs.
        Notification.objects.bulk_create(
            (
                Notification(recipient_id=w.recipient_id, text=w.text, url=w.url, key=w.url)
                for w in new.values()
            ),
            ignore_conflicts=True,
        )
        record_bulk(Notification, len(new), cause="履职预警")
        unread_changed(recipient for recipient, _url in new)
    return len(new)
