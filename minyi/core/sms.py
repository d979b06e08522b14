"""Text messages (短信) through a generic, signed HTTP gateway.

One implementation for both senders: reporters' answer copies (minyi.cases.delivery)
and the online studio's one-time codes (minyi.online.services), each registered there
as the channel "http". A deployment's government SMS platform (政务短信平台) has an API
we cannot know, so we POST one small signed JSON document to MINYI_SMS_URL and the
deployment points that at the platform or at a thin adapter of its own
(docs/operations.md, "Text messages", has the request and how to verify it).

What it never does, and why:
- put the phone or the text in a log line or an error: the phone is personal data and
  a code's text is a secret (docs/personal-data.md); errors name the idempotency key;
- follow a redirect: the signed body holds a phone and would go wherever a redirect
  points, so a 3xx is a failure with its own message;
- speak plain HTTP, except to a loopback adapter (127.0.0.1, ::1, localhost) when DEBUG
  is on or MINYI_SMS_ALLOW_LOOPBACK_HTTP says so; https verifies the certificate;
- wait longer than MINYI_SMS_CONNECT_TIMEOUT / MINYI_SMS_READ_TIMEOUT: a resident is
  waiting for the code page and deliver_feedback has a batch to get through.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import ssl
import time
from urllib.parse import urlsplit

from django.conf import settings

log = logging.getLogger("minyi.sms")

SIGNATURE_HEADER = "X-Minyi-Signature"
TIMESTAMP_HEADER = "X-Minyi-Timestamp"
KEY_HEADER = "X-Minyi-Id"
# The gateway's answer is not used; read a little so that the connection closes cleanly.
MAX_RESPONSE_BYTES = 64 * 1024


class SmsError(Exception):
    """A message the gateway did not take. The text is Chinese and names neither the
    phone nor the message, so it can be stored and logged as it is."""


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>": the timestamp is signed too, so a captured
    request cannot be replayed later under a fresh timestamp."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def gateway_url_problem(url: str, *, allow_http: bool) -> str:
    """Why `url` cannot be the gateway, or "" when it can. Shared with the production
    settings' start-up check, so both refuse the same addresses."""
    parts = urlsplit(url or "")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError:
        return "短信网关地址（MINYI_SMS_URL）的端口不对"
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        return "短信网关地址（MINYI_SMS_URL）不是有效的 https 地址"
    if parts.scheme == "http" and not (allow_http and is_loopback(parts.hostname)):
        return (
            "短信网关须用 https；只有本机（回环地址）上的网关在 "
            "MINYI_SMS_ALLOW_LOOPBACK_HTTP 打开时可用 http"
        )
    return ""


def _connection(url: str) -> tuple[http.client.HTTPConnection, str]:
    allow_http = bool(settings.DEBUG or settings.MINYI_SMS_ALLOW_LOOPBACK_HTTP)
    problem = gateway_url_problem(url, allow_http=allow_http)
    if problem:
        raise SmsError(problem)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host, port, timeout = parts.hostname or "", parts.port, settings.MINYI_SMS_CONNECT_TIMEOUT
    if parts.scheme == "https":
        context = ssl.create_default_context()  # verifies the certificate and the host name
        return http.client.HTTPSConnection(host, port, timeout=timeout, context=context), path
    return http.client.HTTPConnection(host, port, timeout=timeout), path


def send_text(*, phone: str, text: str, key: str) -> None:
    """POST {"phone", "text", "id"} to the gateway, signed; raise SmsError unless it
    answers 2xx. `key` is the idempotency key: a retry of the same message carries the
    same key, so the gateway can drop a message it already sent."""
    url, secret = settings.MINYI_SMS_URL, settings.MINYI_SMS_SECRET
    if not url or not secret:
        raise SmsError("短信网关未配置（MINYI_SMS_URL、MINYI_SMS_SECRET）")
    try:
        _post(url, secret, phone=phone, text=text, key=key)
    except SmsError as exc:
        log.warning("短信未发出（%s）：%s", key, exc)
        raise
    log.info("短信已交给网关（%s）", key)


def _post(url: str, secret: str, *, phone: str, text: str, key: str) -> None:
    body = json.dumps({"phone": phone, "text": text, "id": key}, ensure_ascii=False).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        KEY_HEADER: key,
    }
    connection, path = _connection(url)
    try:
        connection.connect()
        if connection.sock is not None:  # connected: from here on the read timeout counts
            connection.sock.settimeout(settings.MINYI_SMS_READ_TIMEOUT)
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(MAX_RESPONSE_BYTES)
        status = response.status
    except TimeoutError as exc:
        raise SmsError("短信网关没有及时应答（超时）") from exc
    except ConnectionRefusedError as exc:
        raise SmsError("短信网关拒绝连接（网关未运行或地址不对）") from exc
    except ssl.SSLCertVerificationError as exc:
        raise SmsError("短信网关的 TLS 证书验证不通过") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise SmsError(f"连不上短信网关（{type(exc).__name__}）") from exc
    finally:
        connection.close()
    if 300 <= status < 400:
        raise SmsError(
            f"短信网关要求转到别的地址（HTTP {status}），未跟随；请把 MINYI_SMS_URL 设为最终地址"
        )
    if not 200 <= status < 300:
        raise SmsError(f"短信网关没有接受（HTTP {status}）")
