"""Django's `{# … #}` comment is one line only: one spread over lines is printed as text
(the online studio page showed a developer's note to residents)."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "minyi" / "templates"


def test_no_template_comment_spans_lines() -> None:
    unclosed = [
        f"{path.relative_to(TEMPLATES)}:{number}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\{#(?!.*#\})", line)
    ]
    assert not unclosed, f"use {{% comment %}} for comments over several lines: {unclosed}"
