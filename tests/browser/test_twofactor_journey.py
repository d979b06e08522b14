"""Two-factor login in a real browser: a street official whose role the city requires to
use a second factor enrols an authenticator from the key on the page, signs out, signs
in with the password and is asked for the code; a wrong code is refused in Chinese and
lets nobody in, the right one does."""

from __future__ import annotations

from base64 import b32decode
from typing import Any
from urllib.parse import urlsplit

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from minyi.core.demo import DEMO_PASSWORD
from minyi.org.models import OrgUnit
from minyi.people.models import Role
from minyi.twofactor.models import RequiredRole
from tests.security.test_second_factor import _code, _wrong

pytestmark = pytest.mark.browser

WRONG_CODE = "动态口令不正确或已过期"


def path_of(page: Any) -> str:
    return urlsplit(page.url).path


def sign_in_with_password(page: Any, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_an_official_enrols_then_signs_in_with_a_code(
    page: Any, live_world: dict[str, OrgUnit]
) -> None:
    RequiredRole.objects.create(role=Role.STREET_OFFICIAL)

    # First sign-in: held at enrolment until an authenticator is bound.
    sign_in_with_password(page, "shatoujiao")
    page.wait_for_url(lambda url: urlsplit(url).path == "/security/enrol/")
    expect(page.get_by_role("heading", name="绑定动态口令")).to_be_visible()
    expect(page.get_by_role("img", name="动态口令绑定二维码")).to_be_visible()
    secret = page.locator("code.secret").inner_text().strip()
    device = TOTPDevice.objects.get(user__username="shatoujiao", confirmed=False)
    assert b32decode(secret) == device.bin_key  # the key typed by hand is the QR code's
    # What the person's authenticator app shows, from the key on the page alone.
    page.get_by_label("动态口令").fill(f"{totp(b32decode(secret)):06d}")
    page.get_by_role("button", name="完成绑定").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/")
    expect(page.get_by_role("heading", name="您好", exact=False)).to_be_visible()
    expect(page.get_by_text("动态口令已绑定")).to_be_visible()
    device.refresh_from_db()
    assert device.confirmed

    page.get_by_role("button", name="退出").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/accounts/login/")

    # Second sign-in: the password alone is not enough.
    sign_in_with_password(page, "shatoujiao")
    page.wait_for_url(lambda url: urlsplit(url).path == "/security/verify/")
    expect(page.get_by_role("heading", name="输入动态口令")).to_be_visible()

    page.get_by_label("动态口令").fill(_wrong(device))
    page.get_by_role("button", name="验证").click()
    expect(page.get_by_role("alert")).to_contain_text(WRONG_CODE)
    assert path_of(page) == "/security/verify/"
    page.goto("/cases/")  # no way round the code step
    assert path_of(page) == "/security/verify/"
    expect(page.get_by_role("heading", name="您好", exact=False)).to_have_count(0)

    # django-otp makes the next try wait after a failure; let it pass, as the
    # non-browser tests do. The code of the next time step: the current one was
    # spent on enrolment and django-otp refuses a code twice.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    page.get_by_label("动态口令").fill(_code(device, drift=1))
    page.get_by_role("button", name="验证").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/cases/")
    page.goto("/")
    expect(page.get_by_role("heading", name="您好", exact=False)).to_be_visible()
