"""A list page's filter fields, written in Python rather than by a template loop.

core/filters.html looped over the form's fields (up to eighteen on the case list) and
asked each for its widget type, its label's target, its label and its widget: some
seventy template lookups at 10–20 µs, over a millisecond of every list page. The markup
is the loop's (tests/core/test_filter_fields.py compares it with that loop, kept in
tests/core/filters_template.html); every value is escaped as autoescaping did.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def filter_fields(form: Any) -> SafeString:
    parts = []
    for field in form:
        target = conditional_escape(field.id_for_label)
        label = conditional_escape(field.label)
        widget = conditional_escape(field)
        if field.widget_type == "checkbox":
            parts.append(f'  <label for="{target}" class="check-inline">{widget} {label}</label>\n')
        else:
            parts.append(f'  <label for="{target}">{label}{widget}</label>\n')
    return mark_safe("".join(parts))  # noqa: S308 - every value went through conditional_escape
