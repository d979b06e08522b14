"""The duty record page's four tables, written in Python rather than by the template
engine (issue 8).

A representative's year holds some sixty events; the template resolved, converted and
escaped each of their six cells at 10–20 µs, which was about a third of the page's
CPU. The markup is the template's (tests/duties/test_record.py renders the old loops
and compares); every value goes through `escape`, as autoescaping did. The printed PDF
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
        f"<tr><td>{escape(e.day)}</td><td>{escape(e.studio)}</td>"
        f"<td>{escape(e.activity)}</td><td>{escape(e.scheduled)}</td>"
        f"<td>{present}</td><td>{escape(e.state)}</td></tr>"
    )


def _visit(v: VisitRow) -> str:
    return (
        f'<tr><td><a href="{pk_url("duties:visit_detail", v.pk)}">{escape(v.day)}</a></td>'
        f"<td>{escape(v.community)}</td>"
        f"<td>{escape(v.household)}</td><td>{escape(v.address_masked)}</td></tr>"
    )


def _appointment(a: AppointmentRow) -> str:
    return (
        f"<tr><td>{escape(a.day)}</td><td>{escape(a.studio)}</td>"
        f"<td>{escape(a.requester)}</td><td>{escape(a.topic)}</td><td>{escape(a.state)}</td></tr>"
    )


def _case(c: CaseRow) -> str:
    return (
        f"<tr><td>{escape(c.number)}</td><td>{escape(c.day)}</td>"
        f"<td>{escape(c.summary)}</td><td>{escape(c.state)}</td></tr>"
    )


def table_bodies(record: DutyRecord) -> dict[str, Any]:
    """The <tbody> contents of the page's four tables."""
    return {
        "events": _body(record.events, _event, "本年度没有活动记录。", 6),
        "visits": _body(record.visits, _visit, "本年度没有入户走访记录。", 4),
        "appointments": _body(record.appointments, _appointment, "本年度没有约见该代表的预约。", 5),
        "cases": _body(record.cases, _case, "本年度没有接待登记的社情民意。", 4),
    }
