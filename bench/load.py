"""make load / make soak: an HTTP load run against the production set-up on loopback
(issue 8 item 3; issue 7 item 7).

It starts gunicorn with config.settings_production (the real middleware, sessions,
CSRF, rate limits on Redis, Argon2 logins) on 127.0.0.1, drives a mixed workload from
concurrent clients for a bounded time, stops the server it started (by its pid), and
reports throughput, p50/p95/p99 per kind of request, errors, the workers' memory over
time, and whether case numbers are still unique and gap-free.

The driver is a small asyncio HTTP/1.1 client (keep-alive, cookies, CSRF) rather than
locust: locust brings gevent, greenlet, Flask and a dozen more pins, and its per-request
overhead would take a larger share of the same two cores the server needs.

Workload (each virtual client loops until time is up):
- browsing (staff, logged in): the case list of their street with a status filter,
  a case with its timeline, the overdue list, the ledger of a studio, the start page;
- public: a studio's public page and the published events, no login;
- registration: a liaison opens the form and posts it;
- routing: the liaison sends half the new cases (--route-share) to the street, the
  street official refers each to a handling unit (each step a form post with the
  case's version).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import signal
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
PASSWORD = "minyi-load-2026"  # minyi.core.loadgen.generate.LOAD_PASSWORD


# --- a minimal HTTP/1.1 client --------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b""):
        for attempt in (1, 2):
            if self.writer is None:
                await self._open()
            try:
                return await self._exchange(method, path, headers, body)
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _exchange(self, method: str, path: str, headers: dict[str, str], body: bytes):
        assert self.reader is not None and self.writer is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        found: dict[str, str] = {}
        cookies: list[str] = []
        while True:
            line = (await self.reader.readline()).decode("latin-1").rstrip("\r\n")
            if not line:
                break
            name, _, value = line.partition(":")
            if name.lower() == "set-cookie":
                cookies.append(value.strip())
            found[name.lower()] = value.strip()
        if "content-length" in found:
            data = await self.reader.readexactly(int(found["content-length"]))
        elif found.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await self.reader.readline()).strip(), 16)
                if size == 0:
                    await self.reader.readline()
                    break
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readline()
            data = b"".join(chunks)
        else:
            data = await self.reader.read()
            await self.close()
        if found.get("connection", "").lower() == "close":
            await self.close()
        found["_cookies"] = "\n".join(cookies)
        return Reply(status, found, data)


@dataclass
class Stats:
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)


CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
VERSION_INPUT = re.compile(rb'name="version" value="(\d+)"')
# The registration form's one-time key (minyi.core.once): posted back as a browser does.
KEY_INPUT = re.compile(rb'name="submission_key" value="([^"]+)"')


class Client:
    """One virtual user's browser: cookies, CSRF token, one keep-alive connection."""

    def __init__(self, base: tuple[str, int], stats: Stats) -> None:
        self.conn = Connection(*base)
        self.cookies: dict[str, str] = {}
        self.stats = stats
        self.origin = f"https://{base[0]}:{base[1]}"

    def _headers(self) -> dict[str, str]:
        headers = {
            # Loopback http stands in for the TLS-terminating proxy (SECURE_PROXY_SSL_HEADER).
            "X-Forwarded-Proto": "https",
            "User-Agent": "minyi-bench",
            "Accept": "text/html",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers

    def _keep_cookies(self, reply: Reply) -> None:
        for raw in reply.headers.get("_cookies", "").split("\n"):
            if raw:
                jar = SimpleCookie()
                jar.load(raw)
                for key, morsel in jar.items():
                    self.cookies[key] = morsel.value

    async def call(
        self, kind: str, method: str, path: str, form: dict | None = None, expect=(200,)
    ) -> Reply | None:
        headers = self._headers()
        body = b""
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.origin
            headers["Referer"] = self.origin + path
            if "csrftoken" in self.cookies:
                headers["X-CSRFToken"] = self.cookies["csrftoken"]
        t = time.perf_counter()
        try:
            reply = await self.conn.request(method, path, headers, body)
        except Exception as exc:
            self.stats.errors[kind] += 1
            if len(self.stats.samples) < 20:
                self.stats.samples.append(f"{kind} {path}: {exc!r}")
            return None
        self.stats.times[kind].append((time.perf_counter() - t) * 1000)
        self._keep_cookies(reply)
        if reply.status not in expect:
            self.stats.errors[kind] += 1
            if len(self.stats.samples) < 20:
                self.stats.samples.append(
                    f"{kind} {method} {path}: HTTP {reply.status} {reply.body[:200]!r}"
                )
            return None
        return reply

    async def login(self, username: str) -> bool:
        page = await self.call("login", "GET", "/accounts/login/")
        if page is None:
            return False
        token = CSRF_INPUT.search(page.body)
        done = await self.call(
            "login",
            "POST",
            "/accounts/login/",
            {
                "username": username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": token.group(1).decode() if token else "",
            },
            expect=(302,),
        )
        return done is not None


# --- the workload ---------------------------------------------------------------------


class Start:
    """Logins happen before the timed window (Argon2 by design costs a lot per login);
    the window opens when every client is logged in."""

    def __init__(self, clients: int) -> None:
        self.waiting = clients
        self.go = asyncio.Event()
        self.until = 0.0
        self.seconds = 0.0
        self.logins = asyncio.Semaphore(2)

    async def login(self, client: Client, username: str) -> bool:
        async with self.logins:
            return await client.login(username)

    async def ready(self) -> float:
        self.waiting -= 1
        if self.waiting == 0:
            self.began = time.monotonic()
            self.until = self.began + self.seconds
            self.go.set()
        await self.go.wait()
        return self.until


async def browsing(client: Client, plan: dict, start: Start, rng: random.Random) -> None:
    ok = await start.login(client, plan["username"])
    until = await start.ready()
    if not ok:
        return
    cases = plan["cases"]
    while time.monotonic() < until:
        choice = rng.random()
        if choice < 0.35:
            state = rng.choice(["closed", "with_unit", "answered", ""])
            await client.call("page:case_list", "GET", f"/cases/?state={state}&year={plan['year']}")
        elif choice < 0.65:
            await client.call("page:case_detail", "GET", f"/cases/{rng.choice(cases)}/")
        elif choice < 0.75:
            await client.call("page:overdue", "GET", "/cases/?overdue=on")
        elif choice < 0.85:
            studio = rng.choice(plan["studios"])
            await client.call("page:ledger", "GET", f"/cases/ledger/?studio={studio}")
        else:
            await client.call("page:home", "GET", "/")


async def public(client: Client, plan: dict, start: Start, rng: random.Random) -> None:
    until = await start.ready()
    while time.monotonic() < until:
        studio = rng.choice(plan["studios"])
        if rng.random() < 0.7:
            await client.call("page:public_studio", "GET", f"/online/studios/{studio}/")
        else:
            await client.call(
                "page:public_events", "GET", f"/duties/public/events/?studio={studio}"
            )


async def registering(
    client: Client,
    street: Client,
    plan: dict,
    start: Start,
    rng: random.Random,
    route_share: float = 0.5,
) -> None:
    ok = await start.login(client, plan["username"])
    ok = ok and await start.login(street, plan["street_username"])
    until = await start.ready()
    if not ok:
        return
    while time.monotonic() < until:
        form_page = await client.call("page:register_form", "GET", "/cases/new/")
        if form_page is None:
            continue
        form = registration_form(plan["studio"], plan["representative"], plan["today"])
        key = KEY_INPUT.search(form_page.body)
        form["submission_key"] = key.group(1).decode() if key else ""
        done = await client.call("register", "POST", "/cases/new/", form, expect=(302,))
        if done is None:
            continue
        location = done.headers.get("location", "")
        match = re.search(r"/cases/(\d+)/", location)
        if not match or rng.random() >= route_share:
            continue  # the rest of the new cases stay at the studio for now
        pk = match.group(1)
        await client.call("route:send", "POST", f"/cases/{pk}/send/", {"version": 1}, (302,))
        await street.call(
            "route:refer",
            "POST",
            f"/cases/{pk}/refer/",
            {"version": 2, "handling_unit": rng.choice(plan["handling_units"]), "note": "请办理"},
            (302,),
        )


def registration_form(studio: Any, representative: Any, today: Any) -> dict[str, Any]:
    """The registration form a liaison posts in the mix (bench/cpu.py posts the same)."""
    return {
        "studio": studio,
        "representative": representative,
        "channel": "in_person",
        "occasion": "reception",
        "received_on": today,
        "reporter_name": "测试居民",
        "reporter_gender": "female",
        "reporter_age": "66",
        "reporter_phone": "13800001234",
        "summary": "楼道灯不亮",
        "content": "楼道灯坏了一周，晚上上下楼不安全，请尽快维修。",
        "outcome": "sent_on",
    }


def make_plan(today: str) -> dict:
    """Users and ids for the workload, read from the database through Django."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.db.models import Count

    from minyi.cases.models import Case
    from minyi.org.models import HandlingUnit
    from minyi.people.models import Role, User
    from minyi.studios.models import Studio

    streets = list(
        Case.objects.values("street")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("street", flat=True)[:12]
    )
    year = int(today[:4]) - 1
    browsers, registrars = [], []
    for street in streets:
        official = User.objects.filter(role=Role.STREET_OFFICIAL, unit_id=street).first()
        studios = list(
            Studio.objects.filter(unit__street_id=street).values_list("pk", flat=True)[:20]
        )
        cases = list(
            Case.objects.filter(street_id=street).order_by("-pk").values_list("pk", flat=True)[:300]
        )
        units = list(HandlingUnit.objects.filter(area_id=street).values_list("pk", flat=True))
        browsers.append(
            {"username": official.username, "cases": cases, "studios": studios, "year": year}
        )
        for studio in Studio.objects.filter(pk__in=studios).prefetch_related(
            "liaisons__user", "representatives"
        )[:3]:
            liaison = next((x.user for x in studio.liaisons.all() if x.user_id), None)
            rep = next(iter(studio.representatives.all()), None)
            if liaison and rep and units:
                registrars.append(
                    {
                        "username": liaison.username,
                        "street_username": official.username,
                        "studio": studio.pk,
                        "representative": rep.pk,
                        "handling_units": units,
                        "today": today,
                    }
                )
    all_studios = [s for b in browsers for s in b["studios"]]
    return {"browsers": browsers, "registrars": registrars, "studios": all_studios}


def check_numbers() -> dict:
    """Case numbers unique, and gap-free per prefix and year, matching the counters."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT number) FROM cases_case")
        total, distinct = cursor.fetchone()
        cursor.execute(
            """
            SELECT c.number_prefix, c.year, count(*), count(DISTINCT c.serial), max(c.serial),
                   min(c.serial), k.last_serial
              FROM cases_case c
              LEFT JOIN cases_casenumbercounter k
                     ON k.prefix = c.number_prefix AND k.year = c.year
             GROUP BY c.number_prefix, c.year, k.last_serial
            """
        )
        bad = [
            row
            for row in cursor.fetchall()
            if not (row[2] == row[3] == row[4] == row[6] and row[5] == 1)
        ]
    return {"cases": total, "unique": total == distinct, "gap_free": not bad, "bad": bad[:5]}


# --- the server -----------------------------------------------------------------------


def start_server(port: int, workers: int, threads: int) -> subprocess.Popen:
    from django.conf import settings

    env = {
        # The keys the data was written with (the environment's, else the development
        # ones the generator used): production refuses to start without them set, and
        # refuses the development ones unless told this is a benchmark.
        "MINYI_BENCHMARK_PUBLIC_KEYS": "1",
        "MINYI_FIELD_KEY": settings.MINYI_FIELD_KEY,
        "MINYI_FIELD_KEY_FALLBACKS": ",".join(settings.MINYI_FIELD_KEY_FALLBACKS),
        "MINYI_LOOKUP_KEY": settings.MINYI_LOOKUP_KEY,
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_production",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/7"),
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
        "CONN_MAX_AGE": os.environ.get("CONN_MAX_AGE", "60"),
        "LOG_LEVEL": "WARNING",
        "DEBUG": "0",
    }
    command = [
        str(ROOT / ".venv/bin/gunicorn"),
        "config.wsgi",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers),
        "--threads", str(threads),
        "--worker-class", "gthread" if threads > 1 else "sync",
        "--keep-alive", "30",
        # Recycle a worker after this many requests (jittered, so that they do not all
        # restart at once): bounds the slow memory creep the soak run saw.
        "--max-requests", "5000",
        "--max-requests-jitter", "500",
        "--log-level", "warning",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 - our own gunicorn


def wait_ready(port: int, server: subprocess.Popen, seconds: float = 120) -> None:
    """Until a worker answers HTTP (the master binds the port before workers boot)."""
    import http.client

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("服务器启动失败（见上方 gunicorn 的输出）")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/online/", headers={"X-Forwarded-Proto": "https"})
            if conn.getresponse().status < 500:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("服务器未能启动")


def rss_mb(pid: int) -> dict[int, float]:
    """Resident memory of the server's master and workers, in MB."""
    found = {}
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    found[p] = int(line.split()[1]) / 1024
        except OSError:
            pass
    return found


def _proc_stat(pid: int | str) -> tuple[str, int, float, float] | None:
    """(command, parent pid, own CPU s, reaped children's CPU s) of a process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command is in parentheses and may hold spaces; the fields follow the last ")".
    command = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    tick = os.sysconf("SC_CLK_TCK")
    own = (int(fields[11]) + int(fields[12])) / tick
    reaped = (int(fields[13]) + int(fields[14])) / tick
    return command, int(fields[1]), own, reaped


def cpu_by_group(server_pid: int) -> dict[str, float]:
    """CPU seconds so far of the server (gunicorn's master and workers), PostgreSQL,
    Redis and the whole machine. Recycled workers and closed database connections count
    through their parent's reaped-children time, so a difference of two snapshots is
    what each group spent in between."""
    groups = {"server": 0.0, "postgres": 0.0, "redis": 0.0}
    procs = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _proc_stat(entry.name)) is not None:
            procs[int(entry.name)] = stat
    for pid, (command, parent, own, reaped) in procs.items():
        if pid == server_pid:
            groups["server"] += own + reaped
        elif parent == server_pid:
            groups["server"] += own
        elif command == "postgres":
            # The postmaster (its parent is not postgres) also holds its ended backends'.
            top = procs.get(parent, ("",))[0] != "postgres"
            groups["postgres"] += own + (reaped if top else 0.0)
        elif command.startswith("redis-server"):
            groups["redis"] += own
    line = Path("/proc/stat").read_text().splitlines()[0].split()
    tick = os.sysconf("SC_CLK_TCK")
    # user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
    values = [int(v) for v in line[1:9]]
    groups["machine"] = (sum(values) - values[3] - values[4]) / tick
    return groups


def cpu_shares(
    before: dict[str, float], after: dict[str, float], pages: int, seconds: float
) -> dict:
    spent = {name: after[name] - before[name] for name in before}
    spent["other"] = spent["machine"] - spent["server"] - spent["postgres"] - spent["redis"]
    return {
        name: {
            "seconds": round(value, 2),
            "cores": round(value / seconds, 2),
            "ms_per_page_view": round(1000 * value / pages, 2) if pages else None,
        }
        for name, value in spent.items()
    }


def summary(stats: Stats, seconds: float) -> dict:
    kinds = {}
    for kind, values in sorted(stats.times.items()):
        values = sorted(values)

        def at(p: float, values=values) -> float:
            return values[min(len(values) - 1, int(p / 100 * len(values)))]

        kinds[kind] = {
            "n": len(values),
            "per_s": len(values) / seconds,
            "p50": statistics.median(values),
            "p95": at(95),
            "p99": at(99),
            "errors": stats.errors.get(kind, 0),
        }
    pages = sorted(v for k, vs in stats.times.items() if k.startswith("page:") for v in vs)
    total = {
        "page_views_per_s": len(pages) / seconds,
        "page_p50": statistics.median(pages) if pages else None,
        "page_p95": pages[int(0.95 * len(pages))] if pages else None,
        "page_p99": pages[int(0.99 * len(pages))] if pages else None,
        "registrations_per_s": len(stats.times.get("register", [])) / seconds,
        "requests_per_s": sum(len(v) for v in stats.times.values()) / seconds,
        "errors": sum(stats.errors.values()),
    }
    return {"kinds": kinds, "total": total, "error_samples": stats.samples}


async def drive(args: argparse.Namespace, plan: dict) -> tuple[Stats, list, float]:
    stats = Stats()
    base = ("127.0.0.1", args.port)
    start = Start(args.browsers + args.public + args.registrars)
    start.seconds = args.seconds
    tasks = []
    for i in range(args.browsers):
        tasks.append(browsing(Client(base, stats), plan["browsers"][i % len(plan["browsers"])],
                              start, random.Random(i)))  # fmt: skip
    for i in range(args.public):
        tasks.append(public(Client(base, stats), plan, start, random.Random(100 + i)))
    for i in range(args.registrars):
        reg = plan["registrars"][i % len(plan["registrars"])]
        tasks.append(registering(Client(base, stats), Client(base, stats), reg, start,
                                 random.Random(200 + i), args.route_share))  # fmt: skip
    memory: list = []

    async def sample_memory() -> None:
        await start.go.wait()
        args.cpu_before = cpu_by_group(args.pid)
        while time.monotonic() < start.until:
            memory.append((round(time.monotonic() - start.began), rss_mb(args.pid)))
            await asyncio.sleep(min(10, max(1, args.seconds / 30)))
        args.cpu_after = cpu_by_group(args.pid)
        memory.append((round(time.monotonic() - start.began), rss_mb(args.pid)))

    await asyncio.gather(*tasks, sample_memory())
    return stats, memory, time.monotonic() - start.began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--browsers", type=int, default=24)
    parser.add_argument("--public", type=int, default=8)
    parser.add_argument("--registrars", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--label", default="load")
    # The share of new cases the liaison sends on and the street refers (two form posts
    # each). 0 measures what registration alone can carry.
    parser.add_argument("--route-share", type=float, default=0.5)
    args = parser.parse_args()

    from datetime import date

    today = date.today().isoformat()  # noqa: DTZ011 - the server's local day
    plan = make_plan(today)
    before = check_numbers()
    import resource

    driver_before = resource.getrusage(resource.RUSAGE_SELF)
    server = start_server(args.port, args.workers, args.threads)
    try:
        wait_ready(args.port, server)
        args.pid = server.pid
        stats, memory, seconds = asyncio.run(drive(args, plan))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    driver_after = resource.getrusage(resource.RUSAGE_SELF)
    # The driver shares the cores with the server: its own CPU says how much it took.
    driver_cpu = (driver_after.ru_utime - driver_before.ru_utime) + (
        driver_after.ru_stime - driver_before.ru_stime
    )
    result = summary(stats, seconds)
    result["driver_cpu_seconds"] = round(driver_cpu, 2)
    # Requests still running when the window closes add a little after the last
    # snapshot; the window is long enough for that not to matter.
    views = sum(len(v) for k, v in stats.times.items() if k.startswith("page:"))
    result["cpu"] = cpu_shares(args.cpu_before, args.cpu_after, views, seconds)
    after = check_numbers()
    from django.db import connection

    result.update(
        label=args.label,
        vendor=connection.vendor,
        seconds=round(seconds, 1),
        workers=args.workers,
        threads=args.threads,
        clients={"browsers": args.browsers, "public": args.public, "registrars": args.registrars},
        route_share=args.route_share,
        numbers_before=before,
        numbers_after=after,
        memory=memory,
    )
    t = result["total"]
    print(f"# {args.label}: {connection.vendor}, {seconds:.0f} s, {args.workers} workers")
    print("| 请求 | 次数 | 每秒 | p50 | p95 | p99 | 错误 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for kind, k in result["kinds"].items():
        print(f"| {kind} | {k['n']} | {k['per_s']:.1f} | {k['p50']:.0f} ms | "
              f"{k['p95']:.0f} ms | {k['p99']:.0f} ms | {k['errors']} |")  # fmt: skip
    print(
        f"\n页面 {t['page_views_per_s']:.1f}/s（p50 {t['page_p50']:.0f} ms，p95 {t['page_p95']:.0f}"
        f" ms，p99 {t['page_p99']:.0f} ms）；登记 {t['registrations_per_s']:.1f}/s；"
        f"错误 {t['errors']}"
    )
    print(f"压测客户端自身 CPU {driver_cpu:.1f} s（{driver_cpu / seconds:.0%} 个核）")
    names = {"server": "应用（gunicorn）", "postgres": "PostgreSQL", "redis": "Redis",
             "other": "其他（含压测客户端、内核）", "machine": "整机"}  # fmt: skip
    print("CPU（计时窗口内）：" + "；".join(
        f"{names[k]} {v['cores']:.2f} 核，每次页面访问 {v['ms_per_page_view']} ms"
        for k, v in result["cpu"].items()))  # fmt: skip
    print(f"案件编号：唯一 {after['unique']}，无缺号 {after['gap_free']}"
          f"（运行前 {before['cases']} 件，运行后 {after['cases']} 件）")  # fmt: skip
    if memory:
        first, last = memory[0][1], memory[-1][1]
        print("内存（MB，进程：开始 → 结束，峰值）：")
        for pid in sorted(last):
            peak = max(m[1].get(pid, 0) for m in memory)
            print(f"  {pid}: {first.get(pid, 0):.0f} → {last[pid]:.0f}，峰值 {peak:.0f}")
    for sample in result["error_samples"][:10]:
        print("  错误示例：", sample)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.label}.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=1, default=str)
    )
    if t["errors"] or not (after["unique"] and after["gap_free"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
