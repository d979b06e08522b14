"""Chinese phone numbers: parse into E.164 for storage, format and mask for display."""

import re

import phonenumbers
from django.core.exceptions import ValidationError

CN_COUNTRY_CODE = 86
# A stored mainland mobile number (+86 1[3-9]x xxxx xxxx): its national form is the
# 11 digits after +86, with no area code. Lists show a masked phone on every row, and
# parsing with phonenumbers costs about 50 µs a number (a 50-row ledger spent 8 ms of
# CPU on it); tests/core/test_phones.py checks the shortcut against phonenumbers.
CN_MOBILE_E164 = re.compile(r"\+861[3-9]\d{9}")
# A mainland landline's national number: an area code and a full local number. The
# two-digit codes (010 Beijing, 02x) have 8-digit numbers; Shenzhen's 0755 has had
# 8 since 1996; the other three-digit codes have 7 or 8. phonenumbers also accepts
# short numbers after an area code (0755-1234, 0755-95555: service and switchboard
# extensions), which reach nobody who registered a case (docs/decisions.md).
CN_LANDLINE_NATIONAL = re.compile(r"(?:10|2\d)\d{8}|755\d{8}|(?!755)[3-9]\d{2}\d{7,8}")
INVALID_PHONE = (
    "“%(value)s”不是有效的电话号码。请填写11位手机号（如13800001234），"
    "或带区号的完整固定电话（如0755-12345678：深圳区号0755后为8位，其他地区区号后为7至8位）。"
)


def parse_phone(raw: str) -> str:
    """The E.164 form of any number phonenumbers calls valid, or raise. For finding
    what is already stored (lookup digests, import keys): a number kept before
    normalize_phone's stricter check must still find its rows."""
    return _format(_parse(raw))


def normalize_phone(raw: str) -> str:
    """Return the E.164 form (+8613800001234) of a number someone can be called on,
    or raise: a mainland mobile (1[3-9] and 9 digits) or landline (area code and a
    full local number), or a number from elsewhere typed with its country code
    (+852 …). Every phone a form or booking takes goes through here."""
    number = _parse(raw)
    if number is None:
        return ""
    if number.country_code == CN_COUNTRY_CODE and not _is_mainland_line(number):
        raise ValidationError(INVALID_PHONE, code="invalid_phone", params={"value": raw.strip()})
    return _format(number)


def _parse(raw: str) -> phonenumbers.PhoneNumber | None:
    value = (raw or "").strip()
    if not value:
        return None
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(INVALID_PHONE, code="invalid_phone", params={"value": value}) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(INVALID_PHONE, code="invalid_phone", params={"value": value})
    return number


def _format(number: phonenumbers.PhoneNumber | None) -> str:
    if number is None:
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _is_mainland_line(number: phonenumbers.PhoneNumber) -> bool:
    e164 = _format(number)
    if CN_MOBILE_E164.fullmatch(e164):
        return True
    # 400/800 numbers have the landline's shape but are company hotlines.
    kind = phonenumbers.number_type(number)
    if kind not in (
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        return False
    return bool(CN_LANDLINE_NATIONAL.fullmatch(phonenumbers.national_significant_number(number)))


def is_mobile(e164: str) -> bool:
    """Whether a stored number is a mainland mobile, the only kind a text message reaches."""
    return bool(CN_MOBILE_E164.fullmatch(e164 or ""))


def display_phone(e164: str) -> str:
    """The national form a Chinese reader expects: 13800001234 or 0755-12345678.
    Numbers from elsewhere keep their international form (+852 2123 4567)."""
    if not e164:
        return ""
    if CN_MOBILE_E164.fullmatch(e164):
        return e164[3:]
    try:
        number = phonenumbers.parse(e164, "CN")
    except phonenumbers.NumberParseException:
        return e164
    if number.country_code != CN_COUNTRY_CODE:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    significant = phonenumbers.national_significant_number(number)
    area = phonenumbers.length_of_geographical_area_code(number)
    if area:
        return f"0{significant[:area]}-{significant[area:]}"
    return significant


def mask_phone(e164: str) -> str:
    """138****5678: enough to recognise a number, not enough to call it."""
    if not e164:
        return ""
    digits = "".join(ch for ch in display_phone(e164) if ch.isdigit())
    if len(digits) < 7:
        return "****"
    return f"{digits[:3]}****{digits[-4:]}"
