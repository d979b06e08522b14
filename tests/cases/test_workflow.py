"""The life of an opinion along CM 10–12's routes, through the workflow services."""

from __future__ import annotations

from datetime import date, timedelta
from importlib import import_module
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from minyi.cases import services
from minyi.cases.access import can_see_reporter, permitted_actions
from minyi.cases.delivery import deliver_pending
from minyi.cases.models import (
    AnswerTimeliness,
    Case,
    DeliveryStatus,
    FeedbackCopy,
    Outcome,
    Recipient,
    Reminder,
    Satisfaction,
)
from minyi.cases.reminders import send_reminders
from minyi.cases.states import Action, CaseState, HolderLevel, TransitionNotAllowed
from minyi.duties.models import Notification
from minyi.org.models import HandlingUnit, OrgDepartment
from tests.cases.helpers import register
from tests.core.helpers import client_for

pytestmark = pytest.mark.django_db


def _on(day: date):
    return mock.patch("minyi.cases.services.today", return_value=day)


def _unit(name: str) -> HandlingUnit:
    return HandlingUnit.objects.get(name=name)


def _sent(case: Case, street_official) -> Case:
    return services.case_send_to_street(case=case, actor=street_official)


def test_an_opinion_answered_on_the_spot_is_closed_with_the_reporters_satisfaction(world, liaison):
    case = register(
        outcome=Outcome.ON_THE_SPOT,
        spot_answer="已当场解释垃圾清运时间。",
        spot_satisfaction=Satisfaction.SATISFIED,
    )
    assert case.state == CaseState.CLOSED
    assert case.final_rating == Satisfaction.SATISFIED
    assert [s.action for s in case.steps.all()] == [Action.REGISTER, Action.ANSWER_ON_SPOT]


def test_on_the_spot_needs_the_answer_and_the_satisfaction(world):
    with pytest.raises(ValidationError) as err:
        register(outcome=Outcome.ON_THE_SPOT, spot_answer="", spot_satisfaction="")
    assert "答复内容" in str(err.value)
    assert not Case.objects.exists()


def test_street_refers_to_a_street_unit_which_answers_within_ten_working_days(
    world, liaison, street_official, handling_unit_staff, representative
):
    case = register()
    case = _sent(case, liaison)
    assert case.holder_level == HolderLevel.STREET
    with _on(date(2026, 3, 6)):  # a Friday
        case = services.case_refer(
            case=case, actor=street_official, handling_unit=_unit("沙头角街道城市管理办公室")
        )
    assert case.state == CaseState.WITH_UNIT
    assert case.due_on == date(2026, 3, 20)  # 10 working days after Friday 6 March
    assert not case.due_provisional
    with _on(date(2026, 3, 19)):
        answer = services.case_answer(
            case=case, actor=handling_unit_staff, text="已责令工地停止夜间施工。"
        )
    assert answer.on_time
    case.refresh_from_db()
    assert case.state == CaseState.ANSWERED
    recipients = set(FeedbackCopy.objects.filter(answer=answer).values_list("recipient", flat=True))
    assert recipients == {
        Recipient.DEPARTMENT,
        Recipient.REPORTER,
        Recipient.REPRESENTATIVE,
        Recipient.STUDIO,
    }
    assert deliver_pending() == (1, 0)  # the three read in the system were delivered at once
    assert not FeedbackCopy.objects.exclude(status=DeliveryStatus.SENT).exists()
    services.case_evaluate(
        case=case,
        actor=street_official,
        rating=Satisfaction.SATISFIED,
        reporter_confirmed=True,
        representative_confirmed=True,
        street_head_confirmed=True,
    )
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED and case.final_rating == Satisfaction.SATISFIED


def test_escalation_runs_street_district_city_city_committee(
    world, liaison, street_official, admin_user
):
    case = _sent(register(), liaison)
    levels = []
    for _ in range(3):
        case = services.case_escalate(case=case, actor=admin_user, reason="超出本级职权")
        levels.append(case.holder_level)
    assert levels == [HolderLevel.DISTRICT, HolderLevel.CITY, HolderLevel.CITY_COMMITTEE]
    assert case.holder_department == OrgDepartment.objects.get(unit__code="4403")
    with pytest.raises(TransitionNotAllowed):
        services.case_escalate(case=case, actor=admin_user, reason="再上报")
    steps = list(case.steps.filter(action=Action.ESCALATE))
    assert [s.to_level for s in steps] == levels
    assert steps[0].from_department.unit.code == "440308003"


def test_the_district_refers_to_a_district_unit_only(world, liaison, admin_user):
    case = _sent(register(), liaison)
    with pytest.raises(ValidationError):
        services.case_refer(case=case, actor=admin_user, handling_unit=_unit("盐田区住房和建设局"))
    case = services.case_escalate(case=case, actor=admin_user, reason="涉及区住建部门")
    case = services.case_refer(
        case=case, actor=admin_user, handling_unit=_unit("盐田区住房和建设局")
    )
    assert case.handling_unit.name == "盐田区住房和建设局"


def test_a_unit_returns_a_case_outside_its_remit_and_the_department_reroutes_it(
    world, liaison, street_official, handling_unit_staff
):
    case = services.case_refer(
        case=_sent(register(), liaison),
        actor=street_official,
        handling_unit=_unit("沙头角街道城市管理办公室"),
    )
    with pytest.raises(ValidationError):
        services.case_return(case=case, actor=handling_unit_staff, reason=" ")
    case = services.case_return(case=case, actor=handling_unit_staff, reason="属住建部门职责")
    assert case.state == CaseState.AT_DEPARTMENT
    assert case.handling_unit is None and case.due_on is None
    assert case.holder_department.unit.code == "440308003"
    case = services.case_escalate(case=case, actor=street_official, reason="转区住建局")
    assert case.holder_level == HolderLevel.DISTRICT


def test_an_extension_needs_the_representatives_consent(
    world, liaison, street_official, handling_unit_staff, representative
):
    with _on(date(2026, 3, 6)):
        case = services.case_refer(
            case=_sent(register(), liaison),
            actor=street_official,
            handling_unit=_unit("沙头角街道城市管理办公室"),
        )
    case = services.case_request_extension(
        case=case, actor=handling_unit_staff, reason="需协调多个部门"
    )
    assert case.due_on == date(2026, 3, 20)
    refused = services.case_decide_extension(case=case, actor=representative, consent=False)
    assert refused.due_on == date(2026, 3, 20) and refused.due_days == 10
    case = services.case_request_extension(
        case=refused, actor=handling_unit_staff, reason="再次申请"
    )
    case = services.case_decide_extension(case=case, actor=representative, consent=True)
    assert case.due_days == 30
    assert case.due_on == date(2026, 4, 20)  # 30 working days, across Qingming (4–6 April)
    with pytest.raises(TransitionNotAllowed):
        services.case_request_extension(case=case, actor=handling_unit_staff, reason="还要延")


def test_an_official_records_the_consent_on_the_representatives_behalf_saying_how(
    world, liaison, street_official, handling_unit_staff, representative
):
    """The timeline names who recorded a step: a consent recorded by the department
    says it is the representative's, recorded for them, and how it was given; the
    representative's own consent reads as before."""
    with _on(date(2026, 3, 6)):
        case = services.case_refer(
            case=_sent(register(), liaison),
            actor=street_official,
            handling_unit=_unit("沙头角街道城市管理办公室"),
        )
    case = services.case_request_extension(case=case, actor=handling_unit_staff, reason="需协调")
    with pytest.raises(ValidationError) as err:
        services.case_decide_extension(case=case, actor=street_official, consent=True, note=" ")
    assert err.value.message_dict["note"] == [
        "代党代表记录时，请写明党代表是如何表示同意的（电话、书面或当面）。"
    ]
    assert Case.objects.get(pk=case.pk).due_days == 10  # nothing saved
    case = services.case_decide_extension(
        case=case, actor=street_official, consent=True, note="党代表电话表示同意"
    )
    assert case.due_days == 30
    step = case.steps.get(action=Action.CONSENT_EXTENSION)
    name = street_official.full_name or street_official.username
    assert step.actor == street_official
    assert step.text == f"（由{name}代为记录党代表的同意）\n党代表电话表示同意"

    other = services.case_refer(
        case=_sent(register(), liaison),
        actor=street_official,
        handling_unit=_unit("沙头角街道城市管理办公室"),
    )
    other = services.case_request_extension(case=other, actor=handling_unit_staff, reason="需协调")
    services.case_decide_extension(case=other, actor=representative, consent=True)
    assert other.steps.get(action=Action.CONSENT_EXTENSION).text == ""


def test_overdue_cases_are_flagged_once_to_the_referring_department(
    world, liaison, street_official
):
    with _on(date(2026, 3, 6)):
        case = services.case_refer(
            case=_sent(register(), liaison),
            actor=street_official,
            handling_unit=_unit("沙头角街道城市管理办公室"),
        )
    soon = send_reminders(date(2026, 3, 19))
    assert [r.case_id for r in soon.due_soon] == [case.pk] and not soon.overdue
    late = send_reminders(date(2026, 3, 23))
    assert [r.case_id for r in late.overdue] == [case.pk]
    assert late.overdue[0].department.unit.code == "440308003"
    again = send_reminders(date(2026, 3, 23))
    assert not again.overdue and not again.due_soon
    assert Reminder.objects.count() == 2


def test_reminders_and_urging_reach_the_unit_and_the_department_as_notifications(
    world, liaison, street_official, handling_unit_staff, outsider
):
    """The deadline job's reminders were rows no one was shown, and 督办 told the unit
    nothing: the unit is told of the coming deadline and of the urging, the street's
    officials of the overdue case; a second run of the job tells no one twice, and
    nobody outside the case hears of it."""
    with _on(date(2026, 3, 6)):
        case = services.case_refer(
            case=_sent(register(), liaison),
            actor=street_official,
            handling_unit=_unit("沙头角街道城市管理办公室"),
        )

    def inbox(user) -> list[str]:
        return list(Notification.objects.filter(recipient=user).values_list("text", flat=True))

    send_reminders(date(2026, 3, 19))
    send_reminders(date(2026, 3, 19))
    [soon] = inbox(handling_unit_staff)
    assert soon.startswith(f"【即将到期】案件{case.number}") and "3月20日前书面答复" in soon
    assert inbox(street_official) == []
    send_reminders(date(2026, 3, 23))
    send_reminders(date(2026, 3, 23))
    [late] = inbox(street_official)
    assert late.startswith(f"【已超期】案件{case.number}") and "请督办" in late
    assert len(inbox(handling_unit_staff)) == 1
    assert Notification.objects.get(recipient=street_official).url == case.get_absolute_url()

    services.case_urge(case=case, actor=street_official, note="请本周内答复")
    urged = inbox(handling_unit_staff)
    assert len(urged) == 2
    assert urged[0].startswith("【督办】") and case.number in urged[0]
    assert urged[0].endswith("督办意见：请本周内答复")
    assert inbox(outsider) == [] and inbox(liaison) == []
    # The unit reads them where every staff page's menu counts them.
    page = client_for(handling_unit_staff).get(reverse("duties:notification_list"))
    assert page.status_code == 200
    assert "【督办】" in page.content.decode() and "【即将到期】" in page.content.decode()


def test_the_reminder_command_is_safe_to_run_twice(world, liaison, street_official, capsys):
    with _on(date(2026, 3, 6)):
        services.case_refer(
            case=_sent(register(), liaison),
            actor=street_official,
            handling_unit=_unit("沙头角街道城市管理办公室"),
        )
    call_command("case_reminders", "--date", "2026-03-25")
    call_command("case_reminders", "--date", "2026-03-25")
    out = capsys.readouterr().out
    assert out.count("已超期") == 1
    assert "新超期督办 0 条" in out


def test_dissatisfied_sends_the_case_back_and_the_loop_is_counted(
    world, liaison, street_official, handling_unit_staff
):
    case = services.case_refer(
        case=_sent(register(), liaison),
        actor=street_official,
        handling_unit=_unit("沙头角街道城市管理办公室"),
    )
    services.case_answer(case=case, actor=handling_unit_staff, text="已口头提醒工地。")
    with pytest.raises(ValidationError):
        services.case_evaluate(
            case=case,
            actor=street_official,
            rating=Satisfaction.SATISFIED,
            reopen=True,
            reporter_confirmed=True,
            representative_confirmed=True,
            street_head_confirmed=True,
        )
    services.case_evaluate(
        case=case,
        actor=street_official,
        rating=Satisfaction.DISSATISFIED,
        reopen=True,
        reporter_confirmed=True,
        representative_confirmed=True,
        street_head_confirmed=True,
    )
    case.refresh_from_db()
    assert case.state == CaseState.WITH_UNIT and case.reopen_count == 1
    services.case_answer(
        case=case, actor=handling_unit_staff, text="已停工整改并张贴施工时间公告。"
    )
    services.case_evaluate(
        case=case,
        actor=street_official,
        rating=Satisfaction.SATISFIED,
        reporter_confirmed=True,
        representative_confirmed=True,
        street_head_confirmed=True,
    )
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED and case.final_rating == Satisfaction.SATISFIED
    assert list(case.evaluations.values_list("round", "rating")) == [
        (1, Satisfaction.DISSATISFIED),
        (2, Satisfaction.SATISFIED),
    ]


def test_steps_the_state_does_not_allow_are_refused_in_chinese(
    world, handling_unit_staff, street_official
):
    case = register()
    with pytest.raises(TransitionNotAllowed, match="不能进行“书面答复”"):
        services.case_answer(case=case, actor=handling_unit_staff, text="答复")
    with pytest.raises(TransitionNotAllowed, match="评议"):
        services.case_evaluate(
            case=case,
            actor=street_official,
            rating=Satisfaction.SATISFIED,
            reporter_confirmed=True,
            representative_confirmed=True,
            street_head_confirmed=True,
        )


def test_a_stale_version_is_refused_and_nothing_is_overwritten(world, liaison, street_official):
    case = register()
    loaded_version = case.version
    services.case_send_to_street(case=case, actor=liaison, version=loaded_version)
    with pytest.raises(services.CaseChanged):
        services.case_note(
            case=case, actor=street_official, text="迟到的备注", version=loaded_version
        )
    assert not case.steps.filter(action=Action.NOTE).exists()


def test_a_representative_may_carry_the_matter_forward_through_the_congress(world, representative):
    case = register()
    case = services.case_carry_forward(
        case=case, actor=representative, form="建议", note="闭会期间提出建议"
    )
    assert case.state == CaseState.CARRIED_FORWARD
    assert case.steps.last().text.startswith("建议")


def test_a_three_party_consultation_is_kept_with_its_minutes(world, liaison, street_official):
    case = _sent(register(), liaison)
    consultation = services.case_consult(
        case=case,
        actor=street_official,
        held_on=date(2026, 3, 10),
        attendees="反映人、演示代表·陈明、城管办",
        minutes="三方同意限定施工时间。",
    )
    assert consultation.case == case
    assert case.steps.filter(action=Action.CONSULT).exists()


def test_the_reporter_is_hidden_from_the_unit_on_request_and_from_a_unit_the_case_is_about(
    world, liaison, street_official, handling_unit_staff, outsider
):
    plain = services.case_refer(
        case=_sent(register(), liaison),
        actor=street_official,
        handling_unit=_unit("沙头角街道城市管理办公室"),
    )
    hidden = services.case_refer(
        case=_sent(register(hide_identity_from_unit=True), liaison),
        actor=street_official,
        handling_unit=_unit("沙头角街道城市管理办公室"),
    )
    about = services.case_refer(
        case=_sent(register(about_unit=_unit("沙头角街道城市管理办公室")), liaison),
        actor=street_official,
        handling_unit=_unit("沙头角街道城市管理办公室"),
    )
    assert can_see_reporter(handling_unit_staff, plain)
    assert not can_see_reporter(handling_unit_staff, hidden)
    assert not can_see_reporter(handling_unit_staff, about)
    assert can_see_reporter(street_official, hidden)
    assert can_see_reporter(liaison, hidden)
    assert not can_see_reporter(outsider, plain)


def test_a_unit_that_returned_a_case_no_longer_sees_its_reporter(
    world, liaison, street_official, handling_unit_staff
):
    """Outside its remit, the case is not the unit's to answer: it keeps the case in its
    list but no longer has the reporter's details (nor the full view)."""
    case = services.case_refer(
        case=_sent(register(), liaison),
        actor=street_official,
        handling_unit=_unit("沙头角街道城市管理办公室"),
    )
    assert can_see_reporter(handling_unit_staff, case)
    case = services.case_return(case=case, actor=handling_unit_staff, reason="不属本单位职责")
    assert case in Case.objects.for_user(handling_unit_staff)
    assert not can_see_reporter(handling_unit_staff, case)
    client = client_for(handling_unit_staff)
    assert client.post(reverse("cases:reporter", args=[case.pk])).status_code == 404


def test_each_role_may_take_only_its_own_steps(
    world, liaison, street_official, handling_unit_staff, outsider
):
    case = register()
    assert Action.SEND_TO_STREET in permitted_actions(liaison, case)
    assert not permitted_actions(handling_unit_staff, case)
    case = _sent(case, liaison)
    assert {Action.REFER, Action.ESCALATE} <= permitted_actions(street_official, case)
    assert Action.REFER not in permitted_actions(liaison, case)
    assert not permitted_actions(outsider, case)
    case = services.case_refer(
        case=case, actor=street_official, handling_unit=_unit("沙头角街道城市管理办公室")
    )
    assert {Action.ANSWER, Action.RETURN, Action.REQUEST_EXTENSION} <= permitted_actions(
        handling_unit_staff, case
    )


def test_handling_unit_staff_see_only_cases_referred_to_their_unit(
    world, liaison, street_official, handling_unit_staff
):
    register()
    referred = services.case_refer(
        case=_sent(register(), liaison),
        actor=street_official,
        handling_unit=_unit("沙头角街道城市管理办公室"),
    )
    assert list(Case.objects.for_user(handling_unit_staff)) == [referred]


def test_provisional_deadlines_are_recomputed_when_the_year_is_entered(
    world, liaison, street_official
):
    from minyi.workdays.models import CalendarYear, DayKind, SpecialDay
    from minyi.workdays.recompute import calendar_year_completed

    with _on(date(2031, 9, 26)):
        case = services.case_refer(
            case=_sent(register(received_on=date(2031, 9, 25)), liaison),
            actor=street_official,
            handling_unit=_unit("沙头角街道城市管理办公室"),
        )
    assert case.due_provisional
    provisional_due = case.due_on
    year, _ = CalendarYear.objects.update_or_create(year=2031, defaults={"complete": True})
    SpecialDay.objects.create(
        date=date(2031, 10, 1), kind=DayKind.HOLIDAY, name="国庆节", calendar_year=year
    )
    SpecialDay.objects.create(
        date=date(2031, 10, 2), kind=DayKind.HOLIDAY, name="国庆节", calendar_year=year
    )
    calendar_year_completed(2031)
    case.refresh_from_db()
    assert not case.due_provisional
    assert case.due_on > provisional_due


def test_the_home_page_names_the_missing_calendar_year(world, liaison, street_official):
    from django.test import Client

    with _on(date(2031, 9, 26)):
        services.case_refer(
            case=_sent(register(received_on=date(2031, 9, 25)), liaison),
            actor=street_official,
            handling_unit=_unit("沙头角街道城市管理办公室"),
        )
    client = Client()
    client.force_login(street_official)
    assert "2031年的节假日安排尚未完整录入" in client.get("/").content.decode()


def test_a_copy_that_cannot_be_delivered_is_retried_then_marked_failed(
    world, liaison, street_official, handling_unit_staff
):
    from minyi.cases.delivery import MAX_ATTEMPTS

    case = services.case_refer(
        case=_sent(register(), liaison),
        actor=street_official,
        handling_unit=_unit("沙头角街道城市管理办公室"),
    )
    answer = services.case_answer(case=case, actor=handling_unit_staff, text="已处理。")
    answer.copies.filter(recipient=Recipient.REPORTER).update(channel="sms-missing")
    for _ in range(MAX_ATTEMPTS):
        deliver_pending()
    copy = answer.copies.get(recipient=Recipient.REPORTER)
    assert copy.status == DeliveryStatus.FAILED and copy.attempts == MAX_ATTEMPTS
    assert "sms-missing" in copy.last_error
    assert answer.copies.filter(status=DeliveryStatus.SENT).count() == 3


def test_the_case_keeps_whether_its_answers_came_on_time(
    world, liaison, street_official, handling_unit_staff
):
    """The lists and dashboards count on-time and late answers from the case's own
    column; one late answer marks the case late even if a later one is on time."""
    case = services.case_refer(
        case=_sent(register(), liaison),
        actor=street_official,
        handling_unit=_unit("沙头角街道城市管理办公室"),
    )
    assert case.answer_timeliness == AnswerTimeliness.NONE
    with _on(case.due_on + timedelta(days=1)):
        services.case_answer(case=case, actor=handling_unit_staff, text="已口头提醒工地。")
    case.refresh_from_db()
    assert case.answer_timeliness == AnswerTimeliness.LATE
    services.case_evaluate(
        case=case,
        actor=street_official,
        rating=Satisfaction.DISSATISFIED,
        reopen=True,
        reporter_confirmed=True,
        representative_confirmed=True,
        street_head_confirmed=True,
    )
    case.refresh_from_db()
    with _on(case.due_on):
        answer = services.case_answer(case=case, actor=handling_unit_staff, text="已停工整改。")
    assert answer.on_time
    case.refresh_from_db()
    assert case.answer_timeliness == AnswerTimeliness.LATE


def test_the_migration_backfills_answer_timeliness_from_the_answers(
    world, liaison, street_official, handling_unit_staff
):
    from django.apps import apps as global_apps

    backfill = import_module("minyi.cases.migrations.0006_answer_timeliness").backfill
    cases = []
    for late in (False, True):
        case = services.case_refer(
            case=_sent(register(), liaison),
            actor=street_official,
            handling_unit=_unit("沙头角街道城市管理办公室"),
        )
        with _on(case.due_on + timedelta(days=1 if late else 0)):
            services.case_answer(case=case, actor=handling_unit_staff, text="已处理。")
        cases.append(case)
    unanswered = register()
    Case.objects.update(answer_timeliness="")
    backfill(global_apps, None)
    found = dict(Case.objects.values_list("pk", "answer_timeliness"))
    assert found[cases[0].pk] == AnswerTimeliness.ON_TIME
    assert found[cases[1].pk] == AnswerTimeliness.LATE
    assert found[unanswered.pk] == AnswerTimeliness.NONE
