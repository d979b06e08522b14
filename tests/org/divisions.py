"""Files and a command runner shared by the division import tests."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

from django.core.management import call_command

REPO = Path(__file__).resolve().parents[2]
SHENZHEN_CSV = REPO / "minyi" / "org" / "data" / "shenzhen.csv"
SAMPLE_DIR = REPO / "tests" / "fixtures" / "divisions"
NATIONAL_DIR = REPO / ".." / "shared" / "data" / "divisions"
NATIONAL_FILES = ["provinces.csv", "cities.csv", "areas.csv", "streets.csv.gz", "villages.csv.gz"]


def import_divisions(*paths: Path | str, skip_invalid: bool = False) -> str:
    """Run the command as an operator would; returns what it printed."""
    out = StringIO()
    args = [str(p) for p in paths] + (["--skip-invalid"] if skip_invalid else [])
    call_command("import_divisions", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def shenzhen_lines() -> list[str]:
    """The Shenzhen table as lines; index 0 is the header (file line 1)."""
    return SHENZHEN_CSV.read_text(encoding="utf-8").splitlines()


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
