"""A large scope's studio search in a real browser: typing part of a name fills the
type-ahead with the studios in scope that match, and reloads the list with their
cases (minyi.cases.forms: SELECT_LIMIT is lowered so that 盐田区's two studios make a
large scope)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from minyi.cases import forms, services
from minyi.people.models import Representative, User
from minyi.studios.models import Studio
from tests.cases.helpers import register, reporter_data

pytestmark = pytest.mark.browser

MEISHA_STUDIO = "大梅沙社区党代表工作室"


def test_the_district_finds_a_studio_by_part_of_its_name(
    live_world: Any, page: Any, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(forms, "SELECT_LIMIT", 1)
    register(summary="沙头角的一件")
    studio = Studio.objects.get(name=MEISHA_STUDIO)
    services.case_register(
        actor=User.objects.get(username="yantian"),
        studio=studio,
        representative=Representative.objects.get(assignments__studio=studio),
        data=reporter_data(summary="大梅沙的一件"),
    )
    login(page, "yantian")
    page.goto("/cases/")
    expect(page.get_by_text("沙头角的一件")).to_be_visible()
    page.get_by_label("工作室名称").press_sequentially("梅沙", delay=50)
    expect(page.locator("#id_studio_name-suggestions option")).to_have_count(1)
    expect(page.locator("#id_studio_name-suggestions option")).to_have_attribute(
        "value", MEISHA_STUDIO
    )
    expect(page.get_by_text("沙头角的一件")).to_have_count(0)
    expect(page.get_by_text("大梅沙的一件")).to_be_visible()
    assert "studio_name=" in page.url
