"""field_of and label_choices (minyi.core.forms): a form's field narrowed to the kind it is
declared, so its choices can be set with the type checker's help, and refused loudly when
the form declares another kind."""

from __future__ import annotations

import pytest
from django import forms
from django.contrib.auth.models import Group

from minyi.core.forms import field_of, label_choices


class PickForm(forms.Form):
    group = forms.ModelChoiceField(queryset=Group.objects.none())
    colour = forms.ChoiceField(choices=[("red", "红")])
    note = forms.CharField()


def test_it_returns_the_field_itself() -> None:
    form = PickForm()
    assert field_of(form, "group", forms.ModelChoiceField) is form.fields["group"]
    # A ModelChoiceField is a ChoiceField too.
    assert field_of(form, "group", forms.ChoiceField) is form.fields["group"]


def test_it_refuses_a_field_of_another_kind() -> None:
    with pytest.raises(TypeError, match=r"PickForm\.note is a CharField"):
        field_of(PickForm(), "note", forms.ChoiceField)
    with pytest.raises(TypeError, match=r"PickForm\.colour is a ChoiceField"):
        field_of(PickForm(), "colour", forms.ModelChoiceField)


def test_label_choices_names_each_object_of_that_field_only() -> None:
    form, other = PickForm(), PickForm()
    label_choices(field_of(form, "group", forms.ModelChoiceField), lambda g: f"组：{g.name}")
    group = Group(name="甲")
    assert field_of(form, "group", forms.ModelChoiceField).label_from_instance(group) == "组：甲"
    assert field_of(other, "group", forms.ModelChoiceField).label_from_instance(group) == "甲"
