"""Representatives' duties at studios (SM 7–12, CM 4–8): the annual plan, published
events, appointments, household visits, the July activity month and the liaison's
bi-monthly report. What happened is recorded on the event; compliance is computed
from these rows (minyi.duties.compliance)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, F, Q
from django.db.models.functions import Greatest

from minyi.core.crypto import EncryptedCharField, MaskedNameField, PhoneDigestField
from minyi.core.links import pk_url
from minyi.core.models import ScopedQuerySet, StampedQuerySet, TimeStamped
from minyi.core.phones import mask_phone
from minyi.core.text_limits import ACCOUNT_MAX, DOCUMENT_MAX, NOTE_MAX, REPORT_MAX
from minyi.duties.references import REFERENCE_LENGTH, format_reference, new_reference

if TYPE_CHECKING:
    from minyi.people.scopes import Scope


def _studio_scope(scope: Scope, *, write: bool, prefix: str = "studio__") -> Q | None:
    """Rows that belong to a studio: a department's studios, a liaison's studio; a
    representative reads their studios' rows but changes none of them."""
    if scope.unit is not None:
        return scope.unit.subtree_q(f"{prefix}unit__")
    if not scope.studio_ids or (write and scope.representative_ids):
        return None
    return Q(**{f"{prefix}id__in": scope.studio_ids})


class PlanState(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已报审"
    APPROVED = "approved", "已批准"
    RETURNED = "returned", "退回修改"


class AnnualPlanQuerySet(StampedQuerySet):
    def scope_q(self, scope: Scope, *, write: bool) -> Q | None:
        return _studio_scope(scope, write=write)


class AnnualPlan(TimeStamped):
    """A studio's plan for a year (SM 10, 12.5): weekly openings and each assigned
    representative's sessions. Drafted by a liaison, approved by the department."""

    studio = models.ForeignKey("studios.Studio", on_delete=models.PROTECT, related_name="plans")
    year = models.PositiveIntegerField("年度")
    state = models.CharField(
        "状态", max_length=16, choices=PlanState.choices, default=PlanState.DRAFT
    )
    opening_weekday = models.PositiveSmallIntegerField(
        "每周开放日",
        validators=[MinValueValidator(0), MaxValueValidator(6)],
        help_text="0 为星期一，6 为星期日。",
    )
    opening_start = models.TimeField("开放开始时间")
    opening_end = models.TimeField("开放结束时间")
    place = models.CharField("地点", max_length=200, blank=True)
    notes = models.TextField("说明", blank=True, max_length=ACCOUNT_MAX)
    shortfall_reason = models.TextField(
        "未达最低要求的理由",
        blank=True,
        max_length=ACCOUNT_MAX,
        help_text="计划未达到办法规定的最低要求时，批准须写明理由。",
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_note = models.TextField("审批意见", blank=True, max_length=NOTE_MAX)
    expanded_at = models.DateTimeField("已生成活动安排", null=True, blank=True)

    objects = AnnualPlanQuerySet.as_manager()

    class Meta:
        verbose_name = "年度计划"
        verbose_name_plural = "年度计划"
        constraints = [
            models.UniqueConstraint(fields=["studio", "year"], name="plan_one_per_studio_year"),
            models.CheckConstraint(
                condition=Q(opening_end__gt=models.F("opening_start")),
                name="plan_opening_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.studio} {self.year}年度计划"


class PlannedSession(models.Model):
    """One representative's session in the plan (SM 9: at least once every two months)."""

    plan = models.ForeignKey(AnnualPlan, on_delete=models.CASCADE, related_name="sessions")
    representative = models.ForeignKey(
        "people.Representative", on_delete=models.PROTECT, related_name="planned_sessions"
    )
    date = models.DateField("日期")
    start = models.TimeField("开始时间")
    end = models.TimeField("结束时间")
    kind = models.CharField("活动方式", max_length=24, default="reception")
    theme = models.CharField("主题", max_length=200, blank=True)
    # The 加入计划 form's one-time key (minyi.core.once): that form sent twice adds one session.
    submission_key = models.UUIDField("提交标识", null=True, blank=True, editable=False)

    class Meta:
        ordering = ["date", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="session_ends_after_start"
            ),
            models.UniqueConstraint(
                fields=["submission_key"], name="session_unique_submission_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.representative} {self.date}"


class EventKind(models.TextChoices):
    """How representatives work at a studio (SM 8), plus the weekly opening (SM 10)."""

    OPENING = "opening", "工作室开放日"
    RECEPTION = "reception", "接待群众"
    INTERVIEW = "interview", "约谈"
    FORUM = "forum", "座谈"
    VISIT = "visit", "走访"
    SURVEY = "survey", "调研"
    POLL = "poll", "征询意见"


class EventState(models.TextChoices):
    PLANNED = "planned", "计划"
    PUBLISHED = "published", "已预告"
    HELD = "held", "已举行"
    CANCELLED = "cancelled", "已取消"


class EventQuerySet(StampedQuerySet):
    def published(self) -> EventQuerySet:
        return self.filter(state__in=[EventState.PUBLISHED, EventState.HELD])

    def with_places_left(self) -> EventQuerySet:
        """Each event's `places_left`: its capacity less the appointments holding a
        place, never below 0, worked out in the query so that a list of events costs no
        query per row."""
        booked = Count("appointments", filter=Q(appointments__state__in=HOLDING_A_PLACE))
        return self.annotate(places_left=Greatest(F("capacity") - booked, 0))

    def scope_q(self, scope: Scope, *, write: bool) -> Q | None:
        q = _studio_scope(scope, write=write)
        if scope.representative_ids and not write:
            mine = Q(representatives__in=scope.representative_ids)
            q = mine if q is None else q | mine
        return q


class Event(TimeStamped):
    """A dated activity at a studio: an opening, a session, an activity-month event.
    Publication is recorded; less than 7 days ahead needs a reason (SM 10, CM 8)."""

    studio = models.ForeignKey("studios.Studio", on_delete=models.PROTECT, related_name="events")
    plan = models.ForeignKey(
        AnnualPlan, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    kind = models.CharField("活动方式", max_length=16, choices=EventKind.choices)
    theme = models.CharField("主题", max_length=200, blank=True)
    starts_at = models.DateTimeField("开始时间")
    ends_at = models.DateTimeField("结束时间")
    place = models.CharField("地点", max_length=200, blank=True)
    representatives = models.ManyToManyField(
        "people.Representative", blank=True, related_name="events", verbose_name="参加党代表"
    )
    capacity = models.PositiveSmallIntegerField("可预约人数", default=0)
    activity_month = models.BooleanField("活动月活动", default=False)
    state = models.CharField(
        "状态", max_length=16, choices=EventState.choices, default=EventState.PLANNED
    )
    published_at = models.DateTimeField("预告时间", null=True, blank=True)
    late_reason = models.TextField("不足7天预告的理由", blank=True, max_length=NOTE_MAX)
    # What happened (issue: duties item 4).
    people_received = models.PositiveSmallIntegerField("接待人数", null=True, blank=True)
    summary = models.TextField("活动情况", blank=True, max_length=ACCOUNT_MAX)
    cancelled_reason = models.TextField("取消理由", blank=True, max_length=NOTE_MAX)

    # The one-time key of the page that created it (minyi.core.once): 新建活动 sent twice
    # makes one event.
    submission_key = models.UUIDField("提交标识", null=True, blank=True, editable=False)

    objects = EventQuerySet.as_manager()

    class Meta:
        verbose_name = "活动"
        verbose_name_plural = "活动"
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="event_ends_after_start"
            ),
            models.UniqueConstraint(fields=["submission_key"], name="event_unique_submission_key"),
        ]
        indexes = [
            models.Index(fields=["studio", "starts_at"], name="event_studio_start"),
            models.Index(fields=["state", "starts_at"], name="event_state_start"),
        ]

    def __str__(self) -> str:
        return f"{self.studio} {self.get_kind_display()} {self.starts_at:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return pk_url("duties:event_detail", self.pk)

    @property
    def hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600


class Attendance(models.Model):
    """A representative at an event: from when to when (SM 9's half a day)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="attendances")
    representative = models.ForeignKey(
        "people.Representative", on_delete=models.PROTECT, related_name="attendances"
    )
    arrived_at = models.DateTimeField("到达时间")
    left_at = models.DateTimeField("离开时间")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "representative"], name="attendance_once"),
            models.CheckConstraint(
                condition=Q(left_at__gt=models.F("arrived_at")),
                name="attendance_leaves_after_arrival",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.representative} @ {self.event}"


class AppointmentState(models.TextChoices):
    REQUESTED = "requested", "待确认"
    CONFIRMED = "confirmed", "已确认"
    CANCELLED = "cancelled", "已取消"
    NO_SHOW = "no_show", "未到"
    ATTENDED = "attended", "已接待"


class RequesterKind(models.TextChoices):
    PERSON = "person", "个人"
    COMPANY = "company", "企业"
    ORGANISATION = "organisation", "组织"


# The appointments that take one of an event's places.
HOLDING_A_PLACE = [
    AppointmentState.REQUESTED,
    AppointmentState.CONFIRMED,
    AppointmentState.ATTENDED,
]


class AppointmentQuerySet(ScopedQuerySet):
    def holding_a_place(self) -> AppointmentQuerySet:
        return self.filter(state__in=HOLDING_A_PLACE)

    def scope_q(self, scope: Scope, *, write: bool) -> Q | None:
        q = _studio_scope(scope, write=write, prefix="event__studio__")
        if scope.representative_ids and not write:
            mine = Q(preferred_representative__in=scope.representative_ids)
            q = mine if q is None else q | mine
        return q


class Appointment(TimeStamped):
    """约访: someone registers in advance to meet a representative (CM 8)."""

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="appointments")
    requester_kind = models.CharField(
        "预约方", max_length=16, choices=RequesterKind.choices, default=RequesterKind.PERSON
    )
    # Personal data (docs/personal-data.md), encrypted at rest as a reporter's name is.
    # Lists, the page and the API print the masked name kept beside it (王*, 沙******),
    # so a page of rows decrypts no name; the full name and phone only in the recorded
    # full view (AppointmentView). No search matches the name (docs/decisions.md). The
    # phone has no plain masked copy: it would keep seven of its eleven digits in the
    # clear (docs/decisions.md), so a list decrypts it to mask it.
    name = EncryptedCharField("姓名或单位名称", max_length=100)
    name_masked = MaskedNameField("姓名或单位名称（遮蔽）", max_length=100, source="name")
    phone = EncryptedCharField("联系电话", max_length=20)
    phone_digest = PhoneDigestField(source="phone")
    topic = models.CharField("反映事项", max_length=200)
    # What the resident quotes when they phone the studio, shown on their confirmation
    # and searched on the list. Random, not the pk: a sequential number would let anyone
    # who booked count the studio's bookings or guess another's (docs/decisions.md).
    reference = models.CharField(
        "预约号", max_length=REFERENCE_LENGTH, unique=True, editable=False, default=new_reference
    )
    preferred_representative = models.ForeignKey(
        "people.Representative",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appointments",
        verbose_name="希望约见的党代表",
    )
    state = models.CharField(
        "状态", max_length=16, choices=AppointmentState.choices, default=AppointmentState.REQUESTED
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="appointments"
    )
    cancel_reason = models.TextField("取消理由", blank=True, max_length=NOTE_MAX)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="登记取消、未到或已接待的人",
    )
    handled_at = models.DateTimeField("登记时间", null=True, blank=True)

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        verbose_name = "预约"
        verbose_name_plural = "预约"
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["event", "state"], name="appointment_event_state")]

    def __str__(self) -> str:
        return f"{self.name_masked} → {self.event}"

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone) if self.phone else ""

    @property
    def reference_display(self) -> str:
        return format_reference(self.reference)


class AppointmentView(models.Model):
    """Every full view of whoever booked an appointment (name and phone): who, when,
    which appointment; the same rule as for a reporter's details
    (minyi.cases.models.PersonalDataView)."""

    appointment = models.ForeignKey(
        Appointment, on_delete=models.PROTECT, related_name="booker_views"
    )
    viewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    purpose = models.CharField(max_length=100, blank=True)

    class Meta:
        indexes = [models.Index(fields=["appointment", "at"], name="apptview_appointment_at")]

    def __str__(self) -> str:
        return f"{self.viewer} 查看 {self.appointment}"


class HouseholdVisitQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope, *, write: bool) -> Q | None:
        if scope.unit is not None:
            return scope.unit.subtree_q("community__")
        if scope.representative_ids:
            return Q(representative__in=scope.representative_ids)
        if scope.studio_ids and not write:
            # A sub-query, not a join: a representative with two periods here (left and
            # came back) would list each visit twice.
            from minyi.studios.models import StudioAssignment

            ever = StudioAssignment.objects.filter(studio_id__in=scope.studio_ids)
            return Q(representative__in=ever.values("representative_id"))
        if scope.studio_ids:
            # The liaison keeps the studio's duty records: they change the visits of the
            # representatives now assigned to it (minyi.duties.visits).
            from minyi.studios.models import StudioAssignment

            assigned = StudioAssignment.objects.filter(
                studio_id__in=scope.studio_ids, active=True
            ).values("representative_id")
            return Q(representative__in=assigned)
        if scope.stands_in:
            # A community's stand-in liaison (CM 7): the visits in the community of the
            # representatives linked to it, read and changed alike (minyi.duties.visits).
            from minyi.people.models import Representative

            linked = Representative.linked_communities.through.objects.filter(
                orgunit_id__in=scope.unit_ids
            ).values("representative_id")
            return Q(community_id__in=scope.unit_ids, representative__in=linked)
        return None

    def counted(self) -> HouseholdVisitQuerySet:
        """The visits that count (CM 4): not withdrawn."""
        return self.filter(withdrawn_at__isnull=True)


class HouseholdVisit(TimeStamped):
    """入户走访 (CM 4: at least 10 a year for a city representative). The household's
    address is personal data, kept like a reporter's."""

    representative = models.ForeignKey(
        "people.Representative", on_delete=models.PROTECT, related_name="household_visits"
    )
    community = models.ForeignKey(
        "org.OrgUnit", on_delete=models.PROTECT, related_name="household_visits"
    )
    visited_on = models.DateField("走访日期")
    household = models.CharField("住户", max_length=100, help_text="如：王先生家")
    address = EncryptedCharField("住址", max_length=200)
    notes = models.TextField("走访情况", blank=True, max_length=ACCOUNT_MAX)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(
        "版本", default=1, help_text="每次修改加一；据此发现两人同时修改同一条走访。"
    )
    # A visit entered by mistake is withdrawn, not deleted: its address views stay
    # (HouseholdAddressView), and it no longer counts (minyi.duties.visits).
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_reason = models.CharField("撤回理由", max_length=200, blank=True)
    # The one-time key of the page that recorded it (minyi.core.once): the form sent twice
    # records one visit, which counts once towards the year's visits.
    submission_key = models.UUIDField("提交标识", null=True, blank=True, editable=False)

    objects = HouseholdVisitQuerySet.as_manager()

    class Meta:
        verbose_name = "入户走访"
        verbose_name_plural = "入户走访"
        ordering = ["-visited_on", "pk"]
        indexes = [models.Index(fields=["representative", "visited_on"], name="visit_rep_date")]
        constraints = [
            models.UniqueConstraint(fields=["submission_key"], name="visit_unique_submission_key")
        ]

    def __str__(self) -> str:
        return f"{self.representative} {self.visited_on}"


class ActivityMonth(TimeStamped):
    """July, the representatives' activity month, with the city's theme (CM 6)."""

    year = models.PositiveIntegerField("年度", unique=True)
    theme = models.CharField("主题", max_length=200)
    content = models.TextField("活动内容", max_length=DOCUMENT_MAX)

    class Meta:
        verbose_name = "活动月"
        verbose_name_plural = "活动月"
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year}年活动月：{self.theme}"


class ReportState(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已报送"
    ACKNOWLEDGED = "acknowledged", "已签收"


class BimonthlyReportQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope, *, write: bool) -> Q | None:
        return _studio_scope(scope, write=write)


class BimonthlyReport(TimeStamped):
    """The liaison's report of representatives' activities, every two months (SM 12.5).
    Period 1 is January–February, … 6 is November–December."""

    studio = models.ForeignKey("studios.Studio", on_delete=models.PROTECT, related_name="reports")
    year = models.PositiveIntegerField("年度")
    period = models.PositiveSmallIntegerField(
        "期次", validators=[MinValueValidator(1), MaxValueValidator(6)]
    )
    body = models.TextField("报告内容", max_length=REPORT_MAX)
    state = models.CharField(
        "状态", max_length=16, choices=ReportState.choices, default=ReportState.DRAFT
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = BimonthlyReportQuerySet.as_manager()

    class Meta:
        verbose_name = "双月报告"
        verbose_name_plural = "双月报告"
        constraints = [
            models.UniqueConstraint(
                fields=["studio", "year", "period"], name="report_one_per_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.studio} {self.year}年第{self.period}期"


class Notification(models.Model):
    """A message for one account in the system (e.g. "an appointment needs you").
    Written in the same transaction as the change it reports."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=200, blank=True)
    # A stable key for notifications that must be sent once only (periodic warnings);
    # the database refuses a second one even when two runs overlap.
    key = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "key"], condition=~Q(key=""), name="notification_once_per_key"
            )
        ]

    def __str__(self) -> str:
        return self.text


class NoticeStatus(models.TextChoices):
    # A notice being sent is pending with `claimed_at` set (minyi.core.outbox), as an
    # answer copy is: no status of its own (migration 0015 moved "sending" rows back).
    PENDING = "pending", "待发送"
    SENT = "sent", "已发短信"
    LOGGED = "logged", "已写入日志，未发短信"
    FAILED = "failed", "未能发出"


class BookerNotice(models.Model):
    """A text message to whoever booked, telling them the studio confirmed or cancelled
    their appointment: an outbox row written in the same transaction as the step and
    sent by `deliver_feedback` (cron), as answer copies are (minyi.duties.booker_notices).
    The text names no person: the date, the studio, the booking's reference, and for a
    cancellation its reason; the phone is read from the appointment when it is sent."""

    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="booker_notices"
    )
    text = models.CharField(max_length=300)
    status = models.CharField(
        max_length=16, choices=NoticeStatus.choices, default=NoticeStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "预约短信通知"
        verbose_name_plural = "预约短信通知"
        indexes = [models.Index(fields=["status", "id"], name="bookernotice_status")]

    def __str__(self) -> str:
        return self.text


class HouseholdAddressView(models.Model):
    """Every view of a visited household's full address: who, when, which visit; the
    same rule as for a reporter's details (minyi.cases.models.PersonalDataView)."""

    visit = models.ForeignKey(
        HouseholdVisit, on_delete=models.PROTECT, related_name="address_views"
    )
    viewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["visit", "at"], name="addressview_visit_at")]

    def __str__(self) -> str:
        return f"{self.viewer} 查看 {self.visit}"


class Tally(models.Model):
    """Derived, not a record: how many of one year's results had each status, as on
    `as_of`, so that a dashboard adds up a few numbers per studio instead of judging
    every studio of a city (minyi.duties.tallies). Rebuilt from the facts whenever
    they change; a tally is fresh when computed today and after its facts last changed.
    Not audited: nothing here is entered by anyone."""

    year = models.PositiveIntegerField()
    as_of = models.DateField()  # the `today` of the rules it was computed with
    computed_at = models.DateTimeField()  # when its facts were read
    dirtied_at = models.DateTimeField(null=True, blank=True)  # when they last changed
    red = models.PositiveIntegerField(default=0)
    amber = models.PositiveIntegerField(default=0)
    green = models.PositiveIntegerField(default=0)
    not_due = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class StudioTally(Tally):
    """A studio's own minimums (SM 10, SM 12.5) for a year."""

    studio = models.ForeignKey(
        "studios.Studio", on_delete=models.CASCADE, related_name="compliance_tallies"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["studio", "year"], name="studiotally_once"),
        ]

    def __str__(self) -> str:
        return f"{self.studio_id} {self.year}"


class RepresentativeTally(Tally):
    """A representative's minimums (SM 9, CM 4) for a year, wherever they were met."""

    representative = models.ForeignKey(
        "people.Representative", on_delete=models.CASCADE, related_name="compliance_tallies"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["representative", "year"], name="reptally_once"),
        ]

    def __str__(self) -> str:
        return f"{self.representative_id} {self.year}"
