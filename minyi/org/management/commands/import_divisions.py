from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError

from minyi.org.importing import DivisionFileError, import_files


class Command(BaseCommand):
    help = (
        "导入行政区划代码：深圳市社区表（district_code,…,community），或全国的"
        "省、市、区县、街道乡镇、社区村文件（.csv 或 .csv.gz）。可重复运行：按代码更新名称，"
        "不删除、不移动已有单元。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path, help="CSV 文件，可为 .gz")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="跳过有问题的行，只导入无误的行（默认：有任何问题行则什么都不导入）",
        )

    def handle(self, *args: Any, files: list[Path], skip_invalid: bool, **options: Any) -> None:
        try:
            result = import_files(files, skip_invalid=skip_invalid, progress=self.stdout.write)
        except DivisionFileError as exc:
            raise CommandError(str(exc)) from exc
        except IntegrityError as exc:
            raise CommandError(f"写入数据库失败，未导入任何数据：{exc}") from exc

        report = "\n".join(result.bad_rows_report())
        if not result.imported:
            raise CommandError(
                f"发现 {len(result.bad_rows)} 行有问题，未导入任何数据"
                f"（可加 --skip-invalid 只导入无误的行）：\n{report}"
            )
        if result.bad_rows:
            self.stdout.write(
                self.style.WARNING(f"已跳过 {len(result.bad_rows)} 行有问题的数据：\n{report}")
            )
        self.stdout.write(self.style.SUCCESS("导入完成。"))
        for line in result.summary():
            self.stdout.write(f"  {line}")
