"""Number prefixes of the studios not numbered by a community (street, district and
system-committee studios, a studio at a community without a street): their own, unique,
given at the first number and kept for ever (minyi.org.prefixes, studio_number_prefix)."""

from __future__ import annotations

import threading
from importlib import import_module
from typing import Any

import pytest
from django.apps import apps
from django.db import close_old_connections, connection
from django.urls import reverse

from minyi.cases import services
from minyi.cases.models import Case, CaseNumberCounter
from minyi.cases.numbering import number_prefix
from minyi.org.models import Kind, Level, OrgUnit
from minyi.org.prefixes import studio_candidates
from minyi.studios.admin import StudioAdmin
from minyi.studios.models import Studio
from tests.cases.test_number_prefixes import register_at
from tests.core.helpers import client_for, post_data_from

pytestmark = pytest.mark.django_db

NAME = "机关党代表工作室"


def studio_of(code: str, name: str = NAME) -> Studio:
    return Studio.objects.create(
        name=name, kind="agency", unit=OrgUnit.objects.get(code=code), host_organisation="机关党委"
    )


def test_two_studios_of_one_name_outside_communities_are_two_sequences(world: Any) -> None:
    first, second = studio_of("440308003"), studio_of("440308001")
    other_street = OrgUnit.objects.get(code="440308001").name
    numbers = [register_at(studio).number for studio in (first, second, second, first)]
    assert numbers == [
        f"{NAME}2026001",
        f"{other_street}{NAME}2026001",
        f"{other_street}{NAME}2026002",
        f"{NAME}2026002",
    ]
    stored = dict(
        Studio.objects.filter(pk__in=[first.pk, second.pk]).values_list("pk", "number_prefix")
    )
    assert stored == {first.pk: NAME, second.pk: f"{other_street}{NAME}"}


def test_studios_of_one_name_under_one_unit_are_told_apart_by_the_units_above(
    world: Any,
) -> None:
    """Same-named studios of one street, and of a system committee: the first keeps the
    name, the next get their unit's name before it, then the district's; each counts
    from 001."""
    street = OrgUnit.objects.get(code="440308003")
    committee = OrgUnit.objects.get(name="市卫生健康工委", kind=Kind.SYSTEM_COMMITTEE)
    studios = [studio_of("440308003"), studio_of("440308003"), studio_of("440308003")]
    studios.append(Studio.objects.create(name=NAME, kind="agency", unit=committee,
                                         host_organisation="医院党委"))  # fmt: skip
    numbers = [register_at(studio).number for studio in (*studios, *reversed(studios))]
    assert street.district is not None
    prefixes = [NAME, f"{street.name}{NAME}", f"{street.district.name}{street.name}{NAME}",
                f"{committee.name}{NAME}"]  # fmt: skip
    assert numbers == [f"{p}2026001" for p in prefixes] + [
        f"{p}2026002" for p in reversed(prefixes)
    ]
    stored = Studio.objects.filter(pk__in=[s.pk for s in studios]).values_list(
        "pk", "number_prefix"
    )
    assert dict(stored) == {s.pk: p for s, p in zip(studios, prefixes, strict=True)}


def test_a_studio_s_prefix_is_kept_after_a_rename_once_numbered(world: Any) -> None:
    studio = studio_of("440308003", "沙头角街道党代表工作室")
    studio.name = "沙头角街道机关党代表工作室"
    studio.save()
    assert register_at(studio).number == "沙头角街道机关党代表工作室2026001"
    Studio.objects.filter(pk=studio.pk).update(name="中英街党代表工作室")
    assert register_at(studio).number == "沙头角街道机关党代表工作室2026002"


def test_a_studio_never_takes_a_community_s_prefix_or_a_counter_s(world: Any) -> None:
    community = OrgUnit.objects.get(code="440308003006")
    assert community.number_prefix
    at_street = studio_of("440308003", community.number_prefix)
    street = OrgUnit.objects.get(code="440308003").name
    district = OrgUnit.objects.get(code="440308").name
    # The street's name is in the studio's already: the district goes before it.
    assert register_at(at_street).number_prefix == f"{district}{community.number_prefix}"
    CaseNumberCounter.objects.create(prefix="旧名党代表工作室", year=2025, last_serial=7)
    renamed = studio_of("440308003", "旧名党代表工作室")
    assert register_at(renamed).number_prefix == f"{street}旧名党代表工作室"


def test_a_community_never_takes_a_studio_s_prefix(world: Any) -> None:
    street = OrgUnit.objects.get(code="440308003")
    studio = studio_of("440308003", f"{street.name}新村")
    register_at(studio)
    unit = OrgUnit(name="新村社区", short_name="新村", level=Level.COMMUNITY)
    unit.set_ancestors_from(street)
    unit.save()
    assert street.district is not None
    assert unit.number_prefix == f"{street.district.name}{street.name}新村"


def test_a_studio_at_a_community_without_a_street_has_its_own(world: Any) -> None:
    district = OrgUnit.objects.get(code="440308")
    units = []
    for name in ("田园社区", "田园社区"):
        unit = OrgUnit(name=name, short_name=name, level=Level.COMMUNITY)
        unit.set_ancestors_from(district)
        unit.save()
        units.append(unit)
    assert [u.number_prefix for u in units] == [None, None]
    studios = [Studio.objects.create(name="田园社区党代表工作室", kind="community", unit=u,
                                     host_organisation="党委") for u in units]  # fmt: skip
    assert [register_at(s).number for s in studios] == [
        "田园社区党代表工作室2026001",
        f"{district.name}田园社区党代表工作室2026001",
    ]


def test_a_longer_studio_form_skips_names_it_contains_and_fits_the_column() -> None:
    names = ["盐田区", "盐田区", "深圳市", "广东省"]
    found = list(
        zip(range(4), studio_candidates("盐田区教育系统党代表工作室", names), strict=False)
    )
    assert [p for _, p in found] == [
        "盐田区教育系统党代表工作室",
        "深圳市盐田区教育系统党代表工作室",
        "广东省深圳市盐田区教育系统党代表工作室",
        "广东省深圳市盐田区教育系统党代表工作室（2）",
    ]
    long_name = "党" * 100
    assert list(
        zip(
            range(2),
            studio_candidates(long_name, ["新疆维吾尔自治区伊犁哈萨克自治州"]),
            strict=False,
        )
    ) == [
        (0, long_name),
        (1, f"{long_name}（2）"),
    ]


def test_the_migration_keeps_issued_numbers_and_gives_the_sharers_their_own(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before the field, two studios of one name were numbered from one counter: the
    one numbered first keeps the name, the other's next numbers are its own, and no
    issued number changes."""
    first, second = studio_of("440308003"), studio_of("440308001")
    community = Studio.objects.get(unit__code="440308003006")
    monkeypatch.setattr(services, "number_prefix", old_number_prefix)
    issued = [register_at(studio) for studio in (second, first, second, community)]
    monkeypatch.undo()
    assert [case.number for case in issued[:3]] == [f"{NAME}202600{n}" for n in (1, 2, 3)]
    before = dict(Case.objects.values_list("pk", "number"))
    Studio.objects.update(number_prefix=None)
    fill = import_module("minyi.studios.migrations.0004_number_prefix").fill
    fill(apps, connection.schema_editor())
    assert dict(Case.objects.values_list("pk", "number")) == before
    stored = dict(Studio.objects.values_list("pk", "number_prefix"))
    assert stored[second.pk] == NAME  # numbered under it first
    other_street = OrgUnit.objects.get(code="440308003").name
    assert stored[first.pk] == f"{other_street}{NAME}"
    assert stored[community.pk] is None  # numbered by its community's
    assert register_at(second).number == f"{NAME}2026004"
    assert register_at(first).number == f"{other_street}{NAME}2026001"
    assert register_at(community).number_prefix == community.unit.number_prefix


def test_an_edit_page_opened_before_the_first_number_never_clears_the_prefix(
    world: Any, street_official: Any
) -> None:
    """The prefix is written with the studio's version moved (StampedQuerySet), so an
    edit page loaded before it is refused rather than saving the studio's old row."""
    studio = studio_of("440308003")
    url = reverse("studios:edit", args=[studio.pk])
    client = client_for(street_official)
    data = post_data_from(client.get(url))
    register_at(studio)
    refused = client.post(url, {**data, "address": "新地址"})
    assert refused.status_code == 409
    assert client.post(url, post_data_from(refused)).status_code == 302
    saved = Studio.objects.get(pk=studio.pk)
    assert (saved.address, saved.number_prefix) == ("新地址", NAME)


def test_an_admin_save_racing_the_first_number_never_clears_the_prefix(
    world: Any, django_user_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The admin reads the studio again when the form is posted and saves the whole row;
    a first number committed between that read and the save must keep its prefix (the
    admin carries no version to be refused on). The registration is run in the gap."""
    studio = studio_of("440308003")
    client = client_for(
        django_user_model.objects.create(username="studio-admin", is_staff=True, is_superuser=True)
    )
    url = reverse("admin:studios_studio_change", args=[studio.pk])
    data = post_data_from(client.get(url))
    read = StudioAdmin.get_object

    def read_then_number(self: StudioAdmin, request: Any, *args: Any) -> Studio | None:
        found = read(self, request, *args)
        if request.method == "POST":
            register_at(studio)  # the concurrent first number, after the admin's read
            assert found is not None and found.number_prefix is None
        return found

    monkeypatch.setattr(StudioAdmin, "get_object", read_then_number)
    assert client.post(url, {**data, "address": "新地址"}).status_code == 302
    saved = Studio.objects.get(pk=studio.pk)
    assert (saved.address, saved.number_prefix) == ("新地址", NAME)
    monkeypatch.undo()
    assert register_at(studio).number == f"{NAME}2026002"


def test_any_save_of_a_studio_read_before_its_first_number_keeps_the_prefix(
    world: Any,
) -> None:
    """An Excel import's rows are read at the check and saved at the commit: no full-row
    save writes the prefix column of a stored studio."""
    studio = studio_of("440308003")
    read_before = Studio.objects.get(pk=studio.pk)
    register_at(studio)
    read_before.phone = "0755-25550001"
    read_before.save()
    saved = Studio.objects.get(pk=studio.pk)
    assert (saved.phone, saved.number_prefix) == ("0755-25550001", NAME)


def old_number_prefix(studio: Studio) -> str:
    """numbering.number_prefix before the studios' own prefixes."""
    unit = studio.unit
    if unit.level == Level.COMMUNITY and unit.number_prefix:
        return unit.number_prefix
    return studio.name


def test_number_prefix_reads_a_stored_prefix_without_a_query(
    world: Any, django_assert_num_queries: Any
) -> None:
    studio = studio_of("440308003")
    register_at(studio)
    studio = Studio.objects.select_related("unit").get(pk=studio.pk)
    with django_assert_num_queries(0):
        assert number_prefix(studio) == NAME


@pytest.mark.django_db(transaction=True)
def test_two_studios_of_one_name_numbering_at_once_get_two_prefixes(world: Any) -> None:
    """Their first numbers at the same moment, against a real file database: the unique
    constraint gives the name to one, the other takes the longer form, and no
    registration fails."""
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        "file:memorydb"
    ):
        pytest.skip("needs a file-based SQLite database")
    studios = [studio_of("440308003"), studio_of("440308001")]
    errors: list[BaseException] = []
    barrier = threading.Barrier(10)

    def worker(studio: Studio) -> None:
        try:
            barrier.wait()
            register_at(studio)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker, args=(studios[n % 2],)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    numbers: dict[int, list[tuple[str, int]]] = {}
    for studio_id, prefix, serial in Case.objects.values_list(
        "studio_id", "number_prefix", "serial"
    ):
        numbers.setdefault(studio_id, []).append((prefix, serial))
    prefixes = dict(Studio.objects.filter(pk__in=numbers).values_list("pk", "number_prefix"))
    shown = [prefix for prefix in prefixes.values() if prefix is not None]
    assert len(shown) == len(prefixes) and sorted(shown, key=len)[0] == NAME
    for studio_id, issued in numbers.items():
        assert sorted(issued) == [(prefixes[studio_id], n) for n in range(1, 6)]
