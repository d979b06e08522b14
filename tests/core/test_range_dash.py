"""One mark between the two ends of a range, on every page, PDF, Excel sheet and message.

The mark is the 一字线 "—" (U+2014): GB/T 15834-2011 (标点符号用法, 4.13.3.2) gives it
for the start and end of times, dates and places (09:00—12:00, 1—2月,
2026年1月1日—2026年12月31日), and in Chinese fonts it fills one character's width as
the text around it does. The en dash "–" (U+2013) is no Chinese punctuation: it showed up
half-width between the same times on other pages (the public events list printed
09:00—12:00 and the plan page 09:00–12:00). "至" reads well in prose but not between two
times in a table cell, so it is not used for printed ranges either. "—" alone in a cell
still means "nothing here"; a range always has both ends beside it.

Docstrings and comments (English prose, "CM 9–12") and the migrations (history) are not
printed and are left out; not the API's docstrings, which its OpenAPI document prints as
the operations' descriptions.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "minyi"
EN_DASH = "\u2013"
# Between two template outputs: any other range mark than "—".
TEMPLATE_RANGE = re.compile(r"\}\}\s*(?:至|-|~|～|\u2013)\s*\{\{")
OTHER_MARKS = {"至", "-", "~", "～", EN_DASH}
DATE_OR_TIME = re.compile(r"%[HMYmd]")


def _templates() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.html") if "templates" in p.parts)


def _sources() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if "migrations" not in p.parts)


def _docstrings(tree: ast.AST, path: Path) -> set[int]:
    if "api" in path.relative_to(ROOT).parts:
        return set()
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def test_templates_print_ranges_with_the_one_mark() -> None:
    bad = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()[:80]}"
        for path in _templates()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if EN_DASH in line or TEMPLATE_RANGE.search(line)
    ]
    assert not bad, f"print a range as start—end (U+2014), this module says why: {bad}"


def test_python_strings_print_ranges_with_the_one_mark() -> None:
    bad = []
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = _docstrings(tree, path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if id(node) not in docs and EN_DASH in node.value:
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:60]!r}")
            elif isinstance(node, ast.JoinedStr):
                bad.extend(
                    f"{path.relative_to(ROOT)}:{node.lineno}: {{…}}{mark}{{…}}"
                    for mark in _marks_between_dates(node)
                )
    assert not bad, f"print a range as start—end (U+2014), this module says why: {bad}"


def _marks_between_dates(node: ast.JoinedStr) -> list[str]:
    """The marks of an f-string that stand alone between two formatted dates or times,
    as in f"{start:%H:%M}-{end:%H:%M}"; not in a file name, whose dash is no range."""
    parts = node.values
    tail = parts[-1] if parts else None
    if isinstance(tail, ast.Constant) and re.search(r"\.\w{2,4}$", str(tail.value)):
        return []

    def dated(part: ast.expr) -> bool:
        spec = part.format_spec if isinstance(part, ast.FormattedValue) else None
        return spec is not None and bool(DATE_OR_TIME.search(ast.unparse(spec)))

    return [
        str(mid.value)
        for before, mid, after in zip(parts, parts[1:], parts[2:], strict=False)
        if isinstance(mid, ast.Constant)
        and str(mid.value).strip() in OTHER_MARKS
        and dated(before)
        and dated(after)
    ]


def test_the_guard_sees_what_it_guards() -> None:
    # The checks above would pass on nothing at all: make sure they find what they look for.
    assert len(_templates()) > 100 and len(_sources()) > 100
    assert TEMPLATE_RANGE.search('{{ a|date:"H:i" }}–{{ b|date:"H:i" }}')
    assert TEMPLATE_RANGE.search('{{ a|date:"Y年n月j日" }} 至 {{ b|date:"Y年n月j日" }}')
    assert not TEMPLATE_RANGE.search('{{ a|date:"H:i" }}—{{ b|date:"H:i" }}')
    tree = ast.parse(
        'f"{a:%H:%M}-{b:%H:%M}"\nf"{a:%Y-%m-%d} 至 {b:%Y-%m-%d}"\nf"x-{a:%Y%m%d}-{b:%Y%m%d}.pdf"'
    )
    found = [
        m for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for m in _marks_between_dates(n)
    ]
    assert found == ["-", " 至 "]
