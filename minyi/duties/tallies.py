"""The dashboards' compliance counts, kept per studio and per representative.

`compliance.count()` judges every studio of the scope on every view: 1.4 s for
Shenzhen's 788 studios, 5.8 s for a national city of 7,060, and growing with the
studios. A year's counts of one studio (its openings, publications, reports) or of
one representative (sessions, visits) change only when that studio's or that
representative's facts change, or when the day changes (what is "not yet due" today is
missed tomorrow). So each is kept as a row (StudioTally, RepresentativeTally) and a
dashboard adds up the rows of its scope in two statements, after recomputing, with the
same `load_facts` and the same rules as `count()`, only the rows that are missing or stale.

A row is fresh when `as_of` is today and its facts have not changed since they were
read (`dirtied_at` before `computed_at`). The signals below set `dirtied_at` on every
save or delete of a fact, twice: inside the writer's transaction, so that a crash after
the commit cannot leave a stale row fresh (skipping rows a recomputation has locked at
that moment, so that a writer never waits for one), and again after the commit, so that
a recomputation that read the facts before the commit is not taken as fresh either.
Recomputations write rows in ascending order: two of them wait, never deadlock.
A change the signals cannot see (queryset.update(), bulk_create(), raw SQL) must call
`mark_studios`/`mark_representatives` itself, as the plan expansion and the recording
of an event's attendance do; the date in
`as_of` bounds what a forgotten call can cost to the rest of that day.

`refresh_compliance_tallies` (cron, after midnight) recomputes the day's rows for all
studios, so that the first dashboard of the morning does not pay for them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Exists, F, FilteredRelation, OuterRef, Q, QuerySet, Sum
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.utils import timezone

from minyi.duties.compliance import Counts, judged_periods, listed_at, load_facts, make_rules
from minyi.duties.compliance_rules import (
    Status,
    owed_at,
    representative_results,
    studio_counts,
)
from minyi.duties.models import (
    Attendance,
    BimonthlyReport,
    Event,
    HouseholdVisit,
    RepresentativeTally,
    StudioTally,
)
from minyi.people.models import Representative
from minyi.studios.models import Studio, StudioAssignment

_FIELDS = {
    Status.RED: "red",
    Status.AMBER: "amber",
    Status.GREEN: "green",
    Status.NOT_DUE: "not_due",
}
# Studios judged per `load_facts`: a national refresh goes through 620,573 of them.
BATCH = 2000
NEVER = date(2000, 1, 1)  # the `as_of` of a row that has not been computed yet


def _fresh(today: date) -> Q:
    return Q(as_of=today) & (Q(dirtied_at__isnull=True) | Q(dirtied_at__lt=F("computed_at")))


def scope_representatives(studios: QuerySet, year: int) -> QuerySet:
    """The representatives `count()` judges for these studios in the year: active, with
    a period at one of them within it (compliance.judged_periods)."""
    periods = judged_periods(date(year, 1, 1), date(year, 12, 31)).filter(
        studio_id__in=studios.values("pk")
    )
    return Representative.objects.filter(pk__in=periods.values("representative_id"), active=True)


def count(studios: QuerySet, year: int, today: date) -> Counts:
    """What `compliance.count(studios, make_rules(<year>, today))` gives, from the
    tallies: the missing and stale ones are recomputed first. Two statements when all
    are fresh (the sums and how many of them are fresh, per kind).

    A representative's tally holds all their results, but the studios show only those
    within their periods there (`compliance_rules.owed_at`): so one who also had a
    period that year at a studio outside these (moved in or out of the scope) is judged
    afresh instead, from the facts, in a fixed number of statements however many."""
    representatives = scope_representatives(studios, year)
    periods = judged_periods(date(year, 1, 1), date(year, 12, 31))
    elsewhere = Q(
        pk__in=periods.exclude(studio_id__in=studios.values("pk")).values("representative_id")
    )
    own = _totals(studios, year, today)
    theirs = _totals(representatives, year, today, elsewhere)
    if own["fresh"] < own["owners"] or theirs["fresh"] < theirs["owners"]:
        stale_studios = list(
            studios.filter(
                ~Exists(StudioTally.objects.filter(_fresh(today), studio=OuterRef("pk"), year=year))
            ).values_list("pk", flat=True)
        )
        stale_reps = list(
            representatives.exclude(elsewhere)
            .filter(
                ~Exists(
                    RepresentativeTally.objects.filter(
                        _fresh(today), representative=OuterRef("pk"), year=year
                    )
                )
            )
            .values_list("pk", flat=True)
        )
        refresh(stale_studios, stale_reps, year, today)
        own = _totals(studios, year, today)
        theirs = _totals(representatives, year, today, elsewhere)
    reps = {status: theirs[name] or 0 for status, name in _FIELDS.items()}
    if theirs["moved"]:
        _add_moved(reps, studios, representatives.filter(elsewhere), year, today)
    return Counts(reps, {status: own[name] or 0 for status, name in _FIELDS.items()})


def _add_moved(
    counts: dict[Status, int], studios: QuerySet, moved: QuerySet, year: int, today: date
) -> None:
    """Add the results of the `moved` representatives that these studios show."""
    rules = make_rules(date(year, 1, 1), date(year, 12, 31), today)
    facts = load_facts(studios, rules, list(moved.values_list("pk", flat=True)), objects=False)
    listed = listed_at(facts)
    for rep_id, rep_facts in facts.rep_facts.items():
        for result in representative_results(rep_facts, rules):
            if owed_at(rep_facts, result) & listed[rep_id]:
                counts[result.status] += 1


def _totals(owners: QuerySet, year: int, today: date, moved: Q | None = None) -> dict[str, Any]:
    """The year's sums over the owners' tallies (studios' or representatives'), with
    how many owners there are and how many of them have a fresh tally: one statement,
    the owners LEFT JOINed to their (at most one) tally of the year. Owners matching
    `moved` are left out of all of these and only counted (as `moved`)."""
    tally = FilteredRelation("compliance_tallies", condition=Q(compliance_tallies__year=year))
    fresh = Q(tally__as_of=today) & (
        Q(tally__dirtied_at__isnull=True) | Q(tally__dirtied_at__lt=F("tally__computed_at"))
    )
    if moved is None:
        fields: dict[str, Any] = {
            "owners": Count("pk"),
            "fresh": Count("pk", filter=fresh),
            **{name: Sum(f"tally__{name}") for name in _FIELDS.values()},
        }
    else:
        fields = {
            "owners": Count("pk", filter=~moved),
            "fresh": Count("pk", filter=fresh & ~moved),
            "moved": Count("pk", filter=moved),
            **{name: Sum(f"tally__{name}", filter=~moved) for name in _FIELDS.values()},
        }
    return owners.order_by().annotate(tally=tally).aggregate(**fields)


def refresh(
    studio_ids: Iterable[int], representative_ids: Iterable[int], year: int, today: date
) -> int:
    """Recompute the year's tallies of these studios and representatives (and of
    whoever else the same facts judge), in batches. Returns the studios judged."""
    studio_ids, rep_ids = list(studio_ids), list(representative_ids)
    rules = make_rules(date(year, 1, 1), date(year, 12, 31), today)
    if rep_ids:
        # A representative's facts are loaded through the studios they are judged at:
        # those of their periods within the year, ended ones too.
        periods = judged_periods(rules.start, rules.end).filter(representative_id__in=rep_ids)
        studio_ids = sorted(
            set(studio_ids)
            | set(
                Studio.objects.active()
                .filter(pk__in=periods.values("studio_id"))
                .values_list("pk", flat=True)
            )
        )
    for start in range(0, len(studio_ids), BATCH):
        batch = studio_ids[start : start + BATCH]
        read_at = timezone.now()  # before the facts are read: see the module's docstring
        facts = load_facts(Studio.objects.active().filter(pk__in=batch), rules, None, objects=False)
        studio_rows = []
        for studio in facts.studios:
            counts = dict.fromkeys(Status, 0)
            studio_counts(facts.studio_facts[studio.pk], rules, counts)
            studio_rows.append(
                StudioTally(studio_id=studio.pk, **_row(year, today, read_at, counts))
            )
        rep_rows = []
        for rep_id, rep_facts in facts.rep_facts.items():
            counts = dict.fromkeys(Status, 0)
            for result in representative_results(rep_facts, rules):
                counts[result.status] += 1
            rep_rows.append(
                RepresentativeTally(representative_id=rep_id, **_row(year, today, read_at, counts))
            )
        _upsert(StudioTally, studio_rows, "studio")
        _upsert(RepresentativeTally, rep_rows, "representative")
    return len(studio_ids)


def _row(year: int, today: date, read_at: datetime, counts: dict[Status, int]) -> dict[str, Any]:
    return {
        "year": year,
        "as_of": today,
        "computed_at": read_at,
        **{name: counts[status] for status, name in _FIELDS.items()},
    }


def _upsert[Tally: (StudioTally, RepresentativeTally)](
    model: type[Tally], rows: list[Any], owner: str
) -> None:
    # `dirtied_at` is left as it is: a change made while the facts were being read
    # keeps the row stale. Rows go in ascending order of their owner, as the stamps
    # lock them, so that two writers of the same rows wait for each other, never
    # deadlock.
    rows.sort(key=lambda row: getattr(row, f"{owner}_id"))
    model.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=[owner, "year"],
        update_fields=["as_of", "computed_at", *_FIELDS.values()],
        batch_size=1000,
    )


def refresh_all(year: int, today: date) -> int:
    """Every active studio's and representative's tallies for the year (the cron job)."""
    studio_ids = list(Studio.objects.active().order_by("pk").values_list("pk", flat=True))
    return refresh(studio_ids, [], year, today)


# --- Marking tallies stale ----------------------------------------------------------


def mark_studios(studio_ids: Iterable[int]) -> None:
    _mark(StudioTally, "studio", studio_ids)


def mark_representatives(representative_ids: Iterable[int]) -> None:
    _mark(RepresentativeTally, "representative", representative_ids)


def _mark[Tally: (StudioTally, RepresentativeTally)](
    model: type[Tally], owner: str, ids: Iterable[int]
) -> None:
    ids = sorted({i for i in ids if i is not None})
    if not ids:
        return

    def stamp() -> None:
        # Every year's row: a fact near a year's end counts in the next year's first
        # week, and an assignment's start date in every year.
        model.objects.filter(**{f"{owner}_id__in": ids}).update(dirtied_at=timezone.now())

    def stamp_in_transaction() -> None:
        # Committed with the change or not at all, so a crash between the commit and
        # the stamp after it cannot leave a stale row fresh. Rows a recomputation is
        # writing at this moment are skipped rather than waited for: the writer holds
        # these locks until it commits, in no particular order, and waiting could
        # deadlock with a recomputation that locks rows in ascending order. The stamp
        # after the commit covers the rows skipped.
        rows = model.objects.filter(**{f"{owner}_id__in": ids})
        if connection.in_atomic_block and connection.features.has_select_for_update_skip_locked:
            free = list(rows.select_for_update(skip_locked=True).values_list("pk", flat=True))
            rows = model.objects.filter(pk__in=free)
        rows.update(dirtied_at=timezone.now())

    def stamp_after_commit() -> None:
        # A row a recomputation is about to insert, from facts read before this commit,
        # must come out stale: so the years around today get a (stale) row first, then
        # every row is stamped. In this order whichever of the two writes comes second
        # leaves `dirtied_at` after `computed_at`.
        year = timezone.localdate().year
        placeholders = [
            model(
                **{f"{owner}_id": pk},
                year=y,
                as_of=NEVER,
                computed_at=timezone.now(),
                dirtied_at=timezone.now(),
            )
            for pk in ids
            for y in (year - 1, year, year + 1)
        ]
        model.objects.bulk_create(placeholders, ignore_conflicts=True, batch_size=1000)
        stamp()

    stamp_in_transaction()
    transaction.on_commit(stamp_after_commit)


def _event_changed(sender: Any, instance: Event, **kwargs: Any) -> None:
    mark_studios([instance.studio_id])
    if instance.pk is not None:
        mark_representatives(
            Event.representatives.through.objects.filter(event_id=instance.pk).values_list(
                "representative_id", flat=True
            )
        )


def _event_links_changed(
    sender: Any, instance: Any, action: str, pk_set: Any, model: Any, **kwargs: Any
) -> None:
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if isinstance(instance, Event):
        events, reps = [instance.pk], list(pk_set or ())
        if action == "pre_clear":
            reps = list(instance.representatives.values_list("pk", flat=True))
    else:  # from the representative's side
        reps, events = [instance.pk], list(pk_set or ())
        if action == "pre_clear":
            events = list(instance.events.values_list("pk", flat=True))
    # Studios before representatives, like every other writer of tallies: rows are
    # locked in the same order, so two writers cannot deadlock.
    mark_studios(Event.objects.filter(pk__in=events).values_list("studio_id", flat=True))
    mark_representatives(reps)


def _rep_fact_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    mark_representatives([instance.representative_id])


def _report_changed(sender: Any, instance: BimonthlyReport, **kwargs: Any) -> None:
    mark_studios([instance.studio_id])


def _studio_changed(sender: Any, instance: Studio, **kwargs: Any) -> None:
    mark_studios([instance.pk])


def _representative_changed(sender: Any, instance: Representative, **kwargs: Any) -> None:
    mark_representatives([instance.pk])


def connect() -> None:
    """Called from DutiesConfig.ready()."""
    post_save.connect(_event_changed, sender=Event, dispatch_uid="tally-event-save")
    pre_delete.connect(_event_changed, sender=Event, dispatch_uid="tally-event-delete")
    m2m_changed.connect(
        _event_links_changed, sender=Event.representatives.through, dispatch_uid="tally-links"
    )
    for model in (Attendance, HouseholdVisit, StudioAssignment):
        post_save.connect(_rep_fact_changed, sender=model, dispatch_uid=f"tally-{model.__name__}")
        post_delete.connect(
            _rep_fact_changed, sender=model, dispatch_uid=f"tally-{model.__name__}-delete"
        )
    post_save.connect(_report_changed, sender=BimonthlyReport, dispatch_uid="tally-report")
    post_delete.connect(_report_changed, sender=BimonthlyReport, dispatch_uid="tally-report-delete")
    post_save.connect(_studio_changed, sender=Studio, dispatch_uid="tally-studio")
    post_save.connect(_representative_changed, sender=Representative, dispatch_uid="tally-rep")
