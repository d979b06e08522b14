"""CPU per request of the load mix (bench/load.py), measured in-process: immune to how
busy the machine is, unlike the load run's wall clock.

    DATABASE_URL=postgres://…/minyi_x .venv/bin/python -m bench.cpu --repeat 50
    … --profile register        # cProfile of one kind of request, top functions

Each request of the mix (the same users, studios and cases as `make load`) goes through
the whole stack with django.test.Client under config.settings_production's middleware
and sessions (keys and hosts set here as load.py sets them for gunicorn). It reports the
process's CPU per request (time.process_time: the Python side; the database's own work
is in its server process and not counted) and the queries each request issues.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import secrets
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _production_environment() -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings_production",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "testserver,127.0.0.1",
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/7"),
            "SECURE_SSL_REDIRECT": "0",
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
        }
    )
    # The keys the generator wrote the data with (the development ones unless set),
    # which production refuses unless told this is a benchmark.
    from config.settings import DEVELOPMENT_FIELD_KEY, DEVELOPMENT_LOOKUP_KEY

    for name, dev in (
        ("MINYI_FIELD_KEY", DEVELOPMENT_FIELD_KEY),
        ("MINYI_LOOKUP_KEY", DEVELOPMENT_LOOKUP_KEY),
    ):
        os.environ.setdefault(name, dev)
    os.environ["MINYI_BENCHMARK_PUBLIC_KEYS"] = "1"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--profile", default="", help="请求种类，如 register、page:case_list")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--profile-out", default="", help="把剖析数据存入此文件（pstats 格式）")
    parser.add_argument(
        "--callgrind",
        default="",
        help="逗号分隔的请求种类：在 valgrind --tool=callgrind --instr-atstart=no 下运行，"
        "按种类统计每次请求的指令数（不受机器繁忙影响）",
    )
    args = parser.parse_args()
    _production_environment()
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, reset_queries
    from django.test import Client
    from django.utils import timezone

    from bench.load import make_plan, registration_form
    from minyi.people.models import User

    settings.DEBUG = False
    today = timezone.localdate().isoformat()
    plan = make_plan(today)
    browser, reg = plan["browsers"][0], plan["registrars"][0]

    def logged_in(username: str) -> Client:
        client = Client(secure=True, HTTP_X_FORWARDED_PROTO="https")
        client.force_login(User.objects.get(username=username))
        return client

    staff, liaison, street = (
        logged_in(browser["username"]),
        logged_in(reg["username"]),
        logged_in(reg["street_username"]),
    )
    anonymous = Client(secure=True)
    from minyi.cases.models import Case

    studio = browser["studios"][0]
    # The street's oldest case, not its newest: the runs register cases of their own,
    # and the page measured must stay the same one from run to run.
    case = Case.objects.filter(studio_id__in=browser["studios"]).order_by("pk")[0].pk
    form = registration_form(reg["studio"], reg["representative"], today)
    from minyi.duties.models import Attendance

    # A representative of the street with attendances this year: the duty record (the
    # hot paths' "representative compliance").
    representative = (
        Attendance.objects.filter(event__studio_id__in=browser["studios"])
        .order_by("pk")
        .values_list("representative_id", flat=True)
        .first()
    )
    created: list[int] = []

    def register():
        # A fresh one-time key per post, as each blank form a browser loads carries
        # (minyi.core.once); the same key twice would answer with the first case.
        response = liaison.post("/cases/new/", {**form, "submission_key": str(uuid.uuid4())})
        assert response.status_code == 302, response.status_code
        match = re.search(r"/cases/(\d+)/", response["Location"])
        assert match is not None, response["Location"]
        created.append(int(match.group(1)))
        return response

    def route():
        pk = created.pop()
        a = liaison.post(f"/cases/{pk}/send/", {"version": 1})
        b = street.post(
            f"/cases/{pk}/refer/", {"version": 2, "handling_unit": reg["handling_units"][0]}
        )
        assert a.status_code == b.status_code == 302, (a.status_code, b.status_code)
        return b

    kinds = {
        "page:case_list": lambda: staff.get(f"/cases/?state=closed&year={browser['year']}"),
        "page:case_detail": lambda: staff.get(f"/cases/{case}/"),
        "page:overdue": lambda: staff.get("/cases/?overdue=on"),
        "page:ledger": lambda: staff.get(f"/cases/ledger/?studio={studio}"),
        "page:home": lambda: staff.get("/"),
        "page:duty_record": lambda: staff.get(
            f"/duties/representatives/{representative}/record/?year={browser['year']}"
        ),
        # A 404 inside the staff pages: session, account, scope, navigation and the
        # unread count around a page with nothing else, i.e. a staff page's fixed cost.
        "page:not_found": lambda: staff.get("/cases/0/"),
        # An address no view answers: the frame alone, without the case query above.
        "page:frame": lambda: staff.get("/cases/no-such-page/"),
        "page:public_studio": lambda: anonymous.get(f"/online/studios/{studio}/"),
        "page:public_events": lambda: anonymous.get(f"/duties/public/events/?studio={studio}"),
        "page:register_form": lambda: liaison.get("/cases/new/"),
        "register": register,
        "route (send + refer)": route,
    }
    settings.DEBUG = True  # only to count queries (connection.queries)
    counts = {}
    for kind, run in kinds.items():
        reset_queries()
        response = run()
        assert response.status_code in (200, 302, 404), (kind, response.status_code)
        counts[kind] = len(connection.queries)
    settings.DEBUG = False
    if args.callgrind:
        _instructions(kinds, args.callgrind.split(","), args.repeat, register, counts)
        return
    if args.profile:
        run = kinds[args.profile]
        for _ in range(3):
            run() if args.profile != "route (send + refer)" else (register(), run())
        # Process CPU, not wall clock: waiting for the database is not the page's cost.
        profiler = cProfile.Profile(time.process_time)
        for _ in range(args.repeat):
            if args.profile == "route (send + refer)":
                register()
            profiler.enable()
            run()
            profiler.disable()
        stats = pstats.Stats(profiler)
        if args.profile_out:
            stats.dump_stats(args.profile_out)
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
        _by_part(stats, args.repeat)
        return
    print(f"# {args.repeat} 次，{connection.vendor}")
    print("| 请求 | 查询数 | CPU p50 | CPU 平均 | 墙钟 p50 |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for kind, run in kinds.items():
        for _ in range(3):
            if kind.startswith("route"):
                register()
            run()
        cpu, wall = [], []
        for _ in range(args.repeat):
            if kind.startswith("route"):
                register()
            c, w = time.process_time(), time.perf_counter()
            run()
            cpu.append((time.process_time() - c) * 1000)
            wall.append((time.perf_counter() - w) * 1000)
        print(
            f"| {kind} | {counts[kind]} | {statistics.median(cpu):.2f} ms | "
            f"{statistics.mean(cpu):.2f} ms | {statistics.median(wall):.2f} ms |",
            flush=True,
        )


_PARTS = (
    ("django/template", "模板"),
    ("django/forms", "表单"),
    ("django/db", "ORM"),
    ("psycopg", "数据库驱动"),
    ("django/urls", "URL 反查"),
    ("django/utils", "django.utils"),
    ("cryptography", "加解密"),
    ("/minyi/", "minyi 自身"),
)


def _by_part(stats: pstats.Stats, repeat: int) -> None:
    """Own time (tottime) per request, grouped by where the function lives: which layer
    the page's CPU goes to, without the nesting that makes cumulative times overlap."""
    totals: dict[str, float] = {}
    # typeshed leaves out Stats.stats, the table every Stats method reads.
    stats_table = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats_table.items():
        part = next((label for key, label in _PARTS if key in filename), "其他")
        totals[part] = totals.get(part, 0.0) + tottime
    whole = sum(totals.values())
    print("| 部分 | 每次请求（剖析下） | 占比 |")
    print("| --- | ---: | ---: |")
    for part, seconds in sorted(totals.items(), key=lambda item: -item[1]):
        print(f"| {part} | {seconds / repeat * 1000:.1f} ms | {seconds / whole:.0%} |")


def _instructions(kinds: dict, wanted: list[str], repeat: int, register, counts: dict) -> None:
    """Instructions per request, counted by callgrind: collection is switched on around
    each kind's repetitions (callgrind_control), dumped, and the cost of switching it
    (measured around nothing) subtracted."""
    import glob
    import subprocess

    pid = str(os.getpid())

    def control(*options: str) -> None:
        subprocess.run(["callgrind_control", *options, pid], check=True, capture_output=True)  # noqa: S603, S607

    def measured(label: str, run, setup=None) -> int:
        for _ in range(3):
            if setup:
                setup()
            run()
        control("--zero")
        for _ in range(repeat):
            if setup:
                control("-i", "off")
                setup()
                control("-i", "on")
            else:
                control("-i", "on")
            run()
            control("-i", "off")
        control("--dump=" + label)
        newest = max(glob.glob(f"callgrind.out.{pid}*"), key=os.path.getmtime)
        with open(newest) as dump:
            for line in dump:
                if line.startswith("totals:"):
                    return int(line.split()[1])
        raise SystemExit("callgrind 没有输出总数")

    idle = measured("idle", lambda: None) / repeat
    print(f"# {repeat} 次；开关计数的开销 {idle / 1e6:.1f} M 已扣除")
    print("| 请求 | 查询数 | 指令/次（百万） |")
    print("| --- | ---: | ---: |")
    for kind in wanted:
        setup = register if kind.startswith("route") else None
        # A dump's label of letters, digits and underscores only: callgrind_control did not
        # dump "route_(send_+_refer)", and the count read was the idle one (0.0).
        total = measured(re.sub(r"\W+", "_", kind), kinds[kind], setup)
        print(f"| {kind} | {counts[kind]} | {(total / repeat - idle) / 1e6:.1f} |", flush=True)


if __name__ == "__main__":
    main()
