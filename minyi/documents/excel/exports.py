"""What each list exports: the list page it mirrors (its scoped, filtered, decorated
rows) and the columns, with Chinese headers. Cases and the ledger show reporters
masked exactly as the screen does (a unit the reporter hides from sees "身份保密").

The columns of representatives, liaisons and studios are the import template's
columns (plus a few marked export-only), so an export can be edited and imported."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from minyi.cases.views import CaseList, Ledger
from minyi.core.regulations import cite
from minyi.core.views_base import ListPage
from minyi.documents.excel.writer import DATE, DATETIME, NUMBER, Column
from minyi.duties.views_events import EventList
from minyi.org.models import OrgUnit
from minyi.people.views import LiaisonList, RepresentativeList
from minyi.studios.models import FACILITIES
from minyi.studios.views import StudioList


@dataclass(frozen=True)
class ExportSpec:
    kind: str
    title: str
    view: type[ListPage] | None  # None: compliance, which is not a ListPage
    columns: list[Column]
    list_url: str


def unit_ref(unit: OrgUnit | None) -> str:
    """A unit as people read it, with its official code when it has one, so that an
    import finds exactly this unit again."""
    if unit is None:
        return ""
    name = unit.short_name or unit.name
    return f"{name}（{unit.code}）" if unit.code else name


def _reporter(case: Any) -> str:
    return "身份保密" if case.reporter_hidden else case.reporter_name_masked


def _reporter_phone(case: Any) -> str:
    return "" if case.reporter_hidden else case.reporter_phone_masked


def _yes(flag: Any) -> str:
    return "是" if flag else "否"


CASES = [
    Column("编号", lambda c: c.number, width=30),
    Column("工作室", lambda c: c.studio.name, width=24),
    Column("反映日期", lambda c: c.received_on, DATE, 12),
    Column("反映人", _reporter, width=12),
    Column("联系电话", _reporter_phone, width=14),
    Column("反映方式", lambda c: c.get_channel_display(), width=10),
    Column("内容摘要", lambda c: c.summary, width=40),
    Column("状态", lambda c: c.get_state_display(), width=12),
    Column("承办单位", lambda c: c.handling_unit.name if c.handling_unit else "", width=24),
    Column("答复期限", lambda c: c.due_on, DATE, 12),
    Column("已超期", lambda c: _yes(c.is_overdue), width=8),
    Column("评议结果", lambda c: c.get_final_rating_display() if c.final_rating else "", width=10),
]


def _answer(case: Any, attr: str) -> Any:
    return getattr(case.last_answer, attr) if case.last_answer else None


def _rating(case: Any) -> str:
    if case.final_rating:
        return case.get_final_rating_display()
    if case.last_evaluation:
        return f"{case.last_evaluation.get_rating_display()}（重办中）"
    return ""


def _signed(attr: str) -> Callable[[Any], str]:
    return lambda c: _yes(getattr(c.last_evaluation, attr)) if c.last_evaluation else ""


LEDGER = [
    Column("街道", lambda c: c.street_name, width=12),
    Column("工作室", lambda c: c.studio_name, width=24),
    Column("编号", lambda c: c.number, width=30),
    Column("反映人", _reporter, width=12),
    Column("联系电话", _reporter_phone, width=14),
    Column("内容摘要", lambda c: c.summary, width=40),
    Column("反映日期", lambda c: c.received_on, DATE, 12),
    Column("党代表姓名", lambda c: c.representative_name, width=12),
    Column("职务", lambda c: c.representative_position, width=16),
    Column("联系方式", lambda c: c.rep_contact, width=14),
    Column(
        "报送",
        lambda c: "当场答复" if c.on_the_spot else "、".join(lbl for lbl, done in c.sent if done),
        width=12,
    ),
    Column("党代表确认时间", lambda c: c.representative_confirmed_at, DATETIME, 16),
    Column(
        "承办单位",
        lambda c: c.last_answer.unit_name if c.last_answer else (c.handling_unit_name or ""),
        width=24,
    ),
    Column("反馈时间", lambda c: _answer(c, "answered_on"), DATE, 12),
    Column(
        "办理结果",
        lambda c: c.spot_answer if c.on_the_spot else (_answer(c, "result") or _answer(c, "text")),
        width=40,
    ),
    Column("评价", _rating, width=14),
    Column("反映人签名确认", _signed("reporter_confirmed"), width=8),
    Column("市党代表签名确认", _signed("representative_confirmed"), width=8),
    Column("街道负责人签名确认", _signed("street_head_confirmed"), width=8),
    Column("状态", lambda c: c.get_state_display(), width=12),
]

EVENTS = [
    Column("开始时间", lambda e: e.starts_at, DATETIME, 17),
    Column("结束时间", lambda e: e.ends_at, DATETIME, 17),
    Column("工作室", lambda e: e.studio.name, width=24),
    Column("活动方式", lambda e: e.get_kind_display(), width=10),
    Column("主题", lambda e: e.theme, width=30),
    Column("地点", lambda e: e.place, width=24),
    Column("党代表", lambda e: "、".join(r.name for r in e.representatives.all()), width=30),
    Column("状态", lambda e: e.get_state_display(), width=10),
    Column("活动月", lambda e: _yes(e.activity_month), width=8),
    Column("预告不足7天", lambda e: _yes(e.late), width=8),
    Column("接待人数", lambda e: e.people_received, NUMBER, 8),
]

REPRESENTATIVES = [
    Column("姓名", lambda r: r.name, width=12),
    Column("代表层级", lambda r: r.get_level_display(), width=10),
    Column("代表类别", lambda r: r.get_category_display(), width=14),
    Column("选举单位", lambda r: unit_ref(r.unit), width=20),
    Column("代表团", lambda r: r.delegation.name if r.delegation else "", width=16),
    Column("代表组", lambda r: r.group.name if r.group else "", width=16),
    Column("工作单位", lambda r: r.employer, width=24),
    Column("职务", lambda r: r.position, width=16),
    Column("联系电话", lambda r: r.phone_display, width=14),
    Column(
        "联系社区",
        lambda r: "、".join(unit_ref(u) for u in r.linked_communities.all()),
        width=30,
    ),
    Column("在任", lambda r: _yes(r.active), width=6),
]

LIAISONS = [
    Column("姓名", lambda x: x.name, width=12),
    Column("类型", lambda x: x.get_kind_display(), width=16),
    Column("工作室", lambda x: x.studio.name if x.studio else "", width=24),
    Column("社区（无工作室时）", lambda x: unit_ref(x.community), width=24),
    Column("职务", lambda x: x.position, width=16),
    Column("联系电话", lambda x: x.phone_display, width=14),
    Column("在岗", lambda x: _yes(x.active), width=6),
]


def _facility(field: str) -> Callable[[Any], str]:
    return lambda s: _yes(getattr(s, field))


STUDIOS = [
    Column("名称", lambda s: s.name, width=24),
    Column("类型", lambda s: s.get_kind_display(), width=14),
    Column("所在社区或单位", lambda s: unit_ref(s.unit), width=24),
    Column("依托党组织", lambda s: s.host_organisation, width=24),
    Column("地址", lambda s: s.address, width=30),
    Column("面积（平方米）", lambda s: s.area_m2, NUMBER, 10),
    Column("开放时间", lambda s: s.opening_hours, width=20),
    Column("工作室电话", lambda s: s.phone_display if s.phone else "", width=14),
    Column("经费来源", lambda s: s.funding_source, width=16),
    Column("设立日期", lambda s: s.established_on, DATE, 12),
    *[Column(label, _facility(field), width=8) for field, label in FACILITIES],
    # Export only: the import ignores these.
    Column("进驻党代表数", lambda s: s.rep_count, NUMBER, 8),
    Column("不足项", lambda s: "；".join(w.message for w in s.warnings), width=40),
]

COMPLIANCE = [
    Column("工作室", lambda r: r[0], width=24),
    Column("对象", lambda r: r[1].subject, width=16),
    Column("事项", lambda r: r[1].topic, width=16),
    Column("依据", lambda r: cite(r[1].rule), width=28),
    Column("期间", lambda r: r[1].period, width=16),
    Column("结果", lambda r: r[1].label, width=8),
    Column("说明", lambda r: r[1].reason, width=50),
    Column("截止日期", lambda r: r[1].due, DATE, 12),
]

SPECS = {
    spec.kind: spec
    for spec in [
        ExportSpec("cases", "社情民意", CaseList, CASES, "cases:list"),
        ExportSpec("ledger", "意见建议办理情况跟踪明细帐", Ledger, LEDGER, "cases:ledger"),
        ExportSpec("events", "活动安排", EventList, EVENTS, "duties:event_list"),
        ExportSpec("compliance", "履职达标情况", None, COMPLIANCE, "duties:compliance"),
        ExportSpec(
            "representatives",
            "党代表",
            RepresentativeList,
            REPRESENTATIVES,
            "people:representative_list",
        ),
        ExportSpec("liaisons", "联络员", LiaisonList, LIAISONS, "people:liaison_list"),
        ExportSpec("studios", "党代表工作室", StudioList, STUDIOS, "studios:list"),
    ]
}
