"""FastSelect writes the same <select> as Django's template-rendered one, and
FastRenderer the same plain inputs and textareas."""

from __future__ import annotations

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.test.html import parse_html
from django.utils.safestring import mark_safe

from minyi.cases.forms import StepForm
from minyi.core.forms import FilterForm, ScopedModelForm
from minyi.core.widgets import FAST_RENDERER, INPUT_TEMPLATES, FastRenderer, FastSelect
from minyi.org.models import OrgUnit

CHOICES = [
    ("", "全部"),
    ("a&b", '甲 <乙> & "丙"'),
    ("组", [("1", "一"), ("2", "二")]),
    (3, "三"),
]


@pytest.mark.parametrize("value", [None, "", "a&b", "2", 3, ["1", "3"]])
@pytest.mark.parametrize(
    "attrs", [None, {"id": "id_x", "aria-describedby": "h", "required": True, "disabled": False}]
)
def test_the_markup_is_djangos(value, attrs):
    django = forms.Select(choices=CHOICES).render("x", value, attrs=attrs)
    fast = FastSelect(choices=CHOICES).render("x", value, attrs=attrs)
    assert parse_html(fast) == parse_html(django)
    assert "<乙>" not in fast  # escaped, as Django escapes it


# FastSelect writes each option itself: the corners of Django's template it must match.
ODD_CHOICES = [
    ("s", mark_safe("<b>粗</b>")),  # a label marked safe is not escaped again
    ("", [("4", "四"), (5, "五")]),  # a group without a name: no <optgroup>
    (None, "空"),  # None is written as ""
    ("4", "四（重复）"),  # only the first matching option is selected
]


@pytest.mark.parametrize("value", [None, "", "s", "4", 5])
def test_the_markup_is_djangos_in_the_corners(value):
    django = forms.Select(choices=ODD_CHOICES).render("x", value)
    fast = FastSelect(choices=ODD_CHOICES).render("x", value)
    assert parse_html(fast) == parse_html(django)
    assert "<b>粗</b>" in fast


class _Form(FilterForm):
    unit = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), empty_label="全部")
    kind = forms.ChoiceField(choices=[("", "全部")])
    many = forms.MultipleChoiceField(choices=[("1", "一")])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = OrgUnit.objects.order_by("pk")[:3]
        self.fields["kind"].choices = [("", "全部"), ("k", "甲")]


@pytest.mark.django_db
def test_filter_forms_use_it_and_choices_set_afterwards_reach_it(world):
    form = _Form(data={"unit": str(OrgUnit.objects.order_by("pk").first().pk)}, user=None)
    assert isinstance(form.fields["unit"].widget, FastSelect)
    assert isinstance(form.fields["kind"].widget, FastSelect)
    assert not isinstance(form.fields["many"].widget, FastSelect)  # multiple stays Django's
    html = str(form["unit"])
    units = list(OrgUnit.objects.order_by("pk")[:3])
    assert all(f">{u}</option>" in html for u in units)
    assert f'<option value="{units[0].pk}" selected>' in html
    assert '<option value="k">甲</option>' in str(form["kind"])
    # The same bound field through Django's own widget: identical markup, aria included.
    field = form.fields["unit"]
    field.widget = forms.Select(choices=field.choices)
    assert parse_html(html) == parse_html(str(field.get_bound_field(form, "unit")))


# FastRenderer writes the plain inputs and textareas itself: Django's templates for them.
class _Object:
    def __str__(self) -> str:
        return "对象 & <值>"


INPUT_WIDGETS = [
    forms.TextInput(attrs={"placeholder": '输入 "名称" & <类别>', "inputmode": "tel"}),
    forms.NumberInput(attrs={"min": 1, "max": 120}),
    forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    forms.EmailInput(),
    forms.HiddenInput(),
    forms.PasswordInput(render_value=True),
    forms.CheckboxInput(),
    forms.FileInput(attrs={"accept": ".pdf"}),
    forms.Textarea(attrs={"rows": 3}),
    forms.SearchInput(),
]
VALUES = [None, "", '甲 <乙> & "丙"', mark_safe("<b>粗</b>"), 0, 5, "2026-03-04", True, _Object()]
ATTRS = [
    None,
    {"id": "id_x", "aria-describedby": "h", "required": True, "disabled": False},
    {"id": mark_safe("id_<x>"), "data-n": 0, "data-none": None, "hx-vals": '{"a": 1}'},
]


@pytest.mark.parametrize("widget", INPUT_WIDGETS, ids=lambda w: type(w).__name__)
@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("attrs", ATTRS)
def test_plain_inputs_are_written_as_djangos_templates_write_them(widget, value, attrs):
    django = widget.render("x&y", value, attrs=attrs, renderer=DjangoTemplates())
    fast = widget.render("x&y", value, attrs=attrs, renderer=FastRenderer())
    assert fast == django


def test_the_input_templates_are_only_includes_of_input_html():
    engine = DjangoTemplates().engine
    for name in INPUT_TEMPLATES - {"django/forms/widgets/input.html"}:
        source = engine.get_template(name).template.source.strip()
        assert source == '{% include "django/forms/widgets/input.html" %}', name


def test_the_projects_form_bases_render_through_it():
    assert isinstance(FilterForm(user=None).renderer, FastRenderer)
    assert ScopedModelForm.default_renderer is StepForm.default_renderer is FAST_RENDERER


# … and radio buttons, checkbox lists and error lists.
CHOICE_WIDGETS = [
    forms.RadioSelect(choices=CHOICES),
    forms.RadioSelect(choices=ODD_CHOICES, attrs={"class": "inline"}),
    forms.CheckboxSelectMultiple(choices=CHOICES),
]


@pytest.mark.parametrize("widget", CHOICE_WIDGETS, ids=lambda w: type(w).__name__)
@pytest.mark.parametrize("value", [None, "", "a&b", "2", 3, ["1", "3"], "s"])
@pytest.mark.parametrize("attrs", ATTRS)
def test_choice_inputs_are_written_as_djangos_templates_write_them(widget, value, attrs):
    django = widget.render("x&y", value, attrs=attrs, renderer=DjangoTemplates())
    fast = widget.render("x&y", value, attrs=attrs, renderer=FastRenderer())
    assert fast == django


def test_the_choice_and_error_templates_are_only_includes():
    engine = DjangoTemplates().engine
    includes = {
        "django/forms/widgets/radio.html": "django/forms/widgets/multiple_input.html",
        "django/forms/widgets/checkbox_select.html": "django/forms/widgets/multiple_input.html",
        "django/forms/widgets/radio_option.html": "django/forms/widgets/input_option.html",
        "django/forms/widgets/checkbox_option.html": "django/forms/widgets/input_option.html",
        "django/forms/errors/list/default.html": "django/forms/errors/list/ul.html",
    }
    for name, included in includes.items():
        source = engine.get_template(name).template.source.strip()
        assert source == f'{{% include "{included}" %}}', name


class _Errors(forms.Form):
    name = forms.CharField(label="姓名", max_length=3)
    age = forms.IntegerField(label="年龄", error_messages={"invalid": "年龄请填写<整数>。"})
    kind = forms.ChoiceField(choices=[("a", "甲")], widget=forms.RadioSelect)


@pytest.mark.parametrize("data", [{}, {"name": "太长的名字", "age": "x", "kind": "b"}])
def test_error_lists_are_written_as_djangos_templates_write_them(data):
    django = _Errors(data=data, renderer=DjangoTemplates())
    fast = _Errors(data=data, renderer=FastRenderer())
    django.add_error(None, mark_safe("<b>整体</b>的错误"))
    fast.add_error(None, mark_safe("<b>整体</b>的错误"))
    for name in ("name", "age", "kind"):
        assert str(fast[name].errors) == str(django[name].errors), name
        assert str(fast[name]) == str(django[name]), name
    assert str(fast.non_field_errors()) == str(django.non_field_errors())
    assert str(fast.errors) == str(django.errors)
