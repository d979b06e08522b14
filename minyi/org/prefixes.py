"""Number prefixes of communities (annex note 1: 沙头角街道沙头角社区2026001).

The prefix is the street and the community's short name, as on the paper form, where
that names one community in the deployment; in the national files 6,389 communities
share such a name with another elsewhere (太平镇太平村 ×21), so a community whose short
form is taken gets a longer one: the district (county) before it, then the city, then
the province, then a running number. The prefix is stored on the unit
(`OrgUnit.number_prefix`, unique), given when the unit is created or imported, and
never changes once a case has been numbered under it (docs/decisions.md, "Case numbers:
one prefix per community, unique, kept for ever").

A studio that is not at a community with a prefix (a street's, district's or system
committee's studio, or one at a community without a street) is numbered by a prefix of
its own (`Studio.number_prefix`), by the same rules: its name where no unit, studio or
counter has that, else its unit's name before it, then the unit's street, district, city
and province (a name the prefix already contains is skipped), then a running number. It
is given when the studio's first number is issued, in that transaction, and never
changes after (`studio_number_prefix`).

Both kinds of claim take one lock (`lock_claims`); an import works its communities'
prefixes out without it and checks them under it just before it commits
(`settle_import`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from itertools import count

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from minyi.audit.models import Action
from minyi.audit.trail import object_type_of, record
from minyi.org.models import ANCESTOR_LEVELS, Level, OrgUnit

MAX_LENGTH = 120  # Case.number_prefix and CaseNumberCounter.prefix hold this much
_CHUNK = 8
# The one key of the PostgreSQL advisory lock every claim of a prefix by hand takes
# ("prefixes" in ASCII; the one-bigint key space, apart from the audit trail's two-int4
# lane locks).
PG_CLAIM_KEY = 0x7072656669786573
# The key an import of the division files holds for its whole transaction ("import").
PG_IMPORT_KEY = 0x696D706F7274


def lock_claims() -> None:
    """Serialise the claims of a prefix until the caller's transaction ends: a studio's
    first number and a community saved by hand check each other's table, and no
    constraint spans the two, so without this two claims at the same moment could both
    find a prefix free and share it (its counter, not a number). Taken before the
    tables are read: under READ COMMITTED the reads after the wait see what the other
    claim committed. One key for all prefixes, as the free candidate is only known after
    the reads; both claims are rare (a studio's first number, a community created or
    renamed before its first number). SQLite's IMMEDIATE transactions already
    serialise all writers. The lock needs a transaction: `OrgUnit.save` opens one where
    its caller has none. Both claims take it before their transaction's first audited
    write (a registration numbers first; a unit page's save writes the unit first), so
    there the audit trail's lane locks come after it and the two do not deadlock. An
    import of the division files takes it only at its end, to check its prefixes
    against the studios' (`settle_import`), before its first audited write too."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PG_CLAIM_KEY])


def lock_imports() -> None:
    """Held by an import of the division files until it commits: a community saved by
    hand meanwhile is refused (`hold_off_imports`); a second import waits for it (an
    import is a command or a background job, with no request to time out)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PG_IMPORT_KEY])


IMPORT_RUNNING = "区划数据正在导入，请导入完成后再保存社区。"


class ImportRunning(ValidationError):
    """A community saved by hand while an import of the division files runs: refused at
    once, nothing saved (a ValidationError, so the pages that save units show it)."""

    def __init__(self) -> None:
        super().__init__(IMPORT_RUNNING, code="import_running")


def hold_off_imports() -> None:
    """Before a community saved by hand claims a prefix: make sure no import is running,
    and none starts before this transaction ends (a second import's `lock_imports`
    waits for it, a moment). A running import's communities are in the table,
    uncommitted, with the prefixes it gave; a hand save that took the claims' lock and
    then wrote one of those would wait for the import's row, while the import, settling
    (`settle_import`), waits for the lock: a deadlock. Waiting for the import here, as
    this once did, kept a web request (the unit page, the admin) waiting minutes for a
    national import, past any proxy's timeout; so the save is refused at once instead
    (`ImportRunning`), and the user saves again when the import is done. The import's
    own transaction holds the key and passes (its codeless units). Imports are rare and
    studios' first numbers never come here. SQLite has no such lock: its IMMEDIATE
    transactions make a hand save wait for the import's write lock, as any writer."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock_shared(%s)", [PG_IMPORT_KEY])
            (free,) = cursor.fetchone()
        if not free:
            raise ImportRunning


def candidates(short_name: str, names: Sequence[str | None]) -> Iterator[str]:
    """The prefixes a community may have, shortest first. `names` are its street's,
    district's, city's and province's, nearest first; a community without a street has
    none (its studios have their own prefixes, as any other studio)."""
    if not names or not names[0]:
        return
    parts = [short_name]
    last = None
    for name in names:
        # A level the unit lacks, or one named as the level below it (a city without
        # districts, whose county-level row repeats its name), adds nothing.
        if not name or name == last:
            continue
        parts.insert(0, name)
        last = name
        yield "".join(parts)
    widest = "".join(parts)
    for n in count(2):
        yield f"{widest}（{n}）"


def first_free(short_name: str, names: Sequence[str | None], taken: set[str]) -> str | None:
    """The shortest candidate not in `taken`, which it joins; None if the community has
    no street or every candidate is too long for the number's column."""
    for prefix in candidates(short_name, names):
        if len(prefix) > MAX_LENGTH:
            return None  # candidates only grow
        if prefix not in taken:
            taken.add(prefix)
            return prefix
    return None


def taken_prefixes() -> set[str]:
    """Every prefix in use: the units', the studios' and every counter's, so that no
    community ever takes a prefix cases were numbered under, whoever's they were (a
    studio's, a unit's prefix before the unit was renamed)."""
    counters = apps.get_model("cases", "CaseNumberCounter").objects
    studios = apps.get_model("studios", "Studio").objects.filter(number_prefix__isnull=False)
    units = OrgUnit.objects.filter(number_prefix__isnull=False)
    taken = {p for p in units.values_list("number_prefix", flat=True).iterator() if p}
    taken.update(p for p in studios.values_list("number_prefix", flat=True).iterator() if p)
    taken.update(counters.values_list("prefix", flat=True).distinct().iterator())
    return taken


def is_numbered(prefix: str) -> bool:
    counters = apps.get_model("cases", "CaseNumberCounter").objects
    return counters.filter(prefix=prefix).exists()


def ancestor_names(unit: OrgUnit) -> list[str | None]:
    """The names of the unit's street, district, city and province, nearest first."""
    ids = [getattr(unit, f"{level}_id") for level in reversed(ANCESTOR_LEVELS)]
    found = dict(OrgUnit.objects.filter(pk__in=[i for i in ids if i]).values_list("pk", "name"))
    return [found.get(i) if i else None for i in ids]


def assign_number_prefix(unit: OrgUnit) -> None:
    """Give a community being saved its prefix: a new one (or one not yet numbered
    under, whose name or street may have changed) the first free candidate; one that
    has been numbered under keeps it for ever. Other levels have none."""
    if unit.level != Level.COMMUNITY:
        unit.number_prefix = None
        return
    if unit.number_prefix and is_numbered(unit.number_prefix):
        return
    if unit.pk:
        # Not numbered under it yet, as far as a read without a lock can tell: decide
        # under the row's lock, which a registration numbering the community's first
        # case shares until it commits (minyi.cases.numbering._prefix_at_first_number).
        # One that came first is committed when this reads the counters, so the prefix
        # stays; one that comes after waits for this save and numbers under the new
        # prefix. The row is locked before the claims' lock, as the unit page's edit
        # check (core.stale) has locked it already, and as the registration takes it
        # before a studio's claim. The row's prefix, not the one read with the page.
        current = (
            OrgUnit.objects.select_for_update()
            .filter(pk=unit.pk)
            .values_list("number_prefix", flat=True)
            .first()
        )
        if current and is_numbered(current):
            unit.number_prefix = current
            return
    unit.number_prefix = None
    wanted = list(_bounded(candidates(unit.short_name, ancestor_names(unit))))
    if wanted:
        hold_off_imports()
        lock_claims()
    others = OrgUnit.objects.exclude(pk=unit.pk) if unit.pk else OrgUnit.objects.all()
    unit.number_prefix = _first_untaken(wanted, others, apps.get_model("studios", "Studio").objects)


def _first_untaken(wanted: Sequence[str], units, studios) -> str | None:
    """The first of `wanted` that no unit of `units`, studio of `studios` or counter has.
    A few candidates at a time: nearly always the first is free, and the chunks end at
    the first chunk with a free one."""
    counters = apps.get_model("cases", "CaseNumberCounter").objects
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        taken = {
            *units.filter(number_prefix__in=chunk).values_list("number_prefix", flat=True),
            *studios.filter(number_prefix__in=chunk).values_list("number_prefix", flat=True),
            *counters.filter(prefix__in=chunk).values_list("prefix", flat=True),
        }
        free = next((p for p in chunk if p not in taken), None)
        if free:
            return free
    return None


def studio_candidates(name: str, names: Sequence[str | None]) -> Iterator[str]:
    """The prefixes a studio numbered by its own may have, shortest first: its name,
    then with the names of its unit, street, district, city and province (`names`,
    nearest first) before it, skipping a name it already contains, then a running
    number. A longer form is made only while a running number still fits the column."""
    yield name
    widest = name
    last = None
    for above in names:
        if not above or above == last or above in widest:
            continue
        if len(above) + len(widest) > MAX_LENGTH - len("（1000）"):
            break
        widest = above + widest
        last = above
        yield widest
    for n in count(2):
        yield f"{widest}（{n}）"


def first_free_studio(name: str, names: Sequence[str | None], taken: set[str]) -> str:
    """The studio's first candidate not in `taken`, which it joins."""
    prefix = next(p for p in studio_candidates(name, names) if p not in taken)
    taken.add(prefix)
    return prefix


def studio_unit_names(unit: OrgUnit) -> list[str | None]:
    """The names of a studio's unit and of the unit's street … province, nearest first."""
    return [unit.name, *ancestor_names(unit)]


def studio_number_prefix(studio) -> str:
    """The studio's own prefix: the stored one, or, at its first number (inside the
    registration's transaction), the first free candidate, stored for ever. A studio
    given another one meanwhile by a concurrent registration (the row's lock and the
    unique constraint decide) takes that one; a candidate another studio took
    meanwhile is skipped."""
    if studio.number_prefix:
        return studio.number_prefix
    Studio = apps.get_model("studios", "Studio")
    wanted = list(_bounded(studio_candidates(studio.name, studio_unit_names(studio.unit))))
    others = Studio.objects.exclude(pk=studio.pk)
    lock_claims()
    for _ in range(3):
        prefix = _first_untaken(wanted, OrgUnit.objects.all(), others)
        assert prefix, "a running number always fits"
        try:
            with transaction.atomic():
                updated = Studio.objects.filter(pk=studio.pk, number_prefix__isnull=True).update(
                    number_prefix=prefix
                )
        except IntegrityError:
            continue  # another studio's registration took it first
        if not updated:
            # A concurrent registration at this studio gave it one first.
            prefix = Studio.objects.values_list("number_prefix", flat=True).get(pk=studio.pk)
            assert prefix
        else:
            record(
                Action.UPDATE,
                object_type=object_type_of(Studio),
                object_id=studio.pk,
                fields=["number_prefix"],
            )
        studio.number_prefix = prefix
        return prefix
    raise IntegrityError("no free number prefix for the studio")


class ImportPrefixes:
    """The prefixes of the communities an import writes, worked out in memory: every
    prefix in use and the names above each street are read once, before the import's
    insert holds the connection (minyi.org.importing)."""

    def __init__(self, pointers: dict[str | None, dict[str, int | None]]) -> None:
        # `pointers`: a street's code -> the ancestor pointers of a community under it.
        self.taken = taken_prefixes()
        self.given: set[str] = set()  # for settle_import
        self._name_of = dict(
            OrgUnit.objects.exclude(level=Level.COMMUNITY).values_list("pk", "name").iterator()
        )
        self._names = {code: self._names_of(p) for code, p in pointers.items()}

    def _names_of(self, pointers: Mapping[str, int | None]) -> list[str | None]:
        ids = [pointers[f"{level}_id"] for level in reversed(ANCESTOR_LEVELS)]
        return [self._name_of.get(i) if i else None for i in ids]

    def new(self, short_name: str, street_code: str | None) -> str | None:
        """A new community's: the first free form, in the file's order."""
        prefix = first_free(short_name, self._names[street_code], self.taken)
        if prefix:
            self.given.add(prefix)
        return prefix

    def renamed(self, units: Sequence[OrgUnit]) -> list[OrgUnit]:
        """The renamed communities (pk and new short name) whose prefix changes, with
        it: those never numbered under get the first free form of the new name (under
        wherever the unit now is); a numbered one keeps its prefix. A prefix given up
        stays taken for the rest of the run, so that no two units swap prefixes in one
        UPDATE, which the unique index could refuse half-way."""
        counters = apps.get_model("cases", "CaseNumberCounter").objects
        columns = ("pk", "number_prefix", *(f"{lvl}_id" for lvl in ANCESTOR_LEVELS))
        short_of = {unit.pk: unit.short_name for unit in units}
        changed = []
        for start in range(0, len(units), 5000):
            pks = [unit.pk for unit in units[start : start + 5000]]
            rows = list(OrgUnit.objects.filter(pk__in=pks).values_list(*columns))
            prefixes = [row[1] for row in rows if row[1]]
            numbered = set(counters.filter(prefix__in=prefixes).values_list("prefix", flat=True))
            for pk, prefix, *above in rows:
                if prefix in numbered:
                    continue
                self.taken.discard(prefix)
                names = self._names_of(dict(zip(columns[2:], above, strict=True)))
                fresh = first_free(short_of[pk], names, self.taken)
                if prefix:
                    self.taken.add(prefix)
                if fresh != prefix:
                    changed.append(OrgUnit(pk=pk, number_prefix=fresh))
                    if fresh:
                        self.given.add(fresh)
        return changed


def settle_import(given: set[str]) -> int:
    """Give the communities whose prefix an import gave (`given`) and a studio holds too
    the next free form of theirs; how many. Called at the end of the import, in its
    transaction and before its first audited write: the claims' lock is held from here
    to its commit, a moment, not the length of its insert. The import worked its
    prefixes out from what was committed when it started, so a studio's first number
    that claimed one of them meanwhile (committed, or still open and waited for here)
    is seen now, and a later one sees the import's communities. The studio keeps it: its
    numbers may be issued already, and the import's communities have none yet."""
    lock_claims()
    Studio = apps.get_model("studios", "Studio")
    held = Studio.objects.filter(number_prefix__isnull=False).values_list(
        "number_prefix", flat=True
    )
    clash = given.intersection(held.iterator())
    if not clash:
        return 0
    pointers = [f"{level}_id" for level in reversed(ANCESTOR_LEVELS)]
    clashing = list(
        OrgUnit.objects.filter(number_prefix__in=sorted(clash)).only(
            "pk", "short_name", "number_prefix", *pointers
        )
    )
    ids = {getattr(unit, p) for unit in clashing for p in pointers} - {None}
    name_of = dict(OrgUnit.objects.filter(pk__in=ids).values_list("pk", "name"))
    wanted = {
        unit.pk: list(
            _bounded(candidates(unit.short_name, [name_of.get(getattr(unit, p)) for p in pointers]))
        )
        for unit in clashing
    }
    taken = _held_among({p for forms in wanted.values() for p in forms})
    for unit in clashing:
        # None if every form is taken: its studios then number by their own prefixes.
        unit.number_prefix = next((p for p in wanted[unit.pk] if p not in taken), None)
        if unit.number_prefix:
            taken.add(unit.number_prefix)
    OrgUnit.objects.bulk_update(clashing, ["number_prefix"])
    return len(clashing)


def _held_among(prefixes: set[str]) -> set[str]:
    """Which of `prefixes` a unit, a studio or a counter has."""
    studios = apps.get_model("studios", "Studio").objects
    counters = apps.get_model("cases", "CaseNumberCounter").objects
    wanted = sorted(prefixes)
    held: set[str | None] = set()
    for start in range(0, len(wanted), 5000):
        chunk = wanted[start : start + 5000]
        held.update(
            OrgUnit.objects.filter(number_prefix__in=chunk).values_list("number_prefix", flat=True)
        )
        held.update(studios.filter(number_prefix__in=chunk).values_list("number_prefix", flat=True))
        held.update(counters.filter(prefix__in=chunk).values_list("prefix", flat=True))
    return {p for p in held if p}


def _bounded(prefixes: Iterator[str]) -> Iterator[str]:
    """The candidates that fit the column, at most a thousand running numbers."""
    for n, prefix in enumerate(prefixes):
        if len(prefix) > MAX_LENGTH or n > 1000:
            return
        yield prefix
