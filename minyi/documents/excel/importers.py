"""Imports of representatives, liaisons and studios (issue 5, item 2).

Each row is turned into the data the page's own form would receive and checked by
that form (RepresentativeForm, LiaisonForm, StudioForm), so an import obeys exactly
the rules and the scope of the pages: a street department can only import into the
units it may edit, and a name the user cannot use reads as "not found in your area".
Names in cells (units, studios, delegations) are resolved against the form's own
scoped choices, loaded once per import.

A row matches an existing record by its key (name + phone for people, name + unit
for studios): a match the user may edit is updated, anything else is created. The
check is a dry run; the commit checks every row again and saves all or nothing."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from minyi.core.phones import parse_phone
from minyi.documents.excel.fastforms import PreloadedChoice, PreloadedMultiple, preload
from minyi.documents.excel.reading import Sheet, as_bool, as_date, as_text
from minyi.people.forms import LiaisonForm, RepresentativeForm
from minyi.people.models import (
    Liaison,
    LiaisonKind,
    Representative,
    RepresentativeCategory,
    RepresentativeLevel,
)
from minyi.studios.forms import StudioForm
from minyi.studios.models import FACILITIES, Studio, StudioKind


class StudioImportForm(StudioForm):
    # Lists of studios set up long ago often lack the date; a studio imported without it
    # is judged from the day it was imported (Studio.judged_from), as the template says.
    established_required = False


CODE = re.compile(r"[（(]\s*(\d{6,12})\s*[)）]\s*$")
SEPARATORS = re.compile(r"[、,，;；\n]+")
PROGRESS_EVERY = 500


@dataclass(frozen=True)
class Header:
    name: str
    required: bool = False
    hint: str = ""


@dataclass
class RowResult:
    number: int
    label: str
    errors: list[str] = field(default_factory=list)
    form: Any = None
    update: bool = False


@dataclass
class Report:
    rows: list[RowResult]

    @property
    def bad(self) -> list[RowResult]:
        return [r for r in self.rows if r.errors]

    @property
    def created(self) -> int:
        return sum(1 for r in self.rows if not r.errors and not r.update)

    @property
    def updated(self) -> int:
        return sum(1 for r in self.rows if not r.errors and r.update)


class Lookup:
    """Names (and official codes in brackets) of the objects a form field offers."""

    def __init__(self, objects: Any, *names: str, what: str) -> None:
        self.what = what
        self.by_code: dict[str, Any] = {}
        self.by_name: dict[str, list[Any]] = defaultdict(list)
        for obj in objects:
            if getattr(obj, "code", ""):
                self.by_code[obj.code] = obj
            for attr in names:
                value = getattr(obj, attr, "")
                if value and obj not in self.by_name[value]:
                    self.by_name[value].append(obj)

    def find(self, text: str) -> Any:
        """The object, or ValueError with the reason."""
        match = CODE.search(text)
        if match:
            found = self.by_code.get(match.group(1))
            if found is None:
                raise ValueError(f"{self.what}“{text}”不存在或不在您的管辖范围内")
            return found
        candidates = self.by_name.get(text.strip(), [])
        if not candidates:
            raise ValueError(f"{self.what}“{text}”不存在或不在您的管辖范围内")
        if len(candidates) > 1:
            raise ValueError(f"{self.what}“{text}”有多个同名，请在名称后用括号注明代码")
        return candidates[0]


def _choice(choices: Any, text: str, what: str) -> str:
    for value, label in choices:
        if text in (label, value):
            return value
    raise ValueError(f"{what}“{text}”无效，应为：{'、'.join(str(lbl) for _, lbl in choices)}")


def _phone_key(text: str) -> str:
    try:
        return parse_phone(text)
    except ValidationError:
        return text


class Importer:
    do_not_call_in_templates = True  # templates read the class's headers and title

    kind: ClassVar[str]
    title: ClassVar[str]
    model: ClassVar[Any]
    form_class: ClassVar[Any]
    headers: ClassVar[list[Header]]
    example: ClassVar[list[str]]

    def __init__(self, user: Any) -> None:
        self.user = user
        self.row_form = preload(self.form_class, user)
        self.prototype = self.row_form(user=user)

    @classmethod
    def required(cls) -> list[str]:
        return [h.name for h in cls.headers if h.required]

    @classmethod
    def known(cls) -> list[str]:
        return [h.name for h in cls.headers]

    def field_queryset(self, name: str) -> Any:
        field = self.prototype.fields[name]
        assert isinstance(field, PreloadedChoice | PreloadedMultiple)  # preload's choices
        return list(field.by_pk.values())

    # per kind
    def key(self, record: dict[str, Any]) -> tuple[str, ...]:
        raise NotImplementedError

    def label(self, record: dict[str, Any]) -> str:
        return as_text(record.get(self.headers[0].name))

    def data(self, record: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def existing(self, keys: list[tuple[str, ...]]) -> tuple[dict, set]:
        """(key -> record the user may edit, keys of records they may not)."""
        raise NotImplementedError

    # shared
    def check(self, sheet: Sheet, progress: Callable[[int], None] | None = None) -> Report:
        """Every row checked; `progress(n)` (a job's) is told every PROGRESS_EVERY rows."""
        records = sheet.rows
        keys = [self.key(record) for _, record in records]
        editable, foreign = self.existing(keys)
        first_row: dict[tuple[str, ...], int] = {}
        results: list[RowResult] = []
        for (number, record), key in zip(records, keys, strict=True):
            if progress and results and len(results) % PROGRESS_EVERY == 0:
                progress(len(results))
            result = RowResult(number, self.label(record))
            results.append(result)
            missing = [h for h in self.required() if as_text(record.get(h)) == ""]
            if missing:
                result.errors.append(f"“{'”“'.join(missing)}”不能为空")
                continue
            if key in first_row:
                result.errors.append(f"与第 {first_row[key]} 行重复")
                continue
            first_row[key] = number
            if key in foreign and key not in editable:
                result.errors.append("已有相同记录，但不在您可以修改的范围内")
                continue
            try:
                data = self.data(record)
            except ValueError as exc:
                result.errors.extend(str(exc).split("\n"))
                continue
            instance = editable.get(key)
            form = self.row_form(data, instance=instance, user=self.user)
            if form.is_valid():
                result.form, result.update = form, instance is not None
            else:
                result.errors.extend(self.messages(form))
        return Report(results)

    def messages(self, form: Any) -> list[str]:
        found = []
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            for error in errors:
                found.append(f"{label}：{error}" if label else str(error))
        return found

    def commit(self, report: Report) -> None:
        """Every row saved, or none: one transaction; a database constraint that a
        row breaks rolls back all of them (ValidationError names the row)."""
        assert not report.bad
        with transaction.atomic():
            for row in report.rows:
                try:
                    row.form.save()
                except IntegrityError as exc:
                    raise ValidationError(
                        f"第 {row.number} 行违反数据约束，未导入任何记录。"
                    ) from exc


# --- representatives ---------------------------------------------------------------------


class MatchByNameAndPhone:
    """People are matched by name + phone: an edited export imports back as updates.
    Phones are encrypted, so candidates are fetched by name and compared in Python."""

    model: ClassVar[Any]
    user: Any

    def key(self, record: dict[str, Any]) -> tuple[str, ...]:
        return (as_text(record.get("姓名")), _phone_key(as_text(record.get("联系电话"))))

    def existing(self, keys: list[tuple[str, ...]]) -> tuple[dict, set]:
        names = {name for name, _ in keys}
        mine = set(
            self.model.objects.for_editor(self.user)
            .filter(name__in=names)
            .values_list("pk", flat=True)
        )
        editable, foreign = {}, set()
        for person in self.model.objects.filter(name__in=names):
            key = (person.name, person.phone)
            if person.pk in mine:
                editable[key] = person
            else:
                foreign.add(key)
        return editable, foreign


class RepresentativeImporter(MatchByNameAndPhone, Importer):
    kind = "representatives"
    title = "党代表"
    model = Representative
    form_class = RepresentativeForm
    headers = [
        Header("姓名", True),
        Header("代表层级", True, "市党代表 / 区党代表"),
        Header("代表类别", True, "、".join(RepresentativeCategory.labels)),
        Header("选举单位", True, "区（新区）或系统工委，如：盐田区（440308）"),
        Header("代表团", False, "如：盐田区代表团"),
        Header("代表组", False, "如：沙头角街道代表组"),
        Header("工作单位", True),
        Header("职务"),
        Header("联系电话", True, "手机或带区号的固定电话"),
        Header("联系社区", False, "一个或两个相邻社区，用“、”分隔，如：沙头角社区（440308003006）"),
        Header("在任", False, "是 / 否，空白为“是”"),
    ]
    example = [
        "张三",
        "市党代表",
        "区（新区）代表",
        "盐田区（440308）",
        "盐田区代表团",
        "沙头角街道代表组",
        "盐田区某单位",
        "主任",
        "13800000000",
        "沙头角社区（440308003006）",
        "是",
    ]

    def __init__(self, user: Any) -> None:
        super().__init__(user)
        self.units = Lookup(self.field_queryset("unit"), "name", "short_name", what="选举单位")
        self.delegations = Lookup(self.field_queryset("delegation"), "name", what="代表团")
        self.groups = Lookup(self.field_queryset("group"), "name", what="代表组")
        self.communities = Lookup(
            self.field_queryset("linked_communities"), "name", "short_name", what="联系社区"
        )

    def data(self, record: dict[str, Any]) -> dict[str, Any]:
        errors, data = (
            [],
            {
                "name": as_text(record.get("姓名")),
                "employer": as_text(record.get("工作单位")),
                "position": as_text(record.get("职务")),
                "phone": as_text(record.get("联系电话")),
            },
        )
        steps = [
            (
                "level",
                lambda: _choice(
                    RepresentativeLevel.choices, as_text(record["代表层级"]), "代表层级"
                ),
            ),
            (
                "category",
                lambda: _choice(
                    RepresentativeCategory.choices, as_text(record["代表类别"]), "代表类别"
                ),
            ),
            ("unit", lambda: self.units.find(as_text(record["选举单位"])).pk),
            ("delegation", lambda: self._optional(self.delegations, record.get("代表团"))),
            ("group", lambda: self._optional(self.groups, record.get("代表组"))),
            (
                "linked_communities",
                lambda: [self.communities.find(t).pk for t in _items(record.get("联系社区"))],
            ),
            ("active", lambda: as_bool(record.get("在任"), default=True)),
        ]
        for name, step in steps:
            try:
                data[name] = step()
            except ValueError as exc:
                errors.append(str(exc))
        if errors:
            raise ValueError("\n".join(errors))
        return data

    @staticmethod
    def _optional(lookup: Lookup, value: Any) -> Any:
        text = as_text(value)
        return lookup.find(text).pk if text else ""


def _items(value: Any) -> list[str]:
    return [part.strip() for part in SEPARATORS.split(as_text(value)) if part.strip()]


# --- liaisons ---------------------------------------------------------------------------


class LiaisonImporter(MatchByNameAndPhone, Importer):
    kind = "liaisons"
    title = "联络员"
    model = Liaison
    form_class = LiaisonForm
    headers = [
        Header("姓名", True),
        Header("类型", True, "、".join(LiaisonKind.labels)),
        Header("工作室", False, "专职、兼职联络员填所在工作室名称"),
        Header("社区（无工作室时）", False, "书记兼任时填社区，如：桥东社区（440308003003）"),
        Header("职务"),
        Header("联系电话", True),
        Header("在岗", False, "是 / 否，空白为“是”"),
    ]
    example = [
        "李四",
        "兼职联络员",
        "沙头角社区党代表工作室",
        "",
        "社区工作者",
        "13800000001",
        "是",
    ]

    def __init__(self, user: Any) -> None:
        super().__init__(user)
        self.studios = Lookup(self.field_queryset("studio"), "name", what="工作室")
        self.communities = Lookup(
            self.field_queryset("community"), "name", "short_name", what="社区"
        )

    def data(self, record: dict[str, Any]) -> dict[str, Any]:
        errors, data = (
            [],
            {
                "name": as_text(record.get("姓名")),
                "position": as_text(record.get("职务")),
                "phone": as_text(record.get("联系电话")),
            },
        )
        steps = [
            ("kind", lambda: _choice(LiaisonKind.choices, as_text(record["类型"]), "类型")),
            (
                "studio",
                lambda: RepresentativeImporter._optional(self.studios, record.get("工作室")),
            ),
            (
                "community",
                lambda: RepresentativeImporter._optional(
                    self.communities, record.get("社区（无工作室时）")
                ),
            ),
            ("active", lambda: as_bool(record.get("在岗"), default=True)),
        ]
        for name, step in steps:
            try:
                data[name] = step()
            except ValueError as exc:
                errors.append(str(exc))
        if errors:
            raise ValueError("\n".join(errors))
        return data


# --- studios ----------------------------------------------------------------------------


class StudioImporter(Importer):
    kind = "studios"
    title = "党代表工作室"
    model = Studio
    form_class = StudioImportForm
    headers = [
        Header("名称", True),
        Header("类型", True, "、".join(StudioKind.labels)),
        Header("所在社区或单位", True, "社区工作室填社区，如：沙头角社区（440308003006）"),
        Header("依托党组织", True),
        Header("地址"),
        Header("面积（平方米）", False, "数字，如 30"),
        Header("开放时间", False, "如：每周三 9:00—12:00"),
        Header("工作室电话"),
        Header("经费来源"),
        Header("设立日期", False, "日期，或 YYYY-MM-DD"),
        *[Header(label, False, "是 / 否，空白为“否”") for _, label in FACILITIES],
    ]
    example = [
        "某社区党代表工作室",
        "社区工作室",
        "沙头角社区（440308003006）",
        "某社区党委",
        "某路 1 号",
        "30",
        "每周三 9:00—12:00",
        "0755-25550000",
        "区财政",
        "2026-01-01",
        *["是"] * len(FACILITIES),
    ]

    def __init__(self, user: Any) -> None:
        super().__init__(user)
        if "unit" not in self.prototype.fields:
            self.units = Lookup([], what="所在社区或单位")
        else:
            self.units = Lookup(
                self.field_queryset("unit"), "name", "short_name", what="所在社区或单位"
            )

    def key(self, record: dict[str, Any]) -> tuple[str, ...]:
        return (as_text(record.get("名称")), as_text(record.get("所在社区或单位")))

    def existing(self, keys: list[tuple[str, ...]]) -> tuple[dict, set]:
        names = {name for name, _ in keys}
        mine = set(
            Studio.objects.for_editor(self.user).filter(name__in=names).values_list("pk", flat=True)
        )
        from minyi.documents.excel.exports import unit_ref

        editable: dict[tuple[str, str], Studio] = {}
        foreign: set[tuple[str, str]] = set()
        for studio in Studio.objects.filter(name__in=names).select_related("unit"):
            refs = {unit_ref(studio.unit), studio.unit.name, studio.unit.short_name}
            for ref in refs:
                key = (studio.name, ref)
                (editable.__setitem__(key, studio) if studio.pk in mine else foreign.add(key))
        return editable, foreign

    def data(self, record: dict[str, Any]) -> dict[str, Any]:
        errors, data = (
            [],
            {
                "name": as_text(record.get("名称")),
                "host_organisation": as_text(record.get("依托党组织")),
                "address": as_text(record.get("地址")),
                "area_m2": as_text(record.get("面积（平方米）")),
                "opening_hours": as_text(record.get("开放时间")),
                "phone": as_text(record.get("工作室电话")),
                "funding_source": as_text(record.get("经费来源")),
            },
        )
        steps: list[tuple[str, Any]] = [
            ("kind", lambda: _choice(StudioKind.choices, as_text(record["类型"]), "类型")),
            ("unit", lambda: self.units.find(as_text(record["所在社区或单位"])).pk),
            ("established_on", lambda: _iso(record.get("设立日期"), "设立日期")),
        ]
        for name, label in FACILITIES:
            steps.append((name, lambda label=label: _flag(record.get(label), label)))
        for name, step in steps:
            try:
                value = step()
            except ValueError as exc:
                errors.append(str(exc))
                continue
            if value is not False:
                data[name] = value
        if errors:
            raise ValueError("\n".join(errors))
        return data


def _iso(value: Any, label: str) -> str:
    try:
        day = as_date(value)
    except ValueError as exc:
        raise ValueError(f"{label}：{exc}") from exc
    return day.isoformat() if day else ""


def _flag(value: Any, label: str) -> bool:
    try:
        return as_bool(value, default=False)
    except ValueError as exc:
        raise ValueError(f"{label}：{exc}") from exc


IMPORTERS: dict[str, type[Importer]] = {
    cls.kind: cls for cls in (RepresentativeImporter, LiaisonImporter, StudioImporter)
}
