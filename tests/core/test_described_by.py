"""Django points a field with help text at `<id>_helptext` (aria-describedby); the help
must carry that id, or a screen reader never reads it (the form templates wrote `_help`
or no id at all)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from minyi.people.models import User
from tests.online.helpers import studio

pytestmark = pytest.mark.django_db


def _dangling(page: str) -> list[str]:
    ids = set(re.findall(r'\sid="([^"]+)"', page))
    described = [
        target
        for value in re.findall(r'aria-describedby="([^"]*)"', page)
        for target in value.split()
    ]
    assert described, "the page should describe some field by its help"
    return [target for target in described if target not in ids]


def test_the_online_report_form_points_at_its_help(world: Any) -> None:
    page = Client().get(reverse("online:report_form", args=[studio().pk])).content.decode()
    assert not _dangling(page)


def test_the_online_search_points_at_its_help(world: Any) -> None:
    assert not _dangling(Client().get(reverse("online:find")).content.decode())


def test_a_staff_form_points_at_its_help(world: Any) -> None:
    client = Client()
    client.force_login(User.objects.get(username="liaison"))
    page = client.get(reverse("duties:visit_create")).content.decode()
    assert not _dangling(page)


def test_the_case_registration_form_points_at_its_help(world: Any) -> None:
    client = Client()
    client.force_login(User.objects.get(username="liaison"))
    assert not _dangling(client.get(reverse("cases:create")).content.decode())


def test_the_studio_assignment_form_points_at_its_help(world: Any) -> None:
    client = Client()
    client.force_login(User.objects.get(username="shatoujiao"))
    page = client.get(reverse("studios:detail", args=[studio().pk])).content.decode()
    assert "进驻日期" in page
    assert not _dangling(page)
