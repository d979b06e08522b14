"""The project's widgets: a <select> rendered in Python, with the same markup as
Django's, and a textarea that gives its text with one kind of line break.

Django renders every <option> through its own template include. A city official's
filters offer hundreds of studios and handling units, and rendering those options
was about 40 % of a list page's time (bench/cpu.py). The markup is the same as
`forms.Select`'s (tests/core/test_widgets.py compares the two).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.forms.renderers import DjangoTemplates
from django.forms.utils import flatatt
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.text import normalize_newlines

from minyi.core.markup import escape

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class FastSelect(forms.Select):
    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        if self.allow_multiple_selected:
            return super().render(name, value, attrs, renderer)
        # What forms.Select.get_context and optgroups compute, without building a
        # context dict per option: one string per option, escaped as format_html
        # escapes (conditional_escape: a label already marked safe stays as it is).
        values = self.format_value(value)
        selected_done = False
        parts: list[str] = [
            format_html('<select name="{}"{}>', name, flatatt(self.build_attrs(self.attrs, attrs)))
        ]
        for option_value, option_label in self.choices:
            if isinstance(option_label, (list, tuple)):
                # Django's template writes <optgroup> only for a group with a name.
                group, options = option_value, option_label
                if group:
                    parts.append(format_html('<optgroup label="{}">', group))
            else:
                group, options = (
                    None,
                    ((option_value if option_value is not None else "", option_label),),
                )
            for sub_value, sub_label in options:
                selected = not selected_done and str(sub_value) in values
                selected_done |= selected
                parts.append(
                    f'<option value="{conditional_escape(sub_value)}"'
                    f"{' selected' if selected else ''}>{conditional_escape(sub_label)}</option>"
                )
            if group:
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308 - every value went through an escape


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


class SuggestingSearchInput(forms.TextInput):
    """A search box that, with htmx, fills a <datalist> from `url` as the user types
    (`url` answers <option>s for the box's own name=value); without JavaScript it is a
    plain search box. The list's own request leaves the address and the results alone."""

    input_type = "search"

    def __init__(self, url: StrOrPromise, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.url = url

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        list_id = f"{(attrs or {}).get('id') or name}-suggestions"
        attrs = {
            **(attrs or {}),
            "list": list_id,
            "autocomplete": "off",
            "hx-get": self.url,
            "hx-trigger": "input changed delay:300ms",
            "hx-target": f"#{list_id}",
            "hx-swap": "innerHTML",
            "hx-push-url": "false",
            "hx-sync": "this:replace",
        }
        box = super().render(name, value, attrs, renderer)
        return format_html('{}<datalist id="{}"></datalist>', box, list_id)


# The widget templates of Django's that are only `{% include "…/input.html" %}`.
INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in (
        "input",
        "checkbox",
        "color",
        "date",
        "datetime",
        "email",
        "file",
        "hidden",
        "number",
        "password",
        "search",
        "tel",
        "text",
        "time",
        "url",
    )
)
TEXTAREA_TEMPLATE = "django/forms/widgets/textarea.html"
# Radio buttons and checkbox lists: multiple_input.html around one input_option.html
# (through radio_option.html or checkbox_option.html) per choice.
CHOICE_INPUT_TEMPLATES = frozenset(
    {"django/forms/widgets/radio.html", "django/forms/widgets/checkbox_select.html"}
)
OPTION_TEMPLATES = frozenset(
    {"django/forms/widgets/radio_option.html", "django/forms/widgets/checkbox_option.html"}
)
# A field's error list: default.html is only an include of ul.html.
ERROR_LIST_TEMPLATES = frozenset(
    {"django/forms/errors/list/default.html", "django/forms/errors/list/ul.html"}
)


def _formatted(value: Any) -> str:
    # {{ value|stringformat:'s' }} under autoescape: a value marked safe stays as it is.
    text = "%s" % (str(value) if isinstance(value, tuple) else value)
    return text if isinstance(value, SafeData) else escape(text)


def _attrs(attrs: dict[str, Any]) -> str:
    # django/forms/widgets/attrs.html
    return "".join(
        f" {conditional_escape(name)}"
        if value is True
        else f' {conditional_escape(name)}="{_formatted(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _input(widget: dict[str, Any]) -> str:
    # django/forms/widgets/input.html, without the newline the file ends with.
    value = "" if widget["value"] is None else f' value="{_formatted(widget["value"])}"'
    return (
        f'<input type="{conditional_escape(widget["type"])}"'
        f' name="{conditional_escape(widget["name"])}"{value}{_attrs(widget["attrs"])}>'
    )


def _option(option: dict[str, Any]) -> str:
    # input_option.html as radio_option.html or checkbox_option.html include it: each
    # include keeps its file's closing newline (only the outermost render strips).
    if not option["wrap_label"]:
        return f"{_input(option)}\n\n\n"
    label_id = option["attrs"].get("id")
    label_for = f' for="{conditional_escape(label_id)}"' if label_id else ""
    return f"<label{label_for}>{_input(option)}\n {conditional_escape(option['label'])}</label>\n\n"


def _choice_inputs(widget: dict[str, Any]) -> str:
    # django/forms/widgets/multiple_input.html
    element_id = widget["attrs"].get("id")
    css = widget["attrs"].get("class")
    parts = [
        "<div",
        f' id="{conditional_escape(element_id)}"' if element_id else "",
        f' class="{conditional_escape(css)}"' if css else "",
        ">",
    ]
    for group, options, _index in widget["optgroups"]:
        if group:
            parts.append(f"\n  <div><label>{conditional_escape(group)}</label>")
        parts.extend(f"<div>\n    {_option(option)}</div>" for option in options)
        if group:
            parts.append("\n  </div>")
    parts.append("\n</div>")
    return "".join(parts)


def _error_list(errors: Any, error_class: Any) -> str:
    # django/forms/errors/list/ul.html
    if not errors:
        return ""
    field_id = getattr(errors, "field_id", None)
    element_id = f' id="{conditional_escape(field_id)}_error"' if field_id else ""
    items = "".join(f"<li>{conditional_escape(error)}</li>" for error in errors)
    return f'<ul class="{conditional_escape(error_class)}"{element_id}>{items}</ul>'


class FastRenderer(DjangoTemplates):
    """Django's form renderer, but the plain <input>s and <textarea>s, a page's most
    numerous widgets after the options of a <select>, are written here rather than
    through two templates each (input.html and attrs.html), and so are radio buttons,
    checkbox lists (four templates per choice) and a field's error list, with the same
    markup (tests/core/test_widgets.py compares them). It assumes Django's own templates for
    these (the project overrides none); every other template renders as before."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        if template_name in INPUT_TEMPLATES:
            return _input(context["widget"])
        if template_name == TEXTAREA_TEMPLATE:
            widget = context["widget"]
            value = widget["value"]
            if value is None or isinstance(value, str):
                return (
                    f'<textarea name="{conditional_escape(widget["name"])}"'
                    f"{_attrs(widget['attrs'])}>\n"
                    f"{conditional_escape(value) if value else ''}</textarea>"
                )
        if template_name in CHOICE_INPUT_TEMPLATES:
            widget = context["widget"]
            if all(
                option["template_name"] in OPTION_TEMPLATES
                for _group, options, _index in widget["optgroups"]
                for option in options
            ):
                return _choice_inputs(widget)
        if template_name in ERROR_LIST_TEMPLATES:
            return _error_list(context["errors"], context["error_class"])
        return super().render(template_name, context, request)


# One instance: the renderer keeps its template engine (a form given a class would
# build one, and load its templates again, per form). The forms that use it set it as
# their default_renderer (minyi.core.forms, the case step forms).
FAST_RENDERER = FastRenderer()


class DayInput(forms.DateInput):
    """`<input type="date">`, whose value the browser accepts only as YYYY-MM-DD.

    Django writes a date in the active language's input format (zh-hans: 2026/03/04),
    which the browser discards: an edit page showed the field empty, and saving it
    cleared an optional date or refused a required one."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None, format: str = "%Y-%m-%d") -> None:
        super().__init__(attrs, format)


class Textarea(forms.Textarea):
    """Every form's textarea (tests/core/test_text_limits.py checks none is Django's own).

    A browser counts a line break in a textarea as one character for `maxlength` but sends
    it as CR LF, two (the HTML standard's form submission), so a text that the page let be
    typed right up to its cap (minyi.core.text_limits) came back longer by one character a
    line and was refused by an amount nobody could see. The text is read with LF line
    breaks (a lone CR too, from old clients), before the field's cap is checked; what is
    stored has LF only, as the API's and the imports' text has."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        value = super().value_from_datadict(data, files, name)
        return normalize_newlines(value) if isinstance(value, str) else value
