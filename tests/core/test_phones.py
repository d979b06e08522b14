"""Phone numbers: stored as E.164, shown in the national form, masked for lists."""

from __future__ import annotations

import phonenumbers
import pytest
from django.core.exceptions import ValidationError

from minyi.core.phones import CN_MOBILE_E164, display_phone, mask_phone, normalize_phone


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
    ],
)
def test_it_normalizes_displays_and_masks(typed: str, stored: str, shown: str, masked: str) -> None:
    assert normalize_phone(typed) == stored
    assert display_phone(stored) == shown
    assert mask_phone(stored) == masked


@pytest.mark.parametrize("junk", ["12345", "abc", "1380000123", "138000012345", "020-8888888"])
def test_it_rejects_what_is_not_a_phone_number_in_chinese(junk: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalize_phone(junk)
    assert caught.value.code == "invalid_phone"
    message = caught.value.messages[0]
    assert junk in message
    assert "不是有效的电话号码" in message


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
