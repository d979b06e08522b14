"""Synthetic load data on the real organisation tree (issue 8, item 1).

Shenzhen (788 communities, 500,000 cases) or the whole country (620,573 communities
and villages, 10,000,000 cases): organisation departments and handling units for
every district and street, a studio per community with its representatives and a
full-time liaison, five years of events with appointments and attendance, and opinion
cases whose channels, routes, deadlines and ratings follow the shares below.

Case numbers follow the application's rules exactly (minyi.cases.numbering): the
prefix is the community's own (street and community, longer where another community
has that: minyi.org.prefixes, given by the import), serials run 1, 2, 3 … per prefix and year in the
order the cases were received, and `CaseNumberCounter` ends at the last serial issued,
so a case registered afterwards through the pages continues without a gap.

Every person is visibly fake: names start with 测试, phones are in the 138-0000 block.
All accounts share one password (LOAD_PASSWORD), hashed once.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import queue
import random
import resource
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache, partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from minyi.cases.areas import AREA_COLUMNS
from minyi.cases.models import (
    Answer,
    Case,
    CaseNumberCounter,
    CaseStep,
    Channel,
    Evaluation,
    Occasion,
    Outcome,
    Satisfaction,
    StudioCategory,
)
from minyi.cases.numbering import format_number
from minyi.cases.services import timeliness_after
from minyi.cases.states import Action, CaseState, HolderLevel
from minyi.core.loadgen.bulk import (
    BulkWriter,
    CopyPipe,
    CopyText,
    deferred_indexes,
    next_id,
    reset_sequences,
)
from minyi.duties.models import (
    Appointment,
    AppointmentState,
    Attendance,
    Event,
    EventKind,
    EventState,
)
from minyi.duties.references import reference_for_number
from minyi.org.importing import department_name
from minyi.org.models import HandlingUnit, Level, OrgDepartment, OrgUnit
from minyi.org.prefixes import first_free_studio, taken_prefixes
from minyi.people.models import (
    Liaison,
    LiaisonKind,
    Representative,
    RepresentativeCategory,
    RepresentativeLevel,
    Role,
    User,
)
from minyi.studios.models import Studio, StudioAssignment, StudioKind
from minyi.workdays.calendar import WorkCalendar, add_workdays

LOAD_PASSWORD = "minyi-load-2026"
USER_PREFIX = "load_"
SHENZHEN = "4403"
YEARS = 5


@dataclass(frozen=True)
class Scale:
    name: str
    cases: int
    root_code: str | None  # the city whose tree is used; None: the whole country
    representatives_per_studio: int
    events_per_studio_year: int
    appointments_per_event: float


SCALES = {
    "city": Scale("city", 500_000, SHENZHEN, 2, 24, 1.0),
    "national": Scale("national", 10_000_000, None, 1, 2, 0.5),
}

# Shares (from the pilot studios' ledgers as the issue describes them; tunable here).
CHANNELS = [
    (Channel.IN_PERSON, 0.55),
    (Channel.PHONE, 0.20),
    (Channel.ONLINE, 0.20),
    (Channel.OTHER, 0.05),
]
OCCASION_OF = {
    Channel.IN_PERSON: [(Occasion.RECEPTION, 0.6), (Occasion.APPOINTMENT, 0.2),
                        (Occasion.HOUSEHOLD_VISIT, 0.2)],
    Channel.PHONE: [(Occasion.PHONE_CALL, 1.0)],
    Channel.ONLINE: [(Occasion.ONLINE_STUDIO, 1.0)],
    Channel.OTHER: [(Occasion.OTHER, 1.0)],
}  # fmt: skip
RATINGS = [
    (Satisfaction.VERY_SATISFIED, 0.45),
    (Satisfaction.SATISFIED, 0.35),
    (Satisfaction.BASICALLY_SATISFIED, 0.15),
    (Satisfaction.DISSATISFIED, 0.05),
]
ON_THE_SPOT_SHARE = 0.35
CARRY_FORWARD_SHARE = 0.02
ESCALATE_SHARE = 0.15  # street → district; a fifth of those go on to the city
RETURN_SHARE = 0.03  # returned as outside the remit, then referred again
EXTENSION_SHARE = 0.05
LATE_SHARE = 0.08  # answered after the deadline
STUCK_SHARE = 0.01  # old cases still waiting, long overdue
REOPEN_SHARE = 0.5  # of 不满意 ratings, sent back for handling
# Residents come back: a studio's reporters raise this many opinions each on average
# over the five years, some far more than others (see `reporter`).
CASES_PER_REPORTER = 2.5

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红"
TOPICS = [
    ("市政", "小区门口路灯损坏", "小区门口路灯已损坏两周，夜间出行不便，希望尽快维修。"),
    ("交通", "公交站台缺少遮雨棚", "公交站台没有遮雨棚，老人下雨天候车困难，建议加装。"),
    ("环境", "垃圾分类点异味严重", "垃圾分类投放点清运不及时，夏季异味严重，影响居民生活。"),
    ("教育", "学位紧张", "片区适龄儿童增多，公办学位紧张，希望增加学位供给。"),
    ("医疗", "社康中心排队时间长", "社区健康服务中心就诊排队时间长，建议增加医生和号源。"),
    ("养老", "长者食堂供餐不足", "长者食堂午餐供应不足，希望扩大供餐能力。"),
    ("安全", "电动自行车楼道充电", "楼道内有电动自行车充电，存在消防隐患，请求整治。"),
    ("城管", "占道经营", "市场周边占道经营严重，影响通行，希望加强管理。"),
    ("住房", "老旧小区加装电梯", "老旧小区居民希望加装电梯，需要街道协调。"),
    ("噪音", "夜间施工噪音扰民", "附近工地夜间施工噪音扰民，影响休息。"),
    ("停车", "停车位不足", "小区周边停车位严重不足，乱停乱放现象突出。"),
    ("绿化", "公园设施老化", "社区公园健身器材老化，存在安全隐患，希望更换。"),
]
UNIT_NAMES = {
    Level.STREET: ["城市管理和综合执法办公室", "公共服务办公室", "安全生产监督管理办公室"],
    Level.DISTRICT: ["住房和建设局", "交通运输局", "教育局", "卫生健康局"],
    Level.CITY: ["住房和建设局", "交通运输局", "教育局", "卫生健康委员会"],
}

Progress = Callable[[str], object]

# The most rows of each kind one case (one prefix, for the counters) can have: a
# worker's ids run from its start to start + room × its cases. A case has at most 11
# steps (registration, sending, escalation, a referral returned and made again, two
# rounds of answer and rating with a reopening between) and two answers and ratings.
ID_ROOM = {Case: 1, CaseStep: 12, Answer: 2, Evaluation: 2, CaseNumberCounter: YEARS + 1}
ID_LIMIT = 1 << 62


def event_room(scale: Scale) -> dict[Any, int]:
    """The most rows of each kind one studio's events can have: every event has one
    representative, at most one attendance and at most ⌈appointments_per_event⌉
    appointments."""
    per_studio = scale.events_per_studio_year * YEARS
    return {
        Event: per_studio,
        Event.representatives.through: per_studio,
        Attendance: per_studio,
        Appointment: per_studio * math.ceil(scale.appointments_per_event),
    }


def server_cpu_seconds() -> float | None:
    """CPU time of the PostgreSQL process serving this connection, read from /proc when
    the server runs on this machine (parallel index-build workers not included); None
    when it cannot be known."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    proc = Path(f"/proc/{pid}")
    try:
        if proc.joinpath("comm").read_text().strip() != "postgres":
            return None  # a remote server: this pid is some other local process
        fields = proc.joinpath("stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_context() -> Any:
    """Where the workers run: processes forked from this one, sharing what it has read
    and worked out without copying it. Safe from `manage.py generate_load_data`, which has
    one thread when it forks (its COPY thread starts after); not from a process that has
    threads of its own, as a pytest-xdist worker has (a lock another thread holds stays
    locked in the child; Python warns). The tests run the same workers in threads of
    this process instead (tests/perf/in_process.py)."""
    return multiprocessing.get_context("fork")


def _no_queries(*args: Any) -> None:
    raise RuntimeError("负载数据子进程不能访问数据库。")


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the case workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


# The tables that receive many rows: their secondary indexes and foreign keys are
# re-created after the load (bulk.deferred_indexes).
LOADED = (
    User, Studio, Representative, Representative.linked_communities.through,
    StudioAssignment, Liaison, Event, Event.representatives.through, Attendance,
    Appointment, Case, CaseStep, Answer, Evaluation,
)  # fmt: skip


def pick(rng: random.Random, table: list[tuple[Any, float]]) -> Any:
    x = rng.random()
    for value, share in table:
        x -= share
        if x < 0:
            return value
    return table[-1][0]


def fake_name(rng: random.Random) -> str:
    return "测试" + rng.choice(SURNAMES) + rng.choice(GIVEN)


def fake_phone(n: int) -> str:
    return f"+861380000{n % 10000:04d}"


def studio_name(short_name: str) -> str:
    return f"{short_name}党代表工作室"


def aware(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=_zone())


@cache
def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


class LoadDataError(Exception):
    """The database is not ready for load data; the message says why, in Chinese."""


@dataclass
class Report:
    counts: dict[str, int]
    seconds: float
    cpu_seconds: float  # this process and its case workers (not the database server)
    server_cpu_seconds: float | None = None  # the PostgreSQL process serving the load


class Generator:
    def __init__(
        self,
        scale: Scale,
        *,
        cases: int | None = None,
        seed: int = 2026,
        today: date | None = None,
        progress: Progress = lambda message: None,
        chunk: int = 20_000,
        workers: int = 2,
    ) -> None:
        self.scale = scale
        self.total_cases = scale.cases if cases is None else cases
        self.rng = random.Random(seed)
        self.seed = seed
        self.workers = workers
        self.today = today or timezone.localdate()
        self.start = self.today.replace(year=self.today.year - YEARS) + timedelta(days=1)
        self.progress = progress
        self.chunk = chunk
        self.counts: dict[str, int] = defaultdict(int)
        self.calendar = WorkCalendar()
        self._due: dict[tuple[date, int], date] = {}
        self.now = timezone.now()
        # Open while a phase writes without reading; a worker process's is a CopyText.
        self.pipe: CopyPipe | CopyText | None = None
        self.reporters: dict[int, list[tuple[str, str, int, str, str]]] = {}
        self.reporter_serial = 0

    # --- helpers --------------------------------------------------------------------

    def _ids(self, *models: Any) -> dict[Any, Iterator[int]]:
        return {m: iter(range(next_id(m), 1 << 62)) for m in models}

    def _flush(self, *writers: BulkWriter) -> None:
        for writer in writers:
            writer.flush(self.pipe)
            self.counts[writer.model._meta.label] = writer.count

    @contextmanager
    def piped(self) -> Iterator[None]:
        """The COPYs of the block run in a thread while Python prepares the next batch
        (PostgreSQL only; the block must not read what it writes)."""
        if connection.vendor != "postgresql":
            yield
            return
        with CopyPipe() as self.pipe:
            try:
                yield
            finally:
                self.pipe = None

    def due(self, received: date, days: int) -> date:
        key = (received, days)
        if key not in self._due:
            self._due[key] = add_workdays(received, days, calendar=self.calendar).due
        return self._due[key]

    # --- the whole run --------------------------------------------------------------

    def run(self) -> Report:
        began = time.monotonic()
        if Case.objects.exists():
            raise LoadDataError("数据库中已有社情民意案件：负载数据只能生成到没有案件的数据库。")
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # Foreign keys are checked as rows arrive rather than all at COMMIT: the
                # same work, but the progress shown is the real progress.
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            self.load_tree()
            with deferred_indexes(*LOADED):
                self.make_bodies()
                self.make_people_and_studios()
                # Each phase reads what it needs before its first row is queued.
                self.make_events()
                self.make_cases()
                self.progress(f"写入完成，{time.monotonic() - began:.0f} 秒；重建索引和外键约束")
            self.progress(f"索引和外键约束已重建，{time.monotonic() - began:.0f} 秒")
            # After the cases are in: read back, not queued.
            self.make_categories()
            reset_sequences(
                OrgDepartment, HandlingUnit, User, Studio, Representative,
                Representative.linked_communities.through, StudioAssignment, Liaison,
                Event, Event.representatives.through, Attendance, Appointment,
                Case, CaseStep, Answer, Evaluation, CaseNumberCounter,
            )  # fmt: skip
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        return Report(
            dict(self.counts), time.monotonic() - began, cpu_seconds(), server_cpu_seconds()
        )

    # --- the tree -------------------------------------------------------------------

    def load_tree(self) -> None:
        units = OrgUnit.objects.active()
        if self.scale.root_code:
            root = OrgUnit.objects.filter(code=self.scale.root_code).first()
            if root is None:
                raise LoadDataError(
                    f"找不到区划代码为 {self.scale.root_code} 的城市，请先运行 import_divisions。"
                )
            units = units.filter(root.subtree_q())
        rows = list(
            units.values_list("pk", "level", "name", "short_name", "street_id", "district_id",
                              "city_id", "parent_id", "number_prefix")
        )  # fmt: skip
        self.communities = [r for r in rows if r[1] == Level.COMMUNITY]
        if not self.communities:
            raise LoadDataError("组织架构中没有社区，请先运行 import_divisions 导入区划。")
        self.unit_name = {r[0]: r[2] for r in rows}
        self.streets = [r for r in rows if r[1] == Level.STREET]
        self.districts = [r for r in rows if r[1] == Level.DISTRICT]
        self.cities = [r for r in rows if r[1] == Level.CITY]
        self.progress(
            f"组织架构：{len(self.cities)} 个市，{len(self.districts)} 个区，"
            f"{len(self.streets)} 个街道，{len(self.communities)} 个社区"
        )

    def make_bodies(self) -> None:
        """An organisation department for every city, district and street; handling
        units at each level; an official's account for each department."""
        bodies = [*self.cities, *self.districts, *self.streets]
        have = set(OrgDepartment.objects.values_list("unit_id", flat=True))
        ids = self._ids(OrgDepartment, HandlingUnit, User)
        departments = BulkWriter(OrgDepartment)
        for pk, level, name, *_ in bodies:
            if pk not in have:
                unit = OrgUnit(pk=pk, level=level, name=name)
                departments.add(
                    id=next(ids[OrgDepartment]), unit_id=pk, name=department_name(unit),
                    created_at=self.now, updated_at=self.now,
                )  # fmt: skip
        self._flush(departments)
        self.department_of = dict(OrgDepartment.objects.values_list("unit_id", "pk"))

        self.password = make_password(LOAD_PASSWORD)
        users = BulkWriter(User)
        self.user_writer = users
        self.user_ids = ids[User]
        role_of = {
            Level.CITY: Role.CITY_OFFICIAL,
            Level.DISTRICT: Role.DISTRICT_OFFICIAL,
            Level.STREET: Role.STREET_OFFICIAL,
        }
        self.official_of: dict[int, int] = {}
        for pk, level, *_ in bodies:
            if level not in role_of:
                continue  # system committees keep their own accounts
            self.official_of[pk] = self._user(f"{level}{pk}", role_of[level], unit_id=pk)

        units = BulkWriter(HandlingUnit)
        self.handling_units: dict[int, list[tuple[int, int]]] = {}  # area -> [(unit, staff)]
        for pk, level, name, *_ in bodies:
            names = UNIT_NAMES.get(level, [])
            found = []
            for unit_name in names:
                unit_id = next(ids[HandlingUnit])
                units.add(
                    id=unit_id, name=f"测试{name}{unit_name}", area_id=pk,
                    contact_person="测试联系人", phone=fake_phone(unit_id),
                    created_at=self.now, updated_at=self.now,
                )  # fmt: skip
                staff = self._user(f"unit{unit_id}", Role.HANDLING_UNIT_STAFF, unit_id=None,
                                   handling_unit_id=unit_id)  # fmt: skip
                found.append((unit_id, staff))
            self.handling_units[pk] = found
        self._flush(units, users)

    def _user(self, name: str, role: str, **fields: Any) -> int:
        pk = next(self.user_ids)
        self.user_writer.add(
            id=pk, username=f"{USER_PREFIX}{name}", password=self.password,
            full_name=f"测试{name}", role=role, is_active=True, is_staff=False,
            is_superuser=False, date_joined=self.now, first_name="", last_name="",
            email="", **fields,
        )  # fmt: skip
        return pk

    # --- studios and people ---------------------------------------------------------

    def make_people_and_studios(self) -> None:
        ids = self._ids(Studio, Representative, StudioAssignment, Liaison,
                        Representative.linked_communities.through)  # fmt: skip
        studios = BulkWriter(Studio)
        reps = BulkWriter(Representative)
        links = BulkWriter(Representative.linked_communities.through)
        assignments = BulkWriter(StudioAssignment)
        liaisons = BulkWriter(Liaison)
        users = self.user_writer
        # studio id -> (prefix, representatives, liaison user, community row)
        self.studios: dict[int, tuple[str, list[tuple[int, str]], int, tuple]] = {}
        existing = set(
            Studio.objects.filter(kind=StudioKind.COMMUNITY).values_list("unit_id", flat=True)
        )
        self.own_prefixes = self._own_prefixes(existing)
        with self.piped():
            self._make_studios(existing, ids, studios, reps, links, assignments,
                               liaisons)  # fmt: skip
        self.progress(f"工作室 {studios.count}，党代表 {reps.count}，账号 {users.count}")

    def _own_prefixes(self, existing: set[int]) -> dict[int, str]:
        """The prefixes of the new studios at communities without one (no street), by
        community: each studio's own, as `studio_number_prefix` gives it at the first
        number (minyi.org.prefixes), stored on the studio."""
        pks = [c[0] for c in self.communities if not c[-1] and c[0] not in existing]
        if not pks:
            return {}
        taken = taken_prefixes()
        rows = OrgUnit.objects.filter(pk__in=pks).values_list(
            "pk", "short_name", "name", "street__name", "district__name", "city__name",
            "province__name",
        )  # fmt: skip
        return {
            pk: first_free_studio(studio_name(short), names, taken)
            for pk, short, *names in sorted(rows)
        }

    def _make_studios(self, existing: set[int], ids: dict[Any, Iterator[int]],
                      studios: BulkWriter, reps: BulkWriter, links: BulkWriter,
                      assignments: BulkWriter, liaisons: BulkWriter) -> None:  # fmt: skip
        rng = self.rng
        for community in self.communities:
            pk, _, name, short, _, district_id, *_, community_prefix = community
            if pk in existing:
                continue
            studio_id = next(ids[Studio])
            own_prefix = self.own_prefixes.get(pk)
            studios.add(
                id=studio_id, name=studio_name(short), kind=StudioKind.COMMUNITY,
                number_prefix=own_prefix,
                unit_id=pk, host_organisation=f"{short}党委", address=f"{name}党群服务中心",
                area_m2=rng.choice([18, 25, 30, 40, 60]), opening_hours="每周三 9:00—12:00",
                phone=fake_phone(studio_id), funding_source="区财政",
                established_on=self.start, has_plaque=True, has_representative_board=True,
                has_desks=True, has_filing_cabinets=rng.random() < 0.9,
                has_computer_network=True, has_slogan_sign=True, has_rules_posted=True,
                created_at=self.now, updated_at=self.now,
            )  # fmt: skip
            representatives = []
            for _ in range(self.scale.representatives_per_studio):
                rep_id = next(ids[Representative])
                rep_name = fake_name(rng)
                reps.add(
                    id=rep_id, name=rep_name,
                    level=rng.choice([RepresentativeLevel.CITY, RepresentativeLevel.DISTRICT]),
                    category=RepresentativeCategory.DISTRICT, unit_id=district_id,
                    employer=f"测试{short}工作单位", position="居民代表",
                    phone=fake_phone(rep_id), photo="", active=True,
                    created_at=self.now, updated_at=self.now,
                )  # fmt: skip
                links.add(id=next(ids[links.model]), representative_id=rep_id, orgunit_id=pk)
                assignments.add(
                    id=next(ids[StudioAssignment]), studio_id=studio_id,
                    representative_id=rep_id, since=self.start, active=True,
                    created_at=self.now, updated_at=self.now,
                )  # fmt: skip
                representatives.append((rep_id, rep_name))
            liaison_user = self._user(f"liaison{studio_id}", Role.LIAISON, unit_id=None)
            liaison_id = next(ids[Liaison])
            liaisons.add(
                id=liaison_id, name=fake_name(rng), kind=LiaisonKind.FULL_TIME,
                studio_id=studio_id, phone=fake_phone(liaison_id), position="专职联络员",
                user_id=liaison_user, active=True, created_at=self.now, updated_at=self.now,
            )  # fmt: skip
            # numbering.number_prefix: the community's prefix, else the studio's own.
            prefix = community_prefix or own_prefix
            assert prefix is not None  # _own_prefixes gave one to each community without
            self.studios[studio_id] = (prefix, representatives, liaison_user, community)
            if len(studios.batch) >= self.chunk:
                self._flush(studios, reps, links, assignments, self.user_writer, liaisons)
        self._flush(studios, reps, links, assignments, self.user_writer, liaisons)

    # --- events ---------------------------------------------------------------------

    def make_events(self) -> None:
        """Five years of events per studio with their representatives, attendance and
        appointments. On PostgreSQL `workers` processes each make the events of a
        consecutive share of the studios and send COPY text, as for the cases; a studio
        has a fixed number of events, so each share's ids start where the previous
        share's room (EVENT_ROOM) ends."""
        room = event_room(self.scale)
        first = {m: next_id(m) for m in room}
        studio_ids = list(self.studios)
        workers = self.workers if connection.vendor == "postgresql" else 1
        size = math.ceil(len(studio_ids) / max(1, workers)) or 1
        shares = [studio_ids[i : i + size] for i in range(0, len(studio_ids), size)]
        jobs = []
        before = 0
        for n, share in enumerate(shares):
            starts = {m: first[m] + r * before for m, r in room.items()}
            jobs.append(partial(self._make_event_share, n, share, starts))
            before += len(share)
        self.studios_done = 0
        progress = self._event_progress
        if len(jobs) <= 1:
            with self.piped():
                counts = jobs[0](progress) if jobs else {}
        else:
            counts = self._run_workers(jobs, progress)
        self.counts.update(counts)
        self.progress(
            f"活动 {counts.get(Event._meta.label, 0)}，"
            f"预约 {counts.get(Appointment._meta.label, 0)}"
        )

    def _event_progress(self, more: int) -> None:
        self.studios_done += more
        self.progress(f"活动：工作室 {self.studios_done}/{len(self.studios)}")

    def _make_event_share(self, n: int, studio_ids: list[int], starts: dict[Any, int],
                          progress: Callable[[int], object]) -> dict[str, int]:  # fmt: skip
        rng = random.Random(f"{self.seed}-events-{n}")
        ids = {m: iter(range(start, start + ID_LIMIT)) for m, start in starts.items()}
        events = BulkWriter(Event)
        event_reps = BulkWriter(Event.representatives.through)
        attendance = BulkWriter(Attendance)
        appointments = BulkWriter(Appointment)
        writers = (events, event_reps, attendance, appointments)
        per_year = self.scale.events_per_studio_year
        span = (self.today - self.start).days
        total = per_year * YEARS
        reported = 0
        for done, studio_id in enumerate(studio_ids, 1):
            _, reps, liaison_user, _c = self.studios[studio_id]
            for i in range(total):
                day = self.start + timedelta(days=int(span * (i + rng.random()) / total))
                starts_at = aware(day, 9)
                ends_at = aware(day, 12)
                held = day < self.today
                state = (
                    EventState.CANCELLED if held and rng.random() < 0.03
                    else EventState.HELD if held else EventState.PUBLISHED
                )  # fmt: skip
                event_id = next(ids[Event])
                rep_id, _ = rng.choice(reps)
                events.add(
                    id=event_id, studio_id=studio_id, kind=rng.choice(
                        [EventKind.OPENING, EventKind.RECEPTION, EventKind.RECEPTION]),
                    theme="党代表接待日", starts_at=starts_at, ends_at=ends_at,
                    place="工作室", capacity=10, state=state,
                    published_at=starts_at - timedelta(days=8),
                    people_received=rng.randint(0, 12) if state == EventState.HELD else None,
                    summary="接待群众，听取意见。" if state == EventState.HELD else "",
                    cancelled_reason="台风停课" if state == EventState.CANCELLED else "",
                    created_at=starts_at - timedelta(days=9), updated_at=starts_at,
                )  # fmt: skip
                event_reps.add(
                    id=next(ids[event_reps.model]), event_id=event_id, representative_id=rep_id
                )
                if state == EventState.HELD:
                    attendance.add(
                        id=next(ids[Attendance]), event_id=event_id, representative_id=rep_id,
                        arrived_at=starts_at, left_at=ends_at,
                    )  # fmt: skip
                k = self.scale.appointments_per_event
                for _ in range(int(k) + (rng.random() < k - int(k))):
                    appointment_id = next(ids[Appointment])
                    appointment_state = (
                        rng.choice([AppointmentState.ATTENDED, AppointmentState.ATTENDED,
                                    AppointmentState.NO_SHOW, AppointmentState.CANCELLED])
                        if held else AppointmentState.CONFIRMED
                    )  # fmt: skip
                    appointments.add(
                        id=appointment_id, reference=reference_for_number(appointment_id),
                        event_id=event_id, name=fake_name(rng),
                        phone=fake_phone(appointment_id), topic=rng.choice(TOPICS)[1],
                        preferred_representative_id=rep_id, state=appointment_state,
                        confirmed_at=starts_at - timedelta(days=3), confirmed_by_id=liaison_user,
                        handled_by_id=liaison_user if held else None,
                        handled_at=ends_at if held else None,
                        created_at=starts_at - timedelta(days=5), updated_at=starts_at,
                    )  # fmt: skip
            if len(events.batch) >= self.chunk:
                self._flush(*writers)
                progress(done - reported)
                reported = done
        self._flush(*writers)
        progress(len(studio_ids) - reported)
        for writer in writers:
            limit = event_room(self.scale)[writer.model] * len(studio_ids)
            assert writer.count <= limit, f"{writer.model.__name__}: more rows than ids"
        return {w.model._meta.label: w.count for w in writers}

    # --- cases ----------------------------------------------------------------------

    def plan_cases(self) -> dict[str, list[int]]:
        """How many cases each studio receives (busy studios and quiet ones: a
        log-normal weight), grouped by number prefix, since the counter is per prefix."""
        rng = self.rng
        studio_ids = list(self.studios)
        weights = [rng.lognormvariate(0, 0.8) for _ in studio_ids]
        total_weight = sum(weights)
        exact = [self.total_cases * w / total_weight for w in weights]
        counts = [int(x) for x in exact]
        short = self.total_cases - sum(counts)
        for i in sorted(range(len(exact)), key=lambda i: counts[i] - exact[i])[:short]:
            counts[i] += 1
        self.case_count = dict(zip(studio_ids, counts, strict=True))
        by_prefix: dict[str, list[int]] = defaultdict(list)
        for studio_id in studio_ids:
            by_prefix[self.studios[studio_id][0]].append(studio_id)
        return by_prefix

    def case_areas(self) -> dict[int, tuple[int | None, ...]]:
        """Per studio, the values of its cases' area columns (`AREA_COLUMNS`, from
        OrgUnit.area_pointers of the studio's community), computed once per studio."""
        province_of = dict(
            OrgUnit.objects.filter(level=Level.CITY).values_list("pk", "province_id")
        )
        areas = {}
        for studio_id, (*_, community) in self.studios.items():
            pk, level, _, _, street_id, district_id, city_id, *_ = community
            unit = OrgUnit(pk=pk, level=level, street_id=street_id, district_id=district_id,
                           city_id=city_id, province_id=province_of.get(city_id))  # fmt: skip
            pointers = unit.area_pointers()
            areas[studio_id] = tuple(pointers[column] for column in AREA_COLUMNS)
        return areas

    def make_cases(self) -> None:
        """The cases, prefix by prefix. On PostgreSQL `workers` processes each make the
        cases of a share of the prefixes (a prefix's serials are all made by one of
        them, in order) and send their rows as COPY text; this process only feeds them
        to the database. Each worker has its own ranges of ids, wide enough for the
        most rows a case can have (ID_ROOM), so ids never clash; the ranges leave a
        gap between workers, and Case ids none (a case is one row)."""
        by_prefix = list(self.plan_cases().items())
        self.case_area = self.case_areas()
        self.existing_counters = set(CaseNumberCounter.objects.values_list("prefix", "year"))
        first = {m: next_id(m) for m in ID_ROOM}
        # Every deadline a case can need, worked out here: the working-day calendar is
        # read from the database, which the workers must not touch.
        day = self.start
        while day <= self.today + timedelta(days=10):
            for days in (10, 30):
                self.due(day, days)
            day += timedelta(days=1)
        workers = self.workers if connection.vendor == "postgresql" else 1
        groups = self._share_out(by_prefix, workers)
        self.began = time.monotonic()
        self.cases_done = 0
        if len(groups) == 1:
            with self.piped():
                counts = self._make_group(by_prefix, first, 0, self._case_progress)
        else:
            jobs = [
                partial(self._make_case_group, n, group, starts)
                for n, (group, starts) in enumerate(zip(groups, self._starts(groups, first),
                                                        strict=True))
            ]  # fmt: skip
            counts = self._run_workers(jobs, self._case_progress)
        self.counts.update(counts)

    def _share_out(self, by_prefix: list[tuple[str, list[int]]],
                   workers: int) -> list[list[tuple[str, list[int]]]]:  # fmt: skip
        """Consecutive runs of prefixes with about equal numbers of cases."""
        target = self.total_cases / max(1, workers)
        groups: list[list[tuple[str, list[int]]]] = [[]]
        size = 0
        for item in by_prefix:
            if size >= target * len(groups) and len(groups) < workers:
                groups.append([])
            groups[-1].append(item)
            size += sum(self.case_count[s] for s in item[1])
        return [g for g in groups if g]

    def _starts(self, groups: list[list[tuple[str, list[int]]]],
                first: dict[Any, int]) -> list[dict[Any, int]]:  # fmt: skip
        starts = []
        cases = prefixes = 0
        for group in groups:
            starts.append({
                m: first[m] + room * (prefixes if m is CaseNumberCounter else cases)
                for m, room in ID_ROOM.items()
            })  # fmt: skip
            cases += sum(self.case_count[s] for _, studio_ids in group for s in studio_ids)
            prefixes += len(group)
        return starts

    def _run_workers(self, jobs: Sequence[Callable[[Callable[[int], object]], dict[str, int]]],
                     progress: Callable[[int], object]) -> dict[str, int]:  # fmt: skip
        """Runs each job in a forked process of its own; a job makes rows, sends them as
        COPY text (this process only feeds them to the database) and reports progress,
        which goes to `progress`. Returns the rows written per model label."""
        context = worker_context()
        out = context.Queue(maxsize=4 * len(jobs))
        processes = [
            context.Process(target=self._worker, args=(job, out), daemon=True) for job in jobs
        ]
        # Forked before the COPY thread starts: a fork copies no other thread, and a
        # lock that thread held would stay locked in the child.
        for process in processes:
            process.start()
        counts: dict[str, int] = defaultdict(int)
        running = len(processes)
        try:
            with self.piped():
                while running:
                    try:
                        kind, *payload = out.get(timeout=5)
                    except queue.Empty:
                        if any(p.exitcode not in (None, 0) for p in processes):
                            raise LoadDataError("生成数据的子进程意外退出。") from None
                        continue
                    if kind == "copy":
                        # piped() opened it: there are workers on PostgreSQL only.
                        assert isinstance(self.pipe, CopyPipe)
                        self.pipe.put(*payload)
                    elif kind == "progress":
                        progress(payload[0])
                    elif kind == "done":
                        for label, n in payload[0].items():
                            counts[label] += n
                        running -= 1
                    else:
                        raise LoadDataError(f"生成数据的子进程出错：\n{payload[0]}")
        finally:
            for process in processes:
                if process.is_alive() and running:
                    process.kill()
                process.join()
        return dict(counts)

    def _worker(self, job: Callable[[Callable[[int], object]], dict[str, int]],
                out: Any) -> None:  # fmt: skip
        """In a forked process: never touches the database (the parent's connection is
        inherited and must stay the parent's); makes the rows and sends COPY text."""
        try:
            # A query here would run on the parent's connection, in the middle of its
            # COPY: refuse any, loudly.
            with connection.execute_wrapper(_no_queries):
                self.pipe = CopyText(lambda sql, text: out.put(("copy", sql, text)))
                counts = job(lambda k: out.put(("progress", k)))
            out.put(("done", counts))
        except BaseException:
            out.put(("error", traceback.format_exc()))
        finally:
            out.close()
            out.join_thread()

    def _make_case_group(self, n: int, group: list[tuple[str, list[int]]],
                         starts: dict[Any, int],
                         progress: Callable[[int], object]) -> dict[str, int]:  # fmt: skip
        """One worker's share of the cases, with a random stream of its own."""
        self.rng = random.Random(f"{self.seed}-cases-{n}")
        self.reporter_serial = starts[Case]
        return self._make_group(group, starts, n, progress)

    def _make_group(self, by_prefix: list[tuple[str, list[int]]], starts: dict[Any, int],
                    n: int, progress: Callable[[int], object]) -> dict[str, int]:  # fmt: skip
        ids = {m: iter(range(start, start + ID_LIMIT)) for m, start in starts.items()}
        self.ids = ids
        self.w_case = BulkWriter(Case)
        self.w_step = BulkWriter(CaseStep)
        self.w_answer = BulkWriter(Answer)
        self.w_eval = BulkWriter(Evaluation)
        counters = BulkWriter(CaseNumberCounter)
        writers = (self.w_case, self.w_step, self.w_answer, self.w_eval, counters)
        span = (self.today - self.start).days + 1
        done = reported = 0
        for prefix, studio_ids in by_prefix:
            received = [
                (self.start + timedelta(days=self.rng.randrange(span)), studio_id)
                for studio_id in studio_ids
                for _ in range(self.case_count[studio_id])
            ]
            received.sort()
            serial_of_year: dict[int, int] = defaultdict(int)
            for day, studio_id in received:
                serial_of_year[day.year] += 1
                self.make_case(prefix, day, serial_of_year[day.year], studio_id)
            for studio_id in studio_ids:
                self.reporters.pop(studio_id, None)  # their cases are all made
            for year, last in serial_of_year.items():
                if (prefix, year) in self.existing_counters:
                    raise LoadDataError(f"编号计数器 {prefix}{year} 已存在。")
                counters.add(id=next(ids[CaseNumberCounter]), prefix=prefix, year=year,
                             last_serial=last)  # fmt: skip
            done += len(received)
            if done - reported >= self.chunk:
                self._flush(*writers)
                progress(done - reported)
                reported = done
        self._flush(*writers)
        if done != reported or not done:
            progress(done - reported)
        for writer in writers:
            limit = ID_ROOM[writer.model] * (len(by_prefix) if writer is counters else done)
            assert writer.count <= limit, f"{writer.model.__name__}: more rows than ids"
        return {w.model._meta.label: w.count for w in writers}

    def make_categories(self) -> None:
        # The cases are written around case_register, so their studios' category
        # vocabulary (StudioCategory, the list filter's choices) is filled here.
        pairs = Case.objects.exclude(category="").order_by().values_list("studio_id", "category")
        StudioCategory.objects.bulk_create(
            [StudioCategory(studio_id=s, name=n) for s, n in pairs.distinct()],
            batch_size=5000,
            ignore_conflicts=True,
        )

    def _case_progress(self, more: int) -> None:
        self.cases_done += more
        done = self.cases_done
        elapsed = time.monotonic() - self.began
        rate = done / elapsed if elapsed else 0
        self.progress(
            f"案件 {done}/{self.total_cases}（{100 * done // max(1, self.total_cases)}%），"
            f"{elapsed:.0f} 秒，每秒 {rate:.0f} 件，"
            f"本进程 CPU {time.process_time():.0f} 秒"
        )

    def reporter(self, studio_id: int, short: str) -> tuple[str, str, int, str, str]:
        """One of the studio's residents: name, gender, age, phone and home address.
        Each studio has its own residents, about one per CASES_PER_REPORTER of its
        cases; the draw favours the first ones, so a few come often and many once."""
        pool = self.reporters.get(studio_id)
        if pool is None:
            rng = self.rng
            pool = self.reporters[studio_id] = []
            for _ in range(max(1, round(self.case_count[studio_id] / CASES_PER_REPORTER))):
                self.reporter_serial += 1
                pool.append((
                    fake_name(rng), rng.choice(["male", "female", ""]), rng.randint(18, 90),
                    fake_phone(self.reporter_serial),
                    f"{short}{rng.randint(1, 200)}栋{rng.randint(101, 2801)}",
                ))  # fmt: skip
        return pool[int(len(pool) * self.rng.random() ** 1.5)]

    def make_case(self, prefix: str, received_on: date, serial: int, studio_id: int) -> None:
        rng = self.rng
        _, reps, liaison_user, community = self.studios[studio_id]
        _, _, _, short, street_id, district_id, city_id, *_ = community
        rep_id, rep_name = rng.choice(reps)
        case_id = next(self.ids[Case])
        channel = pick(rng, CHANNELS)
        category, summary, content = rng.choice(TOPICS)
        at = aware(received_on, rng.randint(9, 17), rng.randint(0, 59))
        reporter_name, gender, age, phone, address = self.reporter(studio_id, short)
        steps: list[dict[str, Any]] = []
        case: dict[str, Any] = {}
        case.update(
            id=case_id, number=format_number(prefix, received_on.year, serial),
            number_prefix=prefix, year=received_on.year, serial=serial, studio_id=studio_id,
            channel=channel, occasion=pick(rng, OCCASION_OF[channel]), received_on=received_on,
            category=category, reporter_name=reporter_name, reporter_gender=gender,
            reporter_age=age, reporter_phone=phone, reporter_home_address=address,
            summary=summary, content=content, representative_id=rep_id,
            representative_name=rep_name, representative_position="居民代表",
            representative_contact=fake_phone(rep_id), registered_by_id=liaison_user,
            representative_confirmed_at=at, representative_confirmed_by_id=liaison_user,
            reporter_confirmed_at=at, reporter_confirmed_by_id=liaison_user,
            created_at=at, updated_at=at, version=1,
        )  # fmt: skip
        case.update(zip(AREA_COLUMNS, self.case_area[studio_id], strict=True))

        def step(action: str, before: str, after: str, when: datetime, **more: Any) -> None:
            steps.append(dict(action=action, state_before=before, state_after=after, at=when,
                              actor_id=more.pop("actor_id", liaison_user), **more))  # fmt: skip

        R, D, U, A, C = (CaseState.REGISTERED, CaseState.AT_DEPARTMENT, CaseState.WITH_UNIT,
                         CaseState.ANSWERED, CaseState.CLOSED)  # fmt: skip
        step(Action.REGISTER, R, R, at, text=summary)
        age = (self.today - received_on).days
        if rng.random() < ON_THE_SPOT_SHARE:
            rating = pick(rng, RATINGS)
            case.update(
                outcome=Outcome.ON_THE_SPOT, spot_answer="已当场解释相关政策。",
                spot_satisfaction=rating, state=C, final_rating=rating, closed_at=at,
            )  # fmt: skip
            step(Action.ANSWER_ON_SPOT, R, C, at, text="已当场解释相关政策。", rating=rating)
            return self._write_case(case, steps)
        case.update(outcome=Outcome.SENT_ON, state=R)
        if age < 2 and rng.random() < 0.5:
            return self._write_case(case, steps)
        day = received_on + timedelta(days=1)
        # A community without a street sends to its district (services.department_of).
        holder_unit, level = (
            (street_id, HolderLevel.STREET) if street_id else (district_id, HolderLevel.DISTRICT)
        )
        first_department = self.department_of.get(holder_unit)
        step(Action.SEND_TO_STREET, R, D, aware(day, 10), to_department_id=first_department,
             to_level=level)  # fmt: skip
        case.update(state=D, holder_level=level, holder_department_id=first_department)
        if rng.random() < CARRY_FORWARD_SHARE:
            step(Action.CARRY_FORWARD, D, CaseState.CARRIED_FORWARD, aware(day, 11))
            case.update(state=CaseState.CARRIED_FORWARD, closed_at=aware(day, 11))
            return self._write_case(case, steps)
        if (rng.random() < ESCALATE_SHARE and level == HolderLevel.STREET
                and district_id in self.department_of):  # fmt: skip
            day += timedelta(days=rng.randint(1, 3))
            official = self.official_of.get(holder_unit)
            holder_unit, level = district_id, HolderLevel.DISTRICT
            if rng.random() < 0.2 and city_id in self.department_of:
                holder_unit, level = city_id, HolderLevel.CITY
            department = self.department_of[holder_unit]
            step(Action.ESCALATE, D, D, aware(day, 10), actor_id=official,
                 from_department_id=case["holder_department_id"], to_department_id=department,
                 to_level=level, text="需上级部门协调。")  # fmt: skip
            case.update(holder_level=level, holder_department_id=department)
        if day > self.today or (age < 5 and rng.random() < 0.3):
            return self._write_case(case, steps)
        official = self.official_of.get(holder_unit)
        units = self.handling_units.get(holder_unit) or self.handling_units.get(street_id)
        assert units is not None  # every street was given its handling units (UNIT_NAMES)
        unit_id, staff = rng.choice(units)
        day += timedelta(days=rng.randint(0, 2))
        if rng.random() < RETURN_SHARE:
            due = self.due(day, 10)
            step(Action.REFER, D, U, aware(day, 14), actor_id=official,
                 to_handling_unit_id=unit_id, due_on=due)  # fmt: skip
            day += timedelta(days=2)
            step(Action.RETURN, U, D, aware(day, 15), actor_id=staff, text="不属本单位职责范围。")
            unit_id, staff = rng.choice(units)
            day += timedelta(days=1)
        days = 30 if rng.random() < EXTENSION_SHARE else 10
        due = self.due(day, days)
        step(Action.REFER, D, U, aware(day, 14), actor_id=official, to_handling_unit_id=unit_id,
             due_on=due)  # fmt: skip
        case.update(state=U, handling_unit_id=unit_id, unit_received_on=day, due_on=due,
                    due_days=days, extension_requested=days == 30)  # fmt: skip
        late = rng.random() < LATE_SHARE
        answered = (
            due + timedelta(days=rng.randint(1, 20)) if late
            else day + timedelta(days=rng.randint(1, max(1, (due - day).days)))
        )  # fmt: skip
        if rng.random() < STUCK_SHARE:
            answered = self.today + timedelta(days=365)
        if answered > self.today:
            if due < self.today:
                step(Action.URGE, U, U, aware(due + timedelta(days=1), 9), actor_id=official,
                     text="已超期，请尽快答复。")  # fmt: skip
            return self._write_case(case, steps)
        rounds = 1
        while True:
            answer_id = next(self.ids[Answer])
            self.w_answer.add(id=answer_id, case_id=case_id, handling_unit_id=unit_id,
                              text="经现场核查，已安排整改。", result="已解决",
                              answered_on=answered, answered_by_id=staff,
                              on_time=answered <= due)  # fmt: skip
            step(Action.ANSWER, U, A, aware(answered, 16), actor_id=staff,
                 text="经现场核查，已安排整改。")  # fmt: skip
            case.update(state=A, answer_timeliness=timeliness_after(
                case.get("answer_timeliness", ""), answered <= due))  # fmt: skip
            rated_on = answered + timedelta(days=rng.randint(1, 7))
            if rated_on > self.today:
                return self._write_case(case, steps)
            rating = pick(rng, RATINGS) if rounds == 1 else Satisfaction.SATISFIED
            rated_at = aware(rated_on, 10)
            self.w_eval.add(id=next(self.ids[Evaluation]), case_id=case_id, answer_id=answer_id,
                            handling_unit_id=unit_id, rating=rating, round=rounds,
                            reporter_confirmed=True, representative_confirmed=True,
                            street_head_confirmed=True, rated_at=rated_at,
                            rated_by_id=liaison_user)  # fmt: skip
            if rating == Satisfaction.DISSATISFIED and rng.random() < REOPEN_SHARE:
                step(Action.EVALUATE, A, A, rated_at, rating=rating)
                due = self.due(rated_on, 10)
                step(Action.REOPEN, A, U, rated_at + timedelta(minutes=5), due_on=due)
                case.update(state=U, due_on=due, unit_received_on=rated_on,
                            reopen_count=rounds, final_rating=rating)  # fmt: skip
                answered = rated_on + timedelta(days=rng.randint(1, 12))
                rounds += 1
                if answered > self.today:
                    return self._write_case(case, steps)
                continue
            step(Action.EVALUATE, A, C, rated_at, rating=rating)
            case.update(state=C, final_rating=rating, closed_at=rated_at)
            return self._write_case(case, steps)

    def _write_case(self, case: dict[str, Any], steps: list[dict[str, Any]]) -> None:
        case["version"] = len(steps)
        case["updated_at"] = steps[-1]["at"]
        self.w_case.add(**case)
        for values in steps:
            self.w_step.add(id=next(self.ids[CaseStep]), case_id=case["id"], **values)


def run(scale: str, **options: Any) -> Report:
    return Generator(SCALES[scale], **options).run()
