"""A studio's first number and a community created by hand or imported at the same
moment, with the same prefix wanted: no constraint spans the two tables, so both claims
take one lock (`minyi.org.prefixes.lock_claims`) and the later one sees the earlier one's
prefix; an import takes it only to settle its prefixes before it commits."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import close_old_connections, connection, transaction

from minyi.cases.models import Case
from minyi.cases.numbering import number_prefix
from minyi.cases.services import case_register
from minyi.org import importing
from minyi.org.models import Level, OrgUnit
from minyi.org.prefixes import ImportPrefixes, ImportRunning
from minyi.people.models import Representative, User
from minyi.studios.models import Studio
from tests.cases.helpers import STUDIO, reporter_data
from tests.cases.test_number_prefixes import FIRST, import_national

STREET = "440308003"
HOLD_SECONDS = 1.0  # the first claim stays open this long after it read the tables


def _claim_studio(studio: Studio, hold: threading.Event | None) -> str:
    with transaction.atomic():  # as the registration's transaction
        prefix = number_prefix(studio)
        if hold is not None:
            hold.set()
            time.sleep(HOLD_SECONDS)
    return prefix


def _claim_community(street: OrgUnit, hold: threading.Event | None) -> str | None:
    with transaction.atomic():  # as the unit page's transaction
        unit = OrgUnit(name="新村社区", short_name="新村", level=Level.COMMUNITY)
        unit.set_ancestors_from(street)
        unit.save()
        if hold is not None:
            hold.set()
            time.sleep(HOLD_SECONDS)
    return unit.number_prefix


def _race(
    claims: dict[str, Callable[[], str | None]], released: threading.Event
) -> dict[str, str | None]:
    """Run each claim in its own thread and connection; what each one got. A claim that
    fails sets `released`, so that the other does not wait for it in vain."""
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        "file:memorydb"
    ):
        pytest.skip("needs a file-based SQLite database")
    found: dict[str, str | None] = {}
    errors: list[BaseException] = []

    def worker(kind: str) -> None:
        try:
            found[kind] = claims[kind]()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            released.set()
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker, args=(kind,)) for kind in claims]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return found


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", ["studio", "community"])
def test_a_studio_s_first_number_and_a_new_community_never_share_a_prefix(
    world: Any, first: str
) -> None:
    street = OrgUnit.objects.get(code=STREET)
    # The studio's own name is the community's first candidate (its street and name).
    studio = Studio.objects.create(
        name=f"{street.name}新村", kind="agency", unit=street, host_organisation="机关党委"
    )
    claimed = threading.Event()

    def held_if_first(kind: str) -> threading.Event | None:
        if kind == first:
            return claimed
        assert claimed.wait(10)  # the other claim has read the tables, not committed
        return None

    found = _race(
        {
            "studio": lambda: _claim_studio(studio, held_if_first("studio")),
            "community": lambda: _claim_community(street, held_if_first("community")),
        },
        claimed,
    )
    assert found["studio"] and found["community"]
    assert found["studio"] != found["community"], found
    # The first claim got the short form, the later one the longer.
    assert found[first] == f"{street.name}新村"
    stored = Studio.objects.values_list("number_prefix", flat=True).get(pk=studio.pk)
    assert stored == found["studio"]
    assert OrgUnit.objects.get(short_name="新村").number_prefix == found["community"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", ["studio", "import"])
def test_a_studio_s_first_number_and_an_import_never_share_a_prefix(
    world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first: str
) -> None:
    """The import works its prefixes out before its long insert, without the claims'
    lock; it settles them under the lock just before it commits. A studio that claimed
    one of them meanwhile (committed while the import ran, or still open when the import
    settles) keeps it; the new community takes its longer form."""
    # The studio's name is the first candidate of the community the import adds.
    studio = Studio.objects.create(
        name="太平镇太平村",
        kind="agency",
        unit=OrgUnit.objects.get(code=STREET),
        host_organisation="机关党委",
    )
    started, done = threading.Event(), threading.Event()
    read_taken = ImportPrefixes.__init__

    def read_then_wait(self: ImportPrefixes, *args: Any) -> None:
        read_taken(self, *args)  # what was committed, before the insert
        started.set()
        # On PostgreSQL the studio's claim runs to its commit meanwhile; on SQLite it
        # waits for the import's write lock, so the import goes on after a while.
        done.wait(10 if connection.vendor == "postgresql" else HOLD_SECONDS)

    if first == "import":
        monkeypatch.setattr(ImportPrefixes, "__init__", read_then_wait)

    def claim_studio() -> str:
        if first == "import":
            assert started.wait(10)  # the import has read the tables, not committed
        try:
            return _claim_studio(studio, started if first == "studio" else None)
        finally:
            done.set()

    def run_import() -> str | None:
        if first == "studio":
            assert started.wait(10)  # the studio has claimed, not committed
        import_national(tmp_path, FIRST)
        return OrgUnit.objects.get(code="510112101201").number_prefix

    found = _race({"studio": claim_studio, "import": run_import}, started)
    assert found["studio"] and found["import"]
    assert found["studio"] != found["import"], found
    assert Studio.objects.get(pk=studio.pk).number_prefix == found["studio"]
    if first == "studio" or connection.vendor == "postgresql":
        # The studio committed first: the community takes the longer form.
        assert found == {"studio": "太平镇太平村", "import": "龙泉驿区太平镇太平村"}


@pytest.mark.django_db(transaction=True)
def test_a_community_saved_by_hand_during_an_import_is_refused_or_waits(
    world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The import has inserted a community with the prefix the hand-made one wants and
    is about to settle. Were the hand save to take the claims' lock and then wait for
    the import's row, the import's settling would wait for that lock: a deadlock. On
    PostgreSQL the hand save is refused before it claims (a national import runs for
    minutes: no web request should wait for it); on SQLite it waits for the import's
    write lock, as any writer, and then sees its community."""
    street = OrgUnit.objects.get(code=STREET)
    villages = tmp_path / "villages.csv"
    villages.write_text(
        "code,name,streetCode,provinceCode,cityCode,areaCode\n"
        f'{STREET}999,"新村村委会",{STREET},44,4403,440308\n',
        encoding="utf-8",
    )
    inserted, done = threading.Event(), threading.Event()
    settle = importing.settle_import

    def wait_then_settle(given: set[str]) -> int:
        inserted.set()  # the import's community is in the table, not committed
        done.wait(HOLD_SECONDS)  # the hand save, which cannot finish before the import
        return settle(given)

    monkeypatch.setattr(importing, "settle_import", wait_then_settle)

    def run_import() -> str | None:
        result = importing.import_files([villages])
        assert result.imported, result.bad_rows_report()
        return OrgUnit.objects.get(code=f"{STREET}999").number_prefix

    def save_by_hand() -> str | None:
        try:
            assert inserted.wait(10)
            return _claim_community(street, None)
        except ImportRunning:
            return None
        finally:
            done.set()

    found = _race({"import": run_import, "hand": save_by_hand}, inserted)
    assert street.district is not None
    if connection.vendor == "postgresql":
        assert found == {"import": f"{street.name}新村", "hand": None}
        assert not OrgUnit.objects.filter(name="新村社区").exists()
    else:
        assert found == {
            "import": f"{street.name}新村",
            "hand": f"{street.district.name}{street.name}新村",
        }


def _register(studio: Studio, hold: threading.Event | None) -> str:
    with transaction.atomic():  # the registration's, held open past its numbering
        case = case_register(
            actor=User.objects.get(username="liaison"),
            studio=studio,
            representative=Representative.objects.get(name="演示代表·陈明"),
            data=reporter_data(),
        )
        if hold is not None:
            hold.set()
            time.sleep(HOLD_SECONDS)
    return case.number_prefix


def _rename(unit_pk: int, hold: threading.Event | None) -> str | None:
    with transaction.atomic():  # as the unit page's (or the admin's) transaction
        unit = OrgUnit.objects.get(pk=unit_pk)
        unit.name, unit.short_name = "新沙头角社区", "新沙头角"
        unit.save()
        if hold is not None:
            hold.set()
            time.sleep(HOLD_SECONDS)
    return unit.number_prefix


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", ["registration", "rename"])
def test_a_community_renamed_at_its_first_number_keeps_the_prefix_its_case_carries(
    world: Any, first: str
) -> None:
    """A community not yet numbered under its prefix takes its new name's when renamed;
    its first registration at the same moment numbers under its old one. Whichever
    comes first, the case and the community end up with one prefix: the registration
    first keeps the old prefix for ever; the rename first gives the case the new one,
    though the registration had read the old one (its request, the choices' cache)."""
    # Read before either starts, as the registration's request has read it.
    studio = Studio.objects.select_related("unit").get(name=STUDIO)
    old = studio.unit.number_prefix
    assert old == "沙头角街道沙头角社区" and not Case.objects.exists()
    claimed = threading.Event()

    def held_if_first(kind: str) -> threading.Event | None:
        if kind == first:
            return claimed
        assert claimed.wait(10)  # the other has numbered or renamed, not committed
        return None

    found = _race(
        {
            "registration": lambda: _register(studio, held_if_first("registration")),
            "rename": lambda: _rename(studio.unit.pk, held_if_first("rename")),
        },
        claimed,
    )
    prefix = OrgUnit.objects.get(pk=studio.unit.pk).number_prefix
    case = Case.objects.get()
    assert (case.number_prefix, found["rename"], found["registration"]) == (prefix,) * 3
    assert case.number == f"{prefix}2026001"
    assert prefix == (old if first == "registration" else "沙头角街道新沙头角")
