"""A leading underscore means "this module's own": a helper another module uses has a
public name. The project's code never imports another module's underscored name, nor
reads one off a module it imported (tests may)."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _borrowed(source: str) -> list[str]:
    """Where `source` uses another module's private name: `from minyi.x import _y`, or
    `x._y` with `x` a minyi module it imported. Each as `line name`."""
    tree = ast.parse(source)
    modules: set[str] = set()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("minyi"):
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"{node.lineno} {alias.name}")
                elif _is_module(f"{node.module}.{alias.name}"):
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            modules.update(a.asname for a in node.names if a.name.startswith("minyi") and a.asname)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and _private(node.attr)
        ):
            found.append(f"{node.lineno} {node.value.id}.{node.attr}")
    return found


def test_no_module_uses_another_module_s_private_names() -> None:
    sources = sorted(p for p in (ROOT / "minyi").rglob("*.py") if "migrations" not in p.parts)
    assert len(sources) > 100
    borrowed = [
        f"{path.relative_to(ROOT)}:{hit}"
        for path in sources
        for hit in _borrowed(path.read_text(encoding="utf-8"))
    ]
    assert borrowed == [], "give these helpers public names:\n" + "\n".join(borrowed)


def test_the_check_sees_both_kinds() -> None:
    source = (
        "from minyi.duties.views_people import _hidden, AppointmentList\n"
        "from minyi.cases import views as case_views\n"
        "from minyi.cases.models import Case\n"
        "case_views._other()\n"
        "Case._meta\n"
    )
    assert _borrowed(source) == ["1 _hidden", "4 case_views._other"]
