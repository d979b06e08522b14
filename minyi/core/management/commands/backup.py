"""`manage.py backup [--output PATH]`: an online backup with its manifest (minyi.core.backup).

Run it from cron or a systemd timer; the interval is the recovery point (docs/operations.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from minyi.core.backup import BackupError, backup, default_backup_path


class Command(BaseCommand):
    help = "在线备份整个数据库（SQLite 在线备份接口 / pg_dump），并写出行数与校验和清单。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", type=Path, help="备份文件路径（默认 数据目录/backups/）")

    def handle(self, *args: object, **options: Any) -> None:
        path = options["output"] or default_backup_path()
        try:
            manifest = backup(Path(path))
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(table["rows"] for table in manifest.tables.values())
        self.stdout.write(f"备份完成：{path}（{len(manifest.tables)} 张表，{rows} 行）")
