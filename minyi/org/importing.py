"""Import of the official division codes (统计用区划代码) into the organisation tree.

Two kinds of file: the Shenzhen table (one row per community, with its district and
street) and the national per-level files, which are only for scale. Imports are
repeatable: units are matched by code, names are updated, nothing is deleted and a
unit that already exists is never re-parented, because the party organisation moves
units by hand (大鹏新区) and a re-import must not undo that.

A batch is one transaction, so by default a batch with one bad row writes nothing.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from minyi.audit.trail import record_bulk
from minyi.cases.areas import cases_follow_unit
from minyi.core.models import column_of
from minyi.org.models import (
    ANCESTOR_LEVELS,
    LEVEL_ORDER,
    Delegation,
    Group,
    Kind,
    Level,
    OrgDepartment,
    OrgUnit,
    parent_level,
)
from minyi.org.prefixes import ImportPrefixes, lock_imports, settle_import

BATCH_SIZE = 5000
PROGRESS_EVERY = 50_000
CODE_LENGTHS = {
    Level.PROVINCE: 2,
    Level.CITY: 4,
    Level.DISTRICT: 6,
    Level.STREET: 9,
    Level.COMMUNITY: 12,
}

Progress = Callable[[str], object]


class DivisionFileError(Exception):
    """A file that cannot be imported at all (missing, unreadable, wrong header)."""


# --- short names ---------------------------------------------------------------------

_VILLAGE_COMMITTEE = ("村民委员会", "村委会")
_RESIDENTS_COMMITTEE = ("居民委员会", "居委会", "居委")
# Stems that already say what they are: "XX村村委会" is XX村, not XX村村.
_VILLAGE_STEMS = ("村", "社区", "嘎查")


def short_name_of(name: str) -> str:
    """The name people use for a community: 沙头角居委会 → 沙头角社区,
    大塘龙社区居民委员会 → 大塘龙社区, XX村民委员会 → XX村; anything else unchanged."""
    name = name.strip()
    for suffix in _VILLAGE_COMMITTEE:
        stem = name.removesuffix(suffix)
        if stem and stem != name:
            return stem if stem.endswith(_VILLAGE_STEMS) else f"{stem}村"
    for suffix in _RESIDENTS_COMMITTEE:
        stem = name.removesuffix(suffix)
        if stem and stem != name:
            # "坂田社区坂田围居委会" is a committee inside a community: keep it distinct.
            return stem if "社区" in stem else f"{stem}社区"
    return name


def _short_name(level: str, name: str) -> str:
    return short_name_of(name) if level == Level.COMMUNITY else name


# --- files ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FileFormat:
    label: str
    columns: tuple[str, ...]
    level: str | None  # None: the Shenzhen table, which holds several levels
    parent_column: int | None = None


SHENZHEN = FileFormat(
    "深圳市社区表",
    ("district_code", "district", "street_code", "street", "community_code", "community"),
    None,
)
FORMATS = (
    FileFormat("省", ("code", "name"), Level.PROVINCE),
    FileFormat("市", ("code", "name", "provinceCode"), Level.CITY, 2),
    FileFormat("区县", ("code", "name", "cityCode", "provinceCode"), Level.DISTRICT, 2),
    FileFormat(
        "街道乡镇", ("code", "name", "areaCode", "provinceCode", "cityCode"), Level.STREET, 2
    ),
    FileFormat(
        "社区村",
        ("code", "name", "streetCode", "provinceCode", "cityCode", "areaCode"),
        Level.COMMUNITY,
        2,
    ),
    SHENZHEN,
)


def _open_text(path: Path) -> TextIO:
    with path.open("rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
    if compressed:
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return path.open(encoding="utf-8-sig", newline="")


@dataclass(frozen=True)
class Source:
    path: Path
    fmt: FileFormat

    @property
    def rank(self) -> int:
        # Parents before children; the Shenzhen table brings its own province and city.
        return LEVEL_ORDER.index(self.fmt.level) if self.fmt.level else -1

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(1-based file line number, stripped cells) for every non-blank data row."""
        try:
            with _open_text(self.path) as text:
                reader = csv.reader(text)
                next(reader, None)
                for row in reader:
                    cells = [cell.strip() for cell in row]
                    if any(cells):
                        yield reader.line_num, cells
        except (UnicodeDecodeError, csv.Error, OSError, EOFError) as exc:
            message = f"无法读取文件 {self.path}（须为 UTF-8 编码的 CSV）：{exc}"
            raise DivisionFileError(message) from exc


def open_source(path: Path) -> Source:
    if not path.is_file():
        raise DivisionFileError(f"找不到文件：{path}")
    try:
        with _open_text(path) as text:
            header = tuple(cell.strip() for cell in next(csv.reader(text), []))
    except (UnicodeDecodeError, csv.Error, OSError, EOFError) as exc:
        raise DivisionFileError(f"无法读取文件 {path}（须为 UTF-8 编码的 CSV）：{exc}") from exc
    for fmt in FORMATS:
        if header == fmt.columns:
            return Source(path, fmt)
    expected = "\n".join(f"  {fmt.label}：{','.join(fmt.columns)}" for fmt in FORMATS)
    raise DivisionFileError(
        f"文件 {path} 的表头不对：{','.join(header) or '（空）'}\n表头应为以下之一：\n{expected}"
    )


# --- rows ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One unit as a file states it."""

    line: int
    level: str
    code: str
    name: str
    parent_code: str | None
    kind: str = Kind.ORDINARY


class RowError(Exception):
    pass


CITY_CODE = "4403"
SHENZHEN_ROOT = (
    Entry(0, Level.PROVINCE, "44", "广东省", None),
    Entry(0, Level.CITY, CITY_CODE, "深圳市", "44"),
)


def _national_street_kind(code: str) -> str:
    # Street-level codes 400-599 are 类似乡级单位: development zones, farms, bonded zones.
    return Kind.FUNCTIONAL_ZONE if code[6:9] >= "400" else Kind.ORDINARY


def entries_of(fmt: FileFormat, line: int, cells: list[str]) -> list[Entry]:
    if len(cells) != len(fmt.columns):
        raise RowError(f"应有 {len(fmt.columns)} 列，实际 {len(cells)} 列")
    if fmt is SHENZHEN:
        district_code, district, street_code, street, community_code, community = cells
        street_kind = Kind.ORDINARY if street.endswith("街道") else Kind.FUNCTIONAL_ZONE
        return [
            Entry(line, Level.DISTRICT, district_code, district, CITY_CODE),
            Entry(line, Level.STREET, street_code, street, district_code, street_kind),
            Entry(line, Level.COMMUNITY, community_code, community, street_code),
        ]
    assert fmt.level is not None
    code, name = cells[0], cells[1]
    parent = cells[fmt.parent_column] if fmt.parent_column is not None else None
    kind = _national_street_kind(code) if fmt.level == Level.STREET else Kind.ORDINARY
    return [Entry(line, fmt.level, code, name, parent, kind)]


class _Validator:
    """Checks rows against the database plus the rows accepted so far in this batch."""

    def __init__(self) -> None:
        self._db: dict[str, set[str]] = {}
        # code -> (line, hash of name and parent): catches one code stated two ways.
        self._seen: dict[str, dict[str, tuple[int, int]]] = {lvl: {} for lvl in LEVEL_ORDER}

    def load(self, level: str | None) -> None:
        if level is not None and level not in self._db:
            units = OrgUnit.objects.filter(level=level, code__isnull=False)
            # code__isnull=False: the `if` drops nothing, it only tells the type checker.
            self._db[level] = {c for c in units.values_list("code", flat=True) if c is not None}

    def _known(self, level: str, code: str) -> bool:
        if code in self._seen[level]:
            return True
        self.load(level)
        return code in self._db[level]

    def accept(self, entry: Entry) -> None:
        signature = hash((entry.name, entry.parent_code))
        self._seen[entry.level].setdefault(entry.code, (entry.line, signature))

    def check(self, entries: list[Entry]) -> list[str]:
        reasons: list[str] = []
        on_line: set[str] = set()
        failed: set[str] = set()
        for entry in entries:
            problems = self._problems(entry, on_line, failed)
            (failed if problems else on_line).add(entry.code)
            reasons += problems
        if not reasons:
            for entry in entries:
                self.accept(entry)
        return reasons

    def _problems(self, entry: Entry, on_line: set[str], failed: set[str]) -> list[str]:
        label, length = Level(entry.level).label, CODE_LENGTHS[Level(entry.level)]
        code, parent = entry.code, entry.parent_code
        problems = []
        if not (len(code) == length and code.isascii() and code.isdigit()):
            problems.append(f"{label}代码“{code}”应为 {length} 位数字")
        if not entry.name:
            problems.append(f"{label}名称为空")
        if parent is not None and parent not in failed:
            up = parent_level(entry.level)
            assert up is not None
            if parent not in on_line and not self._known(up, parent):
                problems.append(f"{label}的上级代码“{parent}”不存在")
            elif not code.startswith(parent):
                problems.append(f"{label}代码“{code}”不在上级代码“{parent}”之下")
        seen = self._seen[entry.level].get(code)
        if seen and seen[1] != hash((entry.name, parent)):
            problems.append(f"{label}代码“{code}”与第 {seen[0]} 行的名称或上级不同")
        return problems


# --- result --------------------------------------------------------------------------


@dataclass
class LevelCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class BadRow:
    path: Path
    line: int
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.path.name} 第 {self.line} 行：{'；'.join(self.reasons)}"


@dataclass
class ImportResult:
    counts: dict[str, LevelCounts] = field(
        default_factory=lambda: {level: LevelCounts() for level in LEVEL_ORDER}
    )
    bad_rows: list[BadRow] = field(default_factory=list)
    # What the Shenzhen import does beyond the file, e.g. "新建代表团" -> 11.
    extra: dict[str, int] = field(default_factory=dict)
    imported: bool = False
    # The number prefixes the run gave (minyi.org.prefixes.settle_import checks them).
    prefixes_given: set[str] = field(default_factory=set, repr=False)

    def summary(self) -> list[str]:
        lines = [
            f"{Level(level).label}：新建 {c.created}，更新 {c.updated}，未变 {c.unchanged}"
            for level, c in self.counts.items()
            if c.created or c.updated or c.unchanged
        ]
        lines += [f"{label}：{n}" for label, n in self.extra.items()]
        return lines

    def bad_rows_report(self, limit: int = 50) -> list[str]:
        lines = [str(row) for row in self.bad_rows[:limit]]
        if len(self.bad_rows) > limit:
            lines.append(f"…共 {len(self.bad_rows)} 行")
        return lines


# --- import --------------------------------------------------------------------------


def import_files(
    paths: Iterable[Path | str], *, skip_invalid: bool = False, progress: Progress | None = None
) -> ImportResult:
    """Import the files in one transaction; with bad rows, import nothing unless
    `skip_invalid`, in which case the bad rows are left out and reported."""
    sources = sorted((open_source(Path(p)) for p in paths), key=lambda s: s.rank)
    result = ImportResult()
    validator = _Validator()
    with transaction.atomic():
        # Hand saves of communities wait for the import (minyi.org.prefixes).
        lock_imports()
        for source in sources:
            entries = _checked_entries(source, validator, result, skip_invalid, progress)
            if source.fmt.level is not None:
                # Rows are checked while they are written: load what the checks need
                # before the write starts holding the connection.
                validator.load(parent_level(source.fmt.level))
                _write_level(source.fmt.level, entries, result)
            else:
                _write_shenzhen(entries, result)
        if result.bad_rows and not skip_invalid:
            transaction.set_rollback(True)
            result.counts = ImportResult().counts
            return result
        # Before any audited write (the lock it takes comes before the audit lane's, as
        # in every claim), and held to the commit, which is near.
        _add(
            result,
            "编号前缀已被工作室同时取得、改用较长形式的社区",
            settle_import(result.prefixes_given),
        )
        if any(source.fmt is SHENZHEN for source in sources):
            apply_party_adjustments(result)
            ensure_shenzhen_bodies(result)
        # The import writes in bulk (COPY, bulk_create/update): one audit row for the run.
        written = sum(c.created + c.updated for c in result.counts.values())
        record_bulk(OrgUnit, written, cause="导入行政区划：" + "；".join(result.summary())[:150])
        result.imported = True
    return result


def _checked_entries(
    source: Source,
    validator: _Validator,
    result: ImportResult,
    skip_invalid: bool,
    progress: Progress | None,
) -> Iterator[Entry]:
    """The entries of the file's good rows, checked as they are read (one pass over
    large files). After a bad row, unless `skip_invalid`, the rest is only checked,
    since the batch will be rolled back."""
    if source.fmt is SHENZHEN:
        for entry in SHENZHEN_ROOT:
            validator.accept(entry)
    for count, (line, cells) in enumerate(source.rows(), 1):
        try:
            entries = entries_of(source.fmt, line, cells)
            reasons = validator.check(entries)
        except RowError as exc:
            reasons = [str(exc)]
        if reasons:
            result.bad_rows.append(BadRow(source.path, line, tuple(reasons)))
        elif skip_invalid or not result.bad_rows:
            yield from entries
        if progress and count % PROGRESS_EVERY == 0:
            progress(f"{source.path.name}：已处理 {count:,} 行")


def _write_shenzhen(entries: Iterable[Entry], result: ImportResult) -> None:
    # The table repeats each district and street on every community row, and streets
    # need their district's id: write one level at a time, top down.
    by_level: dict[str, dict[str, Entry]] = {level: {} for level in LEVEL_ORDER}
    for entry in (*SHENZHEN_ROOT, *entries):
        by_level[entry.level].setdefault(entry.code, entry)
    for level, entries_by_code in by_level.items():
        _write_level(level, entries_by_code.values(), result, within=CITY_CODE)


def _coded(level: str, within: str) -> QuerySet[OrgUnit]:
    """The level's units with a code, only those under the code `within` if given."""
    units = OrgUnit.objects.filter(level=level, code__isnull=False)
    prefix = within[: CODE_LENGTHS[Level(level)]]
    return units.filter(code__startswith=prefix) if prefix else units


def _ancestries(level: str, within: str) -> dict[str | None, dict[str, int | None]]:
    """Parent code -> the pointers a new child of that parent gets, worked out once per
    parent by `set_ancestors_from` rather than once per child."""
    up = parent_level(level)
    if up is None:
        return {None: _pointers_under(None)}
    fields = ["pk", "code", "level", *(f"{lvl}_id" for lvl in ANCESTOR_LEVELS)]
    rows = _coded(up, within).values_list(*fields)
    return {row[1]: _pointers_under(OrgUnit(**dict(zip(fields, row, strict=True)))) for row in rows}


def _pointers_under(parent: OrgUnit | None) -> dict[str, int | None]:
    child = OrgUnit()
    child.set_ancestors_from(parent)
    return {name: getattr(child, name) for name in _POINTERS}


_POINTERS = ("parent_id", *(f"{lvl}_id" for lvl in ANCESTOR_LEVELS))


@contextmanager
def _inserter(counts: LevelCounts) -> Iterator[Callable[..., None]]:
    """Yields `add(**values)` for new units. On PostgreSQL (production) one COPY streams
    them while the next rows are read: building and binding 620,573 model instances
    for bulk_create costs several times as much. Nothing else may query the database
    until the block ends."""
    now = timezone.now()
    template = OrgUnit(created_at=now, updated_at=now)
    fields = [f for f in OrgUnit._meta.concrete_fields if not f.primary_key]
    defaults = {f.attname: getattr(template, f.attname) for f in fields}
    if connection.vendor != "postgresql":
        batch: list[OrgUnit] = []

        def add_to_batch(**values: object) -> None:
            batch.append(OrgUnit(**{**defaults, **values}))
            if len(batch) >= BATCH_SIZE:
                flush()

        def flush() -> None:
            OrgUnit.objects.bulk_create(batch)
            counts.created += len(batch)
            batch.clear()

        yield add_to_batch
        flush()
        return
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column_of(f)) for f in fields)
    sql = f"COPY {quote(OrgUnit._meta.db_table)} ({columns}) FROM STDIN"
    names = [f.attname for f in fields]
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:

        def add_to_copy(**values: object) -> None:
            row = {**defaults, **values}
            copy.write_row([row[name] for name in names])
            counts.created += 1

        yield add_to_copy


def _write_level(
    level: str, entries: Iterable[Entry], result: ImportResult, within: str = ""
) -> None:
    units = _coded(level, within)
    # code -> (id, name); None once handled in this pass, so repeated rows are skipped.
    existing: dict[str, tuple[int, str] | None] = {
        code: (pk, name)
        for code, pk, name in units.values_list("code", "pk", "name").iterator()
        if code is not None  # _coded's units all have one: this only tells the type checker
    }
    pointers = _ancestries(level, within)
    # A community's number prefix (minyi.org.prefixes); other levels have none.
    prefixes = ImportPrefixes(pointers) if level == Level.COMMUNITY else None
    counts = result.counts[level]
    renamed: list[OrgUnit] = []
    now = timezone.now()
    with _inserter(counts) as add:
        for entry in entries:
            known = existing.get(entry.code, ())
            if known is None:
                continue
            existing[entry.code] = None
            short_name = _short_name(level, entry.name)
            if not known:
                add(
                    code=entry.code,
                    name=entry.name,
                    short_name=short_name,
                    level=level,
                    kind=entry.kind,
                    number_prefix=prefixes.new(short_name, entry.parent_code) if prefixes else None,
                    **pointers[entry.parent_code],
                )
            elif known[1] != entry.name:
                # Name only: the parent stays wherever the organisation has put the unit.
                renamed.append(
                    OrgUnit(pk=known[0], name=entry.name, short_name=short_name, updated_at=now)
                )
            else:
                counts.unchanged += 1
    OrgUnit.objects.bulk_update(
        renamed, ["name", "short_name", "updated_at"], batch_size=BATCH_SIZE
    )
    if prefixes is not None:
        # Until a case is numbered under it, a community's prefix follows its name.
        changed = prefixes.renamed(renamed)
        OrgUnit.objects.bulk_update(changed, ["number_prefix"], batch_size=BATCH_SIZE)
        result.prefixes_given |= prefixes.given
    counts.updated += len(renamed)


# --- the party organisation's own units (Shenzhen only) ------------------------------

LONGGANG_CODE = "440307"
DAPENG = "大鹏新区"
DAPENG_STREETS = ("葵涌街道", "大鹏街道", "南澳街道")
SHENSHAN = "深汕特别合作区"
SHENSHAN_TOWNS = ("鹅埠镇", "小漠镇", "鲘门镇", "赤石镇")
SYSTEM_COMMITTEES = (
    "市直机关工委",
    "市两新组织工委",
    "市教育工委",
    "市卫生健康工委",
    "市国资委党委",
)
DELEGATION_KINDS = (Kind.ORDINARY, Kind.NEW_DISTRICT, Kind.COOPERATION_ZONE)


def _add(result: ImportResult, label: str, n: int) -> None:
    if n:
        result.extra[label] = result.extra.get(label, 0) + n


def _ensure_codeless(
    parent: OrgUnit, name: str, level: str, kind: str, result: ImportResult
) -> tuple[OrgUnit, bool]:
    found = OrgUnit.objects.filter(parent=parent, name=name, level=level).first()
    if found:
        return found, False
    unit = OrgUnit(name=name, short_name=name, level=level, kind=kind)
    unit.set_ancestors_from(parent)
    unit.save()
    _add(result, "新建党组织设立的单元", 1)
    return unit, True


def apply_party_adjustments(result: ImportResult) -> None:
    """Add the units the party organisation has and the statistics lack. Only missing
    units are created; the 大鹏 streets move only when 大鹏新区 itself is new, so a
    later re-import never undoes what a user has since changed by hand."""
    city = OrgUnit.objects.filter(code=CITY_CODE).first()
    if city is None:
        return
    dapeng, created = _ensure_codeless(city, DAPENG, Level.DISTRICT, Kind.NEW_DISTRICT, result)
    if created:
        _move_streets(LONGGANG_CODE, DAPENG_STREETS, dapeng, result)
    shenshan, _ = _ensure_codeless(city, SHENSHAN, Level.DISTRICT, Kind.COOPERATION_ZONE, result)
    for town in SHENSHAN_TOWNS:
        _ensure_codeless(shenshan, town, Level.STREET, Kind.ORDINARY, result)
    for name in SYSTEM_COMMITTEES:
        _ensure_codeless(city, name, Level.DISTRICT, Kind.SYSTEM_COMMITTEE, result)


def _move_streets(
    from_code: str, names: tuple[str, ...], to: OrgUnit, result: ImportResult
) -> None:
    streets = OrgUnit.objects.filter(parent__code=from_code, level=Level.STREET, name__in=names)
    for street in streets:
        street.set_ancestors_from(to)
        street.save()
        OrgUnit.objects.filter(street=street).update(
            province_id=street.province_id,
            city_id=street.city_id,
            district_id=street.district_id,
            updated_at=timezone.now(),
        )
        cases_follow_unit(street)
        _add(result, f"迁入{to.name}的街道", 1)


def department_name(unit: OrgUnit) -> str:
    if unit.level == Level.STREET:
        return f"{unit.name}{'党工委' if unit.name.endswith('街道') else '党委'}组织部门"
    if unit.kind == Kind.SYSTEM_COMMITTEE:
        return f"{unit.name}组织处"
    if unit.kind in (Kind.NEW_DISTRICT, Kind.COOPERATION_ZONE):
        return f"{unit.name}党工委组织部"
    return f"中共{unit.name}委组织部"


def ensure_shenzhen_bodies(result: ImportResult) -> None:
    """An organisation department for the city and every district- and street-level
    unit; a delegation per district, and a group per street under a delegation."""
    city = OrgUnit.objects.filter(code=CITY_CODE).first()
    if city is None:
        return
    districts = list(OrgUnit.objects.filter(parent=city, level=Level.DISTRICT))
    streets = list(OrgUnit.objects.filter(city=city, level=Level.STREET))
    units = [city, *districts, *streets]
    with_department = set(
        OrgDepartment.objects.filter(unit__in=units).values_list("unit_id", flat=True)
    )
    departments = [
        OrgDepartment(unit=u, name=department_name(u)) for u in units if u.pk not in with_department
    ]
    OrgDepartment.objects.bulk_create(departments)
    _add(result, "新建组织部门", len(departments))

    with_delegation = set(Delegation.objects.values_list("unit_id", flat=True))
    delegations = [
        Delegation(unit=d, name=f"{d.name}代表团")
        for d in districts
        if d.kind in DELEGATION_KINDS and d.pk not in with_delegation
    ]
    Delegation.objects.bulk_create(delegations)
    _add(result, "新建代表团", len(delegations))

    delegation_of = {d.unit_id: d for d in Delegation.objects.filter(unit__in=districts)}
    with_group = set(Group.objects.filter(unit__in=streets).values_list("unit_id", flat=True))
    groups = [
        Group(unit=s, delegation=delegation_of[s.district_id], name=f"{s.name}代表组")
        for s in streets
        if s.district_id in delegation_of and s.pk not in with_group
    ]
    Group.objects.bulk_create(groups)
    _add(result, "新建代表组", len(groups))
