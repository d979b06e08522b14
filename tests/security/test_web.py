"""Web hardening: headers, CSP with nonces, error pages, check --deploy."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings
from django.urls import path, reverse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "minyi" / "templates"


def test_security_headers_on_a_page(street_official):
    client = Client()
    client.force_login(street_official)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    csp = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["default-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["img-src"] == "'self' data:"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert directives["base-uri"] == "'self'"
    assert directives["object-src"] == "'none'"
    nonce = re.search(r"'nonce-([^']+)'", directives["script-src"]).group(1)
    assert directives["script-src"].startswith("'self'")
    # The script tags carry the nonce of this response, and it changes per response.
    assert f'nonce="{nonce}"' in response.content.decode()
    again = client.get(reverse("home"))["Content-Security-Policy"]
    assert f"nonce-{nonce}" not in again


def test_login_page_has_the_policy_too():
    response = Client().get(reverse("login"))
    assert "default-src 'self'" in response["Content-Security-Policy"]


def test_session_and_csrf_cookies_are_httponly_samesite(settings):
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_SAMESITE in ("Lax", "Strict")
    assert settings.CSRF_COOKIE_SAMESITE in ("Lax", "Strict")


@override_settings(
    SECURE_HSTS_SECONDS=31536000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True, SECURE_SSL_REDIRECT=True
)
def test_hsts_and_https_redirect_under_production_settings(db):
    response = Client().get(reverse("login"), secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    plain = Client().get(reverse("login"))
    assert plain.status_code == 301 and plain.url.startswith("https://")


def test_no_inline_styles_or_scripts_in_templates():
    offenders = []
    pattern = re.compile(r'\sstyle="|<style|\son[a-z]+="|<script(?![^>]*\ssrc=)', re.I)
    for template in TEMPLATES.rglob("*.html"):
        if template.relative_to(TEMPLATES).parts[0] == "documents":
            # Rendered only into PDFs by WeasyPrint, never served as a page: no CSP applies.
            continue
        for number, line in enumerate(template.read_text().splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{template.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


# --- error pages -------------------------------------------------------------------------


def _boom(request):
    raise RuntimeError("SELECT secret FROM people_user -- boom")


urlpatterns = [path("boom/", _boom)]


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_server_error_page_shows_no_traceback(db):
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    text = response.content.decode()
    assert "系统暂时出错" in text
    for leak in ("Traceback", "RuntimeError", "SELECT", "boom", "File &quot;", 'File "'):
        assert leak not in text


@pytest.mark.parametrize(
    "url, status, words",
    [("/no-such-page/", 404, "页面不存在")],
)
def test_not_found_page_is_in_chinese(street_official, url, status, words):
    client = Client()
    client.force_login(street_official)
    response = client.get(url)
    assert response.status_code == status
    assert words in response.content.decode()


def test_error_templates_exist_in_chinese():
    for code, words in (
        ("400", "请求有误"),
        ("403", "无权访问"),
        ("404", "页面不存在"),
        ("500", "系统暂时出错"),
    ):
        text = (TEMPLATES / f"{code}.html").read_text()
        assert words in text


# --- check --deploy ----------------------------------------------------------------------

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings_production",
    "DEBUG": "0",
    "SECRET_KEY": "k7Vq3pZ9-x_2mR8tL4wY6nB1cD5fG0hJ-s8uE2iO4aQ7zX9vC3bN6mK1lP5rT0yW",
    "ALLOWED_HOSTS": "minyi.example.gov.cn",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
    "MINYI_TRUSTED_PROXY_COUNT": "1",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "MINYI_FIELD_KEY": "Jk3n2ZbH8v1q0sWcXy4uTt6pLm9aRr5eOd7gFi2hBjA=",
    "MINYI_LOOKUP_KEY": "a-production-like-lookup-key-for-the-check-deploy-test",
}


def _production_env() -> dict[str, str]:
    # A clean environment: nothing leaks in from the test run (pytest-django, the browser
    # tests' DJANGO_ALLOW_ASYNC_UNSAFE, SECURE_COOKIES=0 of the local demo).
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "MINYI_DATA_DIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(PRODUCTION_ENV)
    return env


def test_check_deploy_passes_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "key", ["short", "django-insecure-minyi-development-only-key-change-me-0123456789"]
)
def test_production_settings_refuse_a_short_or_published_secret_key(key):
    env = _production_env()
    env["SECRET_KEY"] = key
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def test_production_settings_refuse_a_process_local_rate_limit_cache():
    env = _production_env()
    del env["REDIS_URL"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "REDIS_URL" in result.stderr


def _check_with(**env_changes: str) -> subprocess.CompletedProcess[str]:
    env = {**_production_env(), **env_changes}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_refuse_the_sms_channel_without_its_gateway():
    result = _check_with(MINYI_REPORTER_CHANNEL="http", MINYI_SMS_SECRET="s" * 40)
    assert result.returncode != 0 and "MINYI_SMS_URL" in result.stderr
    plain = _check_with(
        MINYI_REPORTER_CHANNEL="http",
        MINYI_SMS_URL="http://sms.example.gov.cn/send",
        MINYI_SMS_SECRET="s" * 40,
    )
    assert plain.returncode != 0 and "https" in plain.stderr
    wired = _check_with(
        MINYI_REPORTER_CHANNEL="http",
        MINYI_SMS_URL="https://sms.example.gov.cn/send",
        MINYI_SMS_SECRET="s" * 40,
    )
    assert wired.returncode == 0, wired.stderr


def test_rate_limited_answers_429_in_chinese(client):
    from django.test import RequestFactory

    from minyi.core.views import rate_limited

    api = rate_limited(RequestFactory().get("/api/v1/cases"))
    assert api.status_code == 429
    assert "请求过于频繁" in api.content.decode()
    page = rate_limited(RequestFactory().get("/online/"))
    assert page.status_code == 429
    assert "操作过于频繁" in page.content.decode()


@pytest.mark.parametrize("channel", ["email", "internal", "sms"])
def test_settings_refuse_a_reporter_channel_nothing_sends_through(channel):
    # There is no e-mail channel (a reporter leaves no e-mail address), and "internal"
    # would mark a reporter's copy delivered without sending it.
    result = _check_with(MINYI_REPORTER_CHANNEL=channel)
    assert result.returncode != 0
    assert "MINYI_REPORTER_CHANNEL" in result.stderr and "console, http" in result.stderr


def test_pages_and_api_answers_are_not_kept_by_the_browser(street_official):
    # A studio's computer is shared: nothing shown may come back from the cache after
    # its user logged out (minyi.core.security.NoStoreMiddleware).
    client = Client()
    client.force_login(street_official)
    for url in (reverse("home"), reverse("cases:list"), "/no-such-page/"):
        assert "no-store" in client.get(url)["Cache-Control"], url
    for url in (reverse("online:find"), reverse("online:lookup"), "/api/v1/cases"):
        assert "no-store" in Client().get(url)["Cache-Control"], url
    assert "no-store" in Client().get(reverse("login"))["Cache-Control"]


def test_a_view_that_says_how_to_cache_keeps_its_own_header(db):
    # The public photo of a representative may be kept for a day.
    from django.http import HttpResponse

    from minyi.core.security import NoStoreMiddleware

    def view(request):
        response = HttpResponse("photo")
        response["Cache-Control"] = "public, max-age=86400"
        return response

    assert NoStoreMiddleware(view)(None)["Cache-Control"] == "public, max-age=86400"


def test_production_settings_say_so_to_the_demo_commands():
    # load_demo and generate_load_data refuse when this is set (tests/core/test_demo.py).
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings_production as s; print(s.MINYI_PRODUCTION)"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"
