"""A small .xlsx writer for the evaluation's tables (XlsxWriter).

Written here because the shared writer in minyi/documents was not on main when this
was built; when it is, this module should give way to it. Two rules hold for every
cell: text is written as text (never parsed as a number, date or formula), and text
that a spreadsheet would run as a formula (a leading = + - @, also full-width, or a
tab / carriage return) is prefixed with an apostrophe-like quote character so it is
shown, not run."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse
from django.utils.http import content_disposition_header

FORMULA_STARTS = ("=", "+", "-", "@", "＝", "＋", "－", "＠", "\t", "\r")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(text: str) -> str:
    """Text that would start a formula gets a leading apostrophe (OWASP CSV injection)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@dataclass
class Sheet:
    name: str
    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Any]]
    widths: Sequence[int] = ()


def workbook(sheets: Sequence[Sheet]) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False},
    )
    title_format = book.add_format({"bold": True, "font_size": 14})
    head_format = book.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1})
    cell_format = book.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    for sheet in sheets:
        ws = book.add_worksheet(sheet.name[:31])
        ws.write_string(0, 0, neutralise(sheet.title), title_format)
        for col, header in enumerate(sheet.headers):
            ws.write_string(2, col, neutralise(str(header)), head_format)
            width = sheet.widths[col] if col < len(sheet.widths) else 14
            ws.set_column(col, col, width)
        row_index = 3
        for row in sheet.rows:
            for col, value in enumerate(row):
                if value is None:
                    ws.write_blank(row_index, col, None, cell_format)
                elif isinstance(value, bool):
                    ws.write_string(row_index, col, "是" if value else "否", cell_format)
                elif isinstance(value, int | float):
                    ws.write_number(row_index, col, value, cell_format)
                else:
                    ws.write_string(row_index, col, neutralise(str(value)), cell_format)
            row_index += 1
        ws.freeze_panes(3, 0)
    book.close()
    return buffer.getvalue()


def xlsx_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
