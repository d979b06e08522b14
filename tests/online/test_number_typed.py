"""Following a case by its number as a resident types it from the slip: the digits
alone, the community without its street, full-width digits, spaces and hyphens; found
when the text fits exactly one number, and never telling which numbers exist."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from minyi.cases.models import Case
from minyi.online import services
from minyi.online.numbers import read_number
from tests.online.helpers import codes_sent, counted_compares, submit

pytestmark = pytest.mark.django_db

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
TYPED = re.compile(r'name="number" value="[^"]*"')
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _lookup(number: str, code: str) -> Any:
    return Client().post(reverse("online:lookup"), {"number": number, "code": code})


def _digits(case: Case) -> str:
    return case.number.removeprefix(case.number_prefix)  # 2026001


def _ways_to_type(case: Case) -> list[str]:
    digits = _digits(case)
    year, serial = digits[:4], digits[4:]
    return [
        case.number,
        digits,
        f"沙头角社区{digits}",
        f"沙头角街道 沙头角社区 {year}-{serial}",
        f"{year} {serial}",
        digits.translate(FULL_WIDTH),
        f"沙头角街道沙头角社区{digits.translate(FULL_WIDTH)}",
        f"编号：{case.number}",
        f"{case.number}\u3000",
    ]


def test_the_number_is_found_however_the_slip_was_copied(world: Any) -> None:
    _, case, code = submit()
    for typed in _ways_to_type(case):
        response = _lookup(typed, code)
        assert response.status_code == 302, typed
        assert services.find_report(typed, code).case == case, typed  # type: ignore[union-attr]


def test_digits_that_fit_two_numbers_find_neither(world: Any) -> None:
    _, case, code = submit()
    _, other, _ = submit()
    # Another community's case with the same year and serial.
    Case.objects.filter(pk=other.pk).update(
        number_prefix="梅沙街道大梅沙社区",
        number=f"梅沙街道大梅沙社区{_digits(case)}",
        serial=case.serial,
    )
    assert services.find_report(_digits(case), code) is None
    # With the community it names one number again.
    assert services.find_report(f"沙头角社区{_digits(case)}", code).case == case  # type: ignore[union-attr]
    assert services.find_report(f"社区{_digits(case)}", code) is None  # both end so
    page = _lookup(_digits(case), code)
    assert page.status_code == 400
    text = page.content.decode()
    assert "编号或查询码不对" in text and "请把编号前面的街道和社区名称一起填上" in text


def test_digits_alone_answer_alike_for_a_wrong_code_and_a_missing_number(
    world: Any,
) -> None:
    _, case, code = submit()
    digits = _digits(case)
    wrong = _lookup(digits, "AAAA-AAAA")
    missing = _lookup(f"{digits[:4]}999", code)
    assert wrong.status_code == missing.status_code == 400

    def body(response: Any) -> str:
        return TYPED.sub("", CSRF.sub("", response.content.decode()))

    assert body(wrong) == body(missing)
    assert "请把编号前面的街道和社区名称一起填上" in body(wrong)
    # The hint follows what was typed: a full number does not get it.
    assert "请把编号前面" not in body(_lookup(case.number, "AAAA-AAAA"))


def test_a_lookup_by_digits_is_one_query_one_hash_one_compare(
    world: Any, monkeypatch: Any, django_assert_num_queries: Any
) -> None:
    _, case, _ = submit()
    calls = counted_compares(monkeypatch)
    for typed in (_digits(case), "2026999", "沙头角社区2026999", "不是编号"):
        with django_assert_num_queries(1):
            assert services.find_report(typed, "AAAA-AAAA") is None
    assert calls == ["cmp"] * 4


def test_a_one_time_code_is_sent_and_checked_by_the_digits_alone(
    world: Any, monkeypatch: Any
) -> None:
    sent = codes_sent(monkeypatch)
    _, case, _ = submit()
    client = Client()
    response = client.post(
        reverse("online:code_request"), {"number": _digits(case), "phone": "13800007777"}
    )
    assert response.status_code == 302
    page = client.get(reverse("online:code_check")).content.decode()
    assert "请把编号前面的街道和社区名称一起填上" in page  # from the typing, sent or not
    (_phone, text) = sent[-1]
    code = re.search(r"验证码是 (\d+)", text).group(1)  # type: ignore[union-attr]
    assert client.post(reverse("online:code_check"), {"code": code}).status_code == 302
    assert case.number in client.get(reverse("online:progress")).content.decode()


def test_a_one_time_code_is_not_sent_for_digits_that_fit_two_numbers(
    world: Any, monkeypatch: Any
) -> None:
    sent = codes_sent(monkeypatch)
    _, case, _ = submit()
    _, other, _ = submit()
    Case.objects.filter(pk=other.pk).update(
        number_prefix="梅沙街道大梅沙社区",
        number=f"梅沙街道大梅沙社区{_digits(case)}",
        serial=case.serial,
    )
    assert services.one_time_code_send(number=_digits(case), phone_e164="+8613800007777") is None
    assert sent == []


@pytest.mark.parametrize(
    ("typed", "digits_only", "splits"),
    [
        ("2026006", True, {(2026, 6, "")}),
        ("２０２６ ００６", True, {(2026, 6, "")}),
        ("2026-1000", True, {(2026, 1000, "")}),
        ("沙头角社区—2026—006", False, {(2026, 6, "沙头角社区")}),
        # A prefix ending in a running number of its own (minyi.org.prefixes).
        ("太平镇太平村2 2026001", False, {(2026, 1, "太平镇太平村2")}),
        ("20260006", True, set()),  # 0006 is not how a serial is printed
        ("1999001", True, set()),  # no such year
        ("沙头角", False, set()),
    ],
)
def test_what_is_read_from_the_typing(
    typed: str, digits_only: bool, splits: set[tuple[int, int, str]]
) -> None:
    number = read_number(typed)
    assert number.digits_only is digits_only
    assert set(number.readings()) == splits
