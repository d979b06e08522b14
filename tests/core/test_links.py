"""minyi.core.links.pk_url gives what reverse() gives, under any script prefix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse, set_script_prefix

from minyi.core.links import pk_url, pk_urls

ROOT = Path(__file__).resolve().parents[2]


def _names_used() -> set[str]:
    """Every name a model's get_absolute_url hands to pk_url."""
    found = set()
    for path in (ROOT / "minyi").rglob("models.py"):
        found.update(re.findall(r'pk_url\("([a-z_]+:[a-z_]+)", self\.pk\)', path.read_text()))
    return found


def test_every_model_link_is_the_reversed_address() -> None:
    names = _names_used()
    assert {"cases:detail", "studios:detail", "people:representative_detail"} <= names
    for name in sorted(names):
        for pk in (1, 7, 42, 2_147_483_646):
            assert pk_url(name, pk) == pk_urls(name)(pk) == reverse(name, args=[pk]), name


def test_a_script_prefix_is_honoured() -> None:
    try:
        set_script_prefix("/minyi/")
        assert pk_url("studios:detail", 5) == reverse("studios:detail", args=[5])
        assert pk_url("studios:detail", 5).startswith("/minyi/")
    finally:
        set_script_prefix("/")
    assert pk_url("studios:detail", 5) == reverse("studios:detail", args=[5])


def test_a_missing_key_is_an_error_not_a_wrong_address() -> None:
    with pytest.raises(TypeError):
        pk_url("studios:detail", None)
    with pytest.raises(ValueError):
        pk_url("studios:detail", "5/../../admin")
