"""The registration form's rows, written in Python (issue 8).

The template wrote each of the form's 23 rows through a partial with a handful of
conditions and lookups apiece; that cost about as much as the rest of the page. These
functions write the same markup, whitespace included, every value escaped as the
template escaped it (tests/cases/test_form_rows.py renders the former template beside
them). The widgets themselves still render through the form's renderer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

if TYPE_CHECKING:
    from django.forms import BaseForm, BoundField

REQUIRED = ' <span aria-hidden="true" class="muted">*</span>'
SPOT_ONLY = frozenset({"spot_answer", "spot_satisfaction"})


def field_row(field: BoundField) -> str:
    """What the template's `field_row` partial wrote for one field."""
    kind = field.widget_type
    name = field.name
    label = conditional_escape(field.label)
    required = REQUIRED if field.field.required else ""
    css = (" checkbox" if kind == "checkbox" else "") + (" spot-only" if name in SPOT_ONLY else "")
    if kind == "checkbox":
        body = (
            f'\n            <label for="{conditional_escape(field.id_for_label)}">'
            f"{field} {label}</label>\n          "
        )
    elif kind == "radioselect":
        body = (
            f'\n            <fieldset class="radios"><legend>{label}{required}</legend>'
            f"{field}</fieldset>\n          "
        )
    else:
        body = (
            f'\n            <label for="{conditional_escape(field.id_for_label)}">'
            f"{label}{required}</label>\n            {field}\n          "
        )
    help_text = field.help_text
    # The id Django's aria-describedby names on the widget (<auto_id>_helptext).
    help_html = (
        f'<div class="help" id="{conditional_escape(field.auto_id)}_helptext">'
        f"{conditional_escape(help_text)}</div>"
        if help_text
        else ""
    )
    return (
        f'\n        <div class="form-row{css}">\n          {body}\n          {help_html}'
        f"\n          {field.errors}\n        </div>\n        "
    )


def representative_row(form: BaseForm) -> SafeString:
    """The template's `representative_field` partial: the row htmx swaps when the
    studio changes."""
    row = field_row(form["representative"])
    return mark_safe(f'\n        <div id="representative-field">{row}</div>\n        ')  # noqa: S308 - escaped above


def sections(form: BaseForm, titled_names: list[tuple[str, list[str]]]) -> SafeString:
    """The fieldsets of the form, one per (title, field names)."""
    parts = []
    for title, names in titled_names:
        parts.append(f"\n  <fieldset>\n    <legend>{conditional_escape(title)}</legend>\n    ")
        for name in names:
            row = representative_row(form) if name == "representative" else field_row(form[name])
            parts.append(f"\n      \n        {row}\n      \n    ")
        parts.append("\n  </fieldset>\n  ")
    return mark_safe("".join(parts))  # noqa: S308 - every value went through an escape
