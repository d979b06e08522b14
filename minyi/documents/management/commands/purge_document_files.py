"""Retention (docs/personal-data.md): delete the Excel files of exports older than
MINYI_EXPORT_FILE_DAYS and of imports that are committed or older than
MINYI_IMPORT_FILE_DAYS; the rows stay as the record. Then the private files no row refers
to, left by a process that died between writing a file and committing its row
(minyi.core.orphan_files). For cron, daily; safe to run twice."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from minyi.core.orphan_files import ORPHAN_AGE, sweep_orphans
from minyi.documents.excel.exports import SPECS
from minyi.documents.excel.importers import IMPORTERS
from minyi.documents.retention import (
    Due,
    export_file_days,
    exports_due,
    import_file_days,
    imports_due,
    purge_files,
)


class Command(BaseCommand):
    help = (
        "删除超过保留期限的 Excel 导出文件和已导入或超过保留期限的上传文件（记录保留），"
        "以及程序中断时留下、没有任何记录引用的私有文件。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="只列出将要删除的文件，不删除任何文件"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run = bool(options["dry_run"])
        now = timezone.now()
        exports = purge_files(exports_due(now), dry_run=dry_run)
        imports = purge_files(imports_due(now), dry_run=dry_run)
        orphans = sweep_orphans(dry_run=dry_run, now=now)
        # The full list only when asked for it: a daily cron mail should stay one line.
        if dry_run or options["verbosity"] > 1:
            verb = "将删除" if dry_run else "已删除"
            for row in exports.files:
                self.stdout.write(f"{verb}导出文件：{self._line(row, SPECS)}")
            for row in imports.files:
                self.stdout.write(f"{verb}导入文件：{self._line(row, IMPORTERS)}")
            for name in orphans.files:
                self.stdout.write(f"{verb}无记录的文件：{name}")
        for row in exports.failed + imports.failed:
            self.stderr.write(f"无法删除文件 {row.name}（记录 #{row.pk}），下次运行时重试。")
        for name in orphans.failed:
            self.stderr.write(f"无法删除无记录的文件 {name}，下次运行时重试。")
        summary = (
            f"导出文件 {len(exports.files)} 个（保留 {export_file_days()} 天），"
            f"导入文件 {len(imports.files)} 个（已导入或保留 {import_file_days()} 天），"
            f"无记录的文件 {len(orphans.files)} 个（程序中断时留下，"
            f"超过 {ORPHAN_AGE.days} 天）"
        )
        if dry_run:
            self.stdout.write(f"试运行：将删除{summary}；未删除任何文件。")
        else:
            self.stdout.write(f"已删除{summary}；导出和导入记录保留。")

    @staticmethod
    def _line(row: Due, kinds: dict[str, Any]) -> str:
        title = getattr(kinds.get(row.kind), "title", row.kind)
        made = timezone.localtime(row.created_at)
        return f"#{row.pk} {title}（{row.owner}，{made:%Y-%m-%d %H:%M}）{row.name}"
