from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from minyi.core.loadgen.generate import LOAD_PASSWORD, SCALES, Generator, LoadDataError
from minyi.core.management.production import refuse_in_production


class Command(BaseCommand):
    help = (
        "生成负载测试数据（议题 8）：在已导入的组织架构上生成工作室、党代表、五年的活动、预约和"
        "社情民意案件。city：深圳市 788 个社区、50 万件；national：全国 620,573 个社区和村、"
        "1000 万件。只能写入没有案件的数据库。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=sorted(SCALES), required=True)
        parser.add_argument("--cases", type=int, help="案件数（默认按规模：50 万或 1000 万）")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--chunk", type=int, default=20_000, help="每批写入的案件数")
        parser.add_argument(
            "--workers", type=int, default=2,
            help="PostgreSQL 上并行生成案件的进程数（默认 2；SQLite 上总是 1）",
        )  # fmt: skip

    def handle(self, *args: Any, scale: str, cases: int | None, seed: int, chunk: int,
               workers: int, **options: Any) -> None:  # fmt: skip
        refuse_in_production("生成压测数据")
        if cases is not None and cases < 0:
            raise CommandError("案件数不能为负数。")
        if workers < 1 or chunk < 1:
            raise CommandError("进程数和每批案件数至少为 1。")
        generator = Generator(
            SCALES[scale], cases=cases, seed=seed, chunk=chunk, workers=workers,
            progress=self.stdout.write,
        )  # fmt: skip
        try:
            report = generator.run()
        except LoadDataError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"完成，用时 {report.seconds:.1f} 秒，"
                f"CPU {report.cpu_seconds:.1f} 秒（本进程和生成案件的子进程）。"
            )
        )
        if report.server_cpu_seconds is not None:
            self.stdout.write(f"数据库服务进程 CPU {report.server_cpu_seconds:.1f} 秒。")
        for label, n in sorted(report.counts.items()):
            self.stdout.write(f"  {label}: {n}")
        self.stdout.write(f"所有 load_ 账号的密码：{LOAD_PASSWORD}")
