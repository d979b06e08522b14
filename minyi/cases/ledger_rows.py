"""The tracking ledger page's rows, written in Python rather than by the template engine,
and the page's reads of the rows' answers, evaluations and routing steps as tuples.

A 50-row ledger printed some 1,000 template variables (fourteen cells a row, several of
them with two or four values), each resolved, converted and escaped by the engine at
10–20 µs: the largest part of the page's CPU once the database had answered. The markup
is the template's (tests/cases/test_pages.py checks a row cell by cell); every value
goes through `escape`, exactly as autoescaping did. Each cell carries its column's name
as data-label, which a phone shows before it (the table as cards, minyi.css).

The Excel export and the studio's printed ledger read the same rows (Ledger.row_columns
and decorate, with the answers and evaluations prefetched as models, whose labels and
dates their columns use); only the page reads `page_related` and `row_html`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, NamedTuple

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from minyi.cases.models import RATING_LABELS, Answer, CaseStep, Evaluation
from minyi.cases.states import STATE_LABELS
from minyi.core.markup import escape_text as escape

TICKED, UNTICKED = "☑", "☐"
HIDDEN = '<span class="muted">身份保密</span>'
LATE = '<div><span class="badge overdue">逾期</span></div>'
MUTED = ' class="muted"'


def _tick(done: Any) -> str:
    return TICKED if done else UNTICKED


def ymd(value: date) -> str:
    """What `|date:"Y-m-d"` shows: a moment as the day it is in the current time zone."""
    if isinstance(value, datetime):
        value = (timezone.localtime(value) if timezone.is_aware(value) else value).date()
    return value.isoformat()


# --- what the page reads of a row's answers, evaluations and routing ------------------


class AnswerRow(NamedTuple):
    """The fields of an Answer the ledger's row reads (Ledger.decorate, row_html)."""

    unit_name: str | None
    answered_on: date
    on_time: bool
    result: str
    text: str


class EvaluationRow(NamedTuple):
    rating: str
    reporter_confirmed: bool
    representative_confirmed: bool
    street_head_confirmed: bool
    rated_at: datetime


class RoutingRow(NamedTuple):
    to_level: str


def page_related(cases: list[Any], routing_actions: Iterable[str]) -> None:
    """Give the page's cases what the export's prefetches give them (`answer_list`,
    `evaluation_list`, `routing_steps`, same order, same fields) as tuples: the same
    three queries, without building some hundred model instances a page or going
    through the prefetch machinery. Nothing is asked for an empty page."""
    if not cases:
        return
    ids = [case.pk for case in cases]
    answers: dict[int, list[AnswerRow]] = defaultdict(list)
    for case_id, unit_name, answered_on, on_time, result, text in (
        Answer.objects.filter(case_id__in=ids)
        .order_by("answered_on", "pk")
        .values_list("case_id", "handling_unit__name", "answered_on", "on_time", "result", "text")
    ):
        answers[case_id].append(AnswerRow(unit_name, answered_on, on_time, result, text))
    evaluations: dict[int, list[EvaluationRow]] = defaultdict(list)
    for case_id, rating, reporter, representative, street_head, rated_at in (
        Evaluation.objects.filter(case_id__in=ids)
        .order_by("rated_at", "pk")
        .values_list(
            "case_id",
            "rating",
            "reporter_confirmed",
            "representative_confirmed",
            "street_head_confirmed",
            "rated_at",
        )
    ):
        evaluations[case_id].append(
            EvaluationRow(rating, reporter, representative, street_head, rated_at)
        )
    routing: dict[int, list[RoutingRow]] = defaultdict(list)
    for case_id, to_level in (
        CaseStep.objects.filter(case_id__in=ids, action__in=list(routing_actions))
        .order_by()
        .values_list("case_id", "to_level")
    ):
        routing[case_id].append(RoutingRow(to_level))
    for case in cases:
        case.answer_list = answers.get(case.pk, [])
        case.evaluation_list = evaluations.get(case.pk, [])
        case.routing_steps = routing.get(case.pk, [])


# --- the row's markup -----------------------------------------------------------------


def _reporter(case: Any) -> str:
    if case.reporter_hidden:
        return HIDDEN
    name = escape(case.reporter_name_masked)
    phone = case.reporter_phone_masked
    return f'{name}<div class="muted">{escape(phone)}</div>' if phone else name


def _representative(case: Any) -> str:
    cell = escape(case.representative_name)
    if case.representative_position:
        cell += f"<div>{escape(case.representative_position)}</div>"
    return f'{cell}<div class="muted">{escape(case.rep_contact)}</div>'


def _sent(case: Any) -> str:
    if case.on_the_spot:
        return "当场答复"
    return "".join(f"<div>{_tick(done)} {label}</div>" for label, done in case.sent)


def _answer(case: Any, received: str) -> str:
    """The three cells of the answer: the unit, the day (late or not), the result."""
    answer = case.last_answer
    late = muted = False
    if case.on_the_spot:
        unit, answered = "当场答复", received
        result = Truncator(case.spot_answer).chars(60)
    elif answer:
        unit, answered = answer.unit_name, ymd(answer.answered_on)
        late = not answer.on_time
        result = Truncator(answer.result or answer.text).chars(60)
    else:
        unit, answered = case.handling_unit_name or "—", "—"
        result = STATE_LABELS.get(case.state, case.state)
        muted = True
    return (
        f'<td data-label="承办单位">{escape(unit)}</td>'
        f'<td class="when" data-label="反馈时间">{answered}{LATE if late else ""}</td>'
        f'<td{MUTED if muted else ""} data-label="办理结果">{escape(result)}</td>'
    )


def _rating(case: Any) -> str:
    if case.final_rating:
        return RATING_LABELS.get(case.final_rating, case.final_rating)
    evaluation = case.last_evaluation
    if evaluation:
        return f"{RATING_LABELS.get(evaluation.rating, evaluation.rating)}（重办中）"
    return "—"


def _signatures(case: Any) -> str:
    evaluation = case.last_evaluation
    if evaluation:
        return (
            f"<div>{_tick(evaluation.reporter_confirmed)} 反映人</div>"
            f"<div>{_tick(evaluation.representative_confirmed)} 党代表</div>"
            f"<div>{_tick(evaluation.street_head_confirmed)} 街道负责人</div>"
            f'<div class="muted">{ymd(evaluation.rated_at)}</div>'
        )
    if case.on_the_spot:
        confirmed = case.reporter_confirmed_at
        return f"{TICKED} 反映人 {ymd(confirmed)}" if confirmed else f"{UNTICKED} 反映人"
    return "—"


def row_html(case: Any, url: str) -> SafeString:
    """One <tr> of the ledger: a case read by Ledger.page_rows and marked by its
    decorate(); `url` is its detail page."""
    received = ymd(case.received_on)
    confirmed = case.representative_confirmed_at
    signed = f"{TICKED} {ymd(confirmed)}" if confirmed else UNTICKED
    return mark_safe(  # noqa: S308 - every value below is escaped
        f'<tr><td data-label="街道">{escape(case.street_name)}</td>'
        f'<td data-label="工作室">{escape(case.studio_name)}</td>'
        f'<td data-label="编号"><a href="{escape(url)}">{escape(case.number)}</a></td>'
        f'<td data-label="反映人">{_reporter(case)}</td>'
        f'<td data-label="内容摘要">{escape(case.summary)}</td>'
        f'<td class="when" data-label="日期">{received}</td>'
        f'<td data-label="党代表">{_representative(case)}</td>'
        f'<td class="sent" data-label="报送">{_sent(case)}</td>'
        f'<td class="when" data-label="党代表签名">{signed}</td>'
        f"{_answer(case, received)}"
        f'<td data-label="评价">{escape(_rating(case))}</td>'
        f'<td data-label="签名确认">{_signatures(case)}</td></tr>'
    )
