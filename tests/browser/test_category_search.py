"""A large scope's category filter in a real browser: typing part of a category fills
the type-ahead with the categories used in scope that match, and reloads the list with
their cases (minyi.cases.forms: CATEGORY_LIMIT is lowered so that 盐田区's few
categories make a large scope)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from minyi.cases import forms
from tests.cases.helpers import register

pytestmark = pytest.mark.browser


def test_the_district_filters_by_a_category_typed_in(
    live_world: Any, page: Any, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(forms, "CATEGORY_LIMIT", 1)
    register(summary="城管的一件", category="城市管理")
    register(summary="环卫的一件", category="环境卫生")
    login(page, "yantian")
    page.goto("/cases/")
    expect(page.get_by_text("城管的一件")).to_be_visible()
    page.get_by_label("类别").press_sequentially("环境", delay=50)
    expect(page.locator("#id_category-suggestions option")).to_have_count(1)
    expect(page.locator("#id_category-suggestions option")).to_have_attribute("value", "环境卫生")
    # The list reloads on the typed text, which is not yet a category: nothing.
    expect(page.get_by_text("城管的一件")).to_have_count(0)
    page.get_by_label("类别").fill("环境卫生")
    expect(page.get_by_text("环卫的一件")).to_be_visible()
    expect(page.get_by_text("城管的一件")).to_have_count(0)
    assert "category=" in page.url
