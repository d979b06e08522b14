"""Logins: password rules, lockout (per account and per address), sessions."""

import time

import pytest
from axes.models import AccessAttempt
from axes.utils import reset
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from minyi.core import security
from tests.security.conftest import PASSWORD

LOGIN = reverse("login")
LIMIT = 5


def _fail(client, username, ip="10.0.0.1", **extra):
    return client.post(
        LOGIN, {"username": username, "password": "wrong-password-x"}, REMOTE_ADDR=ip, **extra
    )


def _login(client, username, password=PASSWORD, ip="10.0.0.1", **extra):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip, **extra)


# --- password rules and hashing ---------------------------------------------------------


def test_argon2_is_the_password_hasher():
    # tests/conftest.py swaps in MD5 for speed; the settings module is what production uses.
    import config.settings as configured

    assert configured.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


@pytest.mark.parametrize(
    "password",
    ["Short1!", "password123", "1234567890123", "anquan-anquan"],
)
def test_weak_passwords_are_refused(db, password):
    from minyi.people.models import User

    user = User(username="anquan-anquan", full_name="安全测试")
    with pytest.raises(ValidationError):
        validate_password(password, user)


def test_a_long_uncommon_password_is_accepted(db):
    validate_password("Lu-Shui-Qing-Shan-2026")


# --- lockout -----------------------------------------------------------------------------


def test_account_locks_after_limit_failures_with_a_chinese_message(account):
    client = Client()
    for _ in range(LIMIT - 1):
        assert _fail(client, "anquan").status_code == 200
    response = _fail(client, "anquan")
    assert response.status_code == 429
    text = response.content.decode()
    assert "登录已暂时锁定" in text and "30 分钟" in text
    # Even the right password is refused now, and from any address (per account).
    assert _login(client, "anquan", ip="10.9.9.9").status_code == 429
    assert "_auth_user_id" not in client.session


def test_address_locks_after_limit_failures_across_accounts(account):
    client = Client()
    for n in range(LIMIT):
        _fail(client, f"nobody{n}", ip="10.0.0.7")
    # The right password for a different, untouched account from that address: refused.
    assert _login(client, "anquan", ip="10.0.0.7").status_code == 429
    # From another address the account itself is fine (it had no failures).
    response = _login(Client(), "anquan", ip="10.0.0.8")
    assert response.status_code == 302


def test_unlock_after_cool_off(account, settings):
    client = Client()
    for _ in range(LIMIT):
        _fail(client, "anquan")
    assert _login(client, "anquan").status_code == 429
    # Time travel: the attempts are older than the cool-off period.
    from datetime import timedelta

    from django.utils import timezone

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=31))
    assert _login(client, "anquan").status_code == 302


def test_administrator_reset_unlocks(account):
    client = Client()
    for _ in range(LIMIT):
        _fail(client, "anquan")
    assert _login(client, "anquan").status_code == 429
    reset(username="anquan")
    reset(ip="10.0.0.1")
    assert _login(client, "anquan").status_code == 302


def test_spoofed_forwarded_for_does_not_dodge_the_address_lockout(account):
    client = Client()
    for n in range(LIMIT):
        _fail(client, f"nobody{n}", ip="10.0.0.7", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert (
        _login(client, "anquan", ip="10.0.0.7", HTTP_X_FORWARDED_FOR="192.0.2.99").status_code
        == 429
    )


# --- client address ----------------------------------------------------------------------


def _request(remote="203.0.113.5", xff=None):
    extra = {"REMOTE_ADDR": remote}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return RequestFactory().get("/", **extra)


@override_settings(MINYI_TRUSTED_PROXY_COUNT=0)
def test_client_ip_without_proxies_ignores_forwarded_for():
    assert security.client_ip(_request()) == "203.0.113.5"
    assert security.client_ip(_request(xff="1.2.3.4")) == "203.0.113.5"


@override_settings(MINYI_TRUSTED_PROXY_COUNT=1)
def test_client_ip_behind_one_proxy_takes_the_address_the_proxy_saw():
    # The client forged "1.2.3.4"; the proxy appended the real peer 198.51.100.7.
    request = _request(remote="10.0.0.2", xff="1.2.3.4, 198.51.100.7")
    assert security.client_ip(request) == "198.51.100.7"


@override_settings(MINYI_TRUSTED_PROXY_COUNT=2)
def test_client_ip_behind_two_proxies():
    request = _request(remote="10.0.0.3", xff="1.2.3.4, 198.51.100.7, 10.0.0.2")
    assert security.client_ip(request) == "198.51.100.7"


@override_settings(MINYI_TRUSTED_PROXY_COUNT=1)
def test_client_ip_falls_back_to_the_peer_on_a_missing_or_bad_header():
    assert security.client_ip(_request(remote="10.0.0.2")) == "10.0.0.2"
    assert security.client_ip(_request(remote="10.0.0.2", xff="not-an-ip")) == "10.0.0.2"


@override_settings(MINYI_TRUSTED_PROXY_COUNT=1)
def test_lockout_behind_a_proxy_is_per_real_client(account):
    client = Client()
    for n in range(LIMIT):
        _fail(client, f"nobody{n}", ip="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7")
    locked = _login(client, "anquan", ip="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert locked.status_code == 429
    # Another client behind the same proxy is not locked out.
    other = _login(Client(), "anquan", ip="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.8")
    assert other.status_code == 302


# --- sessions ----------------------------------------------------------------------------


def test_session_key_changes_at_login(account):
    client = Client()
    client.get(LOGIN)
    client.session.save()
    before = client.session.session_key
    assert _login(client, "anquan").status_code == 302
    after = client.session.session_key
    assert before and after and before != after


def test_idle_session_is_logged_out(account, settings):
    settings.SESSION_IDLE_SECONDS = 60
    client = Client()
    client.force_login(account)
    assert client.get(reverse("home")).status_code == 200
    session = client.session
    session[security.LAST_ACTIVITY_KEY] = int(time.time()) - 61
    session.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(LOGIN)
    assert "_auth_user_id" not in client.session


def test_activity_keeps_the_session_alive(account, settings):
    settings.SESSION_IDLE_SECONDS = 600
    client = Client()
    client.force_login(account)
    session = client.session
    session[security.LAST_ACTIVITY_KEY] = int(time.time()) - 599
    session.save()
    assert client.get(reverse("home")).status_code == 200
    assert client.session[security.LAST_ACTIVITY_KEY] >= int(time.time()) - 1


def test_absolute_lifetime_ends_an_active_session(account, settings):
    client = Client()
    client.force_login(account)
    session = client.session
    session[security.LOGIN_AT_KEY] = int(time.time()) - settings.SESSION_COOKIE_AGE - 1
    session.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(LOGIN)


def test_session_is_not_refreshed_on_every_request(settings):
    assert settings.SESSION_SAVE_EVERY_REQUEST is False
    assert settings.SESSION_COOKIE_AGE == 8 * 3600


def test_deactivated_account_loses_its_active_session(account):
    client = Client()
    assert _login(client, "anquan").status_code == 302
    assert client.get(reverse("home")).status_code == 200
    account.is_active = False
    account.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(LOGIN)
    # And it cannot log in again.
    assert _login(Client(), "anquan", ip="10.0.0.9").status_code == 200


# Production reads sessions through Redis (cached_db, config/settings.py); the session must
# still end everywhere it is cached.
@pytest.fixture(params=["db", "cached_db"])
def session_engine(request, settings):
    settings.SESSION_ENGINE = f"django.contrib.sessions.backends.{request.param}"
    return request.param


def test_production_reads_sessions_through_the_cache(settings):
    from config import settings as config

    assert settings.SESSION_ENGINE == config.SESSION_ENGINE
    assert (config.SESSION_ENGINE.endswith("cached_db")) == bool(config.REDIS_URL)


def test_deactivation_ends_the_session_in_the_cache_too(account, session_engine):
    client = Client()
    assert _login(client, "anquan").status_code == 302
    assert client.get(reverse("home")).status_code == 200
    key = client.session.session_key
    account.is_active = False
    account.save()
    engine = __import__(
        f"django.contrib.sessions.backends.{session_engine}", fromlist=["SessionStore"]
    )
    assert not engine.SessionStore().exists(key)
    # The old cookie, replayed, finds no session (nothing left in the cache to serve it).
    account.is_active = True
    account.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(LOGIN)


def test_a_logged_out_cookie_cannot_be_replayed(account, session_engine):
    client = Client()
    assert _login(client, "anquan").status_code == 302
    cookie = client.cookies[settings_cookie_name()].value
    assert client.post(reverse("logout")).status_code == 302
    replay = Client()
    replay.cookies[settings_cookie_name()] = cookie
    response = replay.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(LOGIN)


def settings_cookie_name() -> str:
    from django.conf import settings

    return settings.SESSION_COOKIE_NAME


def test_the_signed_in_account_comes_with_its_unit_in_one_query(account):
    """Every staff page needs the account's unit for its scope: the backend reads both
    in one query (AccountBackend), and still refuses an account deactivated since."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    backend = security.AccountBackend()
    with CaptureQueriesContext(connection) as queries:
        user = backend.get_user(account.pk)
        assert user.unit.name == account.unit.name
    assert len(queries) == 1
    client = Client()
    assert _login(client, "anquan").status_code == 302
    assert client.session["_auth_user_backend"] == "minyi.core.security.AccountBackend"
    account.is_active = False
    account.save()
    assert backend.get_user(account.pk) is None


@pytest.mark.django_db
def test_an_overlong_username_is_refused_without_trying_it(world):
    # No account's name is longer than the model allows; trying one made axes record it,
    # and PostgreSQL refused the row (varchar 255): a server error on the login page.
    response = _fail(Client(), "长" * 5000)
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()
    assert not AccessAttempt.objects.exists()
