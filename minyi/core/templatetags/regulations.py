"""Citing the regulations on pages: `{% rule "SM 9" "SM 10" %}` for a fixed citation,
`{{ shortfall.rule|rule }}` for a code held in data, `{{ line|cite_codes }}` for free
text that may carry codes (minyi/core/regulations.py)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from minyi.core import regulations

register = template.Library()


@register.simple_tag(name="rule")
def rule_tag(*codes: str) -> SafeString:
    return regulations.cite_html(*codes)


@register.filter(name="rule")
def rule_filter(code: str) -> SafeString:
    return regulations.cite_html(code)


@register.filter(name="cite_codes")
def cite_codes(text: str) -> str:
    return regulations.cite_codes(text)
