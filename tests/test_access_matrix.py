"""The access matrix: every URL of the application, for every persona, answers the
status declared here. A URL without a declared rule fails the test, so no page can
ship without someone deciding who may reach it. Out of scope answers 404, the same
as a record that does not exist."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from minyi.cases.models import Case
from minyi.org.models import HandlingUnit, OrgUnit
from minyi.people.models import Liaison, Representative
from minyi.studios.models import Studio
from tests.personas import PERSONAS

ALL = set(PERSONAS) - {"anonymous"}
OFFICIALS_OF_SHATOUJIAO = {"admin", "city_official", "district_official", "street_official"}


def _studio(w: Any) -> dict[str, int]:
    return {"pk": Studio.objects.get(name="沙头角社区党代表工作室").pk}


def _rep(w: Any) -> dict[str, int]:
    return {"pk": Representative.objects.get(name="演示代表·陈明").pk}


def _liaison(w: Any) -> dict[str, int]:
    return {"pk": Liaison.objects.get(name="演示联络员·张伟").pk}


def _liaison_account(w: Any) -> dict[str, int]:
    from minyi.people.models import User

    return {"pk": User.objects.get(username="liaison").pk}


def _community(w: Any) -> dict[str, int]:
    return {"pk": w["440308003006"].pk}


def _empty_community(w: Any) -> dict[str, int]:
    return {"pk": OrgUnit.objects.get(code="440308003003").pk}


def _handling_unit(w: Any) -> dict[str, int]:
    return {"pk": HandlingUnit.objects.get(name="沙头角街道城市管理办公室").pk}


def _assignment(w: Any) -> dict[str, int]:
    studio = Studio.objects.get(name="沙头角社区党代表工作室")
    assignment = studio.assignments.first()
    assert assignment is not None
    return {"pk": studio.pk, "assignment_pk": assignment.pk}


def _case(w: Any) -> dict[str, int]:
    from tests.cases.helpers import register

    return {"pk": register().pk}


def _case_at_department(w: Any) -> dict[str, int]:
    """Sent to 沙头角街道's organisation department: version 2."""
    from minyi.cases.services import case_send_to_street
    from tests.cases.helpers import register

    case = case_send_to_street(case=register(), actor=_user("liaison"))
    return {"pk": case.pk}


def _case_with_unit(w: Any) -> dict[str, int]:
    """Referred to 沙头角街道城市管理办公室: version 3."""
    from minyi.cases.services import case_refer

    case = Case.objects.get(**_case_at_department(w))
    unit = HandlingUnit.objects.get(name="沙头角街道城市管理办公室")
    case_refer(case=case, actor=_user("shatoujiao"), handling_unit=unit)
    return {"pk": case.pk}


def _case_extension_requested(w: Any) -> dict[str, int]:
    """The unit asked for 30 working days: version 4."""
    from minyi.cases.services import case_request_extension

    case = Case.objects.get(**_case_with_unit(w))
    case_request_extension(case=case, actor=_user("unit"), reason="需协调多个部门")
    return {"pk": case.pk}


def _case_answered(w: Any) -> dict[str, int]:
    """Answered by the unit: version 4."""
    from minyi.cases.services import case_answer

    case = Case.objects.get(**_case_with_unit(w))
    case_answer(case=case, actor=_user("unit"), text="已责令工地夜间停工。")
    return {"pk": case.pk}


def _street_token(w: Any) -> dict[str, int]:
    """A token for 沙头角街道's organisation department, issued in the pages' way."""
    from minyi.api.tokens import token_issue
    from minyi.people.models import Role, User

    account = User(role=Role.STREET_OFFICIAL, unit=w["440308003"])
    token, _secret = token_issue(issuer=_user("admin"), name="沙头角街道接口", account=account)
    return {"pk": token.pk}


@dataclass
class Rule:
    """`ok` personas get `ok_status`; everyone else logged in gets `other`; anonymous
    visitors are sent to the login page (302) unless `anonymous` says otherwise."""

    ok: set[str]
    ok_status: int = 200
    other: int = 404
    anonymous: int = 302
    method: str = "get"
    kwargs: Callable[[Any], dict[str, Any]] | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def expected(self, persona: str) -> int:
        if persona == "anonymous":
            return self.anonymous
        return self.ok_status if persona in self.ok else self.other


def _case_with_attachment(w: Any) -> dict[str, int]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from minyi.cases.attachments import case_attach

    case = Case.objects.get(pk=_case(w)["pk"])
    upload = SimpleUploadedFile("现场.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    attachment = case_attach(case=case, actor=case.registered_by, upload=upload)
    return {"pk": case.pk, "attachment_pk": attachment.pk}


# --- duties: plans and events ---------------------------------------------------------


def _draft_plan(w: Any) -> Any:
    from datetime import time

    from minyi.duties.models import AnnualPlan

    studio = Studio.objects.get(name="沙头角社区党代表工作室")
    return AnnualPlan.objects.create(
        studio=studio, year=2030, opening_weekday=2, opening_start=time(9), opening_end=time(12)
    )


def _plan(w: Any) -> dict[str, int]:
    return {"pk": _draft_plan(w).pk}


def _plan_session(w: Any) -> dict[str, int]:
    from datetime import date, time

    plan = _draft_plan(w)
    session = plan.sessions.create(
        representative=Representative.objects.get(name="演示代表·陈明"),
        date=date(2030, 5, 4),
        start=time(9),
        end=time(12),
    )
    return {"pk": plan.pk, "session_pk": session.pk}


def _submitted_plan(w: Any) -> dict[str, int]:
    from minyi.duties.models import PlanState

    plan = _draft_plan(w)
    plan.state = PlanState.SUBMITTED
    plan.save()
    return {"pk": plan.pk}


def _event(w: Any) -> dict[str, int]:
    from datetime import timedelta

    from django.utils import timezone

    from minyi.duties.models import Event

    start = timezone.now() + timedelta(days=30)
    event = Event.objects.create(
        studio=Studio.objects.get(name="沙头角社区党代表工作室"),
        kind="reception",
        starts_at=start,
        ends_at=start + timedelta(hours=3),
    )
    event.representatives.add(Representative.objects.get(name="演示代表·陈明"))
    return {"pk": event.pk}


# --- duties: appointments, visits, duty record, reports --------------------------------


def _bookable_event() -> Any:
    from datetime import timedelta

    from django.utils import timezone

    from minyi.duties.models import Event

    start = timezone.now() + timedelta(days=10)
    event = Event.objects.create(
        studio=Studio.objects.get(name="沙头角社区党代表工作室"),
        kind="reception",
        starts_at=start,
        ends_at=start + timedelta(hours=3),
        capacity=5,
        state="published",
        published_at=timezone.now(),
    )
    event.representatives.add(Representative.objects.get(name="演示代表·陈明"))
    return event


def _public_event(w: Any) -> dict[str, int]:
    return {"event_pk": _bookable_event().pk}


def _appointment(w: Any) -> dict[str, int]:
    from minyi.duties.appointments import appointment_book

    appointment = appointment_book(
        event=_bookable_event(),
        requester_kind="person",
        name="演示居民·王大爷",
        phone="13800005678",
        topic="工地夜间施工噪声扰民",
        preferred_representative=Representative.objects.get(name="演示代表·陈明"),
    )
    return {"pk": appointment.pk}


def _household_visit(w: Any) -> dict[str, int]:
    from datetime import date

    from minyi.duties.models import HouseholdVisit

    visit = HouseholdVisit.objects.create(
        representative=Representative.objects.get(name="演示代表·陈明"),
        community=w["440308003006"],
        visited_on=date(2026, 3, 4),
        household="演示·王先生家",
        address="沙头角演示小区 3 栋 501",
        recorded_by=_user("rep"),
    )
    return {"pk": visit.pk}


def _report(w: Any, state: str = "draft") -> dict[str, int]:
    from minyi.duties.models import BimonthlyReport

    report = BimonthlyReport.objects.create(
        studio=Studio.objects.get(name="沙头角社区党代表工作室"),
        year=2026,
        period=1,
        body="演示报告",
        state=state,
    )
    return {"pk": report.pk}


def _submitted_report(w: Any) -> dict[str, int]:
    return _report(w, state="submitted")


def _export_job(w: Any, done: bool = False) -> dict[str, int]:
    """An export of the liaison's, running or finished."""
    from django.core.files.base import ContentFile

    from minyi.documents.models import Export, ExportState

    job = Export.objects.create(owner=_user("liaison"), kind="cases", filename="社情民意.xlsx")
    if done:
        job.state = ExportState.DONE
        job.file.save("export.xlsx", ContentFile(b"PK"), save=True)
    return {"pk": job.pk}


def _import_check(w: Any) -> dict[str, int]:
    """A sheet the street department uploaded: a header and no rows."""
    from io import BytesIO

    import openpyxl
    from django.core.files.base import ContentFile

    from minyi.documents.models import Import

    book = openpyxl.Workbook()
    assert book.active is not None
    book.active.append(["名称", "类型", "所在社区或单位", "依托党组织"])
    buffer = BytesIO()
    book.save(buffer)
    record = Import(owner=_user("shatoujiao"), kind="studios", original_name="a.xlsx")
    record.file.save("a.xlsx", ContentFile(buffer.getvalue()), save=True)
    return {"pk": record.pk}


SCOPED_READERS = OFFICIALS_OF_SHATOUJIAO | {"liaison", "representative"}
STUDIO_PEOPLE = {"admin", "liaison", "representative"}
HOLDER = {"admin", "street_official"}  # 沙头角街道's department holds a case sent on
UNIT = {"admin", "handling_unit_staff"}
STUDIO_EDITORS = OFFICIALS_OF_SHATOUJIAO | {"liaison"}
PLAN_APPROVERS = {"admin", "city_official", "district_official"}

RULES: dict[str, Rule] = {
    "home": Rule(ok=ALL),
    "login": Rule(ok=ALL, anonymous=200),
    "logout": Rule(ok=ALL, ok_status=302, method="post", anonymous=302),
    "studios:list": Rule(ok=ALL),
    "studios:create": Rule(ok=OFFICIALS_OF_SHATOUJIAO | {"outsider"}),
    "studios:detail": Rule(ok=SCOPED_READERS, kwargs=_studio),
    "studios:plaque": Rule(ok=SCOPED_READERS, kwargs=_studio),
    "studios:edit": Rule(ok=OFFICIALS_OF_SHATOUJIAO | {"liaison"}, kwargs=_studio),
    "studios:assignment_add": Rule(
        ok=OFFICIALS_OF_SHATOUJIAO, ok_status=400, method="post", kwargs=_studio
    ),
    "studios:assignment_remove": Rule(
        ok=OFFICIALS_OF_SHATOUJIAO, ok_status=302, method="post", kwargs=_assignment
    ),
    "people:representative_list": Rule(ok=ALL),
    "people:representative_create": Rule(ok=OFFICIALS_OF_SHATOUJIAO | {"outsider"}),
    "people:representative_detail": Rule(ok=SCOPED_READERS, kwargs=_rep),
    "people:representative_edit": Rule(ok=OFFICIALS_OF_SHATOUJIAO, kwargs=_rep),
    # No demo representative has a photo, so everyone gets 404; photo serving has its own test.
    "people:representative_photo": Rule(ok=set(), kwargs=_rep),
    "people:liaison_list": Rule(ok=ALL),
    "people:liaison_create": Rule(ok=OFFICIALS_OF_SHATOUJIAO | {"outsider"}),
    "people:liaison_edit": Rule(ok=OFFICIALS_OF_SHATOUJIAO, kwargs=_liaison),
    "people:account_list": Rule(ok=OFFICIALS_OF_SHATOUJIAO | {"outsider"}),
    "people:account_create": Rule(ok=OFFICIALS_OF_SHATOUJIAO | {"outsider"}),
    "people:account_edit": Rule(ok=OFFICIALS_OF_SHATOUJIAO, kwargs=_liaison_account),
    "duties:hub": Rule(ok=ALL),
    "org:unit_list": Rule(ok=ALL),
    "org:unit_create": Rule(ok=OFFICIALS_OF_SHATOUJIAO | {"outsider"}),
    "org:unit_detail": Rule(ok=SCOPED_READERS, kwargs=_community),
    "org:unit_edit": Rule(ok=OFFICIALS_OF_SHATOUJIAO, kwargs=_community),
    "org:unit_retire": Rule(
        ok=OFFICIALS_OF_SHATOUJIAO, ok_status=302, method="post", kwargs=_empty_community
    ),
    "org:unit_merge": Rule(
        ok=OFFICIALS_OF_SHATOUJIAO, ok_status=302, method="post", kwargs=_empty_community
    ),
    "org:handlingunit_list": Rule(ok=ALL),
    "org:handlingunit_create": Rule(ok=OFFICIALS_OF_SHATOUJIAO | {"outsider"}),
    "org:handlingunit_edit": Rule(ok=OFFICIALS_OF_SHATOUJIAO, kwargs=_handling_unit),
    # Cases: reading follows scope; each step follows access.permitted_actions, on a
    # case in a state that allows it. Posts carry valid data (302) where the data can be
    # static, otherwise none (the permitted get 400 for the missing fields).
    "cases:list": Rule(ok=ALL),
    "cases:ledger": Rule(ok=ALL),
    "cases:studio_suggestions": Rule(ok=ALL),
    "cases:category_suggestions": Rule(ok=ALL),
    "cases:create": Rule(ok=OFFICIALS_OF_SHATOUJIAO | {"outsider", "liaison", "representative"}),
    "cases:detail": Rule(ok=SCOPED_READERS, kwargs=_case),
    "cases:reporter": Rule(ok=SCOPED_READERS, method="post", kwargs=_case),
    # Giving the reporter a progress code: who may write on the case, not the unit.
    "cases:progress_code": Rule(
        ok=STUDIO_PEOPLE | {"street_official"}, ok_status=302, method="post", kwargs=_case
    ),
    "cases:progress_slip": Rule(ok=STUDIO_PEOPLE | {"street_official"}, kwargs=_case),
    "cases:confirm": Rule(
        ok=STUDIO_PEOPLE,
        ok_status=302,
        method="post",
        kwargs=_case,
        data={"version": 1, "who": "representative"},
    ),
    "cases:send": Rule(
        ok=STUDIO_PEOPLE | {"street_official"},
        ok_status=302,
        method="post",
        kwargs=_case,
        data={"version": 1},
    ),
    "cases:carry_forward": Rule(
        ok=STUDIO_PEOPLE,
        ok_status=302,
        method="post",
        kwargs=_case,
        data={"version": 1, "form": "建议", "note": "作为闭会期间代表建议提出"},
    ),
    "cases:note": Rule(
        ok=STUDIO_PEOPLE | {"street_official"},
        ok_status=302,
        method="post",
        kwargs=_case,
        data={"version": 1, "text": "已电话告知反映人登记编号"},
    ),
    # Without files the permitted are sent back to the case with a message.
    "cases:attachment_add": Rule(
        ok=STUDIO_PEOPLE | {"street_official"}, ok_status=302, method="post", kwargs=_case
    ),
    "cases:attachment": Rule(ok=SCOPED_READERS, kwargs=_case_with_attachment),
    "cases:refer": Rule(ok=HOLDER, ok_status=400, method="post", kwargs=_case_at_department),
    "cases:escalate": Rule(
        ok=HOLDER,
        ok_status=302,
        method="post",
        kwargs=_case_at_department,
        data={"version": 2, "reason": "涉及全区建筑工地管理，超出街道权限"},
    ),
    "cases:consult": Rule(
        ok=HOLDER | {"representative"},
        ok_status=302,
        method="post",
        kwargs=_case_at_department,
        data={
            "version": 2,
            "held_on": "2026-03-06",
            "attendees": "反映人、陈明代表、城管办",
            "minutes": "约定夜间施工时段",
        },
    ),
    "cases:return": Rule(
        ok=UNIT,
        ok_status=302,
        method="post",
        kwargs=_case_with_unit,
        data={"version": 3, "reason": "属区住建局职责"},
    ),
    "cases:extension": Rule(
        ok=UNIT,
        ok_status=302,
        method="post",
        kwargs=_case_with_unit,
        data={"version": 3, "reason": "需协调多个部门"},
    ),
    "cases:plan": Rule(
        ok=UNIT,
        ok_status=302,
        method="post",
        kwargs=_case_with_unit,
        data={"version": 3, "plan": "本周内现场执法，周主任负责"},
    ),
    "cases:answer": Rule(
        ok=UNIT,
        ok_status=302,
        method="post",
        kwargs=_case_with_unit,
        data={"version": 3, "text": "已责令工地夜间停工。", "result": "已解决"},
    ),
    "cases:urge": Rule(
        ok=HOLDER,
        ok_status=302,
        method="post",
        kwargs=_case_with_unit,
        data={"version": 3, "note": "请尽快答复"},
    ),
    "cases:extension_decide": Rule(
        ok=HOLDER | {"representative"},
        ok_status=302,
        method="post",
        kwargs=_case_extension_requested,
        # An official records the representative's consent and says how it was given.
        data={"version": 4, "consent": "yes", "note": "党代表电话表示同意"},
    ),
    "cases:evaluate": Rule(
        ok=HOLDER,
        ok_status=302,
        method="post",
        kwargs=_case_answered,
        data={"version": 4, "rating": "satisfied", "reporter_confirmed": "on"},
    ),
    # Duties: appointments (the booking page is public), household visits, the duty
    # record, bi-monthly reports and notifications. Studio editors (the studio's
    # liaison, departments in scope) act on appointments; the representative reads.
    "duties:public_booking": Rule(ok=ALL, anonymous=200, kwargs=_public_event),
    # Without a booking in the session the confirmation sends back to the form.
    "duties:public_booking_done": Rule(ok=ALL, ok_status=302, anonymous=302, kwargs=_public_event),
    "duties:appointment_list": Rule(ok=ALL),
    "duties:appointment_detail": Rule(ok=SCOPED_READERS, kwargs=_appointment),
    # The booker in full (recorded): whom the appointment's actions are for.
    "duties:appointment_booker": Rule(ok=STUDIO_EDITORS, method="post", kwargs=_appointment),
    "duties:appointment_confirm": Rule(
        ok=STUDIO_EDITORS, ok_status=302, method="post", kwargs=_appointment
    ),
    "duties:appointment_cancel": Rule(
        ok=STUDIO_EDITORS,
        ok_status=302,
        method="post",
        kwargs=_appointment,
        data={"reason": "本人来电取消"},
    ),
    # The event has not started: attendance is refused with a reason.
    "duties:appointment_no_show": Rule(
        ok=STUDIO_EDITORS, ok_status=400, method="post", kwargs=_appointment
    ),
    "duties:appointment_attended": Rule(
        ok=STUDIO_EDITORS, ok_status=400, method="post", kwargs=_appointment
    ),
    "duties:appointment_link_case": Rule(
        ok=STUDIO_EDITORS, ok_status=400, method="post", kwargs=_appointment
    ),
    "duties:notification_list": Rule(ok=ALL),
    "duties:notification_read": Rule(ok=ALL, ok_status=302, method="post"),
    "duties:visit_list": Rule(ok=ALL),
    "duties:visit_create": Rule(
        ok=OFFICIALS_OF_SHATOUJIAO | {"outsider", "liaison", "representative"}
    ),
    "duties:visit_detail": Rule(ok=SCOPED_READERS, kwargs=_household_visit),
    # Correcting and withdrawing: whoever could record the visit now (the department,
    # the representative, the liaison of the representative's studio in its area).
    "duties:visit_edit": Rule(ok=SCOPED_READERS, kwargs=_household_visit),
    "duties:visit_withdraw": Rule(
        ok=SCOPED_READERS,
        ok_status=302,
        method="post",
        kwargs=_household_visit,
        data={"reason": "重复登记", "version": 1},
    ),
    "duties:duty_record": Rule(ok=SCOPED_READERS, kwargs=_rep),
    "duties:report_list": Rule(ok=ALL),
    "duties:report_create": Rule(ok={"admin", "liaison"}, ok_status=400, method="post"),
    "duties:report_detail": Rule(ok=SCOPED_READERS, kwargs=_report),
    "duties:report_edit": Rule(
        ok={"admin", "liaison"},
        ok_status=302,
        method="post",
        kwargs=_report,
        data={"body": "修改后的报告"},
    ),
    "duties:report_redraft": Rule(
        ok={"admin", "liaison"}, ok_status=302, method="post", kwargs=_report
    ),
    "duties:report_submit": Rule(
        ok={"admin", "liaison"}, ok_status=302, method="post", kwargs=_report
    ),
    "duties:report_acknowledge": Rule(
        ok=OFFICIALS_OF_SHATOUJIAO, ok_status=302, method="post", kwargs=_submitted_report
    ),
    # Duties: plans and events. Studio editors draft and publish; only a district or
    # city department in scope (or a superuser) approves; feeds and the public list
    # are open to everyone.
    "duties:plan_list": Rule(ok=ALL),
    "duties:plan_create": Rule(ok=STUDIO_EDITORS | {"outsider"}),
    "duties:plan_detail": Rule(ok=SCOPED_READERS, kwargs=_plan),
    "duties:plan_edit": Rule(ok=STUDIO_EDITORS, kwargs=_plan),
    "duties:plan_session_add": Rule(ok=STUDIO_EDITORS, ok_status=400, method="post", kwargs=_plan),
    "duties:plan_session_remove": Rule(
        ok=STUDIO_EDITORS, ok_status=302, method="post", kwargs=_plan_session
    ),
    "duties:plan_submit": Rule(ok=STUDIO_EDITORS, ok_status=302, method="post", kwargs=_plan),
    "duties:plan_approve": Rule(
        ok=PLAN_APPROVERS,
        ok_status=302,
        method="post",
        kwargs=_submitted_plan,
        data={"shortfall_reason": "代表人选调整中，先行批准开放安排"},
    ),
    "duties:plan_return": Rule(
        ok=PLAN_APPROVERS,
        ok_status=302,
        method="post",
        kwargs=_submitted_plan,
        data={"decision_note": "请补充各代表的活动安排"},
    ),
    "duties:event_list": Rule(ok=ALL),
    "duties:event_create": Rule(ok=STUDIO_EDITORS | {"outsider"}),
    "duties:event_detail": Rule(ok=SCOPED_READERS, kwargs=_event),
    "duties:event_edit": Rule(ok=STUDIO_EDITORS, kwargs=_event),
    "duties:event_publish": Rule(ok=STUDIO_EDITORS, ok_status=302, method="post", kwargs=_event),
    "duties:event_cancel": Rule(
        ok=STUDIO_EDITORS, ok_status=302, method="post", kwargs=_event, data={"reason": "台风"}
    ),
    "duties:event_record": Rule(ok=STUDIO_EDITORS, kwargs=_event),
    "duties:public_events": Rule(ok=ALL, anonymous=200),
    "duties:studio_calendar": Rule(ok=ALL, anonymous=200, kwargs=_studio),
    "duties:representative_calendar": Rule(ok=ALL, anonymous=200, kwargs=_rep),
    "duties:activity_month": Rule(ok=ALL),
    "duties:activity_month_edit": Rule(
        ok={"admin", "city_official"}, kwargs=lambda w: {"year": 2026}
    ),
    # Compliance: every official sees their own subtree (the outsider 梅沙街道 too), a
    # liaison their studio, a representative their own; a handling unit has no duties.
    "duties:compliance": Rule(ok=ALL - {"handling_unit_staff"}),
    # API tokens (issue 6): those who manage accounts issue tokens; a token is visible
    # and revocable to whoever may edit its (service) account.
    "apitokens:list": Rule(ok=OFFICIALS_OF_SHATOUJIAO | {"outsider"}),
    "apitokens:create": Rule(ok=OFFICIALS_OF_SHATOUJIAO | {"outsider"}),
    "apitokens:detail": Rule(ok=OFFICIALS_OF_SHATOUJIAO, kwargs=_street_token),
    # The page after the issue post: the secret if this session just issued it.
    "apitokens:issued": Rule(ok=OFFICIALS_OF_SHATOUJIAO, kwargs=_street_token),
    "apitokens:revoke": Rule(
        ok=OFFICIALS_OF_SHATOUJIAO, ok_status=302, method="post", kwargs=_street_token
    ),
    # Documents (issue 5): the two case PDFs carry the reporter's full details, so they
    # follow cases:reporter; the duty record follows duties:duty_record.
    "documents:case_form": Rule(ok=SCOPED_READERS, kwargs=_case),
    "documents:case_ledger": Rule(ok=SCOPED_READERS, kwargs=_case),
    "documents:duty_record": Rule(ok=SCOPED_READERS, kwargs=_rep),
    # The studio's ledger follows studios:detail (reporters masked as on the ledger page);
    # the bi-monthly report follows duties:report_detail.
    "documents:studio_ledger": Rule(ok=SCOPED_READERS, kwargs=_studio),
    "documents:bimonthly_report": Rule(ok=SCOPED_READERS, kwargs=_report),
    # Exports: everyone exports the lists they see (rows scoped like the screen); a job
    # and its file are their owner's only. Imports: officials, as on the create pages.
    "documents:export": Rule(ok=ALL, kwargs=lambda w: {"kind": "cases"}),
    "documents:export_job": Rule(ok={"liaison"}, kwargs=_export_job),
    "documents:export_download": Rule(ok={"liaison"}, kwargs=lambda w: _export_job(w, done=True)),
    "documents:import": Rule(
        ok=OFFICIALS_OF_SHATOUJIAO | {"outsider"}, kwargs=lambda w: {"kind": "studios"}
    ),
    "documents:import_template": Rule(
        ok=OFFICIALS_OF_SHATOUJIAO | {"outsider"}, kwargs=lambda w: {"kind": "studios"}
    ),
    "documents:import_detail": Rule(ok={"street_official"}, kwargs=_import_check),
    "documents:import_commit": Rule(
        ok={"street_official"}, ok_status=400, method="post", kwargs=_import_check
    ),
    # The online studio (issue 6): public pages, the same for everyone logged in or not.
    # A case is shown only to a session that proved the progress code (tests/online), so
    # without one the progress pages answer 403 and the steps that need a draft or a
    # code redirect. No demo representative has a photo: 404 for all.
    "online:find": Rule(ok=ALL, anonymous=200),
    "online:studio": Rule(ok=ALL, anonymous=200, kwargs=_studio),
    "online:photo": Rule(ok=set(), anonymous=404, kwargs=_rep),
    "online:report_form": Rule(ok=ALL, anonymous=200, kwargs=_studio),
    "online:report_check": Rule(ok=ALL, ok_status=302, anonymous=302, kwargs=_studio),
    "online:report_done": Rule(ok=ALL, ok_status=302, anonymous=302),
    "online:report_withdraw": Rule(ok=ALL, ok_status=403, anonymous=403, method="post"),
    "online:lookup": Rule(ok=ALL, anonymous=200),
    "online:code_request": Rule(ok=ALL, anonymous=200),
    "online:code_check": Rule(ok=ALL, ok_status=302, anonymous=302),
    "online:progress": Rule(ok=ALL, ok_status=403, anonymous=403),
    "online:progress_extend": Rule(ok=ALL, ok_status=403, anonymous=403, method="post"),
    "online:progress_rate": Rule(ok=ALL, ok_status=403, anonymous=403, method="post"),
    "online:progress_leave": Rule(ok=ALL, ok_status=302, anonymous=302, method="post"),
    # Dashboards (issue 5 item 3): every official sees their own unit (the outsider
    # 梅沙街道 too), a liaison their studio; representatives and handling units have none.
    "dashboards:overview": Rule(ok=OFFICIALS_OF_SHATOUJIAO | {"outsider", "liaison"}),
    # Audit trail (issue 7): the city organisation department only, not even the superuser.
    "audit:event_list": Rule(ok={"city_official"}),
    # Second factor (issue 7): anyone logged in may enrol a device; the code step sends an
    # account with nothing to verify back (302); the per-role policy is the city's.
    "twofactor:enrol": Rule(ok=ALL),
    "twofactor:verify": Rule(ok=ALL, ok_status=302),
    "twofactor:policy": Rule(ok={"city_official"}),
}


# --- evaluation (issue 5 item 4, SM 16 / CM 12) ------------------------------------------
# Organisation departments read every round and assess the studios in their scope; the
# city (and a superuser) opens, finalises, summarises and records the city committee's
# decision; the approved circular is for every department. Liaisons, representatives
# and handling units see nothing of it.


def _eval_round(w: Any) -> Any:
    from tests.evaluation.helpers import open_round

    return open_round()


def _eval_open(w: Any) -> dict[str, int]:
    return {"pk": _eval_round(w).pk}


def _eval_assessment(w: Any) -> dict[str, int]:
    from tests.evaluation.helpers import assessment

    return {"pk": assessment(_eval_round(w)).pk}


def _eval_drafting(w: Any) -> Any:
    """Every studio assessed, finalised by the city: version 2."""
    from minyi.evaluation.services import round_finalise
    from tests.evaluation.helpers import assess_all

    round = _eval_round(w)
    assess_all(round)
    return round_finalise(actor=_user("city"), round=round, version=round.version)


def _eval_submitted(w: Any) -> Any:
    """Submitted to the city committee: version 3."""
    from minyi.evaluation.services import round_submit

    round = _eval_drafting(w)
    return round_submit(actor=_user("city"), round=round, version=round.version)


def _eval_approved(w: Any) -> dict[str, int]:
    from minyi.evaluation.services import round_approve

    round = _eval_submitted(w)
    return {"pk": round_approve(actor=_user("city"), round=round, version=round.version).pk}


EVAL_OFFICIALS = OFFICIALS_OF_SHATOUJIAO | {"outsider"}
EVAL_CITY = {"admin", "city_official"}
RULES.update(
    {
        "evaluation:index": Rule(ok=EVAL_OFFICIALS),
        "evaluation:round_open": Rule(
            ok=EVAL_CITY, ok_status=302, method="post", data={"year": 2025}
        ),
        "evaluation:round": Rule(ok=EVAL_OFFICIALS, kwargs=_eval_open),
        "evaluation:round_refresh": Rule(
            ok=EVAL_CITY, ok_status=302, method="post", kwargs=_eval_open, data={"version": 1}
        ),
        # Studios without an outcome: the city is sent back with the reason.
        "evaluation:round_finalise": Rule(
            ok=EVAL_CITY, ok_status=302, method="post", kwargs=_eval_open, data={"version": 1}
        ),
        "evaluation:round_reopen": Rule(
            ok=EVAL_CITY,
            ok_status=302,
            method="post",
            kwargs=lambda w: {"pk": _eval_drafting(w).pk},
            data={"version": 2},
        ),
        "evaluation:assessment": Rule(ok=OFFICIALS_OF_SHATOUJIAO, kwargs=_eval_assessment),
        "evaluation:summary": Rule(ok=EVAL_CITY, kwargs=_eval_open),
        "evaluation:summary_pdf": Rule(ok=EVAL_CITY, kwargs=_eval_open),
        "evaluation:summary_xlsx": Rule(ok=EVAL_CITY, kwargs=_eval_open),
        "evaluation:circular": Rule(ok=EVAL_CITY, kwargs=lambda w: {"pk": _eval_drafting(w).pk}),
        "evaluation:circular_edit": Rule(
            ok=EVAL_CITY,
            ok_status=302,
            method="post",
            kwargs=lambda w: {"pk": _eval_drafting(w).pk},
            data={"version": 2, "title": "关于年度评估情况的通报", "body": "正文"},
        ),
        "evaluation:round_submit": Rule(
            ok=EVAL_CITY,
            ok_status=302,
            method="post",
            kwargs=lambda w: {"pk": _eval_drafting(w).pk},
            data={"version": 2},
        ),
        "evaluation:round_return": Rule(
            ok=EVAL_CITY,
            ok_status=302,
            method="post",
            kwargs=lambda w: {"pk": _eval_submitted(w).pk},
            data={"version": 3, "note": "请补充整改要求"},
        ),
        "evaluation:round_approve": Rule(
            ok=EVAL_CITY,
            ok_status=302,
            method="post",
            kwargs=lambda w: {"pk": _eval_submitted(w).pk},
            data={"version": 3},
        ),
        # Once approved the circular goes to every organisation department.
        "evaluation:circular_pdf": Rule(ok=EVAL_OFFICIALS, kwargs=_eval_approved),
        "evaluation:circular_xlsx": Rule(ok=EVAL_OFFICIALS, kwargs=_eval_approved),
    }
)


def _url_names(resolver: URLResolver | None = None, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            # The API (namespace "api") authenticates by token, not session: its
            # per-endpoint access tests are in tests/api/.
            if entry.namespace in ("admin", "api"):
                continue
            ns = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            names |= _url_names(entry, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(f"{prefix}{entry.name}")
        else:
            names.add(f"{prefix}<unnamed {entry.pattern}>")
    return names


def test_every_url_has_a_declared_rule() -> None:
    undeclared = _url_names() - set(RULES)
    assert not undeclared, (
        f"URLs without an access rule in tests/test_access_matrix.py: {undeclared}"
    )
    assert not set(RULES) - _url_names(), "rules for URLs that no longer exist"


@pytest.mark.django_db
@pytest.mark.parametrize("persona", list(PERSONAS))
@pytest.mark.parametrize("name", sorted(RULES))
def test_each_persona_gets_the_declared_status(world: Any, persona: str, name: str) -> None:
    rule = RULES[name]
    client = Client()
    username = PERSONAS[persona]
    if username:
        client.force_login(_user(username))
    url = reverse(name, kwargs=rule.kwargs(world) if rule.kwargs else None)
    response = getattr(client, rule.method)(url, rule.data)
    assert response.status_code == rule.expected(persona), (
        f"{persona} {rule.method.upper()} {url}: got {response.status_code}, "
        f"expected {rule.expected(persona)}"
    )


def _user(username: str) -> Any:
    from minyi.people.models import User

    return User.objects.get(username=username)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", list(PERSONAS))
def test_admin_is_for_superusers_only(world: Any, persona: str) -> None:
    client = Client()
    if username := PERSONAS[persona]:
        client.force_login(_user(username))
    response = client.get("/admin/")
    assert response.status_code == (200 if persona == "admin" else 302)


# --- the open API (issue 6/7): every operation of the OpenAPI document, for a token of
# every persona's account. No token is 401; out of scope and steps the role can never
# take are 404, as on screen. Bodies are valid where the data can be static.


@dataclass
class ApiRule:
    ok: set[str]
    ok_status: int = 200
    other: int = 404
    kwargs: Callable[[Any], dict[str, Any]] | None = None
    body: dict[str, Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    exceptions: dict[str, int] = field(default_factory=dict)

    def expected(self, persona: str) -> int:
        if persona == "anonymous":
            return 401
        if persona in self.exceptions:
            return self.exceptions[persona]
        return self.ok_status if persona in self.ok else self.other


def _api_case_body(w: Any) -> dict[str, Any]:
    return {
        "studio_id": Studio.objects.get(name="沙头角社区党代表工作室").pk,
        "representative_id": Representative.objects.get(name="演示代表·陈明").pk,
        "channel": "other",
        "channel_note": "12345工单",
        "received_on": "2026-03-04",
        "reporter_name": "演示居民·李阿姨",
        "reporter_phone": "13800005678",
        "summary": "小区路灯损坏",
        "content": "三栋门口路灯坏了两周。",
    }


def _api_event_body(w: Any) -> dict[str, Any]:
    from datetime import timedelta

    from django.utils import timezone

    start = timezone.now() + timedelta(days=20)
    return {
        "studio_id": Studio.objects.get(name="沙头角社区党代表工作室").pk,
        "kind": "forum",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=3)).isoformat(),
    }


def _api_event_edit_body(w: Any) -> dict[str, Any]:
    """The event `_event` just made, edited, with the version it has now."""
    from minyi.core import stale
    from minyi.duties.models import Event

    event = Event.objects.latest("pk")
    return {**_api_event_body(w), "version": stale.token(event.updated_at)}


def _api_visit_body(w: Any) -> dict[str, Any]:
    return {
        "representative_id": Representative.objects.get(name="演示代表·陈明").pk,
        "community_id": w["440308003006"].pk,
        "visited_on": "2026-03-04",
        "household": "演示·王先生家",
        "address": "沙头角演示小区 3 栋 501",
    }


def _unit_id(w: Any) -> int:
    return HandlingUnit.objects.get(name="沙头角街道城市管理办公室").pk


API_RULES: dict[tuple[str, str], ApiRule] = {
    ("GET", "/cases"): ApiRule(ok=ALL),
    # The outsider may register, but not at 沙头角's studio (422); a handling unit
    # registers nowhere (404, as the registration page).
    ("POST", "/cases"): ApiRule(
        ok=OFFICIALS_OF_SHATOUJIAO | {"liaison", "representative"},
        ok_status=201,
        body=_api_case_body,  # type: ignore[arg-type]
        exceptions={"outsider": 422},
    ),
    ("GET", "/cases/{case_id}"): ApiRule(ok=SCOPED_READERS, kwargs=_case),
    # The reporter's full view: whom the page's full view allows (cases:reporter).
    ("POST", "/cases/{case_id}/reveal"): ApiRule(ok=SCOPED_READERS, kwargs=_case, body={}),
    ("POST", "/cases/{case_id}/confirm"): ApiRule(
        ok=STUDIO_PEOPLE, kwargs=_case, body={"who": "representative"}
    ),
    ("POST", "/cases/{case_id}/send"): ApiRule(
        ok=STUDIO_PEOPLE | {"street_official"}, kwargs=_case, body={}
    ),
    ("POST", "/cases/{case_id}/carry-forward"): ApiRule(
        ok=STUDIO_PEOPLE, kwargs=_case, body={"form": "建议", "note": "闭会期间提出"}
    ),
    ("POST", "/cases/{case_id}/note"): ApiRule(
        ok=STUDIO_PEOPLE | {"street_official"}, kwargs=_case, body={"text": "已电话告知"}
    ),
    ("POST", "/cases/{case_id}/refer"): ApiRule(
        ok=HOLDER,
        kwargs=_case_at_department,
        body=lambda w: {"handling_unit_id": _unit_id(w)},  # type: ignore[arg-type]
    ),
    ("POST", "/cases/{case_id}/escalate"): ApiRule(
        ok=HOLDER, kwargs=_case_at_department, body={"reason": "超出街道权限"}
    ),
    ("POST", "/cases/{case_id}/consult"): ApiRule(
        ok=HOLDER | {"representative"},
        kwargs=_case_at_department,
        body={"held_on": "2026-03-06", "attendees": "反映人、陈明代表", "minutes": "约定时段"},
    ),
    ("POST", "/cases/{case_id}/return"): ApiRule(
        ok=UNIT, kwargs=_case_with_unit, body={"reason": "属区住建局职责"}
    ),
    ("POST", "/cases/{case_id}/extension"): ApiRule(
        ok=UNIT, kwargs=_case_with_unit, body={"reason": "需协调多个部门"}
    ),
    ("POST", "/cases/{case_id}/plan"): ApiRule(
        ok=UNIT, kwargs=_case_with_unit, body={"plan": "本周内现场执法"}
    ),
    ("POST", "/cases/{case_id}/answer"): ApiRule(
        ok=UNIT, kwargs=_case_with_unit, body={"text": "已责令停工。", "result": "已解决"}
    ),
    ("POST", "/cases/{case_id}/urge"): ApiRule(
        ok=HOLDER, kwargs=_case_with_unit, body={"note": "请尽快答复"}
    ),
    ("POST", "/cases/{case_id}/extension/decide"): ApiRule(
        ok=HOLDER | {"representative"},
        kwargs=_case_extension_requested,
        body={"consent": True, "note": "党代表电话表示同意"},
    ),
    ("POST", "/cases/{case_id}/evaluate"): ApiRule(
        ok=HOLDER,
        kwargs=_case_answered,
        body={"rating": "satisfied", "reporter_confirmed": True},
    ),
    ("GET", "/studios"): ApiRule(ok=ALL),
    ("GET", "/studios/{studio_id}"): ApiRule(ok=SCOPED_READERS, kwargs=_studio),
    ("GET", "/handling-units"): ApiRule(ok=ALL),
    ("GET", "/representatives"): ApiRule(ok=ALL),
    ("GET", "/representatives/{representative_id}"): ApiRule(ok=SCOPED_READERS, kwargs=_rep),
    ("GET", "/events"): ApiRule(ok=ALL),
    ("GET", "/events/{event_id}"): ApiRule(ok=SCOPED_READERS, kwargs=_event),
    # Writing events: the studio's editors, as on the event pages. 梅沙街道 may create,
    # but 沙头角's studio is not among its choices (422).
    ("POST", "/events"): ApiRule(
        ok=STUDIO_EDITORS,
        ok_status=201,
        body=_api_event_body,  # type: ignore[arg-type]
        exceptions={"outsider": 422},
    ),
    ("POST", "/events/{event_id}/edit"): ApiRule(
        ok=STUDIO_EDITORS,
        kwargs=_event,
        body=_api_event_edit_body,  # type: ignore[arg-type]
    ),
    ("POST", "/events/{event_id}/publish"): ApiRule(ok=STUDIO_EDITORS, kwargs=_event, body={}),
    ("POST", "/events/{event_id}/cancel"): ApiRule(
        ok=STUDIO_EDITORS, kwargs=_event, body={"reason": "台风"}
    ),
    # Household visits: as on the visit pages. 梅沙街道 records, but not for 沙头角's
    # representative (422); a handling unit records nowhere (404).
    ("GET", "/household-visits"): ApiRule(ok=ALL),
    ("GET", "/household-visits/{visit_id}"): ApiRule(ok=SCOPED_READERS, kwargs=_household_visit),
    ("POST", "/household-visits"): ApiRule(
        ok=SCOPED_READERS,
        ok_status=201,
        body=_api_visit_body,  # type: ignore[arg-type]
        exceptions={"outsider": 422},
    ),
    ("POST", "/household-visits/{visit_id}/correct"): ApiRule(
        ok=SCOPED_READERS, kwargs=_household_visit, body={"version": 1, "notes": "补充走访情况"}
    ),
    ("POST", "/household-visits/{visit_id}/withdraw"): ApiRule(
        ok=SCOPED_READERS, kwargs=_household_visit, body={"version": 1, "reason": "重复登记"}
    ),
    # The duty side, read-only: as the plan, report and duty record pages.
    ("GET", "/annual-plans"): ApiRule(ok=ALL),
    ("GET", "/annual-plans/{plan_id}"): ApiRule(ok=SCOPED_READERS, kwargs=_plan),
    ("GET", "/bimonthly-reports"): ApiRule(ok=ALL),
    ("GET", "/bimonthly-reports/{report_id}"): ApiRule(ok=SCOPED_READERS, kwargs=_report),
    ("GET", "/representatives/{representative_id}/duty-record"): ApiRule(
        ok=SCOPED_READERS, kwargs=_rep
    ),
    ("GET", "/appointments"): ApiRule(ok=ALL),
    ("GET", "/appointments/{appointment_id}"): ApiRule(ok=SCOPED_READERS, kwargs=_appointment),
    # Appointment actions: the studio's editors, as on the appointment page. The event
    # has not started, so attendance is refused with the reason (409); linking needs a
    # case of that day at the studio (422).
    ("POST", "/appointments/{appointment_id}/reveal"): ApiRule(
        ok=STUDIO_EDITORS, kwargs=_appointment, body={}
    ),
    ("POST", "/appointments/{appointment_id}/confirm"): ApiRule(
        ok=STUDIO_EDITORS, kwargs=_appointment, body={}
    ),
    ("POST", "/appointments/{appointment_id}/cancel"): ApiRule(
        ok=STUDIO_EDITORS, kwargs=_appointment, body={"reason": "本人来电取消"}
    ),
    ("POST", "/appointments/{appointment_id}/no-show"): ApiRule(
        ok=STUDIO_EDITORS, ok_status=409, kwargs=_appointment, body={}
    ),
    ("POST", "/appointments/{appointment_id}/attended"): ApiRule(
        ok=STUDIO_EDITORS, ok_status=409, kwargs=_appointment, body={}
    ),
    ("POST", "/appointments/{appointment_id}/link-case"): ApiRule(
        ok=STUDIO_EDITORS, ok_status=422, kwargs=_appointment, body={"case_id": 999999}
    ),
    ("GET", "/calendar/deadline"): ApiRule(ok=ALL, params={"date": "2025-09-26", "days": 10}),
}


def _api_operations() -> set[tuple[str, str]]:
    from minyi.api.api import api

    paths = api.get_openapi_schema()["paths"]
    return {
        (method.upper(), path.removeprefix("/api/v1"))
        for path, operations in paths.items()
        for method in operations
    }


def test_every_api_operation_has_a_declared_rule() -> None:
    undeclared = _api_operations() - set(API_RULES)
    assert not undeclared, f"API operations without a rule in API_RULES: {undeclared}"
    assert not set(API_RULES) - _api_operations(), "rules for API operations that do not exist"


@pytest.mark.django_db
@pytest.mark.parametrize("persona", list(PERSONAS))
@pytest.mark.parametrize("operation", sorted(API_RULES))
def test_each_persona_token_gets_the_declared_status(
    world: Any, persona: str, operation: tuple[str, str]
) -> None:
    from minyi.api.models import ApiToken

    method, path = operation
    rule = API_RULES[operation]
    headers = {}
    if username := PERSONAS[persona]:
        _token, secret = ApiToken.issue(user=_user(username), name=f"矩阵 {persona}")
        headers["Authorization"] = f"Bearer {secret}"
    if rule.kwargs:
        (value,) = rule.kwargs(world).values()
        path = path.replace(path[path.index("{") : path.index("}") + 1], str(value))
    client = Client()
    if method == "GET":
        response = client.get(f"/api/v1{path}", rule.params, headers=headers)
    else:
        body = rule.body(world) if callable(rule.body) else (rule.body or {})
        response = client.post(
            f"/api/v1{path}", body, content_type="application/json", headers=headers
        )
    assert response.status_code == rule.expected(persona), (
        f"{persona} {method} {path}: got {response.status_code}, "
        f"expected {rule.expected(persona)}: {response.content[:300]!r}"
    )
