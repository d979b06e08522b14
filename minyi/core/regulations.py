"""How the interface cites the two regulations the system implements.

The code and its data name an article by a short code: "SM 9" is article 9 of
《深圳市党代表工作室管理暂行办法》 (2012), "CM 12" article 12 of
《中国共产党深圳市代表大会代表进社区联系群众暂行办法》 (2010), "SM 12.5" item 5 of SM's
article 12 (/work/shared/DOMAIN.md). The codes stay in the data and in the API's
`rule` fields; what an official reads is the citation an organisation department would
write: a short title and the article in Chinese numerals, 《工作室管理办法》第九条,
《工作室管理办法》第十二条第五项. On a page the short title is an <abbr> whose title
is the full one (docs/decisions.md, "Citing the regulations").

tests/core/test_regulation_citations.py fails when a template or a user-facing string
shows a bare code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from django.utils.html import format_html_join
from django.utils.safestring import SafeString


@dataclass(frozen=True)
class Regulation:
    code: str
    title: str  # the full title, without the book-title marks
    short: str  # the short title the pages use


SM = Regulation("SM", "深圳市党代表工作室管理暂行办法", "工作室管理办法")
CM = Regulation("CM", "中国共产党深圳市代表大会代表进社区联系群众暂行办法", "进社区联系群众办法")
REGULATIONS = {r.code: r for r in (SM, CM)}

# One article reference: "SM 9", "SM 12.5", "CM第十二条" is not one (only the codes).
CODE = re.compile(r"\b(SM|CM) ?(\d{1,2})(?:\.(\d{1,2}))?\b")

_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1–99 in Chinese numerals as article numbers are written: 九, 十, 十二, 二十一."""
    if not 0 < n < 100:
        raise ValueError(f"article number out of range: {n}")
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _DIGITS[ones]
    head = "" if tens == 1 else _DIGITS[tens]
    return f"{head}十{_DIGITS[ones] if ones else ''}"


def _parse(code: str) -> tuple[Regulation, str]:
    match = CODE.fullmatch(code.strip())
    if match is None:
        raise ValueError(f"not a regulation code: {code!r}")
    return REGULATIONS[match[1]], _article(match)


def _article(match: re.Match[str]) -> str:
    text = f"第{chinese_number(int(match[2]))}条"
    if match[3]:
        text += f"第{chinese_number(int(match[3]))}项"
    return text


def _grouped(codes: tuple[str, ...]) -> list[tuple[Regulation, list[str]]]:
    """The codes' articles per regulation, in the order first met."""
    groups: dict[str, tuple[Regulation, list[str]]] = {}
    for code in codes:
        regulation, article = _parse(code)
        groups.setdefault(regulation.code, (regulation, []))[1].append(article)
    return list(groups.values())


@cache
def cite(*codes: str) -> str:
    """Plain text, for messages, exports and the API: cite("SM 9", "SM 10") is
    《工作室管理办法》第九条、第十条."""
    return "；".join(f"《{r.short}》{'、'.join(arts)}" for r, arts in _grouped(codes))


@cache
def cite_html(*codes: str) -> SafeString:
    """For pages: the short title as an <abbr> whose title is the full one."""
    return format_html_join(
        "；",
        '<abbr title="《{}》">《{}》</abbr>{}',
        ((r.title, r.short, "、".join(arts)) for r, arts in _grouped(codes)),
    )


def cite_codes(text: str) -> str:
    """Free text with codes in it (evidence frozen before the codes were cited) with
    each code cited: "SM 5：面积 36 平方米。" reads 《工作室管理办法》第五条：面积…"""
    return CODE.sub(lambda m: f"《{REGULATIONS[m[1]].short}》{_article(m)}", text)
