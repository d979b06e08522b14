"""Following a case online: number + progress code or a one-time code sent to the phone;
lookups cannot be enumerated (a wrong code answers exactly like a missing case) and are
rate-limited; plain-language steps, the unit's answer and the rating."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from minyi.cases import services as case_services
from minyi.cases.states import Action
from minyi.online import services
from minyi.online.models import OneTimeCode, ResidentRating
from minyi.org.models import HandlingUnit
from minyi.people.models import User
from tests.core.helpers import found
from tests.online.helpers import answered, codes_sent, counted_compares, submit

pytestmark = pytest.mark.django_db

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def _lookup(client: Client, number: str, code: str) -> Any:
    return client.post(reverse("online:lookup"), {"number": number, "code": code})


def _body(response: Any) -> str:
    return CSRF.sub("", response.content.decode())


def test_number_and_code_show_the_steps_in_plain_words(world: Any) -> None:
    _, case, code = submit()
    answered(case)
    client = Client()
    # Typed in lower case, with spaces: still found.
    response = _lookup(client, f" {case.number} ", code.lower().replace("-", " "))
    assert response.status_code == 302
    page = client.get(reverse("online:progress")).content.decode()
    for words in (
        "您的意见已登记",
        "工作室已把您的意见报送街道组织部门",
        "组织部门已交给沙头角街道城市管理办公室办理",
        "已责令工地晚上十点后停止施工。",
        "请评价办理结果",
        "分钟后失效",
        # Where it stands, in plain words rather than the office's 已答复（待评议）.
        "<dd><strong>已答复，请您评价（见下方）</strong></dd>",
    ):
        assert words in page, words
    assert "待评议" not in page


def test_a_wrong_code_answers_exactly_like_a_missing_case(world: Any) -> None:
    _, case, _code = submit()
    missing_number = "沙头角街道沙头角社区2026999"
    wrong = _lookup(Client(), case.number, "AAAA-AAAA")
    missing = _lookup(Client(), missing_number, "AAAA-AAAA")
    assert wrong.status_code == missing.status_code == 400
    # The page repeats the number typed; apart from that, not one byte differs.
    typed = re.compile(r'name="number" value="[^"]*"')
    assert typed.sub("", _body(wrong)) == typed.sub("", _body(missing))
    assert "AAAA" not in _body(wrong)  # the code typed is not echoed back
    assert "编号或查询码不对" in _body(wrong)


def test_both_paths_hash_and_compare_once(world: Any, monkeypatch: Any) -> None:
    """Same path for a wrong code and a missing case: one query, one hash, one
    constant-time compare (no early return that a stopwatch could tell apart)."""
    _, case, _ = submit()
    calls = counted_compares(monkeypatch)
    from tests.core.helpers import opened_values

    opened = opened_values(monkeypatch)
    assert services.find_report(case.number, "AAAA-AAAA") is None
    assert services.find_report("沙头角街道沙头角社区2026999", "AAAA-AAAA") is None
    assert calls == ["cmp", "cmp"]
    # Nor does the existing case's row cost more: its encrypted columns are not read.
    assert opened == []


def test_lookups_are_rate_limited_per_client_right_or_wrong(world: Any) -> None:
    _, case, code = submit()
    client = Client(REMOTE_ADDR="10.2.0.1")
    for _ in range(10):
        assert _lookup(client, case.number, "AAAA-AAAA").status_code == 400
    # Even the right code is refused once the client is over the limit.
    assert _lookup(client, case.number, code).status_code == 429
    # Another client is not affected.
    assert _lookup(Client(REMOTE_ADDR="10.2.0.2"), case.number, code).status_code == 302


def test_without_a_proven_code_no_case_is_shown(world: Any) -> None:
    _, _case, _ = submit()
    client = Client()
    assert client.get(reverse("online:progress")).status_code == 403
    assert client.post(reverse("online:progress_rate"), {"rating": "satisfied"}).status_code == 403


def test_the_access_expires_says_so_and_can_be_extended(world: Any, monkeypatch: Any) -> None:
    _, case, code = submit()
    client = Client()
    _lookup(client, case.number, code)
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 14 * 60)
    assert client.post(reverse("online:progress_extend")).status_code == 302
    monkeypatch.setattr(time, "time", lambda: now + 28 * 60)
    assert client.get(reverse("online:progress")).status_code == 200  # extended
    monkeypatch.setattr(time, "time", lambda: now + 31 * 60)
    response = client.get(reverse("online:progress"))
    assert response.status_code == 403 and "失效" in response.content.decode()
    assert client.post(reverse("online:progress_extend")).status_code == 403


def test_leaving_forgets_the_case_on_this_phone(world: Any) -> None:
    _, case, code = submit()
    client = Client()
    _lookup(client, case.number, code)
    client.post(reverse("online:progress_leave"))
    assert client.get(reverse("online:progress")).status_code == 403


def test_the_reporter_rates_the_answer_once_and_it_goes_on_the_timeline(world: Any) -> None:
    client, case, _code = submit()
    not_yet = client.post(reverse("online:progress_rate"), {"rating": "satisfied"})
    assert not_yet.status_code == 400 and "不需要评价" in not_yet.content.decode()
    case = answered(case)
    missing = client.post(reverse("online:progress_rate"), {})
    assert missing.status_code == 400 and 'href="#id_rating_0"' in missing.content.decode()
    assert "还想说的话（可不填）" in missing.content.decode()
    assert "（可不填）（可不填）" not in missing.content.decode()
    response = client.post(
        reverse("online:progress_rate"), {"rating": "dissatisfied", "comment": "晚上还在施工"}
    )
    assert response.status_code == 302
    rated = ResidentRating.objects.get(case=case)
    assert rated.rating == "dissatisfied" and rated.answer == case.answers.get()
    note = case.steps.filter(action=Action.NOTE).last()
    assert note is not None
    assert note.text == "反映人网上评价：不满意。意见：晚上还在施工"
    page = client.get(reverse("online:progress")).content.decode()
    assert "您的评价：<strong>不满意</strong>" in page and "请评价办理结果" not in page
    assert "<dd><strong>已答复，正在评定办理结果</strong></dd>" in page
    again = client.post(reverse("online:progress_rate"), {"rating": "satisfied"})
    assert again.status_code == 400
    assert ResidentRating.objects.count() == 1


def test_an_answer_given_again_after_reopening_has_its_own_heading(world: Any) -> None:
    """Answered, 不满意 → 重新办理, answered again the same day: two answers of one unit
    on one date, which the page headed alike."""
    client, case, _code = submit()
    case = answered(case)
    street = User.objects.get(username="shatoujiao")
    case = case_services.case_evaluate(
        case=case,
        actor=street,
        rating="dissatisfied",
        reporter_confirmed=True,
        representative_confirmed=True,
        street_head_confirmed=True,
        reopen=True,
    ).case
    case_services.case_answer(
        case=case, actor=User.objects.get(username="unit"), text="已派人夜间巡查。"
    )
    page = client.get(reverse("online:progress")).content.decode()
    day = f"{case_services.today():%Y年%-m月%-d日}"
    first = f"沙头角街道城市管理办公室的答复（{day}）</h2>"
    again = f"沙头角街道城市管理办公室重新办理后的答复（{day}）</h2>"
    assert page.count(first) == 1 and page.count(again) == 1
    assert page.index(first) < page.index("已责令工地晚上十点后停止施工。") < page.index(again)
    assert page.index(again) < page.index("已派人夜间巡查。")


def test_a_one_time_code_goes_to_the_registered_phone_only(world: Any, monkeypatch: Any) -> None:
    sent = codes_sent(monkeypatch)
    _, case, _ = submit()
    client = Client()
    right = client.post(
        reverse("online:code_request"), {"number": case.number, "phone": "138 0000 7777"}
    )
    other = Client().post(
        reverse("online:code_request"), {"number": case.number, "phone": "13800001111"}
    )
    missing = Client().post(
        reverse("online:code_request"),
        {"number": "沙头角街道沙头角社区2026999", "phone": "13800007777"},
    )
    assert right.status_code == other.status_code == missing.status_code == 302
    assert right["Location"] == other["Location"] == missing["Location"]
    assert len(sent) == 1 and sent[0][0] == "+8613800007777"
    code = found(r"验证码是 (\d{6})", sent[0][1])
    row = OneTimeCode.objects.get()
    assert code not in row.code_hash and row.sent and row.channel == "console"
    check = client.get(reverse("online:code_check")).content.decode()
    assert "10 分钟内有效" in check and "重新获取" in check
    assert client.post(reverse("online:code_check"), {"code": code}).status_code == 302
    assert client.get(reverse("online:progress")).status_code == 200
    # Used once only.
    reuse = Client()
    reuse.post(reverse("online:code_request"), {"number": case.number, "phone": "13800001111"})
    assert reuse.post(reverse("online:code_check"), {"code": code}).status_code == 400


def test_a_one_time_code_is_spent_after_five_wrong_tries(world: Any, monkeypatch: Any) -> None:
    sent = codes_sent(monkeypatch)
    _, case, _ = submit()
    client = Client()
    client.post(reverse("online:code_request"), {"number": case.number, "phone": "13800007777"})
    code = found(r"验证码是 (\d{6})", sent[0][1])
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        response = client.post(reverse("online:code_check"), {"code": wrong})
        assert response.status_code == 400 and "验证码不对或已过期" in response.content.decode()
    assert client.post(reverse("online:code_check"), {"code": code}).status_code == 400


def test_an_expired_one_time_code_is_refused(world: Any, monkeypatch: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    sent = codes_sent(monkeypatch)
    _, case, _ = submit()
    client = Client()
    client.post(reverse("online:code_request"), {"number": case.number, "phone": "13800007777"})
    code = found(r"验证码是 (\d{6})", sent[0][1])
    OneTimeCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.post(reverse("online:code_check"), {"code": code}).status_code == 400


def test_one_time_codes_are_limited_per_phone_whatever_the_address(
    world: Any, monkeypatch: Any
) -> None:
    sent = codes_sent(monkeypatch)
    _, case, _ = submit()
    for n in range(3):
        response = Client(REMOTE_ADDR=f"10.3.0.{n}").post(
            reverse("online:code_request"), {"number": case.number, "phone": "13800007777"}
        )
        assert response.status_code == 302
    response = Client(REMOTE_ADDR="10.3.0.50").post(
        reverse("online:code_request"), {"number": case.number, "phone": "13800007777"}
    )
    assert response.status_code == 429
    assert len(sent) == 3
    # The key in the cache is the phone's keyed hash, never the number.
    from django.core.cache import cache

    keys = " ".join(str(k) for k in getattr(cache, "_cache", {}))
    assert "13800007777" not in keys


def test_the_progress_page_runs_a_fixed_number_of_queries(
    world: Any, django_assert_num_queries: Any
) -> None:
    client, case, _ = submit()
    url = reverse("online:progress")
    client.get(url)
    with django_assert_num_queries(5):  # session, report, answers, ratings, steps
        client.get(url)
    liaison = User.objects.get(username="liaison")
    street = User.objects.get(username="shatoujiao")
    case = case_services.case_send_to_street(case=case, actor=liaison)
    case = case_services.case_refer(
        case=case,
        actor=street,
        handling_unit=HandlingUnit.objects.get(name="沙头角街道城市管理办公室"),
    )
    for _ in range(3):
        case = case_services.case_urge(case=case, actor=street)
    with django_assert_num_queries(5):
        page = client.get(url).content.decode()
    assert page.count("组织部门已催促承办单位") == 3


def test_a_one_time_code_goes_through_the_sms_gateway_and_not_into_the_log(
    world: Any, settings: Any, sms_gateway: Any, caplog: Any
) -> None:
    import json
    import logging

    caplog.set_level(logging.DEBUG)
    settings.MINYI_REPORTER_CHANNEL = "http"
    _, case, _ = submit()
    client = Client()
    response = client.post(
        reverse("online:code_request"), {"number": case.number, "phone": "13800007777"}
    )
    assert response.status_code == 302
    [request] = sms_gateway.requests
    sent = json.loads(request["body"])
    row = OneTimeCode.objects.get()
    assert sent["phone"] == "+8613800007777" and sent["id"] == f"one-time-code-{row.pk}"
    assert row.sent and row.channel == "http"
    code = found(r"验证码是 (\d{6})", sent["text"])
    assert client.post(reverse("online:code_check"), {"code": code}).status_code == 302
    assert code not in caplog.text and "13800007777" not in caplog.text


def test_a_code_the_gateway_did_not_take_is_answered_like_no_match(
    world: Any, settings: Any, sms_gateway: Any, caplog: Any, monkeypatch: Any
) -> None:
    """While the gateway is down, a matching number and phone must not get another answer
    than a pair that does not match: that would confirm the pair to anyone probing."""
    import logging

    from tests.sms_gateway import refused_url

    caplog.set_level(logging.DEBUG)
    settings.MINYI_REPORTER_CHANNEL = "http"
    settings.MINYI_SMS_URL = refused_url()
    monkeypatch.setattr(services.codes, "new_one_time_code", lambda: "482913")
    _, case, _ = submit()
    answers = []
    for phone in ("13800007777", "13800001111"):  # the registered phone, another
        client = Client()
        request = client.post(
            reverse("online:code_request"), {"number": case.number, "phone": phone}
        )
        answers.append((request, client.get(request["Location"])))
    (matched, matched_page), (other, other_page) = answers
    assert matched.status_code == other.status_code == 302
    assert matched["Location"] == other["Location"] == reverse("online:code_check")
    assert matched_page.status_code == other_page.status_code == 200
    assert _body(matched_page) == _body(other_page)
    page = _body(matched_page)
    assert "若编号与手机号码匹配，验证码将以短信发送" in page and "几分钟内未收到" in page
    # Operators still see the failure: the row keeps its error, the log names the key.
    row = OneTimeCode.objects.get()
    assert not row.sent and "拒绝连接" in row.last_error
    assert f"one-time-code-{row.pk}" in caplog.text
    assert "13800007777" not in row.last_error + caplog.text
    assert "7777" not in caplog.text and "482913" not in caplog.text


def test_the_console_channel_logs_the_code_for_developers_but_not_the_phone(caplog: Any) -> None:
    import logging

    caplog.set_level(logging.INFO)
    services.ConsoleCodeChannel().send("+8613800007777", "验证码是 482913", "one-time-code-1")
    assert "482913" in caplog.text and "138****7777" in caplog.text
    assert "13800007777" not in caplog.text


def test_without_a_gateway_production_offers_no_codes_and_logs_none(
    world: Any, settings: Any, caplog: Any
) -> None:
    """Production never writes a code to the log (MINYI_CONSOLE_CODES is off there): a
    code in the log would open the resident's case to whoever reads it. Without a
    gateway the pages say so instead of taking a number and phone for nothing."""
    import logging

    caplog.set_level(logging.DEBUG)
    settings.MINYI_CONSOLE_CODES = False
    _, case, _ = submit()
    lookup = Client().get(reverse("online:lookup")).content.decode()
    assert reverse("online:code_request") not in lookup and "暂未开通短信验证码" in lookup
    page = Client().get(reverse("online:code_request"))
    assert page.status_code == 200 and "暂未开通短信验证码" in page.content.decode()
    assert 'name="phone"' not in page.content.decode()
    posted = Client().post(
        reverse("online:code_request"), {"number": case.number, "phone": "13800007777"}
    )
    assert posted.status_code == 503 and "暂未开通短信验证码" in posted.content.decode()
    assert not OneTimeCode.objects.exists()
    assert "验证码是" not in caplog.text
    # A gateway makes them available again.
    settings.MINYI_REPORTER_CHANNEL = "http"
    lookup = Client().get(reverse("online:lookup")).content.decode()
    assert reverse("online:code_request") in lookup


def test_production_settings_never_log_codes() -> None:
    import subprocess
    import sys

    from tests.security.test_web import ROOT, _production_env

    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import config.settings_production as s; print(s.MINYI_CONSOLE_CODES)",
        ],
        cwd=ROOT,
        env={**_production_env(), "MINYI_CONSOLE_CODES": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
