"""A one-time code is written and sent only after the client has its answer, so the
time a code request takes cannot tell a prober that the case number and phone match
(a match used to answer only after the SMS gateway did)."""

from __future__ import annotations

import http.client
import re
import threading
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from minyi.core.after_response import RedirectThenRun
from minyi.core.demo import build_demo
from minyi.online import services
from minyi.online.models import OneTimeCode
from minyi.workdays.models import CalendarYear, SpecialDay
from minyi.workdays.seeding import seed_from_package
from tests.online.helpers import submit
from tests.personas import build_mini_tree

PHONE = "13800007777"  # the phone tests.online.helpers.submit registers


def test_the_answer_is_complete_before_the_code_is_written_or_sent(
    world: Any, monkeypatch: Any
) -> None:
    sent: list[str] = []
    at_close: list[tuple[int, int]] = []

    class Recorder:
        def send(self, phone: str, text: str, key: str) -> None:
            sent.append(phone)

    monkeypatch.setitem(services.CODE_CHANNELS, "console", Recorder())
    closing = RedirectThenRun.close

    def close(self: RedirectThenRun) -> None:
        # What exists when the server, having written the whole answer, closes it.
        at_close.append((OneTimeCode.objects.count(), len(sent)))
        closing(self)

    monkeypatch.setattr(RedirectThenRun, "close", close)
    _, case, _ = submit()
    client = Client()
    response = client.post(reverse("online:code_request"), {"number": case.number, "phone": PHONE})
    assert response.status_code == 302 and response["Location"] == reverse("online:code_check")
    assert at_close == [(0, 0)]
    assert OneTimeCode.objects.filter(report__case=case, sent=True).count() == 1
    assert sent == ["+86" + PHONE]
    # A pair that does not match gets the same kind of answer, and nothing afterwards.
    other = Client().post(
        reverse("online:code_request"), {"number": case.number, "phone": "13800001111"}
    )
    assert type(other) is type(response) and other["Location"] == response["Location"]
    assert at_close == [(0, 0), (1, 1)] and len(sent) == 1


def test_a_failure_after_the_answer_is_logged_and_not_raised(caplog: Any) -> None:
    def broken() -> None:
        raise RuntimeError("网关故障")

    response = RedirectThenRun("/online/", broken)
    response.close()
    response.close()  # a second close runs nothing again
    assert caplog.text.count("响应后的任务失败") == 1


@pytest.mark.django_db(transaction=True)
def test_over_a_real_server_the_client_has_the_answer_before_the_gateway_is_called(
    live_server: Any, monkeypatch: Any
) -> None:
    """The gateway call waits (up to 20 s) for the client to have read the whole answer.
    Sent before answering, as it was, the call would wait out the whole 20 s, since the
    client cannot read an answer the server has not written, and would record False."""
    seed_from_package(CalendarYear, SpecialDay)
    build_mini_tree()
    build_demo()
    _, case, _ = submit()
    answered = threading.Event()
    seen: list[bool] = []

    class WaitsForTheClient:
        def send(self, phone: str, text: str, key: str) -> None:
            seen.append(answered.wait(timeout=20))

    monkeypatch.setitem(services.CODE_CHANNELS, "console", WaitsForTheClient())
    closed = threading.Event()
    closing = RedirectThenRun.close

    def close(self: RedirectThenRun) -> None:
        closing(self)
        closed.set()

    monkeypatch.setattr(RedirectThenRun, "close", close)
    host = urlsplit(live_server.url)
    conn = http.client.HTTPConnection(host.hostname or "", host.port, timeout=60)
    conn.request("GET", reverse("online:code_request"))
    form = conn.getresponse()
    page = form.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    cookie = form.getheader("Set-Cookie", "").split(";")[0]
    assert token and cookie.startswith("csrftoken=")
    conn.close()
    body = f"csrfmiddlewaretoken={token[1]}&number={case.number}&phone={PHONE}"
    conn = http.client.HTTPConnection(host.hostname or "", host.port, timeout=60)
    conn.request(
        "POST",
        reverse("online:code_request"),
        body=body.encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookie,
            "Referer": live_server.url + reverse("online:code_request"),
        },
    )
    response = conn.getresponse()
    response.read()
    answered.set()
    assert response.status == 302
    conn.close()
    assert closed.wait(timeout=30)  # the server thread's work, after the client read
    assert seen == [True]
    assert OneTimeCode.objects.filter(report__case=case, sent=True).count() == 1
