"""Walking the online studio with Django's test client."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from minyi.cases import services as case_services
from minyi.cases.models import Case
from minyi.org.models import HandlingUnit
from minyi.people.models import Representative, User
from minyi.studios.models import Studio
from tests.core.helpers import found

STUDIO = "沙头角社区党代表工作室"
REP = "演示代表·陈明"


def studio() -> Studio:
    return Studio.objects.get(name=STUDIO)


def form_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "representative": Representative.objects.get(name=REP).pk,
        "summary": "工地夜间施工噪声扰民",
        "content": "海山路工地每晚十点后仍在施工，影响休息，希望依法管理。",
        "reporter_name": "演示居民·李阿姨",
        "reporter_phone": "13800007777",
        "reporter_age": "70",
        "hide_identity_from_unit": "on",
        "website": "",
    }
    data.update(overrides)
    return data


def submit(
    client: Client | None = None, *, ip: str = "10.0.0.1", files: Any = None, **overrides: Any
) -> tuple[Client, Case, str]:
    """Fill in, check and send an opinion; returns the client, the case and the code."""
    client = client or Client(REMOTE_ADDR=ip)
    pk = studio().pk
    response = client.post(reverse("online:report_form", args=[pk]), form_data(**overrides))
    assert response.status_code == 302, response.content.decode()[:2000]
    send = {"consent": "on"}
    if files:
        send["attachments"] = files
    response = client.post(reverse("online:report_check", args=[pk]), send)
    assert response.status_code == 302, response.content.decode()[:2000]
    done = client.get(reverse("online:report_done"))
    text = done.content.decode()
    number = found(r"编号：<strong>([^<]+)</strong>", text)
    code = found(r'<span class="code">([^<]+)</span>', text)
    return client, Case.objects.get(number=number), code


def answered(case: Case) -> Case:
    """The case sent on, referred to the street's unit and answered by it."""
    liaison = User.objects.get(username="liaison")
    street = User.objects.get(username="shatoujiao")
    unit = User.objects.get(username="unit")
    case = case_services.case_send_to_street(case=case, actor=liaison)
    case = case_services.case_refer(
        case=case,
        actor=street,
        handling_unit=HandlingUnit.objects.get(name="沙头角街道城市管理办公室"),
    )
    case_services.case_answer(case=case, actor=unit, text="已责令工地晚上十点后停止施工。")
    case.refresh_from_db()
    return case


def codes_sent(monkeypatch: Any) -> list[tuple[str, str]]:
    """The one-time codes' messages (phone, text), recorded instead of sent."""
    from minyi.online import services

    sent: list[tuple[str, str]] = []

    class Recorder:
        def send(self, phone: str, text: str, key: str) -> None:
            sent.append((phone, text))

    monkeypatch.setitem(services.CODE_CHANNELS, "console", Recorder())
    return sent


def counted_compares(monkeypatch: Any) -> list[str]:
    """One "cmp" per constant-time compare of a code from now on: a lookup's path must
    not end early for a number that does not exist (a stopwatch would tell)."""
    from minyi.online import codes

    calls: list[str] = []
    real = codes.constant_time_compare

    def compare(a: str, b: str) -> bool:
        calls.append("cmp")
        return real(a, b)

    monkeypatch.setattr(codes, "constant_time_compare", compare)
    return calls
