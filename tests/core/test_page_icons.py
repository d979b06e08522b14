"""Every page names its icon (an empty one). Without it the browser asks for
/favicon.ico on every first visit, and the log and the console fill with 404s that look
like a broken link on the page."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

TEMPLATES = Path(__file__).resolve().parents[2] / "minyi" / "templates"


def test_every_full_page_template_names_its_icon() -> None:
    missing = [
        str(path.relative_to(TEMPLATES))
        for path in sorted(TEMPLATES.rglob("*.html"))
        # The PDF documents' frame, read by WeasyPrint and never by a browser.
        if path.relative_to(TEMPLATES) != Path("documents/print_base.html")
        and "<!doctype html>" in (text := path.read_text(encoding="utf-8")).lower()
        and 'rel="icon"' not in text
    ]
    assert not missing, f'add <link rel="icon" href="data:,"> to: {missing}'


@pytest.mark.django_db
def test_the_admin_pages_name_their_icon_too() -> None:
    # Django's admin templates are not ours to edit; admin/base_site.html adds it.
    response = Client().get("/admin/login/")
    assert response.status_code == 200
    assert '<link rel="icon" href="data:,">' in response.content.decode()
