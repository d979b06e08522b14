"""Django's own Chinese for two field errors every form can show, replaced with words a
resident understands (minyi/locale): its "too long" speaks of a "变量" (a programmer's
variable), and its "NUL character" message says "empty strings are not allowed", which
is not what went wrong."""

import json
from typing import Any

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpResponse


def _error(field: forms.Field, value: str) -> str:
    with pytest.raises(ValidationError) as caught:
        field.clean(value)
    return " ".join(caught.value.messages)


def test_too_long_says_how_many_characters_in_plain_words() -> None:
    message = _error(forms.CharField(max_length=5), "演示演示演示演示")
    assert message == "最多只能填 5 个字，现在是 8 个字，请删减后再提交。"


def test_a_nul_character_is_named_for_what_it_is() -> None:
    message = _error(forms.CharField(), "演示\x00")
    assert message == "内容里有无法保存的特殊字符（可能是从别处复制带来的），请删去后重新输入。"


def test_the_admin_date_pickers_name_their_links_in_chinese(rf: Any) -> None:
    """minyi/locale's djangojs.po: Django 6.1's date picker names its 今天 link "Today
    (…)" for a screen reader, untranslated in zh_Hans (see the admin's axe test,
    tests/browser/test_admin_accessibility.py)."""
    from django.views.i18n import JavaScriptCatalog

    view = JavaScriptCatalog.as_view(packages=["django.contrib.admin"])
    response = view(rf.get("/admin/jsi18n/"))
    assert isinstance(response, HttpResponse)
    script = response.content.decode()
    for text in ("今天（%(date)s）", "%(year)s年%(month)s%(day)s日"):
        assert json.dumps(text)[1:-1] in script or text in script, text
