"""axe-core, run in a page: the one accessibility check of the residents' pages and the
staff pages alike, so both are held to the same rule (no serious or critical
violations)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

AXE = Path(__file__).parent / "vendor" / "axe.min.js"


@cache
def _script() -> str:
    return AXE.read_text(encoding="utf-8")


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as it stands, one line
    each: the rule, its impact and help, and the first few elements at fault."""
    page.evaluate(_script())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} → {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


# axe-core 4.x leaves duplicate ids to "needs review" (incomplete), never a violation;
# a label or aria-describedby naming an id that two fields carry points at the first
# one only, so the second field reads unlabelled (WCAG 2.1 1.3.1, 4.1.1).
DUPLICATE_IDS_JS = """() => {
  const seen = new Map();
  for (const el of document.querySelectorAll('[id]')) {
    seen.set(el.id, (seen.get(el.id) || 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([id, n]) => `${id} ×${n}`);
}"""


def duplicate_ids(page: Any) -> list[str]:
    return page.evaluate(DUPLICATE_IDS_JS)
