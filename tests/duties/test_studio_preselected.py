"""A liaison of one studio finds it already chosen on the forms that ask for a studio
(the annual plan, an event, the bi-monthly report), instead of 请选择 in a list of one."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from minyi.studios.models import Studio
from tests.core.helpers import client_for, text_of

STUDIO = "沙头角社区党代表工作室"


def studio_select(page: str) -> str:
    match = re.search(r'<select name="studio".*?</select>', page, re.S)
    assert match is not None
    return match.group(0)


@pytest.mark.parametrize("url", ["duties:plan_create", "duties:event_create", "duties:report_list"])
def test_the_liaisons_only_studio_is_chosen(world, liaison, url) -> None:
    studio = Studio.objects.get(name=STUDIO)
    select = studio_select(text_of(client_for(liaison).get(reverse(url))))
    assert re.search(rf'<option value="{studio.pk}"[^>]*selected', select), select


def test_with_two_studios_nothing_is_chosen_for_them(world, street_official) -> None:
    studio = Studio.objects.get(name=STUDIO)
    Studio.objects.create(
        name="第二个工作室", kind=studio.kind, unit=studio.unit, host_organisation="演示党组织"
    )
    select = studio_select(text_of(client_for(street_official).get(reverse("duties:plan_create"))))
    assert "selected" not in select.replace('value="" selected', "")
