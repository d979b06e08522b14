"""Printable documents: Django templates (autoescaped) rendered to PDF by WeasyPrint.

The print stylesheet names the CJK fonts (Noto Sans/Serif CJK SC from Debian's
fonts-noto-cjk); without a named CJK font WeasyPrint silently drops the Chinese glyphs.
WeasyPrint embeds a subset of every font it uses, so the PDF looks the same on a
machine without Chinese fonts."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.http import content_disposition_header


def render_pdf(template: str, context: dict[str, Any], request: HttpRequest | None = None) -> bytes:
    from weasyprint import HTML  # imported late: it loads Pango through cffi

    html = render_to_string(template, context, request=request)
    base_url = request.build_absolute_uri("/") if request is not None else None
    return HTML(string=html, base_url=base_url).write_pdf()


def pdf_response(data: bytes, filename: str) -> HttpResponse:
    """Shown in the browser (inline), never cached: the documents carry personal data."""
    response = HttpResponse(data, content_type="application/pdf")
    disposition = content_disposition_header(False, filename)
    assert disposition is not None  # None only for an empty filename; ours always name one
    response["Content-Disposition"] = disposition
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
