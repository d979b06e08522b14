"""make bench: every hot path timed as the application's answer and as the database's
own answer to the same question, in the same run, interleaved, with the ratio.

    DATABASE_URL=postgres://…/minyi_perf_city .venv/bin/python -m bench.run --label city

Prints a Markdown table (for docs/performance.md) and writes bench/results/<label>.json.
Targets (issue 8, reported, never asserted): app ≤ 2× the database's time.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.hotpaths import build  # noqa: E402
from minyi.cases.models import Case  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--label", default="")
    parser.add_argument("--only", default="")
    parser.add_argument("--explain", action="store_true", help="列出每个热点最慢的查询")
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    logging.getLogger("axes").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message="No directory at")
    today = timezone.localdate()
    cases = Case.objects.count()
    label = args.label or f"{connection.vendor}-{cases}"
    print(f"# {label}: {connection.vendor}, {cases} cases, {os.cpu_count()} CPUs", flush=True)
    results = []
    for path in build(today):
        if args.only and path.name not in args.only.split(","):
            continue
        for _ in range(args.warmup):
            path.app()
            path.db()
        queries: list[tuple[float, str]] = []

        def record(execute, sql, params, many, context, queries=queries):
            t = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                queries.append(((time.perf_counter() - t) * 1000, sql))

        with connection.execute_wrapper(record):
            response = path.app()
        if args.explain:
            for ms, text in sorted(queries, reverse=True)[:8]:
                print(f"    {ms:8.2f} ms  {' '.join(text.split())[:300]}")
        rows = path.db()
        same = None
        if path.app_ids and path.db_ids:
            same = path.app_ids(response) == path.db_ids(rows)
        app_ms, db_ms = [], []
        for _ in range(args.repeat):
            t = time.perf_counter()
            path.app()
            app_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            path.db()
            db_ms.append((time.perf_counter() - t) * 1000)
            reset_queries()
        row: dict[str, Any] = {
            "name": path.name,
            "label": path.label,
            "queries": len(queries),
            "rows": len(rows),
            "same_rows": same,
            "app_p50": statistics.median(app_ms),
            "app_p95": pct(app_ms, 95),
            "db_p50": statistics.median(db_ms),
            "db_p95": pct(db_ms, 95),
            "notes": path.notes,
        }
        row["ratio"] = row["app_p50"] / row["db_p50"] if row["db_p50"] else None
        results.append(row)
        print(
            f"{path.name:28} app p50 {row['app_p50']:8.1f} ms  db p50 {row['db_p50']:7.2f} ms"
            f"  ratio {row['ratio']:6.1f}  queries {row['queries']:3}  same rows {same}",
            flush=True,
        )
    print()
    print("| 热点 | 应用 p50 | 应用 p95 | 数据库 p50 | 数据库 p95 | 比值 (p50) | 查询数 | 行一致 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in results:
        same_label = {True: "是", False: "否", None: "—"}[r["same_rows"]]
        print(
            f"| {r['label']} | {r['app_p50']:.1f} ms | {r['app_p95']:.1f} ms | "
            f"{r['db_p50']:.2f} ms | {r['db_p95']:.2f} ms | {r['ratio']:.1f}× | "
            f"{r['queries']} | {same_label} |"
        )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{label}.json"
    meta = {
        "label": label,
        "vendor": connection.vendor,
        "cases": cases,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "when": timezone.now().isoformat(),
        "repeat": args.repeat,
    }
    out.write_text(json.dumps({"meta": meta, "results": results}, ensure_ascii=False, indent=1))
    print(f"\n结果已写入 {out}")


if __name__ == "__main__":
    main()
