"""Reading an uploaded .xlsx for an import, refusing what cannot be read with a
clear Chinese reason: a file that is not .xlsx or is damaged, a password-protected
workbook (Excel wraps an encrypted .xlsx in an OLE container, as it does the old
.xls), a zip bomb, a header that is missing, duplicated or has merged cells.

openpyxl reads in read_only mode (rows are streamed). read_only mode does not report
merged cells, so the sheet's XML is scanned for <mergeCell> on its own."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

import openpyxl
from openpyxl.utils.cell import range_boundaries
from openpyxl.utils.escape import unescape
from openpyxl.utils.exceptions import InvalidFileException

from minyi.documents.excel.safe import restore

MAX_BYTES = 15 * 1024 * 1024
MAX_UNPACKED = 300 * 1024 * 1024
MAX_ROWS = 20000
HEADER_SEARCH = 10
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class Rejected(Exception):
    """The file as a whole cannot be imported; the message says why, in Chinese."""


@dataclass
class Sheet:
    header_row: int
    headers: list[str]
    rows: list[tuple[int, dict[str, Any]]]  # (row number in Excel, header -> value)


MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)"')


def _merged_rows(archive: zipfile.ZipFile, path: str) -> list[tuple[int, int]]:
    """(first row, last row) of every merged range in the sheet. A pattern over the
    raw XML, read in chunks: no XML parser (and its entity tricks) on uploaded data."""
    spans, tail = [], b""
    with archive.open(path) as handle:
        while chunk := handle.read(1024 * 1024):
            data = tail + chunk
            for match in MERGE.finditer(data):
                _, top, _, bottom = range_boundaries(match.group(1).decode())
                spans.append((top or 0, bottom or 0))
            tail = data[-200:]
            if MERGE.search(tail):
                tail = b""  # already counted
    return spans


def _text(value: Any) -> Any:
    if isinstance(value, str):
        # XlsxWriter stores control characters as _xHHHH_; openpyxl hands them back so.
        return restore(unescape(value).strip())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def read_sheet(upload: IO[bytes], *, required: list[str], known: list[str]) -> Sheet:
    head = upload.read(8)
    upload.seek(0)
    if head.startswith(OLE_MAGIC):
        raise Rejected(
            "文件设有打开密码，或是旧版 .xls 格式：请在 Excel 中取消密码，另存为 .xlsx 后再上传。"
        )
    size = upload.seek(0, 2)
    upload.seek(0)
    if size > MAX_BYTES:
        raise Rejected(f"文件超过 {MAX_BYTES // (1024 * 1024)} MB，请分批导入。")
    if not zipfile.is_zipfile(upload):
        raise Rejected("文件已损坏或不是 Excel（.xlsx）文件，请用模板重新填写后上传。")
    upload.seek(0)
    try:
        archive = zipfile.ZipFile(upload)
        if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED:
            raise Rejected("文件解压后过大，请分批导入。")
        workbook = openpyxl.load_workbook(upload, read_only=True, data_only=True)
    except Rejected:
        raise
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise Rejected("文件已损坏或不是 Excel（.xlsx）文件，请用模板重新填写后上传。") from exc
    try:
        if not workbook.worksheets:
            raise Rejected("文件中没有工作表。")
        sheet = workbook.worksheets[0]
        path = getattr(sheet, "_worksheet_path", None)
        try:
            merged = _merged_rows(archive, path) if path else []
        except (KeyError, SyntaxError) as exc:
            raise Rejected("文件已损坏，无法读取工作表。") from exc
        return _rows(sheet, merged, required=required, known=known)
    finally:
        workbook.close()


def _rows(
    sheet: Any, merged: list[tuple[int, int]], *, required: list[str], known: list[str]
) -> Sheet:
    header_row, headers = 0, []
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
        if not header_row:
            cells = [str(v).strip() if v is not None else "" for v in values]
            if set(required) <= set(cells):
                header_row, headers = number, cells
                _check_header(number, headers, merged)
            elif number >= HEADER_SEARCH:
                break
            continue
        record = {
            header: _text(value)
            for header, value in zip(headers, values, strict=False)
            if header in known
        }
        if all(v in (None, "") for v in record.values()):
            continue
        rows.append((number, record))
        if len(rows) > MAX_ROWS:
            raise Rejected(f"一次最多导入 {MAX_ROWS} 行，请分批导入。")
    if not header_row:
        if any(top <= HEADER_SEARCH for top, _ in merged):
            raise Rejected(
                "表头有合并单元格，无法识别各列：请取消合并，每列一个表头（可下载模板对照）。"
            )
        raise Rejected(
            f"找不到表头：第一张工作表的前 {HEADER_SEARCH} 行中应有一行包含"
            f"“{'”“'.join(required)}”等列。请下载模板填写。"
        )
    spans = [(top, bottom) for top, bottom in merged if bottom > header_row]
    if spans:
        top, bottom = spans[0]
        raise Rejected(f"第 {top}—{bottom} 行有合并单元格：请取消合并，每个单元格填写一项。")
    return Sheet(header_row, headers, rows)


def _check_header(number: int, headers: list[str], merged: list[tuple[int, int]]) -> None:
    if any(top <= number <= bottom for top, bottom in merged):
        raise Rejected(
            f"第 {number} 行表头有合并单元格，无法识别各列："
            "请取消合并，每列一个表头（可下载模板对照）。"
        )
    named = [h for h in headers if h]
    doubled = sorted({h for h in named if named.count(h) > 1})
    if doubled:
        raise Rejected(f"表头“{'”“'.join(doubled)}”出现了不止一次，请每列只保留一个。")


# --- cell values -----------------------------------------------------------------------

DATE_TEXT = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    return str(value).strip()


def as_date(value: Any) -> date | None:
    """A real Excel date, or a date typed as text (2026-03-04, 2026/3/4, 2026年3月4日).
    Raises ValueError with the Chinese reason otherwise."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    match = DATE_TEXT.match(str(value))
    if match:
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise ValueError(f"“{value}”不是有效日期，请填写日期或 YYYY-MM-DD（如 2026-03-04）")


def as_bool(value: Any, *, default: bool) -> bool:
    text = as_text(value)
    if not text:
        return default
    if text in ("是", "Y", "y", "1", "TRUE", "True", "true", "√", "✓"):
        return True
    if text in ("否", "N", "n", "0", "FALSE", "False", "false", "×"):
        return False
    raise ValueError(f"“{text}”应填“是”或“否”")
