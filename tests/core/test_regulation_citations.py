"""No page or message shows the developers' codes for the regulations ("SM 9",
"CM 第十二条"): an official cites 《工作室管理办法》第九条 (minyi/core/regulations.py).

Three nets: the templates' text (outside tags and comments) and any `{{ x.rule }}` shown
without the `rule` filter; every string literal in the application's Python that is
Chinese text (docstrings, comments and bare codes such as `rule="SM 9"` are data, not
text, and pass, as does an API field description that names the code as 代码); and the
staff pages of every persona, rendered as the accessibility
walk lists them, with their records made the same way.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from minyi.core.regulations import CM, SM, chinese_number, cite, cite_codes, cite_html
from minyi.people.models import User

ROOT = Path(__file__).resolve().parents[2] / "minyi"
TEMPLATES = ROOT / "templates"

# A code as a page would show it: "SM 9", "SM9", "CM 第十二条", "（SM 12.5）".
BARE = re.compile(r"(?<![A-Za-z])(SM|CM) ?(第|\d)")
CJK = re.compile(r"[\u4e00-\u9fff]")
TAG = re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{#.*?#}|{%.*?%}", re.S)
UNCITED_RULE = re.compile(r"{{\s*[\w.]*\brule\s*}}")


def test_citations_read_as_an_official_writes_them() -> None:
    assert cite("SM 9") == "《工作室管理办法》第九条"
    assert cite("SM 12.5") == "《工作室管理办法》第十二条第五项"
    assert cite("SM 9", "SM 10") == "《工作室管理办法》第九条、第十条"
    assert cite("CM 4", "SM 9") == "《进社区联系群众办法》第四条；《工作室管理办法》第九条"
    assert cite_html("CM 12") == (f'<abbr title="《{CM.title}》">《{CM.short}》</abbr>第十二条')
    assert cite_codes("双月报告（SM 12.5）：应报 6 期") == (
        "双月报告（《工作室管理办法》第十二条第五项）：应报 6 期"
    )
    assert SM.title == "深圳市党代表工作室管理暂行办法"
    assert [chinese_number(n) for n in (1, 10, 11, 16, 20, 21)] == [
        "一",
        "十",
        "十一",
        "十六",
        "二十",
        "二十一",
    ]
    with pytest.raises(ValueError):
        cite("第九条")


def test_the_templates_show_no_code() -> None:
    found = []
    for path in sorted(TEMPLATES.rglob("*")):
        if path.suffix not in {".html", ".txt", ".xml", ".ics"}:
            continue
        source = path.read_text(encoding="utf-8")
        text = TAG.sub("", source)
        found += [f"{path.relative_to(ROOT)}: {m.group(0)!r}" for m in BARE.finditer(text)]
        found += [
            f"{path.relative_to(ROOT)}: {m.group(0)} without |rule"
            for m in UNCITED_RULE.finditer(source)
        ]
    assert not found, "\n".join(found)


def _texts(tree: ast.AST) -> list[tuple[int, str]]:
    """String literals that are not docstrings, with f-strings' literal parts joined."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    parts_of_fstrings = {
        id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = [v.value for v in node.values if isinstance(v, ast.Constant)]
            found.append((node.lineno, "{}".join(str(p) for p in parts)))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings | parts_of_fstrings
        ):
            found.append((node.lineno, node.value))
    return found


def _names_the_code(path: Path, text: str) -> bool:
    """The API's description of a `rule` field, which holds the code: it says so."""
    return "api" in path.relative_to(ROOT).parts and "代码" in text


def test_the_application_strings_show_no_code() -> None:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" in path.parts:
            continue  # history: the fields' texts as they were
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for lineno, text in _texts(tree):
            if CJK.search(text) and BARE.search(text) and not _names_the_code(path, text):
                found.append(f"{path.relative_to(ROOT)}:{lineno}: {text!r}")
    for path in sorted(ROOT.glob("locale/*/LC_MESSAGES/*.po")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.startswith(("msgid", "msgstr", '"')) and BARE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{n}: {line}")
    assert not found, "\n".join(found)


def test_the_guard_sees_a_code_in_text_and_not_in_data() -> None:
    tree = ast.parse(
        '"""SM 9 in a docstring."""\n'
        'rule = "SM 9"\n'
        'm = f"窗口将于 {d} 关闭。（SM 9）"\n'
        "n = f\"面积不足（{cite('SM 5')}）。\"\n"
    )
    flagged = [t for _, t in _texts(tree) if CJK.search(t) and BARE.search(t)]
    assert flagged == ["窗口将于 {} 关闭。（SM 9）"]
    assert TAG.sub("", '{% if r.rule == "SM 10" %}{# SM 9 #}（{% rule "SM 9" %}）') == "（）"
    assert UNCITED_RULE.search("（{{ w.rule }}）")
    assert not UNCITED_RULE.search("（{{ w.rule|rule }}）")


def _shown_codes(html: str) -> list[str]:
    """The codes in a page's text, with some text around each. Scripts, styles and the
    tags themselves (a CSRF token may hold "CM1") are left out."""
    text = re.sub(r"<script.*?</script>|<style.*?</style>|<[^>]*>", " ", html, flags=re.S)
    return [text[max(0, m.start() - 30) : m.end() + 10] for m in BARE.finditer(text)]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["liaison", "rep", "shatoujiao", "unit", "yantian", "city"])
def test_the_staff_pages_show_no_code(world: Any, persona: str) -> None:
    from tests.browser.test_staff_accessibility import PERSONAS, SUBMIT

    paths = PERSONAS[persona](world)
    client = Client()
    client.force_login(User.objects.get(username=persona))
    found = []
    for entry in paths:
        path = entry.removesuffix(SUBMIT)
        response = client.get(path)
        assert response.status_code == 200, f"{path}: {response.status_code}"
        found += [f"{path}: …{text}…" for text in _shown_codes(response.text)]
    assert not found, "\n".join(found)
