"""A liaison opens a registered case in Chromium, clicks 打印登记表 and gets the
three-copy registration form as a PDF download, which pdftotext reads back: three
pages, one per copy, with the case's number and the reporter in full."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from minyi.cases.models import PersonalDataView
from tests.cases.helpers import register
from tests.documents.pdftools import compact, keep_first_page_png, pages_text

pytestmark = pytest.mark.browser

COPIES = ["反映人留存", "工作室留存", "街道组织部门留存"]


def test_the_liaison_downloads_the_three_copy_form(
    live_world: Any, new_page: Any, login: Any, tmp_path: Path
) -> None:
    case = register()
    page = new_page(accept_downloads=True)
    login(page, "liaison")
    page.goto(case.get_absolute_url())
    # WeasyPrint lays out the three copies while the browser waits: on a busy machine,
    # or under libfaketime, longer than the 10 s default.
    with page.expect_download(timeout=30_000) as info:
        # The PDF is served inline (it opens in the viewer); Alt+click is the
        # browser's own "save the link" gesture.
        page.get_by_role("link", name="打印登记表").click(modifiers=["Alt"])
    download = info.value
    target = tmp_path / "form.pdf"
    download.save_as(target)
    data = target.read_bytes()
    assert data.startswith(b"%PDF-")

    pages = pages_text(data, tmp_path)
    assert len(pages) == 3
    for text, copy in zip(pages, COPIES, strict=True):
        flat = compact(text)
        assert f"本联：{copy}" in flat
        assert case.number in flat
        assert "演示居民·王大爷" in flat
        assert "13800005678" in flat
    keep_first_page_png(data, "browser_case_form", tmp_path)
    assert PersonalDataView.objects.filter(case=case, purpose="打印登记表").count() == 1
