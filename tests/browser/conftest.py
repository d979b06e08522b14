"""Browser tests: a real Chromium, driven through Playwright, against pytest-django's
live_server.

Chromium comes from the system (Debian's /usr/bin/chromium), never from
`playwright install`, which downloads browsers and fails on a closed network. When
it is missing the tests are skipped on a developer's machine and fail under CI
(`CI` set to any non-empty value), both with the command that installs it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import connections
from playwright.sync_api import expect

from minyi.core.demo import DEMO_PASSWORD, build_demo
from minyi.org.models import OrgUnit
from minyi.workdays.models import CalendarYear, SpecialDay
from minyi.workdays.seeding import seed_from_package
from tests.personas import build_mini_tree

CHROMIUM = Path(os.environ.get("MINYI_CHROMIUM", "/usr/bin/chromium"))
INSTALL_HINT = "apt-get install -y chromium fonts-noto-cjk"
# Without the background-networking flags Chromium keeps trying to reach Google's
# services, which on a closed network shows up as hangs and spurious failures.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
DESKTOP = {"width": 1280, "height": 900}

# How long an action or an assertion waits for the page. CI runs two test workers, each
# with its Chromium and live server, beside PostgreSQL on two cores, and a wait of 10 s
# (5 s for `expect`) has run out there on a page that was only slow (a CI run failed
# so). A page that never comes still fails; it takes longer to say so.
ACTION_TIMEOUT_MS = 30_000
expect.set_options(timeout=15_000)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    # Keep each phase's report on the test item, so `page` can tell a failed test
    # from a passing one at teardown and leave a screenshot of the failure behind.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"浏览器测试需要 Chromium（{CHROMIUM} 不存在）。请安装：{INSTALL_HINT}"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an asyncio event loop in this (the main) thread for as
    # long as it is started, so Django sees a "running event loop" and refuses every
    # ORM call made from the test bodies and fixtures (SynchronousOnlyOperation). The
    # calls are not really async: Playwright only switches greenlets while it waits
    # for the browser, never in the middle of a query. So allow them, for exactly as
    # long as Playwright runs. The live server answers from its own thread, without
    # a loop, and is unaffected.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
    finally:
        # Django keeps its connections in a context-aware local, and the running loop
        # gives the main thread another context: every test that touches the database
        # while Playwright runs does so on a second connection. Close it here, while
        # it is still the one we see; left open (PostgreSQL), it keeps the test
        # database busy and pytest-django cannot drop it at the end of the session.
        connections.close_all()
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(
    browser: Any, live_server: Any, artifacts: Path, request: pytest.FixtureRequest
) -> Iterator[Any]:
    """Opens pages, each in its own browser context (own cookies), on the live server.
    A failed test leaves a screenshot of each of its pages in test-artifacts/browser/."""
    contexts: list[Any] = []

    def open_page(**options: Any) -> Any:
        options.setdefault("viewport", DESKTOP)
        context = browser.new_context(
            base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai", **options
        )
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page

    report = getattr(request.node, "report_call", None)
    for n, context in enumerate(contexts):
        if report is not None and report.failed:
            for m, page in enumerate(context.pages):
                page.screenshot(
                    path=artifacts / f"FAILED-{request.node.name}-{n}-{m}.png", full_page=True
                )
        context.close()


@pytest.fixture
def page(new_page: Any) -> Any:
    return new_page()


@pytest.fixture
def live_world(transactional_db: None, live_server: Any) -> dict[str, OrgUnit]:
    """`world` for the live server. The server answers from another thread, on its
    own database connection, so the data must really be committed: the `db`
    fixture's rolled-back transaction would hide it. transactional_db commits and
    flushes the tables after each test instead.

    The flush also empties the working-day calendar that the data migration filled,
    so it is seeded again here, as every `db` test finds it (tests/workdays)."""
    seed_from_package(CalendarYear, SpecialDay)
    units = build_mini_tree()
    build_demo()
    return units


@pytest.fixture
def login() -> Any:
    """Logs a page in through the real login form as one of the demo accounts."""

    def log_in(page: Any, username: str) -> None:
        page.goto("/accounts/login/")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(lambda url: urlsplit(url).path == "/")
        page.get_by_role("heading", name="您好", exact=False).wait_for()

    return log_in
