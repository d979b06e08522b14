"""poppler-utils (pdftotext, pdfinfo, pdffonts, pdftoppm) for the document tests.

Locally a missing binary skips the test with an install hint; in CI (env CI set) it
fails, so CI can never pass without having looked at the PDFs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.core.helpers import found

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "documents"
HINT = "sudo apt-get install poppler-utils"


def need(binary: str) -> str:
    path = shutil.which(binary)
    if path:
        return path
    message = f"{binary} is missing: install Debian's poppler-utils ({HINT})"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _run(binary: str, *args: str, data: bytes, tmp_path: Path) -> str:
    exe = need(binary)
    pdf = tmp_path / "document.pdf"
    pdf.write_bytes(data)
    out = subprocess.run(
        [exe, *args, str(pdf), *(["-"] if binary == "pdftotext" else [])],
        capture_output=True,
        check=True,
    )
    return out.stdout.decode()


def pages_text(data: bytes, tmp_path: Path) -> list[str]:
    """The text of each page (pdftotext separates pages by form feeds)."""
    text = _run("pdftotext", "-enc", "UTF-8", data=data, tmp_path=tmp_path)
    pages = text.split("\f")
    if pages and not pages[-1].strip():
        pages.pop()
    return pages


def raw_text(data: bytes, tmp_path: Path) -> str:
    """All pages in the order the PDF draws them (-raw): a table's cells stay whole,
    where the default reading order may interleave wrapped cells of one row."""
    return _run("pdftotext", "-raw", "-enc", "UTF-8", data=data, tmp_path=tmp_path)


def compact(text: str) -> str:
    """Without whitespace: table cells may wrap a long value over lines."""
    return re.sub(r"\s+", "", text)


def page_count(data: bytes, tmp_path: Path) -> int:
    info = _run("pdfinfo", data=data, tmp_path=tmp_path)
    return int(found(r"^Pages:\s+(\d+)", info, re.M))


def images_per_page(data: bytes, tmp_path: Path) -> list[int]:
    """The page number of each image pdfimages lists (one entry per image drawn)."""
    lines = _run("pdfimages", "-list", data=data, tmp_path=tmp_path).splitlines()[2:]
    return [int(line.split()[0]) for line in lines if line.strip()]


def fonts(data: bytes, tmp_path: Path) -> list[tuple[str, str]]:
    """(font name, embedded yes/no) for each font pdffonts lists."""
    lines = _run("pdffonts", data=data, tmp_path=tmp_path).splitlines()[2:]
    rows = []
    for line in lines:
        parts = line.split()
        # name type... encoding emb sub uni object ID: emb is 5th from the end.
        rows.append((parts[0], parts[-5]))
    return rows


def keep_first_page_png(data: bytes, name: str, tmp_path: Path) -> Path:
    """Page 1 at 60 dpi, kept under test-artifacts/documents/ (git-ignored)."""
    exe = need("pdftoppm")
    pdf = tmp_path / f"{name}.pdf"
    pdf.write_bytes(data)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    prefix = ARTIFACTS / name
    subprocess.run(
        [exe, "-r", "60", "-f", "1", "-l", "1", "-png", "-singlefile", str(pdf), str(prefix)],
        check=True,
    )
    png = prefix.with_suffix(".png")
    assert png.exists() and png.stat().st_size > 1000
    return png
