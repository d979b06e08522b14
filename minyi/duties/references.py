"""The booking reference (预约号) a resident quotes when they phone the studio.

Six characters drawn at random from the progress codes' alphabet (no 0/O, 1/I/L: read
off a phone screen and said aloud by elderly people), about 8.9 × 10⁸ of them: it
names one booking and tells nothing of the others, as a sequential number would (how
many the studio has had, the number of the one booked just before). It is no secret:
the liaison finds the booking by it, the booker's details stay behind the recorded
full view.
"""

from __future__ import annotations

import secrets

from minyi.online.codes import ALPHABET, normalise_code

REFERENCE_LENGTH = 6
SPACE = len(ALPHABET) ** REFERENCE_LENGTH
# Any number not divisible by 31 (the alphabet's size) makes n -> n * STRIDE a bijection
# of the space, so numbers that follow each other get references that do not.
STRIDE = 3**18


def new_reference() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(REFERENCE_LENGTH))


def reference_for_number(n: int) -> str:
    """A distinct reference for each n below SPACE, for a bulk writer (the load data
    generator) that cannot draw one at random and retry on a clash as a booking does:
    drawn at random, a million bookings would share some 560 references."""
    assert 0 <= n < SPACE, n
    x = n * STRIDE % SPACE
    chars = []
    for _ in range(REFERENCE_LENGTH):
        x, digit = divmod(x, len(ALPHABET))
        chars.append(ALPHABET[digit])
    return "".join(chars)


def format_reference(reference: str) -> str:
    """K7M4QP shown as K7M-4QP: two groups of three are easier to read out."""
    half = len(reference) // 2
    return f"{reference[:half]}-{reference[half:]}" if reference else ""


def as_reference(text: str) -> str:
    """What someone typed as a reference (spaces, a dash, small letters), or "" when it
    cannot be one."""
    code = normalise_code(text)
    if len(code) == REFERENCE_LENGTH and all(ch in ALPHABET for ch in code):
        return code
    return ""
