"""Django 6.1's blank choice "- Select an option -" has no Chinese in Django's catalogue:
every select without an empty_label of its own showed it in English."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.test import Client
from django.urls import reverse

from minyi.people.models import User
from minyi.studios.models import Studio


def test_a_model_choice_field_offers_its_blank_choice_in_chinese(db: None) -> None:
    field = forms.ModelChoiceField(queryset=Studio.objects.none())
    assert field.empty_label == "请选择"


@pytest.mark.django_db
def test_no_select_on_a_staff_page_speaks_english(world: Any) -> None:
    client = Client()
    client.force_login(User.objects.get(username="shatoujiao"))
    for name in ("duties:event_list", "people:liaison_create"):
        page = client.get(reverse(name)).content.decode()
        assert "Select an option" not in page, name
        assert '<option value="" selected>请选择</option>' in page, name
