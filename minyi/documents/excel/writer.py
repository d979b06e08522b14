"""Writing lists to .xlsx with XlsxWriter.

`constant_memory` writes each row to disk as it goes (rows must come in order), so a
list of any length takes the memory of one row. Dates are real Excel dates with a
date format; text always goes through `write_string` after `neutralise`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

import xlsxwriter
from django.utils import timezone

from minyi.documents.excel.safe import neutralise

TEXT, DATE, DATETIME, NUMBER = "text", "date", "datetime", "number"


@dataclass(frozen=True)
class Column:
    header: str
    get: Callable[[Any], Any]
    kind: str = TEXT
    width: float = 14


def _cell_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


def write_xlsx(
    target: str | IO[bytes],
    *,
    title: str,
    columns: list[Column],
    rows: Iterable[Any],
    notes: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
    every: int = 500,
) -> int:
    """One sheet: a title line, the filters in force, the Chinese headers, the rows.
    Returns the number of rows written; `progress(n)` is told every `every` rows."""
    workbook = xlsxwriter.Workbook(
        target,
        {"constant_memory": True, "in_memory": False, "strings_to_formulas": False},
    )
    try:
        bold = workbook.add_format({"bold": True})
        header = workbook.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1})
        date_fmt = workbook.add_format({"num_format": "yyyy-mm-dd"})
        datetime_fmt = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        sheet = workbook.add_worksheet(title[:31])
        for index, column in enumerate(columns):
            sheet.set_column(index, index, column.width)
        sheet.write_string(0, 0, neutralise(title), bold)
        first = 1
        for note in notes or []:
            sheet.write_string(first, 0, neutralise(note))
            first += 1
        for index, column in enumerate(columns):
            sheet.write_string(first, index, column.header, header)
        sheet.freeze_panes(first + 1, 0)
        count = 0
        for count, item in enumerate(rows, 1):
            row = first + count
            for index, column in enumerate(columns):
                value = _cell_value(column.get(item))
                if value == "":
                    continue
                if column.kind == DATE and isinstance(value, date):
                    # xlsxwriter writes a date as well; its annotation says datetime.
                    sheet.write_datetime(row, index, value, date_fmt)  # type: ignore[call-overload]
                elif column.kind == DATETIME and isinstance(value, datetime):
                    local = timezone.localtime(value).replace(tzinfo=None)
                    sheet.write_datetime(row, index, local, datetime_fmt)
                elif column.kind == NUMBER and isinstance(value, int | float | Decimal):
                    sheet.write_number(row, index, float(value))
                else:
                    sheet.write_string(row, index, neutralise(str(value)))
            if progress and count % every == 0:
                progress(count)
        sheet.autofilter(first, 0, first + max(count, 1), len(columns) - 1)
        return count
    finally:
        workbook.close()
