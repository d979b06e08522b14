"""The generic SMS gateway channel (minyi.core.sms) against a real HTTP server on
127.0.0.1: what it sends and signs, and every way a gateway can fail, each a Chinese
SmsError that names neither the phone nor the text, in the error or in the log."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any

import pytest

from minyi.core import sms
from tests.sms_gateway import SECRET, refused_url

PHONE = "+8613800007777"
TEXT = "【党代表工作室】您查询编号 X 办理进度的验证码是 482913，10 分钟内有效。"
PHONE_FORMS = ("13800007777", "8613800007777", "138 0000 7777", "0000 7777")


def _no_phone_or_text(*texts: str) -> None:
    for text in texts:
        for form in PHONE_FORMS:
            assert form not in text, f"the phone shows in: {text}"
        assert "482913" not in text, f"the message shows in: {text}"


def _send(key: str = "one-time-code-7") -> None:
    sms.send_text(phone=PHONE, text=TEXT, key=key)


def _failure(caplog: Any) -> str:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(sms.SmsError) as err:
        _send()
    _no_phone_or_text(str(err.value), caplog.text)
    return str(err.value)


def test_it_posts_the_phone_text_and_key_signed_over_timestamp_and_body(sms_gateway, caplog):
    caplog.set_level(logging.DEBUG)
    _send("feedback-copy-42")
    [request] = sms_gateway.requests
    assert request["path"] == "/sms/send"
    body = request["body"]
    assert json.loads(body) == {"phone": PHONE, "text": TEXT, "id": "feedback-copy-42"}
    headers = request["headers"]
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["X-Minyi-Id"] == "feedback-copy-42"
    # Verified as docs/operations.md tells the gateway to: HMAC-SHA256 of "<ts>.<body>".
    timestamp = headers["X-Minyi-Timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    expected = hmac.new(SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    assert hmac.compare_digest(headers["X-Minyi-Signature"], "sha256=" + expected.hexdigest())
    wrong = hmac.new(b"another-secret", timestamp.encode() + b"." + body, hashlib.sha256)
    assert headers["X-Minyi-Signature"] != "sha256=" + wrong.hexdigest()
    assert "feedback-copy-42" in caplog.text
    _no_phone_or_text(caplog.text)


def test_a_gateway_answering_other_than_2xx_is_a_failure(sms_gateway, caplog):
    sms_gateway.status = 503
    assert "HTTP 503" in _failure(caplog)
    assert len(sms_gateway.requests) == 1


def test_a_gateway_slower_than_the_read_timeout_is_given_up(sms_gateway, caplog):
    sms_gateway.delay = 2.0  # the fixture's read timeout is 0.3 s
    started = time.monotonic()
    assert "超时" in _failure(caplog)
    assert time.monotonic() - started < 1.5


def test_a_gateway_that_is_not_running_is_a_failure(sms_gateway, settings, caplog):
    settings.MINYI_SMS_URL = refused_url()
    assert "拒绝连接" in _failure(caplog)


def test_a_redirect_is_not_followed(sms_gateway, caplog):
    sms_gateway.status = 302
    sms_gateway.location = sms_gateway.url + "/elsewhere"
    assert "HTTP 302" in _failure(caplog) and "未跟随" in _failure(caplog)
    assert [r["path"] for r in sms_gateway.requests] == ["/sms/send", "/sms/send"]


def test_plain_http_is_refused_without_the_loopback_setting(sms_gateway, settings, caplog):
    settings.DEBUG = False
    settings.MINYI_SMS_ALLOW_LOOPBACK_HTTP = False
    assert "https" in _failure(caplog)
    assert sms_gateway.requests == []


@pytest.mark.parametrize(
    ("url", "allow_http", "problem"),
    [
        ("https://sms.example.gov.cn/send", False, ""),
        ("http://127.0.0.1:8025/send", True, ""),
        ("http://[::1]:8025/send", True, ""),
        ("http://localhost/send", True, ""),
        ("http://127.0.0.1:8025/send", False, "https"),
        ("http://sms.example.gov.cn/send", True, "https"),  # not loopback: never plain
        ("ftp://sms.example.gov.cn/send", True, "不是有效的 https 地址"),
        ("sms.example.gov.cn/send", True, "不是有效的 https 地址"),
        ("https:///send", True, "不是有效的 https 地址"),
        ("https://sms.example.gov.cn:99999/send", True, "端口不对"),
    ],
)
def test_which_gateway_addresses_are_accepted(url: str, allow_http: bool, problem: str) -> None:
    found = sms.gateway_url_problem(url, allow_http=allow_http)
    assert (problem in found) if problem else found == ""


def test_a_malformed_address_is_a_failure_not_a_crash(settings, caplog):
    settings.MINYI_SMS_URL = "https://sms.example.gov.cn:99999/send"
    settings.MINYI_SMS_SECRET = SECRET
    assert "端口不对" in _failure(caplog)


def test_an_unconfigured_gateway_is_a_failure(settings, caplog):
    settings.MINYI_SMS_URL = ""
    settings.MINYI_SMS_SECRET = SECRET
    assert "未配置" in _failure(caplog)


def test_a_gateway_whose_certificate_does_not_verify_is_not_sent_anything(tls_sms_gateway, caplog):
    assert "证书验证不通过" in _failure(caplog)
    assert tls_sms_gateway.requests == []
