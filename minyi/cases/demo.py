"""Demo opinions for `make run`, one at each stage of CM 9–12, so every case journey
can be walked in the demo. Built through the workflow services, then dated back so
that deadlines and the overdue list show something real. Idempotent: nothing is added
when the demo studio already has cases."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from minyi.cases import services
from minyi.cases.deadlines import set_deadline
from minyi.cases.delivery import deliver_pending
from minyi.cases.models import Case, Channel, Occasion, Outcome, Satisfaction
from minyi.cases.states import Action
from minyi.org.models import HandlingUnit
from minyi.people.models import Representative, User
from minyi.studios.models import Studio
from minyi.workdays.calendar import WorkCalendar

STUDIO = "沙头角社区党代表工作室"


def _data(summary: str, content: str, days_ago: int, **extra: object) -> dict[str, object]:
    data: dict[str, object] = {
        "channel": Channel.IN_PERSON,
        "occasion": Occasion.RECEPTION,
        "received_on": timezone.localdate() - timedelta(days=days_ago),
        "reporter_name": "演示居民·王大爷",
        "reporter_gender": "male",
        "reporter_age": 68,
        "reporter_phone": "+8613800005678",
        "reporter_home_address": "沙头角演示小区 3 栋 501（演示地址）",
        "summary": summary,
        "content": content,
        "outcome": Outcome.SENT_ON,
    }
    data.update(extra)
    return data


def _back_date(case: Case, *moments: tuple[date, time]) -> None:
    """Put the case's first steps, in the order they were taken, at these days and clock
    times: each at a plausible hour of the office day (the steps of an afternoon's work
    all showed the minute the demo was loaded, 13:40 on every one). Steps after the
    moments given keep the load's time. Demo data only: steps are never edited."""
    steps = list(case.steps.order_by("pk")[: len(moments)])
    for step, (day, clock) in zip(steps, moments, strict=True):
        step.at = timezone.make_aware(datetime.combine(day, clock))
    type(steps[0]).objects.bulk_update(steps, ["at"])


@transaction.atomic
def build_demo_cases() -> int:
    studio = Studio.objects.get(name=STUDIO)
    if Case.objects.filter(studio=studio).exists():
        return 0
    liaison = User.objects.get(username="liaison")
    street = User.objects.get(username="shatoujiao")
    unit_user = User.objects.get(username="unit")
    rep = Representative.objects.get(name="演示代表·陈明")
    urban = HandlingUnit.objects.get(name="沙头角街道城市管理办公室")
    calendar = WorkCalendar()

    def new(summary: str, content: str, days_ago: int, **extra: object) -> Case:
        return services.case_register(
            actor=liaison,
            studio=studio,
            representative=rep,
            data=_data(summary, content, days_ago, **extra),
        )

    today = timezone.localdate()

    def ago(days: int) -> date:
        return today - timedelta(days=days)

    # Registered (and answered) at the reception on the day it was received.
    spot = new(
        "垃圾清运时间咨询",
        "询问小区垃圾清运时间调整的原因。",
        20,
        outcome=Outcome.ON_THE_SPOT,
        spot_answer="已当场说明调整原因和新的清运时间。",
        spot_satisfaction=Satisfaction.SATISFIED,
    )
    _back_date(spot, (ago(20), time(9, 50)), (ago(20), time(10, 5)))
    lights = new(
        "楼道照明损坏",
        "3 栋楼道灯损坏两周，夜间出行不便。",
        2,
        reporter_name="演示居民·李阿姨",
        reporter_gender="female",
        reporter_age=72,
        reporter_phone="+8613800005679",
    )
    _back_date(lights, (ago(2), time(15, 20)))

    overdue = services.case_send_to_street(
        case=new("工地夜间施工噪声", "附近工地每晚十点后仍施工。", 25), actor=liaison
    )
    overdue = services.case_refer(case=overdue, actor=street, handling_unit=urban)
    # Referred about three weeks ago: now overdue, so it shows red on the lists.
    set_deadline(overdue, received=ago(21), days=10, calendar=calendar)
    overdue.save(update_fields=["unit_received_on", "due_on", "due_days", "due_provisional"])
    # Its timeline tells the same story: registered at the morning's reception on the day
    # it was received and sent on that afternoon, referred three weeks ago with the
    # deadline it has (not the load's day and the deadline a referral today would get).
    _back_date(
        overdue,
        (ago(25), time(10, 20)),
        (ago(25), time(16, 5)),
        (ago(21), time(9, 35)),
    )
    overdue.steps.filter(action=Action.REFER).update(due_on=overdue.due_on)

    answered = services.case_send_to_street(
        case=new(
            "占道经营影响通行",
            "菜市场门口摊贩占道，老人通行困难。",
            12,
            hide_identity_from_unit=True,
        ),
        actor=liaison,
    )
    # Registered and sent on the day it was received, referred the next day and answered
    # four days ago, each at its own office hour (the referral and the answer showed the
    # minute the demo was loaded), with the deadline and answer date that story gives.
    answered = services.case_refer(case=answered, actor=street, handling_unit=urban)
    set_deadline(answered, received=ago(11), days=10, calendar=calendar)
    answered.save(update_fields=["unit_received_on", "due_on", "due_days", "due_provisional"])
    answered.steps.filter(action=Action.REFER).update(due_on=answered.due_on)
    answer = services.case_answer(
        case=answered, actor=unit_user, text="已联合市场监管部门清理占道摊点，并安排每日巡查。"
    )
    answer.answered_on = ago(4)
    answer.on_time = answered.due_on is None or answer.answered_on <= answered.due_on
    answer.save(update_fields=["answered_on", "on_time"])
    _back_date(
        answered,
        (ago(12), time(11, 10)),
        (ago(12), time(14, 40)),
        (ago(11), time(9, 15)),
        (ago(4), time(15, 25)),
    )
    return Case.objects.filter(studio=studio).count()


def deliver_demo_copies() -> int:
    """Send the reporter's copies of the demo's answers once, as a `deliver_feedback` run
    would, so that a journey walker does not find them 待发送 for ever. Only copies on
    the console channel (written to the log; the case page says so, never 已送达): where
    MINYI_REPORTER_CHANNEL names a real gateway they wait for deliver_feedback like any
    other copy, and no demo number is sent a text message from here."""
    sent, _ = deliver_pending(where=Q(answer__case__studio__name=STUDIO, channel="console"))
    return sent
