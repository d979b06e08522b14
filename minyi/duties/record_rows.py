"""The duty record page's four tables, written in Python rather than by the template
engine (issue 8).

A representative's year holds some sixty events; the template resolved, converted and
escaped each of their six cells at 10–20 µs, which was about a third of the page's
CPU. The markup is the template's (tests/duties/test_record.py renders the old loops
and compares); every value goes through `escape`, as autoescaping did. Each cell carries its
column's name as data-label, which a phone shows before it (the tables as cards,
minyi.css). The printed PDF
(documents/duty_record.html) keeps its own template.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.utils.safestring import SafeString, mark_safe

from minyi.core.links import pk_url
from minyi.core.markup import escape
from minyi.duties.record import AppointmentRow, CaseRow, DutyRecord, EventRow, VisitRow

NOT_RECORDED = '<span class="muted">未登记</span>'


def _body[T](rows: Iterable[T], row: Callable[[T], str], empty: str, columns: int) -> SafeString:
    html = "".join(row(item) for item in rows)
    return mark_safe(  # noqa: S308 - the rows escape every value; `empty` is our own text
        html or f'<tr><td colspan="{columns}" class="muted">{empty}</td></tr>'
    )


def _event(e: EventRow) -> str:
    present = escape(e.present) if e.present else NOT_RECORDED
    return (
        f'<tr><td class="when" data-label="日期">{escape(e.day)}</td>'
        f'<td data-label="工作室">{escape(e.studio)}</td>'
        f'<td data-label="活动">{escape(e.activity)}</td>'
        f'<td class="when" data-label="安排时间">{escape(e.scheduled)}</td>'
        f'<td data-label="到场时间">{present}</td><td data-label="状态">{escape(e.state)}</td></tr>'
    )


def _visit(v: VisitRow) -> str:
    return (
        f'<tr><td class="when" data-label="日期">'
        f'<a href="{pk_url("duties:visit_detail", v.pk)}">{escape(v.day)}</a></td>'
        f'<td data-label="社区">{escape(v.community)}</td>'
        f'<td data-label="住户">{escape(v.household)}</td>'
        f'<td data-label="住址">{escape(v.address_masked)}</td></tr>'
    )


def _appointment(a: AppointmentRow) -> str:
    return (
        f'<tr><td class="when" data-label="活动日期">{escape(a.day)}</td>'
        f'<td data-label="工作室">{escape(a.studio)}</td>'
        f'<td data-label="预约方">{escape(a.requester)}</td>'
        f'<td data-label="反映事项">{escape(a.topic)}</td>'
        f'<td data-label="状态">{escape(a.state)}</td></tr>'
    )


def _case(c: CaseRow) -> str:
    return (
        f'<tr><td data-label="编号">{escape(c.number)}</td>'
        f'<td class="when" data-label="反映日期">{escape(c.day)}</td>'
        f'<td data-label="内容摘要">{escape(c.summary)}</td>'
        f'<td data-label="状态">{escape(c.state)}</td></tr>'
    )


def table_bodies(record: DutyRecord) -> dict[str, Any]:
    """The <tbody> contents of the page's four tables."""
    return {
        "events": _body(record.events, _event, "本年度没有活动记录。", 6),
        "visits": _body(record.visits, _visit, "本年度没有入户走访记录。", 4),
        "appointments": _body(record.appointments, _appointment, "本年度没有约见该代表的预约。", 5),
        "cases": _body(record.cases, _case, "本年度没有接待登记的社情民意。", 4),
    }
