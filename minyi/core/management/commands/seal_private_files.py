"""`manage.py seal_private_files [--check]`: seal in place the private files written before
they were sealed (case attachments, Excel imports and exports; minyi.core.sealing_existing).
Run it once after upgrading; safe to run again, and to stop and rerun (docs/operations.md).
Until it has, `manage.py check --deploy` fails (minyi.core.checks, minyi.E001).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from minyi.core.sealing_existing import seal_model, sealed_fields


class Command(BaseCommand):
    help = "将升级前以明文保存的私有文件（案件附件、Excel 导入导出文件）逐个用独立密钥加密。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="只检查：列出仍为明文的文件，有则以非零状态退出，不修改任何文件",
        )
        parser.add_argument(
            "--forget-missing",
            action="store_true",
            help="确认“文件不存在”的文件已丢失、无法从备份恢复后使用：为这些记录记下密钥，"
            "部署检查（check --deploy）不再报告它们",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        check = bool(options["check"])
        plain = 0
        for model, file_field in sealed_fields():
            tally = seal_model(
                model, file_field, check=check, forget_missing=bool(options["forget_missing"])
            )
            label = model._meta.verbose_name
            for name in tally.plain:
                self.stdout.write(f"明文：{name}")
            plain += len(tally.plain)
            verb = "仍为明文" if check else "本次加密"
            self.stdout.write(
                f"{label}：{verb} {len(tally.plain) if check else tally.sealed} 个，"
                f"已加密 {tally.already} 个，文件不存在 {tally.missing} 个"
                + (f"（已确认丢失 {tally.forgotten} 个）" if tally.forgotten else "")
            )
        if check and plain:
            raise CommandError(
                f"还有 {plain} 个私有文件是明文：请运行 manage.py seal_private_files。"
            )
