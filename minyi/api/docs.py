"""The page at /api/v1/docs: the OpenAPI document read by a person, in Chinese, with
no third-party assets (no Swagger UI, no CDN, no script; one stylesheet of our own).

The descriptions in the document are CommonMark, as OpenAPI says they are; the page
renders the little of it they use (paragraphs, `- ` lists, inline code) itself, after
escaping, so no backtick shows as text and no description can inject markup."""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_CODE = re.compile(r"`([^`\n]+)`")


def _inline(text: str) -> str:
    """Escaped text with `code` as <code>; a stray backtick is dropped, never shown."""
    return _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", escape(text)).replace("`", "")


def render_inline(text: str) -> SafeString:
    return mark_safe(_inline(text))  # noqa: S308 - escaped before any tag is added


def render_markdown(text: str) -> SafeString:
    """Paragraphs (separated by a blank line), lists (lines starting "- ") and inline
    code: the subset the API's descriptions are written in."""
    blocks: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if lines and all(line.startswith("- ") for line in lines):
            blocks.append("<ul>" + "".join(f"<li>{_inline(x[2:])}</li>" for x in lines) + "</ul>")
        elif lines:
            blocks.append(f"<p>{_inline(''.join(lines))}</p>")
    return mark_safe("".join(blocks))  # noqa: S308 - each piece went through _inline


def docs_page(request: HttpRequest, schema: dict[str, Any]) -> HttpResponse:
    """The operations grouped by their tag, in the document's order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            tag = (op.get("tags") or ["其他"])[0]
            groups.setdefault(tag, []).append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": render_inline(op.get("summary", "")),
                    "description": render_markdown(op.get("description", "")),
                }
            )
    context = {
        "title": schema["info"]["title"],
        "intro": render_markdown(schema["info"].get("description", "")),
        "groups": groups.items(),
    }
    return render(request, "api/docs.html", context)
