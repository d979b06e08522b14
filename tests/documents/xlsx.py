"""Reading exported workbooks back with openpyxl, as a user's Excel would."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import openpyxl
from openpyxl.utils.escape import unescape


def workbook(data: bytes) -> Any:
    assert data[:2] == b"PK", "not an .xlsx (zip) file"
    return openpyxl.load_workbook(BytesIO(data))


def table(data: bytes) -> tuple[list[str], list[list[Any]], list[str]]:
    """(headers, data rows, the lines above the header) of the first sheet."""
    sheet = workbook(data).worksheets[0]
    rows = [
        [unescape(v) if isinstance(v, str) else v for v in r]
        for r in sheet.iter_rows(values_only=True)
    ]
    for index, row in enumerate(rows):
        filled = [v for v in row if v is not None]
        if len(filled) >= 3 and all(isinstance(v, str) for v in filled):
            notes = [r[0] for r in rows[:index] if r and r[0]]
            return [str(v) for v in row], rows[index + 1 :], notes
    raise AssertionError("no header row")


def column(headers: list[str], rows: list[list[Any]], name: str) -> list[Any]:
    index = headers.index(name)
    return [row[index] for row in rows]
