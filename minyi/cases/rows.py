"""The case list page's rows, written in Python rather than by the template engine.

A 50-row page printed some 600 template variables, each resolved, converted and
escaped by the engine at 10–20 µs: about a fifth of the page's CPU, the largest part
left after finding 21 of docs/performance.md. The markup is the same as the template's
was (tests/cases/test_pages.py checks it cell by cell); every value goes through
`escape`, exactly as autoescaping did. Each cell carries its column's name as
data-label, which a phone shows before it (the table as cards, minyi.css).
"""

from __future__ import annotations

from typing import Any

from django.utils.safestring import SafeString, mark_safe

from minyi.core.markup import escape

PROVISIONAL = ' <span class="badge warn" title="该年节假日安排尚未录入，期限按周末计算">暂定</span>'
OVERDUE = '<div><span class="badge overdue">已超期</span></div>'
DUE_SOON = '<div><span class="badge warn">即将到期</span></div>'


def _reporter(case: Any) -> str:
    if case.reporter_hidden:
        return '<span class="muted">身份保密</span>'
    phone = case.reporter_phone_masked
    name = escape(case.reporter_name_masked)
    return f'{name}<div class="muted">{escape(phone)}</div>' if phone else name


def _state(case: Any) -> str:
    state = escape(case.state_label)
    if case.final_rating:
        return f'{state}<div class="muted">{escape(case.rating_label)}</div>'
    return state


def _holder(case: Any) -> str:
    holder = escape(case.holder_name) if case.holder_department_id else "—"
    if case.handling_unit_id:
        holder += f"<div>承办：{escape(case.handling_unit_name)}</div>"
    return holder


def _due(case: Any) -> str:
    if not case.due_on:
        return "—"
    due = case.due_text + (PROVISIONAL if case.due_provisional else "")
    if case.is_overdue:
        return due + OVERDUE
    return due + DUE_SOON if case.is_due_soon else due


def row_html(case: Any) -> SafeString:
    """One <tr> of the list: a case from CaseList.page_rows, marked by its decorate()."""
    overdue = ' class="overdue"' if case.is_overdue else ""
    return mark_safe(  # noqa: S308 - every value below is escaped
        f"<tr{overdue}>"
        f'<td data-label="编号"><a href="{escape(case.url)}">{escape(case.number)}</a>'
        f'<div class="muted">{escape(case.studio_name)}</div></td>'
        f'<td class="hide-sm when" data-label="反映日期">{case.received_text}</td>'
        f'<td data-label="反映人">{_reporter(case)}</td>'
        f'<td data-label="内容摘要">{escape(case.summary)}</td>'
        f'<td data-label="状态">{_state(case)}</td>'
        f'<td class="hide-sm" data-label="当前办理">{_holder(case)}</td>'
        f'<td class="when" data-label="答复期限">{_due(case)}</td>'
        "</tr>"
    )
