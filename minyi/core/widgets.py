"""A <select> rendered in Python, with the same markup as Django's.

Django renders every <option> through its own template include. A city official's
filters offer hundreds of studios and handling units, and rendering those options
was about 40 % of a list page's time (bench/cpu.py). The markup is the same as
`forms.Select`'s (tests/core/test_widgets.py compares the two).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe


class FastSelect(forms.Select):
    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [format_html('<select name="{}"{}>', widget["name"], flatatt(widget["attrs"]))]
        for group, options, _index in widget["optgroups"]:
            if group:
                parts.append(format_html('<optgroup label="{}">', group))
            parts.extend(
                format_html(
                    '<option value="{}"{}>{}</option>',
                    option["value"],
                    flatatt(option["attrs"]),
                    option["label"],
                )
                for option in options
            )
            if group:
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308 - every value went through format_html


def use_fast_selects(form: forms.BaseForm) -> None:
    """Swap each plain single <select> of the form for FastSelect, keeping its attrs and
    choices. Call before the choices are narrowed: setting a field's queryset or
    choices afterwards reaches the new widget."""
    for field in form.fields.values():
        if type(field.widget) is forms.Select:
            old = field.widget
            new = FastSelect(attrs=old.attrs, choices=old.choices)
            new.is_required = old.is_required
            field.widget = new
