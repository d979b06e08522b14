"""Online backup and restore of the whole database, with a manifest that proves a restore.

A backup is never a copy of the live file: SQLite's online backup API copies a consistent
snapshot page by page while the system keeps serving, and on PostgreSQL `pg_dump` runs
inside a snapshot the manifest is computed in too. The manifest records, per table, the
row count and an order-independent checksum of the rows, so `restore` can show that the
restored database holds exactly what was backed up (docs/operations.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

MANIFEST_SUFFIX = ".manifest.json"
_MOD = 2**256


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is for the administrator."""


@dataclass(frozen=True)
class Manifest:
    vendor: str
    created: str
    tables: dict[str, dict[str, Any]]

    def as_json(self) -> str:
        return json.dumps(
            {"vendor": self.vendor, "created": self.created, "tables": self.tables},
            ensure_ascii=False,
            indent=2,
            sort_keys=True,
        )

    @classmethod
    def read(cls, path: Path) -> Manifest:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(vendor=data["vendor"], created=data["created"], tables=data["tables"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BackupError(f"备份清单 {path} 缺失或已损坏：{exc}") from exc

    def differences(self, other: Manifest) -> list[str]:
        """Tables whose rows differ, in words an administrator can act on."""
        problems = []
        for table in sorted(set(self.tables) | set(other.tables)):
            mine, theirs = self.tables.get(table), other.tables.get(table)
            if mine is None:
                problems.append(f"{table}：备份中没有此表")
            elif theirs is None:
                problems.append(f"{table}：恢复后缺少此表")
            elif mine != theirs:
                problems.append(
                    f"{table}：备份 {mine['rows']} 行，恢复后 {theirs['rows']} 行"
                    + ("（行数相同但内容不同）" if mine["rows"] == theirs["rows"] else "")
                )
        return problems


def _row_digest(row: tuple) -> int:
    canonical = repr(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row))
    return int.from_bytes(hashlib.sha256(canonical.encode("utf-8")).digest(), "big")


def table_fingerprints(cursor: Any, tables: list[str], quote: Any) -> dict[str, dict]:
    """Row count and checksum per table. The checksum is a sum of row hashes, so it
    does not depend on the order the database returns rows in."""
    result = {}
    for table in tables:
        cursor.execute(f"SELECT * FROM {quote(table)}")  # noqa: S608 (introspected names)
        rows, total = 0, 0
        while batch := cursor.fetchmany(2000):
            for row in batch:
                rows += 1
                total = (total + _row_digest(row)) % _MOD
        result[table] = {"rows": rows, "checksum": f"{total:064x}"}
    return result


def _sqlite_manifest(path: Path) -> Manifest:
    if not path.exists():
        return Manifest("sqlite", timezone.now().isoformat(), {})
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type='table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        fingerprints = table_fingerprints(db.cursor(), tables, lambda n: f'"{n}"')
    finally:
        db.close()
    return Manifest("sqlite", timezone.now().isoformat(), fingerprints)


def current_manifest() -> Manifest:
    """The manifest of the configured database as it is now."""
    if connection.vendor == "sqlite":
        connection.close()
        return _sqlite_manifest(Path(connection.settings_dict["NAME"]))
    with connection.cursor() as cursor:
        tables = _pg_tables(cursor)
        fingerprints = table_fingerprints(cursor, tables, connection.ops.quote_name)
    return Manifest(connection.vendor, timezone.now().isoformat(), fingerprints)


def _pg_tables(cursor: Any) -> list[str]:
    cursor.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
    )
    return [name for (name,) in cursor.fetchall()]


def default_backup_path(now: datetime | None = None) -> Path:
    stamp = timezone.localtime(now).strftime("%Y%m%d-%H%M%S")
    extension = "sqlite3" if connection.vendor == "sqlite" else "dump"
    return Path(settings.DATA_DIR) / "backups" / f"minyi-{stamp}.{extension}"


def _private_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Backups hold everything the system holds: readable by the service account only.
    path.touch(mode=0o600, exist_ok=True)
    os.chmod(path, 0o600)


def _pg_env() -> tuple[dict[str, str], list[str]]:
    params = connection.settings_dict
    env = dict(os.environ)
    if params.get("PASSWORD"):
        env["PGPASSWORD"] = str(params["PASSWORD"])
    args = []
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if params.get(key):
            args += [flag, str(params[key])]
    return env, args


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"找不到 {name}：请安装与数据库服务器版本一致的 PostgreSQL 客户端。")
    return found


def backup(path: Path) -> Manifest:
    """Write a consistent backup of the configured database to `path` and its manifest
    beside it; returns the manifest."""
    if path.exists():
        raise BackupError(f"{path} 已存在；备份不会覆盖已有文件。")
    _private_file(path)
    try:
        if connection.vendor == "sqlite":
            connection.ensure_connection()
            target = sqlite3.connect(path)
            try:
                # One step (pages=-1) copies a single consistent snapshot; writers wait
                # only for the copy, which for this system's sizes is seconds.
                connection.connection.backup(target)
            finally:
                target.close()
            manifest = _sqlite_manifest(path)
        elif connection.vendor == "postgresql":
            manifest = _pg_backup(path)
        else:
            raise BackupError(f"不支持的数据库：{connection.vendor}")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    manifest_path = Path(f"{path}{MANIFEST_SUFFIX}")
    _private_file(manifest_path)
    manifest_path.write_text(manifest.as_json(), encoding="utf-8")
    return manifest


def _pg_backup(path: Path) -> Manifest:
    env, args = _pg_env()
    # The manifest and pg_dump read one exported snapshot: they see the same rows even
    # while registrations go on.
    connection.ensure_connection()
    raw = connection.connection
    previous_autocommit = raw.autocommit
    raw.autocommit = False
    try:
        with raw.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            (snapshot,) = cursor.fetchone()
            dump = subprocess.run(  # noqa: S603 (fixed arguments, no shell)
                [
                    _tool("pg_dump"),
                    *args,
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    f"--file={path}",
                    str(connection.settings_dict["NAME"]),
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if dump.returncode != 0:
                raise BackupError(f"pg_dump 失败：{dump.stderr.strip()}")
            tables = _pg_tables(cursor)
            fingerprints = table_fingerprints(cursor, tables, connection.ops.quote_name)
        raw.rollback()
    finally:
        raw.autocommit = previous_autocommit
    return Manifest("postgresql", timezone.now().isoformat(), fingerprints)


def _has_rows(manifest: Manifest) -> bool:
    return any(table["rows"] for table in manifest.tables.values())


def restore(path: Path, *, force: bool = False) -> Manifest:
    """Restore `path` into the configured database and check it against the manifest.
    Refuses to overwrite a database that holds data unless `force`."""
    if not path.is_file():
        raise BackupError(f"备份文件 {path} 不存在。")
    expected = Manifest.read(Path(f"{path}{MANIFEST_SUFFIX}"))
    if expected.vendor != connection.vendor:
        raise BackupError(
            f"这是 {expected.vendor} 的备份，当前数据库是 {connection.vendor}，不能直接恢复。"
        )
    if not force and _has_rows(current_manifest()):
        raise BackupError("目标数据库已有数据。确认要覆盖时请加 --force（先另做一次备份）。")
    if connection.vendor == "sqlite":
        _sqlite_restore(path)
    else:
        _pg_restore(path, clean=force)
    restored = current_manifest()
    problems = expected.differences(restored)
    if problems:
        raise BackupError("恢复后的数据与备份清单不一致：\n" + "\n".join(problems))
    return restored


def _sqlite_restore(path: Path) -> None:
    target_path = Path(connection.settings_dict["NAME"])
    connection.close()
    target_path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    target = sqlite3.connect(target_path)
    try:
        # The backup API again, in the other direction: it replaces every page of the
        # target, WAL included, under the target's own locks.
        source.backup(target)
    finally:
        source.close()
        target.close()


def _pg_restore(path: Path, *, clean: bool) -> None:
    env, args = _pg_env()
    command = [
        _tool("pg_restore"),
        *args,
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        f"--dbname={connection.settings_dict['NAME']}",
    ]
    if clean:
        command += ["--clean", "--if-exists"]
    connection.close()
    result = subprocess.run(  # noqa: S603 (fixed arguments, no shell)
        [*command, str(path)], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore 失败：{result.stderr.strip()}")
