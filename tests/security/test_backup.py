"""Backup and restore (issue 7, item 5): a backup of a live database restores into a fresh
one with every table's row count and checksum equal, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from minyi.cases.models import Case
from minyi.core.backup import MANIFEST_SUFFIX, Manifest, current_manifest
from tests.cases.helpers import register
from tests.personas import world  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("cases")]


@pytest.fixture
def cases(world: Any) -> None:  # noqa: F811
    for summary in ("路灯损坏", "工地夜间施工噪声", "小区停车难"):
        register(summary=summary)


@pytest.fixture
def fresh_database(tmp_path: Path) -> Iterator[str]:
    """A DATABASE_URL naming an empty database of the same vendor as the test run."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    params = connection.settings_dict
    name = f"minyi_restore_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(
        host=params["HOST"], port=params["PORT"] or 5432, user=params["USER"],
        password=params.get("PASSWORD") or None, dbname="postgres", autocommit=True,
    )  # fmt: skip
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://{params['USER']}@{params['HOST']}:{params['PORT'] or 5432}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _manage(database_url: str, *args: str) -> subprocess.CompletedProcess:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "MINYI_DATA_DIR", "PGPASSWORD")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", DATABASE_URL=database_url)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _backup(tmp_path: Path) -> tuple[Path, Manifest]:
    suffix = "sqlite3" if connection.vendor == "sqlite" else "dump"
    path = tmp_path / f"backup.{suffix}"
    call_command("backup", output=path, stdout=open(os.devnull, "w"))  # noqa: SIM115
    return path, Manifest.read(Path(f"{path}{MANIFEST_SUFFIX}"))


def test_restore_into_a_fresh_database_matches_every_table(
    tmp_path: Path, fresh_database: str
) -> None:
    path, manifest = _backup(tmp_path)
    assert manifest.tables["cases_case"]["rows"] == Case.objects.count() > 0
    assert oct(path.stat().st_mode & 0o777) == "0o600"

    result = _manage(fresh_database, "restore", str(path))
    assert result.returncode == 0, result.stderr
    assert "与备份清单一致" in result.stdout

    # Independently of the command's own check: the fresh database answers the same
    # counts and checksums as the source does now.
    source = current_manifest()
    out = tmp_path / "restored.json"
    check = _manage(
        fresh_database,
        "shell",
        "-c",
        "from pathlib import Path; from minyi.core.backup import current_manifest; "
        f"Path({str(out)!r}).write_text(current_manifest().as_json())",
    )
    assert check.returncode == 0, check.stderr
    restored = json.loads(out.read_text())["tables"]
    assert restored == source.tables
    assert restored["cases_case"]["rows"] == Case.objects.count()


def test_restore_refuses_a_database_with_data_unless_forced(tmp_path: Path) -> None:
    path, _ = _backup(tmp_path)
    with pytest.raises(CommandError, match="目标数据库已有数据"):
        call_command("restore", str(path))


def test_restore_reports_a_backup_that_does_not_match_its_manifest(
    tmp_path: Path, fresh_database: str
) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("tampering is done on the SQLite backup file")
    path, _ = _backup(tmp_path)
    db = sqlite3.connect(path)
    db.execute("DELETE FROM cases_case WHERE id = (SELECT max(id) FROM cases_case)")
    db.commit()
    db.close()
    result = _manage(fresh_database, "restore", str(path))
    assert result.returncode != 0
    assert "cases_case" in result.stderr
    assert "不一致" in result.stderr


def test_backup_never_overwrites_and_a_missing_manifest_is_explained(tmp_path: Path) -> None:
    path, _ = _backup(tmp_path)
    with pytest.raises(CommandError, match="已存在"):
        call_command("backup", output=path)
    Path(f"{path}{MANIFEST_SUFFIX}").unlink()
    with pytest.raises(CommandError, match="备份清单"):
        call_command("restore", str(path), force=True)
