"""The Django admin's search box is labelled by a magnifier image whose alt, "Search",
is written into Django's admin/search_form.html, not translated: a screen reader read
the box as "Search" on a Chinese page. minyi/templates/admin/search_form.html is
Django's template with that alt in Chinese, held to Django's own here so that it cannot
go stale when Django changes its template (then copy it again)."""

from __future__ import annotations

from pathlib import Path

import django
import pytest
from django.urls import reverse

from tests.core.helpers import client_for

OURS = Path(__file__).resolve().parents[2] / "minyi/templates/admin/search_form.html"
DJANGOS = Path(django.__file__).parent / "contrib/admin/templates/admin/search_form.html"


def test_our_search_form_is_djangos_with_a_chinese_alt() -> None:
    ours = OURS.read_text(encoding="utf-8").split("\n", 1)[1]  # after our comment line
    djangos = DJANGOS.read_text(encoding="utf-8")
    assert 'alt="Search"' in djangos, "Django's template changed: copy it again"
    assert ours == djangos.replace('alt="Search"', 'alt="搜索"')


@pytest.mark.django_db
def test_the_admin_search_box_is_labelled_in_chinese(admin_user) -> None:
    page = client_for(admin_user).get(reverse("admin:workdays_calendaryear_changelist"))
    html = page.content.decode()
    assert '<label for="searchbar"><img src="' in html
    assert 'alt="搜索"' in html and 'alt="Search"' not in html
