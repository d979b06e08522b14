"""Second factor (issue 7 item 2): TOTP enrolment with a QR code, the code step after the
password, the per-role policy set by the city administrator, and the middleware order."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from minyi.audit.models import Action, AuditEvent
from minyi.twofactor.models import RequiredRole
from tests.security.conftest import PASSWORD

HOME = reverse("home")
ENROL = reverse("twofactor:enrol")
VERIFY = reverse("twofactor:verify")
POLICY = reverse("twofactor:policy")


def _code(device: TOTPDevice, drift: int = 0) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, drift):06d}"


def _wrong(device: TOTPDevice) -> str:
    right = {_code(device, d) for d in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in right)


def _password_login(username: str = "anquan") -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_middleware_order_puts_the_second_factor_after_authentication():
    order = settings.MIDDLEWARE
    auth = order.index("django.contrib.auth.middleware.AuthenticationMiddleware")
    otp = order.index("django_otp.middleware.OTPMiddleware")
    hold = order.index("minyi.twofactor.middleware.SecondFactorMiddleware")
    sessions = order.index("django.contrib.sessions.middleware.SessionMiddleware")
    assert sessions < auth < otp < hold


def test_by_default_no_role_needs_a_second_factor(account):
    assert not RequiredRole.objects.exists()
    client = _password_login()
    assert client.get(HOME).status_code == 200


def test_the_city_administrator_sets_the_policy_per_role(world, city_official, street_official):
    client = Client()
    client.force_login(city_official)
    page = client.get(POLICY)
    assert page.status_code == 200 and "工作室联络员" in page.content.decode()
    response = client.post(POLICY, {"roles": ["liaison", "street_official"]})
    assert response.status_code == 302
    assert set(RequiredRole.objects.values_list("role", flat=True)) == {
        "liaison",
        "street_official",
    }
    assert (
        AuditEvent.objects.filter(
            action=Action.CREATE, object_type="twofactor.requiredrole", actor_name="city"
        ).count()
        == 2
    )
    client.post(POLICY, {"roles": ["liaison"]})
    assert list(RequiredRole.objects.values_list("role", flat=True)) == ["liaison"]
    assert AuditEvent.objects.filter(action=Action.DELETE, object_type="twofactor.requiredrole")
    # Nobody else may change it, not even the superuser.
    other = Client()
    other.force_login(street_official)
    assert other.post(POLICY, {"roles": []}).status_code == 404
    assert RequiredRole.objects.exists()


def test_a_required_role_without_a_device_can_reach_only_enrolment(account):
    RequiredRole.objects.create(role="street_official")
    client = _password_login()
    held = client.get(reverse("cases:list"))
    assert held.status_code == 302 and held.url.startswith(ENROL)
    assert client.get(HOME).url.startswith(ENROL)
    assert client.post(reverse("cases:list")).url.startswith(ENROL)

    page = client.get(ENROL)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'src="data:image/svg+xml' in html and "完成绑定" in html
    device = TOTPDevice.objects.get(user=account, confirmed=False)
    assert device.config_url.startswith("otpauth://totp/")

    wrong = client.post(ENROL, {"token": _wrong(device)})
    assert wrong.status_code == 400 and "动态口令不正确" in wrong.content.decode()
    assert client.get(HOME).url.startswith(ENROL)
    assert client.post(ENROL, {"token": "12ab56"}).status_code == 400

    # Throttling (django-otp) makes the very next try wait; let it pass for the test.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    done = client.post(ENROL, {"token": _code(device), "next": "/cases/"})
    assert done.status_code == 302 and done.url == "/cases/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(HOME).status_code == 200
    assert AuditEvent.objects.filter(action=Action.OTP_ENROL, actor_id=account.pk).exists()
    assert AuditEvent.objects.filter(action=Action.OTP_FAILED, actor_id=account.pk).exists()


def test_an_account_with_a_device_enters_a_code_after_the_password(account):
    device = TOTPDevice.objects.create(user=account, name="手机", confirmed=True)
    client = _password_login()
    held = client.get(reverse("cases:list"))
    assert held.status_code == 302 and held.url.startswith(VERIFY)
    assert "next=%2Fcases%2F" in held.url

    wrong = client.post(VERIFY, {"token": _wrong(device), "next": "/cases/"})
    assert wrong.status_code == 400 and "动态口令不正确" in wrong.content.decode()
    assert client.get(HOME).url.startswith(VERIFY)
    failed = AuditEvent.objects.filter(action=Action.OTP_FAILED, actor_id=account.pk)
    assert failed.exists()

    # Throttling (django-otp) makes the very next try wait; let it pass for the test.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    right = client.post(VERIFY, {"token": _code(device, drift=1), "next": "/cases/"})
    assert right.status_code == 302 and right.url == "/cases/"
    home = client.get(HOME)
    assert home.status_code == 200 and ENROL not in home.content.decode()

    # A new login asks again.
    again = _password_login()
    assert again.get(HOME).url.startswith(VERIFY)


def test_the_start_page_offers_enrolment_to_an_account_without_a_device(account):
    """No role requires a device here, so nothing sends the official to enrolment:
    the start page does, until a device is bound (verified in this session)."""
    client = _password_login()
    page = client.get(HOME).content.decode()
    assert f'href="{ENROL}"' in page and "绑定动态口令" in page
    assert client.get(ENROL).status_code == 200


def test_an_offsite_next_is_ignored(account):
    device = TOTPDevice.objects.create(user=account, name="手机", confirmed=True)
    client = _password_login()
    response = client.post(VERIFY, {"token": _code(device), "next": "https://evil.example/"})
    assert response.status_code == 302 and response.url == "/"


def test_logout_is_reachable_while_held(account):
    RequiredRole.objects.create(role="street_official")
    client = _password_login()
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert "_auth_user_id" not in client.session


def test_a_policy_change_applies_from_the_next_login(account):
    client = _password_login()
    assert client.get(HOME).status_code == 200
    RequiredRole.objects.create(role="street_official")
    assert client.get(HOME).status_code == 200  # this session was already cleared
    assert _password_login().get(HOME).url.startswith(ENROL)


@pytest.mark.parametrize("role", ["liaison", "representative", "handling_unit_staff"])
def test_other_roles_are_not_held(world, role, request):
    RequiredRole.objects.create(role="street_official")
    persona = {"liaison": "liaison", "representative": "representative"}.get(role, role)
    user = request.getfixturevalue(persona)
    client = Client()
    client.force_login(user)
    assert client.get(HOME).status_code == 200
