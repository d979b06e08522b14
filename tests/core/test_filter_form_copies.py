"""FilterForm's forms share their fields' lists of choices (minyi.core.forms): one
form's choices never leak into another's or into the class's."""

from __future__ import annotations

from django import forms

from minyi.core.forms import FilterForm, field_of
from tests.core.helpers import choices_of


class ColourForm(FilterForm):
    colour = forms.ChoiceField(choices=[("", "全部"), ("red", "红"), ("blue", "蓝")])


def test_choices_are_shared_and_fields_are_not() -> None:
    one, two = ColourForm(user=None), ColourForm(user=None)
    assert one.fields["colour"] is not two.fields["colour"]
    assert one.fields["colour"].widget is not two.fields["colour"].widget
    assert choices_of(one.fields["colour"]) is choices_of(two.fields["colour"])


def test_a_form_that_offers_other_choices_changes_only_itself() -> None:
    one = ColourForm(user=None)
    field_of(one, "colour", forms.ChoiceField).choices = [("", "全部"), ("green", "绿")]
    one.fields["colour"].required = True
    two = ColourForm({"colour": "red"}, user=None)
    assert [value for value, _ in choices_of(two.fields["colour"])] == ["", "red", "blue"]
    assert two.is_valid() and two.cleaned_data["colour"] == "red"
    assert [value for value, _ in choices_of(ColourForm.base_fields["colour"])] == [
        "",
        "red",
        "blue",
    ]
    assert not ColourForm({"colour": "green"}, user=None).is_valid()
    assert 'value="green"' in str(one["colour"]) and 'value="green"' not in str(two["colour"])
    assert ColourForm(user=None).fields["colour"].required is False
