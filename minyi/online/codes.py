"""Secrets a resident holds: the progress code, one-time codes, and the keyed hash of a
phone number used for limits.

Only keyed hashes (HMAC with the site's secret key) are stored, and every comparison
is in constant time. A lookup that finds no case still hashes and compares against a
dummy value, so "no such case" and "wrong code" take the same path and give the same
answer: numbers cannot be confirmed by probing.
"""

from __future__ import annotations

import secrets

from django.utils.crypto import constant_time_compare, salted_hmac

# No 0/O, 1/I/L: the code is read off a phone screen and typed by elderly people.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PROGRESS_CODE_LENGTH = 8
ONE_TIME_CODE_DIGITS = 6
# Compared against when there is nothing to compare with (same work, never equal).
DUMMY_HASH = "0" * 64


def _digest(purpose: str, value: str) -> str:
    return salted_hmac(f"minyi.online.{purpose}", value, algorithm="sha256").hexdigest()


def new_progress_code() -> str:
    """8 characters from a 31-letter alphabet (about 8.5 × 10¹¹ codes), shown as
    ABCD-EFGH."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(PROGRESS_CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalise_code(value: str) -> str:
    """What the resident typed, without spaces or dashes, in capitals."""
    return "".join(ch for ch in (value or "").upper() if ch.isalnum())[:32]


def hash_progress_code(code: str) -> str:
    return _digest("progress", normalise_code(code))


def new_one_time_code() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(ONE_TIME_CODE_DIGITS))


def hash_one_time_code(code: str, report_pk: int) -> str:
    return _digest("otp", f"{report_pk}:{normalise_code(code)}")


def phone_key(e164: str) -> str:
    """The key for a phone number in limits and lookups: never the number itself."""
    return _digest("phone", e164) if e164 else ""


def matches(candidate_hash: str, stored_hash: str | None) -> bool:
    return constant_time_compare(candidate_hash, stored_hash or DUMMY_HASH) and bool(stored_hash)
