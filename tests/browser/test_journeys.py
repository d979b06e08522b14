"""What people do with the studio pages, in a real browser: a liaison checks their
studio and prints its plaque, a street official arranges who works there, a phone
user reads the list, and a mistyped phone number is explained in Chinese."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from minyi.core.demo import SHATOUJIAO_STREET, YANTIAN
from minyi.org.models import OrgUnit
from minyi.people.models import Representative, RepresentativeCategory, RepresentativeLevel
from minyi.studios.models import Studio, StudioAssignment

pytestmark = pytest.mark.browser

SHATOUJIAO_STUDIO = "沙头角社区党代表工作室"
DAMEISHA_STUDIO = "大梅沙社区党代表工作室"
QIAODONG = "440308003003"  # 桥东社区, in 沙头角街道
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CJK_FONT = re.compile(r"Noto (Sans|Serif) CJK")


def screenshot(page: Any, path: Path) -> Path:
    page.screenshot(path=path, full_page=True)
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC), f"{path} is not a PNG"
    # A blank or unstyled page compresses to a few kB; a rendered one is far larger.
    assert len(data) > 20_000, f"{path} is only {len(data)} bytes"
    return path


def rendered_fonts(page: Any, selector: str) -> list[str]:
    """The fonts Chromium really drew the element's text with (not what CSS asked for),
    through the DevTools protocol."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument")["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        assert node, f"no element matches {selector}"
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    finally:
        cdp.detach()
    return [font["familyName"] for font in fonts]


def mark_document(page: Any) -> None:
    """Tags the current document; the tag survives htmx swaps but not a page load."""
    page.evaluate("window.__minyiNoReload = true")


def assert_not_reloaded(page: Any) -> None:
    assert page.evaluate("window.__minyiNoReload === true"), "the page was reloaded"


def test_liaison_checks_studio_and_prints_plaque(
    page: Any, live_world: dict[str, OrgUnit], login: Any, artifacts: Path
) -> None:
    login(page, "liaison")
    page.get_by_role("link", name=SHATOUJIAO_STUDIO).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(SHATOUJIAO_STUDIO)
    assignments = page.locator("#assignments")
    expect(assignments.get_by_role("heading", level=2)).to_have_text("进驻党代表（3）")
    for name in ("演示代表·陈明", "演示代表·林秀英", "演示代表·何建国"):
        expect(assignments.get_by_role("link", name=name)).to_be_visible()
    liaisons = page.locator("section", has=page.get_by_role("heading", name=re.compile("^联络员")))
    expect(liaisons).to_contain_text("演示联络员·林芳（专职联络员）")
    expect(liaisons).to_contain_text("演示联络员·张伟（兼职联络员）")
    expect(liaisons).to_contain_text("演示联络员·李娜（兼职联络员）")
    hours = page.locator("dl.facts dt", has_text="开放时间").locator(
        "xpath=following-sibling::dd[1]"
    )
    expect(hours).to_have_text("每周三 9:00—12:00；每两月第一个周六 9:00—12:00 党代表接待")
    # Meets SM 5 and SM 11: no warning block, the all-clear instead.
    expect(page.locator(".warnings")).to_have_count(0)
    expect(page.get_by_text("场所、设施和联络员均符合办法要求")).to_be_visible()
    expect(page.get_by_text("《工作室管理办法》第十一条")).to_have_count(0)
    screenshot(page, artifacts / "studio-shatoujiao.png")

    page.get_by_role("link", name="打印公示牌").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("党代表工作室")
    sheet = page.locator(".plaque-sheet")
    expect(sheet).to_contain_text(SHATOUJIAO_STUDIO)
    expect(sheet.locator(".slogan")).to_contain_text("知党情")
    for name, phone in [
        ("演示代表·陈明", "13800000010"),
        ("演示代表·林秀英", "13800000011"),
        ("演示代表·何建国", "13800000012"),
    ]:
        card = sheet.locator(".rep", has_text=name)
        expect(card).to_contain_text(f"联系电话：{phone}")
    expect(sheet).to_contain_text("演示联络员·林芳")
    expect(sheet).to_contain_text("每周三 9:00—12:00")

    # The title must be drawn with a CJK font, not boxes ("tofu") or a fallback.
    page.evaluate("document.fonts.ready")
    assert page.evaluate("""document.fonts.check('16px "Noto Sans CJK SC"', '党代表工作室')""")
    fonts = rendered_fonts(page, ".plaque-title")
    assert fonts, "Chromium reports no font for the plaque title"
    assert all(CJK_FONT.match(name) for name in fonts), (
        f"标题未使用中文字体渲染：{fonts}。请安装：apt-get install -y fonts-noto-cjk"
    )
    screenshot(page, artifacts / "plaque-shatoujiao.png")


def test_plaque_prints_to_pdf_with_chinese_text(
    page: Any, live_world: dict[str, OrgUnit], login: Any, artifacts: Path
) -> None:
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        message = "需要 pdftotext。请安装：apt-get install -y poppler-utils"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    studio = Studio.objects.get(name=SHATOUJIAO_STUDIO)
    login(page, "liaison")
    page.goto(f"/studios/{studio.pk}/plaque/")
    page.emulate_media(media="print")
    pdf = artifacts / "plaque-shatoujiao.pdf"
    page.pdf(path=pdf, format="A4", print_background=True)

    text = subprocess.run(
        [pdftotext, "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    # Text extracts as Chinese only if the glyphs were embedded with their Unicode.
    compact = re.sub(r"\s+", "", text)
    assert "党代表工作室" in compact
    assert "知党情听民意促和谐" in compact
    assert "联系电话：13800000010" in compact
    # The screen-only buttons and the navigation stay off paper.
    assert "返回工作室" not in compact
    assert "组织架构" not in compact


def test_street_official_arranges_representatives(
    new_page: Any, live_world: dict[str, OrgUnit], login: Any, artifacts: Path
) -> None:
    newcomer = Representative.objects.create(
        name="演示代表·桥东新人",
        level=RepresentativeLevel.DISTRICT,
        category=RepresentativeCategory.DISTRICT,
        unit=live_world[YANTIAN],
        employer="桥东社区工作站（演示）",
        position="站长",
        phone="+8613800000050",
    )
    newcomer.linked_communities.set([live_world[QIAODONG]])
    studio = Studio.objects.get(name=SHATOUJIAO_STUDIO)
    assert live_world[QIAODONG].street_id == live_world[SHATOUJIAO_STREET].pk

    page = new_page()
    login(page, "shatoujiao")
    page.goto("/studios/")
    page.get_by_role("link", name=SHATOUJIAO_STUDIO).click()
    assignments = page.locator("#assignments")
    expect(assignments.get_by_role("heading", level=2)).to_have_text("进驻党代表（3）")
    mark_document(page)

    # Arrange: the htmx form swaps the list in place.
    picker = assignments.get_by_label("安排党代表进驻")
    expect(picker.locator("option", has_text="演示代表·陈明")).to_have_count(0)
    picker.select_option(label="演示代表·桥东新人")
    with page.expect_response(re.compile(r"/assignments/$")) as answer:
        assignments.get_by_role("button", name="安排进驻").click()
    assert answer.value.status == 200
    assert answer.value.request.headers.get("hx-request") == "true"
    expect(assignments.get_by_role("heading", level=2)).to_have_text("进驻党代表（4）")
    expect(assignments.get_by_role("link", name="演示代表·桥东新人")).to_be_visible()
    assert_not_reloaded(page)
    assert StudioAssignment.objects.filter(
        studio=studio, representative=newcomer, active=True
    ).exists()
    # Once arranged, the newcomer is no longer offered.
    expect(picker.locator("option", has_text="演示代表·桥东新人")).to_have_count(0)

    # Remove one: confirm the dialog, the row goes, still without a reload.
    dialogs: list[str] = []

    def accept(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    row = assignments.locator("tr", has=page.get_by_role("link", name="演示代表·何建国"))
    row.get_by_role("button", name="移出").click()
    expect(assignments.get_by_role("heading", level=2)).to_have_text("进驻党代表（3）")
    working = assignments.locator("#assignments-working")
    expect(working.get_by_role("link", name="演示代表·何建国")).to_have_count(0)
    # They are listed among those who have left, with the day they left.
    ended = assignments.locator("#assignments-ended")
    expect(ended.get_by_role("heading")).to_have_text("曾进驻的党代表（1）")
    left = ended.locator("tr", has_text="演示代表·何建国")
    expect(left).to_contain_text("已离开")
    period = StudioAssignment.objects.get(studio=studio, representative__name="演示代表·何建国")
    assert not period.active
    # The day they left is the server's day when 移出 was clicked: today's, unless the
    # run crossed midnight since (docs/decisions.md "Tests and the clock").
    assert period.until is not None
    assert period.until in {timezone.localdate(), timezone.localdate() - timedelta(days=1)}
    expect(left).to_contain_text(period.until.isoformat())
    assert dialogs == ["确定让 演示代表·何建国 不再进驻本工作室？"]
    assert_not_reloaded(page)
    screenshot(page, artifacts / "studio-shatoujiao-arranged.png")

    # 梅沙's official sees what 大梅沙's studio still lacks.
    other = new_page()
    login(other, "meisha")
    other.get_by_role("link", name=DAMEISHA_STUDIO).first.click()
    expect(other.get_by_role("heading", level=1)).to_have_text(DAMEISHA_STUDIO)
    warnings = other.locator(".warnings")
    expect(warnings.get_by_role("heading")).to_contain_text("尚有")
    expect(warnings).to_contain_text(re.compile(r"面积 15(\.0)? 平方米，不足 20 平方米"))
    expect(warnings).to_contain_text("没有专职联络员")
    expect(warnings).to_contain_text("《工作室管理办法》第十一条")
    screenshot(other, artifacts / "studio-dameisha-warnings.png")


def test_studio_list_fits_a_phone(
    new_page: Any, live_world: dict[str, OrgUnit], login: Any, artifacts: Path
) -> None:
    width = 360
    page = new_page(
        viewport={"width": width, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    login(page, "yantian")
    page.goto("/studios/")
    expect(page.get_by_role("heading", level=1)).to_have_text("党代表工作室")
    expect(page.get_by_role("link", name=SHATOUJIAO_STUDIO)).to_be_visible()
    expect(page.get_by_role("link", name=DAMEISHA_STUDIO)).to_be_visible()

    overflow = page.evaluate(
        "[document.documentElement.scrollWidth, document.body.scrollWidth, innerWidth]"
    )
    assert overflow[0] <= width + 2 and overflow[1] <= width + 2, overflow
    # On a phone the main menu folds behind 菜单 (tests/browser/test_staff_on_phones.py).
    expect(page.get_by_role("navigation", name="主导航")).to_be_hidden()
    page.locator("header summary", has_text="菜单").tap()
    nav = page.get_by_role("navigation", name="主导航")
    for name in ("首页", "工作室", "党代表", "联络员", "组织架构", "承办单位"):
        expect(nav.get_by_role("link", name=name, exact=True)).to_have_count(1)
    links = nav.get_by_role("link")
    for i in range(links.count()):
        link = links.nth(i)
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, (link.inner_text(), box)
        assert box["height"] >= 40, (link.inner_text(), box)  # a finger-sized target
    screenshot(page, artifacts / "studio-list-phone.png")

    nav.get_by_role("link", name="党代表").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("党代表")


def test_bad_phone_is_explained_in_chinese(
    page: Any, live_world: dict[str, OrgUnit], login: Any, artifacts: Path
) -> None:
    login(page, "shatoujiao")
    page.goto("/people/representatives/")
    page.get_by_role("link", name="新增党代表").click()
    page.get_by_label("姓名").fill("演示代表·错号码")
    page.get_by_label("工作单位").fill("沙头角口岸（演示）")
    page.get_by_label("职务").fill("科长")
    page.get_by_label("联系电话").fill("12345")
    page.get_by_role("button", name="保存").click()

    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("请修改以下")
    link = summary.get_by_role("link", name=re.compile("联系电话"))
    expect(link).to_contain_text("“12345”不是有效的电话号码")
    expect(link).to_have_attribute("href", "#id_phone")
    # The summary comes first, above every field.
    first_field = page.locator("form .form-row").first
    assert summary.bounding_box()["y"] < first_field.bounding_box()["y"]

    # What was typed is still there.
    expect(page.get_by_label("姓名")).to_have_value("演示代表·错号码")
    expect(page.get_by_label("工作单位")).to_have_value("沙头角口岸（演示）")
    expect(page.get_by_label("职务")).to_have_value("科长")
    expect(page.get_by_label("联系电话")).to_have_value("12345")
    assert not Representative.objects.filter(name="演示代表·错号码").exists()
    screenshot(page, artifacts / "representative-bad-phone.png")

    # The summary's link leads to the field.
    link.click()
    assert page.evaluate("location.hash") == "#id_phone"
    expect(page.locator("#id_phone")).to_be_in_viewport()
