"""双月报告 (SM 12.5): every two months the studio's liaison reports the
representatives' activities upward. The draft is written from the records — the
period's events, attendance and people received, appointments, the household visits
of the representatives assigned to the studio during the period (one who has left
since too), the cases registered at the studio and their state — then edited,
submitted, and acknowledged (签收) by the department in scope.

Period 1 is January–February … 6 is November–December. Missing reports are the
compliance engine's business (minyi.duties.compliance), not this module's.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from minyi.cases.models import Case, Outcome
from minyi.cases.states import CaseState
from minyi.core.text_limits import CUT, REPORT_MAX, clipped, fitted, shortened
from minyi.duties.models import (
    Appointment,
    AppointmentState,
    BimonthlyReport,
    Event,
    EventState,
    HouseholdVisit,
    ReportState,
)
from minyi.duties.notify import month_day
from minyi.people.models import Representative
from minyi.people.scopes import scope_of
from minyi.studios.models import Studio, StudioAssignment

PERIODS = [(p, f"第{p}期（{2 * p - 1}—{2 * p}月）") for p in range(1, 7)]


class ReportNotAllowed(Exception):
    """A step the report's state does not allow, explained in Chinese."""


def period_dates(year: int, period: int) -> tuple[date, date]:
    """First day of the period, and first day after it."""
    if not 1 <= period <= 6:
        raise ValidationError({"period": ["期次应为 1 到 6（每两个月一期）。"]})
    start = date(year, 2 * period - 1, 1)
    end = date(year + 1, 1, 1) if period == 6 else date(year, 2 * period + 1, 1)
    return start, end


def period_running(year: int, period: int, today: date | None = None) -> date | None:
    """The period's last day while the period has not ended (`today`, by default the
    local date, on or before it), else None: a report drafted or sent then tells what
    happened so far, not what the whole period held."""
    last = period_dates(year, period)[1] - timedelta(days=1)
    return last if (today or timezone.localdate()) <= last else None


def as_of(day: date) -> str:
    """How a running period's draft says the day its figures stop."""
    return f"{AS_OF}{day.year}年{day.month}月{day.day}日"


def period_of(day: date) -> int:
    return (day.month + 1) // 2


def _aware(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.get_current_timezone())


def writable_studios(user: Any) -> QuerySet:
    """Where the user writes reports: a liaison's studios (and everything for a
    superuser). Departments acknowledge; representatives neither write nor sign."""
    scope = scope_of(user)
    if scope.everything:
        return Studio.objects.all()
    if scope.studio_ids and not scope.representative_ids and scope.unit is None:
        return Studio.objects.filter(pk__in=scope.studio_ids)
    return Studio.objects.none()


def can_acknowledge(user: Any) -> bool:
    scope = scope_of(user)
    return bool(scope.everything or scope.unit is not None)


def _hm(value: datetime) -> str:
    return f"{timezone.localtime(value):%H:%M}"


# Said in a draft whose quoted summaries or lists were shortened to fit REPORT_MAX, with
# where the whole is: the liaison can then save the draft, or edit it, as it stands.
SUMMARIES_SHORTENED = (
    f"（本期活动情况较长，为使报告不超过 {REPORT_MAX} 字，各场活动情况只摘录开头，"
    f"“{CUT}”处有删节；全文见“活动安排与预告”中该场活动的“活动情况”。）"
)
TOO_LONG = f"（报告超过 {REPORT_MAX} 字，以下从略；详见“活动安排与预告”和社情民意的“跟踪明细帐”。）"


# What a report sent before its period ends must say, and what it is told otherwise.
AS_OF = "截至"
SUBMIT_EARLY = (
    "本期到{last}才结束，提前报送的报告须写明情况截至哪一天（如“{AS_OF}{today}”）。"
    "请点“根据最新记录重新生成”，或在报告中写明后再报送。"
)


@dataclass
class DraftRecords:
    """What a draft says, read once; `_draft` writes it, shortened as it must be."""

    head: list[str]
    events: list[tuple[str, str]]  # each held event's line and its summary
    middle: list[str]
    cases: list[str]
    tail: list[str]

    @property
    def longest_summary(self) -> int:
        return max((len(summary) for _, summary in self.events), default=0)


def _draft(records: DraftRecords, *, summary_chars: int, rows: int | None = None) -> str:
    """The draft with each event's summary in at most `summary_chars` characters and at
    most `rows` events and cases listed (all of them when None)."""
    events = records.events[:rows]
    cases = records.cases[:rows]
    lines = list(records.head)
    if any(len(summary) > summary_chars for _, summary in events):
        lines.append(SUMMARIES_SHORTENED)
    for line, summary in events:
        lines.append(line)
        if summary:
            lines.append(f"   {shortened(summary, summary_chars)}")
    if more := len(records.events) - len(events):
        lines.append(f"{CUT}另有 {more} 场活动未列出，详见“活动安排与预告”。")
    lines += records.middle
    lines += cases
    if more := len(records.cases) - len(cases):
        lines.append(f"{CUT}另有 {more} 件未列出，详见社情民意的“跟踪明细帐”。")
    lines += records.tail
    return "\n".join(lines).rstrip()


def report_draft_text(*, studio: Studio, year: int, period: int) -> str:
    """The draft, within REPORT_MAX so that the liaison can save it unedited: when the
    whole does not fit, every event's summary is quoted in as many characters as fit
    (short ones whole), and if even a bare list is over, the events and cases listed
    are as many as fit; the draft says so and where the rest is."""
    return fit_draft(_records(studio=studio, year=year, period=period))


def fit_draft(records: DraftRecords) -> str:
    text = fitted(
        lambda n: _draft(records, summary_chars=n),
        limit=REPORT_MAX,
        most=records.longest_summary,
    )
    if text is None:
        text = fitted(
            lambda n: _draft(records, summary_chars=0, rows=n),
            limit=REPORT_MAX,
            most=max(len(records.events), len(records.cases)),
        )
    return text or clipped(_draft(records, summary_chars=0, rows=0), REPORT_MAX, TOO_LONG)


def _records(*, studio: Studio, year: int, period: int) -> DraftRecords:
    start, end = period_dates(year, period)
    label = dict(PERIODS)[period]
    today = timezone.localdate()
    running = period_running(year, period, today)
    head = [f"{studio.name} {year}年{label}党代表活动情况报告"]
    if running:
        # Drafted before the period is over: the figures are so far, said as such.
        head.append(f"（本期至{month_day(running)}结束，尚未结束；以下情况{as_of(today)}。）")
    head.append("")

    events = list(
        Event.objects.filter(studio=studio, starts_at__gte=_aware(start), starts_at__lt=_aware(end))
        .prefetch_related("representatives", "attendances__representative")
        .order_by("starts_at", "pk")
    )
    held = [e for e in events if e.state == EventState.HELD or e.attendances.all()]
    cancelled = [e for e in events if e.state == EventState.CANCELLED]
    received = sum(e.people_received or 0 for e in held)
    head.append("一、活动开展情况")
    head.append(
        f"本期安排活动 {len(events)} 场，已举行 {len(held)} 场，取消 {len(cancelled)} 场；"
        f"共接待群众 {received} 人次。"
    )
    event_lines = []
    for i, event in enumerate(held, 1):
        when = timezone.localtime(event.starts_at)
        present = "、".join(
            f"{a.representative.name}（{_hm(a.arrived_at)}—{_hm(a.left_at)}）"
            for a in event.attendances.all()
        )
        theme = f"，主题：{event.theme}" if event.theme else ""
        event_lines.append(
            (
                f"{i}. {month_day(when)} {event.get_kind_display()}{theme}；"
                f"到场党代表：{present or '无记录'}；接待 {event.people_received or 0} 人次。",
                event.summary,
            )
        )

    # Those assigned here during the period, one who has left since too (a past
    # period's report is about who was here then), each once however many periods.
    # A period ended before its day was kept covers no day that can be told.
    periods = (
        StudioAssignment.objects.filter(studio=studio)
        .exclude(since__gt=end - timedelta(days=1))
        .exclude(until__lt=start)
        .exclude(active=False, until__isnull=True)
    )
    reps = list(
        Representative.objects.filter(pk__in=periods.values("representative_id")).order_by(
            "name", "pk"
        )
    )
    sessions = Counter(a.representative_id for e in held for a in e.attendances.all())
    middle = ["", "二、党代表进驻情况"]
    for rep in reps:
        middle.append(f"{rep.name}：参加活动 {sessions.get(rep.pk, 0)} 次。")
    absent = [rep for rep in reps if not sessions.get(rep.pk)]
    if absent and running:
        # The period is still on: not "did nothing", and what each has coming here.
        coming: dict[int, list[str]] = {}
        for event in events:
            if event.state == EventState.PUBLISHED and (
                timezone.localtime(event.starts_at).date() >= today
            ):
                for rep in event.representatives.all():
                    coming.setdefault(rep.pk, []).append(
                        month_day(timezone.localtime(event.starts_at))
                    )
        names = "、".join(
            rep.name + (f"（已预告{'、'.join(coming[rep.pk])}活动）" if rep.pk in coming else "")
            for rep in absent
        )
        middle.append(f"{AS_OF}{month_day(today)}尚未到工作室开展活动的党代表：{names}。")
    elif absent:
        names = "、".join(rep.name for rep in absent)
        middle.append(f"本期未到工作室开展活动的党代表：{names}。")

    appointments = Counter(
        Appointment.objects.filter(
            event__studio=studio,
            event__starts_at__gte=_aware(start),
            event__starts_at__lt=_aware(end),
        ).values_list("state", flat=True)
    )
    middle += ["", "三、群众预约情况"]
    total = sum(appointments.values())
    parts = "，".join(
        f"{label} {appointments[value]} 件"
        for value, label in AppointmentState.choices
        if appointments.get(value)
    )
    middle.append(f"本期收到预约 {total} 件" + (f"：{parts}。" if parts else "。"))

    visits = Counter(
        HouseholdVisit.objects.counted()
        .filter(representative__in=reps, visited_on__gte=start, visited_on__lt=end)
        .values_list("representative_id", flat=True)
    )
    middle += ["", "四、入户走访情况"]
    middle.append(f"本工作室党代表本期入户走访共 {sum(visits.values())} 户。")
    for rep in reps:
        if visits.get(rep.pk):
            middle.append(f"{rep.name}：{visits[rep.pk]} 户。")

    cases = list(
        Case.objects.filter(studio=studio, received_on__gte=start, received_on__lt=end)
        .order_by("received_on", "serial")
        .values_list("number", "summary", "state", "outcome")
    )
    states = Counter(state for _, _, state, _ in cases)
    on_the_spot = sum(1 for *_, outcome in cases if outcome == Outcome.ON_THE_SPOT)
    middle += ["", "五、社情民意登记办理情况"]
    by_state = "，".join(
        f"{label} {states[value]} 件" for value, label in CaseState.choices if states.get(value)
    )
    middle.append(
        f"本期登记社情民意 {len(cases)} 件，其中当场答复 {on_the_spot} 件"
        + (f"；目前{by_state}。" if by_state else "。")
    )
    case_lines = [
        f"{number} {summary}（{CaseState(state).label}）" for number, summary, state, _ in cases
    ]
    tail = ["", "六、存在问题和下一步工作", ""]
    return DraftRecords(head, event_lines, middle, case_lines, tail)


def report_create(*, actor: Any, studio: Studio, year: int, period: int) -> BimonthlyReport:
    """A draft written from the records. One report per studio and period."""
    period_dates(year, period)
    if not writable_studios(actor).filter(pk=studio.pk).exists():
        raise ValidationError({"studio": ["只能为本人所在工作室撰写双月报告。"]})
    if period_dates(year, period)[0] > timezone.localdate():
        raise ValidationError({"period": ["该期尚未开始，不能撰写报告。"]})
    body = report_draft_text(studio=studio, year=year, period=period)
    try:
        with transaction.atomic():
            return BimonthlyReport.objects.create(
                studio=studio, year=year, period=period, body=body
            )
    except IntegrityError as exc:
        raise ValidationError(
            {"period": [f"{studio.name} {year}年第{period}期的报告已经存在。"]}
        ) from exc


def _locked(report: BimonthlyReport, actor: Any) -> BimonthlyReport:
    return (
        BimonthlyReport.objects.for_editor(actor)
        .select_for_update(of=("self",))
        .select_related("studio")
        .get(pk=report.pk)
    )


def _require(report: BimonthlyReport, state: str, verb: str) -> None:
    if report.state != state:
        raise ReportNotAllowed(f"报告当前状态为“{report.get_state_display()}”，不能{verb}。")


def report_update(*, report: BimonthlyReport, actor: Any, body: str) -> BimonthlyReport:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": ["报告内容不能为空。"]})
    with transaction.atomic():
        locked = _locked(report, actor)
        if not writable_studios(actor).filter(pk=locked.studio_id).exists():
            raise ReportNotAllowed("只有本工作室联络员可以修改报告。")
        _require(locked, ReportState.DRAFT, "修改")
        locked.body = body
        locked.save(update_fields=["body", "updated_at"])
        return locked


def report_redraft(*, report: BimonthlyReport, actor: Any) -> BimonthlyReport:
    """Write the body again from the records (the liaison's edits are replaced)."""
    with transaction.atomic():
        locked = _locked(report, actor)
        if not writable_studios(actor).filter(pk=locked.studio_id).exists():
            raise ReportNotAllowed("只有本工作室联络员可以修改报告。")
        _require(locked, ReportState.DRAFT, "重新生成")
        locked.body = report_draft_text(
            studio=locked.studio, year=locked.year, period=locked.period
        )
        locked.save(update_fields=["body", "updated_at"])
        return locked


def report_submit(*, report: BimonthlyReport, actor: Any) -> BimonthlyReport:
    with transaction.atomic():
        locked = _locked(report, actor)
        if not writable_studios(actor).filter(pk=locked.studio_id).exists():
            raise ReportNotAllowed("只有本工作室联络员可以报送报告。")
        _require(locked, ReportState.DRAFT, "报送")
        if not locked.body.strip():
            raise ValidationError({"body": ["报告内容不能为空。"]})
        last = period_running(locked.year, locked.period)
        if last and AS_OF not in locked.body:
            # Allowed before the period ends (a liaison may send December's before the
            # 31st), but only saying the figures are so far.
            raise ValidationError(
                {
                    "body": [
                        SUBMIT_EARLY.format(
                            last=month_day(last), AS_OF=AS_OF, today=month_day(timezone.localdate())
                        )
                    ]
                }
            )
        locked.state = ReportState.SUBMITTED
        locked.submitted_at = timezone.now()
        locked.submitted_by = actor
        locked.save(update_fields=["state", "submitted_at", "submitted_by", "updated_at"])
        return locked


def report_acknowledge(*, report: BimonthlyReport, actor: Any) -> BimonthlyReport:
    with transaction.atomic():
        locked = _locked(report, actor)
        if not can_acknowledge(actor):
            raise ReportNotAllowed("只有组织部门可以签收报告。")
        _require(locked, ReportState.SUBMITTED, "签收")
        locked.state = ReportState.ACKNOWLEDGED
        locked.acknowledged_at = timezone.now()
        locked.acknowledged_by = actor
        locked.save(update_fields=["state", "acknowledged_at", "acknowledged_by", "updated_at"])
        return locked
