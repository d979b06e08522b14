"""`manage.py restore PATH [--force]`: restore a backup into the configured database and
prove it against the backup's manifest (minyi.core.backup)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from minyi.core.backup import BackupError, restore


class Command(BaseCommand):
    help = "把备份恢复到当前配置的数据库，并逐表核对行数与校验和。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="backup 命令写出的备份文件")
        parser.add_argument(
            "--force", action="store_true", help="目标数据库已有数据时仍然覆盖（先另做备份）"
        )

    def handle(self, *args: object, **options: Any) -> None:
        started = time.monotonic()
        try:
            manifest = restore(Path(options["path"]), force=bool(options["force"]))
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(table["rows"] for table in manifest.tables.values())
        self.stdout.write(
            f"恢复完成：{len(manifest.tables)} 张表、{rows} 行与备份清单一致"
            f"（用时 {time.monotonic() - started:.1f} 秒）"
        )
