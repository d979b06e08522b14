"""minyi.core.markup.escape answers exactly as Django's escape, and is the one the
template engine's autoescaping reaches."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.template import Context, Template
from django.utils import html as django_html
from django.utils.functional import Promise
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy, override

from minyi.core import markup

CORPUS = [
    "",
    "王先生",
    "<script>alert('x')</script>",
    'a "quoted" & <b>bold</b>',
    "138****1234",
    "多行\n文本\t制表",
    "&amp; already escaped",
    mark_safe("<b>safe</b>"),  # escape() escapes a safe string too (conditional_escape does not)
    SafeString("'"),
    0,
    42,
    Decimal("3.50"),
    date(2026, 7, 1),
    None,
    True,
    ["列表", "<x>"],
]


def test_same_text_and_type_as_django_for_every_value() -> None:
    for value in CORPUS:
        ours, theirs = markup.escape(value), markup.django_escape(value)
        assert ours == theirs, value
        assert type(ours) is type(theirs) is SafeString, value
        assert markup.escape_text(value) == theirs, value


def test_a_lazy_string_stays_lazy_and_follows_the_language() -> None:
    lazy = gettext_lazy("Enter a valid date.")
    escaped = markup.escape(lazy)
    assert isinstance(escaped, Promise)
    with override("zh-hans"):
        assert str(escaped) == str(markup.django_escape(lazy)) == "输入一个有效的日期。"


def test_installed_for_autoescaping_and_format_html() -> None:
    assert django_html.escape is markup.escape
    rendered = Template("{{ a }}|{{ b }}|{{ c|safe }}").render(
        Context({"a": "<i>'x'</i>", "b": mark_safe("<i>ok</i>"), "c": "<u>"})
    )
    assert rendered == "&lt;i&gt;&#x27;x&#x27;&lt;/i&gt;|<i>ok</i>|<u>"
    assert django_html.format_html("<p>{}</p>", "a&b") == "<p>a&amp;b</p>"
