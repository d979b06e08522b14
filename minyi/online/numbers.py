"""A case number as a resident types it from the printed slip.

A number is its prefix (street and community, or a studio's own: minyi.cases.numbering),
the year and a serial of at least three digits: 沙头角街道沙头角社区2026006. On a phone,
residents type what is easy: the digits alone (2026006), the community without its
street (沙头角社区2026006), full-width digits from a Chinese keyboard (２０２６００６),
spaces or hyphens between the parts (2026-006). Each is read as the year, the serial and
the end of the prefix, which find a number if exactly one has them.

What this reads is input only: the query it builds has the same shape whether or not a
number exists, and a text that fits several numbers finds none (the caller answers as
for a wrong code), so a lookup still tells nothing about which numbers exist and still
checks one case's code per try.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Q

MAX_LENGTH = 140  # Case.number
# The years a number can have: a digit run is split where its year falls in them.
FIRST_YEAR, LAST_YEAR = 2000, 2099
FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
# What people put between the parts of a number (never inside a prefix: a prefix keeps
# whatever characters its name has).
# The dashes by code point: they are read from what residents type, never printed (the
# one printed range mark is "—", tests/core/test_range_dash.py).
_DASHES = "".join(chr(c) for c in (0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0xFF0D))
_SEPARATORS = r"\-" + _DASHES + "_·・.．/／、,，:：#＃"
_TAIL = re.compile(rf"(.*?)[{_SEPARATORS}]*(\d(?:[{_SEPARATORS}]*\d)*)[{_SEPARATORS}]*")
_LABEL = re.compile(r"(?:编号[:：]?|No\.)")


@dataclass(frozen=True)
class TypedNumber:
    text: str  # whitespace removed, full-width digits made ASCII
    digits_only: bool  # nothing before the digits: no street, no community

    def readings(self) -> list[tuple[int, int, str]]:
        """The (year, serial, end of the prefix) this text may be; [] when it ends in no
        year and serial, and is then taken as a number as it stands."""
        match = _TAIL.fullmatch(self.text)
        if match is None:
            return []
        before, digits = match.group(1), re.sub(r"\D", "", match.group(2))
        found = []
        # The prefix may end with digits of its own (a running number, minyi.org.prefixes):
        # the serial is the last three or more digits, the year the four before them.
        for width in range(3, len(digits) - 3):
            serial_text = digits[-width:]
            year = int(digits[-width - 4 : -width])
            serial = int(serial_text)
            if serial < 1 or serial_text != f"{serial:03d}":
                continue  # 2026 006 is 006; 0006 is not how a serial is printed
            if FIRST_YEAR <= year <= LAST_YEAR:
                found.append((year, serial, before + digits[: -width - 4]))
        return found

    def q(self, path: str = "") -> Q:
        """The cases (through `path`, e.g. "case__") whose number this may be: one with
        a reading's year and serial and a prefix ending as typed, or the text as it
        stands. Callers take exactly one match or treat it as no match."""
        found = Q()
        for year, serial, end in self.readings():
            part = Q(**{f"{path}year": year, f"{path}serial": serial})
            if end:
                part &= Q(**{f"{path}number_prefix__endswith": end})
            found |= part
        return found or Q(**{f"{path}number": self.text})


def read_number(raw: str) -> TypedNumber:
    text = "".join((raw or "").translate(FULL_WIDTH_DIGITS).split())
    label = _LABEL.match(text)
    if label:
        text = text[label.end() :]
    text = text[:MAX_LENGTH]
    match = _TAIL.fullmatch(text)
    return TypedNumber(text=text, digits_only=match is not None and not match.group(1))
