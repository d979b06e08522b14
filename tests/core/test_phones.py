"""Phone numbers: stored as E.164, shown in the national form, masked for lists."""

from __future__ import annotations

import phonenumbers
import pytest
from django.core.exceptions import ValidationError

from minyi.core.crypto import phone_digest
from minyi.core.phones import (
    CN_MOBILE_E164,
    display_phone,
    mask_phone,
    normalize_phone,
    parse_phone,
)


@pytest.mark.parametrize(
    ("typed", "stored", "shown", "masked"),
    [
        ("13800001234", "+8613800001234", "13800001234", "138****1234"),
        (" 138 0000 1234 ", "+8613800001234", "13800001234", "138****1234"),
        ("138-0000-1234", "+8613800001234", "13800001234", "138****1234"),
        ("+86 13800001234", "+8613800001234", "13800001234", "138****1234"),
        ("008613800001234", "+8613800001234", "13800001234", "138****1234"),
        ("0755-12345678", "+8675512345678", "0755-12345678", "075****5678"),
        ("075512345678", "+8675512345678", "0755-12345678", "075****5678"),
        ("(0755) 1234 5678", "+8675512345678", "0755-12345678", "075****5678"),
        ("010-12345678", "+861012345678", "010-12345678", "010****5678"),
        ("020-88888888", "+862088888888", "020-88888888", "020****8888"),
        ("0769-22345678", "+8676922345678", "0769-22345678", "076****5678"),
        ("0391-2234567", "+863912234567", "0391-2234567", "039****4567"),
        ("+86 755 2522 1234", "+8675525221234", "0755-25221234", "075****1234"),
        ("19912345678", "+8619912345678", "19912345678", "199****5678"),
    ],
)
def test_it_normalizes_displays_and_masks(typed: str, stored: str, shown: str, masked: str) -> None:
    assert normalize_phone(typed) == stored
    assert display_phone(stored) == shown
    assert mask_phone(stored) == masked


@pytest.mark.parametrize(
    "junk",
    [
        "12345",
        "abc",
        "1380000123",
        "138000012345",
        "020-8888888",
        # phonenumbers calls these valid; none reaches a person who registered a case.
        "0755-1234",  # Shenzhen's local numbers have 8 digits
        "+86 755 1234",
        "0755-95555",  # a service number after the area code
        "0769-12345",
        "400-123-4567",  # company hotlines, the landline's shape
        "800-123-4567",
    ],
)
def test_it_rejects_what_is_not_a_phone_number_in_chinese(junk: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalize_phone(junk)
    assert caught.value.code == "invalid_phone"
    message = caught.value.messages[0]
    assert junk in message
    assert "不是有效的电话号码" in message
    # What is expected, in full.
    assert "11位手机号" in message and "0755后为8位" in message


def test_a_short_number_stored_before_the_check_still_finds_its_rows() -> None:
    # Lookups (digests, import keys) parse leniently: a number kept when phonenumbers
    # alone decided must still be found by the same typing.
    assert parse_phone("0755-1234") == "+867551234"
    assert phone_digest("0755-1234") == phone_digest("+867551234") != ""
    assert phone_digest("0755-12345678") == phone_digest("+8675512345678")


@pytest.mark.parametrize("blank", ["", "   ", None])
def test_a_blank_number_stays_blank(blank: str | None) -> None:
    assert normalize_phone(blank) == ""  # type: ignore[arg-type]
    assert display_phone("") == ""
    assert mask_phone("") == ""


def test_normalizing_is_idempotent() -> None:
    stored = normalize_phone("13800001234")
    assert normalize_phone(stored) == stored
    assert normalize_phone(display_phone(stored)) == stored


def test_a_stored_value_that_does_not_parse_is_shown_as_is() -> None:
    assert display_phone("not a number") == "not a number"


def test_a_number_from_outside_the_mainland_keeps_its_international_form() -> None:
    stored = normalize_phone("+852 2123 4567")
    assert stored == "+85221234567"
    assert display_phone(stored) == "+852 2123 4567"
    assert mask_phone(stored) == "852****4567"


def _national_form_by_phonenumbers(e164: str) -> str:
    # display_phone's general path, without its shortcut for mobile numbers.
    number = phonenumbers.parse(e164, "CN")
    significant = phonenumbers.national_significant_number(number)
    area = phonenumbers.length_of_geographical_area_code(number)
    return f"0{significant[:area]}-{significant[area:]}" if area else significant


def test_the_mobile_shortcut_shows_what_phonenumbers_shows() -> None:
    # Every four-digit start a mainland mobile number can have, with three endings each:
    # the shortcut (no parsing) must agree with phonenumbers on all of them.
    for start in range(1300, 2000):
        for ending in ("0000000", "1234567", "9999999"):
            stored = f"+86{start}{ending}"
            assert display_phone(stored) == _national_form_by_phonenumbers(stored), stored


@pytest.mark.parametrize(
    "stored",
    [
        "+86138000012345",  # 12 digits
        "+8612345678901",  # 12x is not a mobile range
        "+861012345678",  # Beijing: starts with 1 too, has an area code
        "+8613800001234\n",  # trailing junk
    ],
)
def test_what_only_looks_like_a_mobile_number_takes_the_general_path(stored: str) -> None:
    assert not CN_MOBILE_E164.fullmatch(stored)
    assert display_phone(stored) == _national_form_by_phonenumbers(stored)
