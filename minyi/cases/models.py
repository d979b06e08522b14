"""Opinion cases (社情民意登记表, CM 9 and its annex) and their timeline."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models
from django.db.models import Q

from minyi.cases.states import Action, CaseState, HolderLevel
from minyi.core.crypto import EncryptedCharField, MaskedNameField, PhoneDigestField
from minyi.core.links import pk_url
from minyi.core.models import ScopedQuerySet, TimeStamped
from minyi.core.phones import display_phone, mask_phone
from minyi.core.sealed_files import UNSEALED, SealedFileField
from minyi.core.text_limits import ACCOUNT_MAX, DOCUMENT_MAX, NOTE_MAX

if TYPE_CHECKING:
    from minyi.people.scopes import Scope


class Channel(models.TextChoices):
    IN_PERSON = "in_person", "当面反映"
    PHONE = "phone", "电话反映"
    ONLINE = "online", "网上反映"
    OTHER = "other", "其他"


class Occasion(models.TextChoices):
    """Where the opinion was heard (CM 8, 9; SM 8)."""

    RECEPTION = "reception", "工作室接待"
    APPOINTMENT = "appointment", "预约约访"
    HOUSEHOLD_VISIT = "household_visit", "入户走访"
    PHONE_CALL = "phone_call", "电话"
    ONLINE_STUDIO = "online_studio", "网络工作室"
    OTHER = "other", "其他"


class Gender(models.TextChoices):
    MALE = "male", "男"
    FEMALE = "female", "女"
    UNSPECIFIED = "", "未填"


class Satisfaction(models.TextChoices):
    VERY_SATISFIED = "very_satisfied", "非常满意"
    SATISFIED = "satisfied", "满意"
    BASICALLY_SATISFIED = "basically_satisfied", "基本满意"
    DISSATISFIED = "dissatisfied", "不满意"


RATING_LABELS = dict(Satisfaction.choices)  # by value, as states.STATE_LABELS


class Outcome(models.TextChoices):
    ON_THE_SPOT = "on_the_spot", "当场答复"
    SENT_ON = "sent_on", "报送街道组织部门"


class AnswerTimeliness(models.TextChoices):
    """Whether the handling units' written answers came within their limits (CM 11):
    kept on the case when an answer is recorded, so the lists and dashboards count
    on-time and late answers without a sub-query per case."""

    NONE = "", "尚未答复"
    ON_TIME = "on_time", "均按期答复"
    LATE = "late", "有超期答复"


class TargetLevel(models.TextChoices):
    """The level the representative marks on the ledger form (annex 2)."""

    UNSPECIFIED = "", "未标注"
    STREET = "street", "街道组织部门"
    DISTRICT = "district", "区组织部门"
    CITY = "city", "市组织部门"


class CaseQuerySet(ScopedQuerySet):
    def open(self) -> CaseQuerySet:
        return self.filter(
            state__in=[
                CaseState.REGISTERED,
                CaseState.AT_DEPARTMENT,
                CaseState.WITH_UNIT,
                CaseState.ANSWERED,
            ]
        )

    def scope_q(self, scope: Scope, *, write: bool) -> Q | None:
        if scope.unit is not None:
            return scope.unit.area_q()
        if scope.handling_unit_id is not None:
            referred = CaseStep.objects.filter(
                action=Action.REFER, to_handling_unit_id=scope.handling_unit_id
            ).values("case_id")
            return Q(pk__in=referred)
        q = Q(studio_id__in=scope.studio_ids) if scope.studio_ids else Q(pk__in=[])
        if scope.representative_ids:
            q |= Q(representative_id__in=scope.representative_ids)
        return q


class CaseNumberCounter(models.Model):
    """The last serial issued for a number prefix and year. Locked and incremented in
    the transaction that inserts the case, so serials are gap-free and never reused."""

    prefix = models.CharField(max_length=120)
    year = models.PositiveIntegerField()
    last_serial = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["prefix", "year"], name="casecounter_unique_prefix_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.prefix}{self.year}: {self.last_serial}"


class Case(TimeStamped):
    number = models.CharField("编号", max_length=140, unique=True)
    number_prefix = models.CharField("编号前缀", max_length=120)
    year = models.PositiveIntegerField("年度")
    serial = models.PositiveIntegerField("序号")
    studio = models.ForeignKey(
        "studios.Studio", verbose_name="工作室", on_delete=models.PROTECT, related_name="cases"
    )
    # Where the case belongs: its studio's unit and, per level, that unit's ancestor or
    # the unit itself (OrgUnit.area_pointers). Stored on the case so that scoping and the
    # lists filter on one indexed column instead of joining case → studio → unit; they
    # follow the studio when the organisation changes (minyi.cases.areas,
    # docs/decisions.md). Null only above the studio's level (a district studio's case
    # has no street).
    area = models.ForeignKey(
        "org.OrgUnit",
        verbose_name="所属单元",
        null=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="+",
    )
    street = models.ForeignKey(
        "org.OrgUnit",
        verbose_name="所属街道",
        null=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # case_street_state_received leads with it
    )
    district = models.ForeignKey(
        "org.OrgUnit",
        verbose_name="所属区",
        null=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # case_district_state_received leads with it
    )
    city = models.ForeignKey(
        "org.OrgUnit",
        verbose_name="所属市",
        null=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # case_city_state_received leads with it
    )
    province = models.ForeignKey(
        "org.OrgUnit",
        verbose_name="所属省",
        null=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="+",
    )
    state = models.CharField(
        "状态", max_length=24, choices=CaseState.choices, default=CaseState.REGISTERED
    )
    version = models.PositiveIntegerField(
        "版本", default=1, help_text="每一步加一；据此发现两人同时办理同一案件。"
    )

    # Where and how it was heard.
    channel = models.CharField("反映方式", max_length=16, choices=Channel.choices)
    channel_note = models.CharField("反映方式说明", max_length=200, blank=True)
    occasion = models.CharField("来源", max_length=24, choices=Occasion.choices)
    received_on = models.DateField("反映日期", help_text="纸质登记表补录时填原始日期。")
    category = models.CharField("类别", max_length=50, blank=True)

    # The reporter (annex note 2, annex 2). Personal data: see docs/personal-data.md.
    # The name is encrypted at rest; lists print the masked form kept beside it, so a
    # page of rows decrypts no name (docs/decisions.md).
    reporter_name = EncryptedCharField("反映人姓名", max_length=50)
    reporter_name_masked = MaskedNameField("反映人姓名（遮蔽）", source="reporter_name")
    reporter_gender = models.CharField(
        "性别", max_length=8, choices=Gender.choices, blank=True, default=Gender.UNSPECIFIED
    )
    reporter_age = models.PositiveSmallIntegerField(
        "年龄",
        null=True,
        blank=True,
        validators=[
            MinValueValidator(1, "年龄应在 1 到 120 岁之间。"),
            MaxValueValidator(120, "年龄应在 1 到 120 岁之间。"),
        ],
    )
    # Phones and addresses are encrypted too; the digests find a reporter by phone
    # (minyi.core.crypto.phone_digest).
    reporter_phone = EncryptedCharField("联系电话", max_length=20, blank=True)
    reporter_phone_digest = PhoneDigestField(source="reporter_phone")
    reporter_employer = EncryptedCharField("工作单位", max_length=100, blank=True)
    reporter_employer_address = EncryptedCharField("单位地址", max_length=200, blank=True)
    reporter_home_address = EncryptedCharField("家庭住址", max_length=200, blank=True)
    reporter_home_phone = EncryptedCharField("住宅电话", max_length=20, blank=True)
    reporter_home_phone_digest = PhoneDigestField(source="reporter_home_phone")
    hide_identity_from_unit = models.BooleanField(
        "对承办单位保密身份",
        default=False,
        help_text="反映人要求承办单位看不到其身份和联系方式。",
    )
    about_unit = models.ForeignKey(
        "org.HandlingUnit",
        verbose_name="所反映的单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases_about",
        help_text="反映的是某个单位的问题时填写：该单位永远看不到反映人的身份、联系方式和附件。",
    )

    summary = models.CharField("内容摘要", max_length=200)
    content = models.TextField("反映内容", max_length=DOCUMENT_MAX)

    # The representative (annex notes 5, 7), with the details as they were that day.
    representative = models.ForeignKey(
        "people.Representative",
        verbose_name="接待党代表",
        on_delete=models.PROTECT,
        related_name="cases",
    )
    representative_name = models.CharField("党代表姓名", max_length=50)
    representative_position = models.CharField("党代表职务", max_length=100, blank=True)
    representative_contact = EncryptedCharField("党代表联系方式", max_length=20, blank=True)
    target_level = models.CharField(
        "建议报送",
        max_length=16,
        choices=TargetLevel.choices,
        blank=True,
        default=TargetLevel.UNSPECIFIED,
    )

    outcome = models.CharField("处理结果", max_length=16, choices=Outcome.choices)
    spot_answer = models.TextField("当场答复内容", blank=True, max_length=ACCOUNT_MAX)
    spot_satisfaction = models.CharField(
        "反映人对当场答复的满意度", max_length=24, choices=Satisfaction.choices, blank=True
    )

    answer_timeliness = models.CharField(
        "答复是否按期",
        max_length=8,
        choices=AnswerTimeliness.choices,
        blank=True,
        default=AnswerTimeliness.NONE,
        editable=False,
    )

    representative_confirmed_at = models.DateTimeField("党代表确认时间", null=True, blank=True)
    representative_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reporter_confirmed_at = models.DateTimeField("反映人确认时间", null=True, blank=True)
    reporter_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="记录反映人当面确认的工作人员。",
    )

    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+"
    )
    # The one-time key of the page that sent the registration (minyi.core.once): a form
    # sent twice (a double click, a resend) carries the same key, and the unique
    # constraint refuses the second case. None for the API (its Idempotency-Key) and
    # for cases registered by commands or before the key existed.
    submission_key = models.UUIDField("提交标识", null=True, blank=True, editable=False)

    # Who holds it now (CM 10, 11).
    holder_level = models.CharField(
        "当前组织部门层级", max_length=16, choices=HolderLevel.choices, blank=True
    )
    holder_department = models.ForeignKey(
        "org.OrgDepartment",
        verbose_name="当前组织部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="held_cases",
    )
    handling_unit = models.ForeignKey(
        "org.HandlingUnit",
        verbose_name="当前承办单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    unit_received_on = models.DateField("承办单位收件日期", null=True, blank=True)
    due_on = models.DateField("答复期限", null=True, blank=True)
    due_days = models.PositiveSmallIntegerField("期限（工作日）", null=True, blank=True)
    due_provisional = models.BooleanField("期限为暂定", default=False)
    extension_requested = models.BooleanField("已申请延期", default=False)
    extension_reason = models.TextField("延期理由", blank=True, max_length=NOTE_MAX)
    reopen_count = models.PositiveSmallIntegerField("不满意重办次数", default=0)
    final_rating = models.CharField(
        "评议结果", max_length=24, choices=Satisfaction.choices, blank=True
    )
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    anonymised_at = models.DateTimeField(
        "个人信息匿名化时间",
        null=True,
        blank=True,
        help_text="保存期满后反映人的个人信息已匿名化（anonymise_closed_cases）。",
    )

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = "社情民意登记表"
        verbose_name_plural = "社情民意登记表"
        ordering = ["-received_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["number_prefix", "year", "serial"], name="case_unique_serial"
            ),
            models.UniqueConstraint(fields=["submission_key"], name="case_unique_submission_key"),
        ]
        indexes = [
            # A number typed online by its year and serial (minyi.online.numbers): the
            # unique (prefix, year, serial) index cannot serve a prefix typed in part.
            models.Index(fields=["year", "serial"], name="case_year_serial"),
            models.Index(fields=["state", "due_on"], name="case_state_due"),
            models.Index(fields=["studio", "received_on"], name="case_studio_received"),
            # A unit's own work (minyi.cases.summary.unit_work_q): the cases with it,
            # and of those the overdue and the soon due, as one range read.
            models.Index(fields=["handling_unit", "state", "due_on"], name="case_unit_state_due"),
            models.Index(fields=["holder_department", "state"], name="case_holder_state"),
            models.Index(fields=["final_rating"], name="case_rating"),
            # The dashboards' year (received_on) with every column their GROUP BYs and
            # scope read, so that each chart is an index-only range read instead of a
            # pass over the table (500,000 cases: six GROUP BYs 5.4 s → 0.9 s). It also
            # serves everything the plain (received_on) index did. Keep it in step with
            # minyi.dashboards.stats.
            models.Index(
                fields=[
                    "received_on",
                    "city",
                    "district",
                    "street",
                    "area",
                    "province",
                    "studio",
                    "state",
                    "channel",
                    "category",
                    "holder_level",
                    "final_rating",
                    "answer_timeliness",
                    "due_on",
                    "id",
                ],
                name="case_received_dashboard",
            ),
            # The dashboards' drill-down filters (minyi.dashboards).
            models.Index(fields=["channel", "received_on"], name="case_channel_received"),
            models.Index(fields=["category", "received_on"], name="case_category_received"),
            models.Index(fields=["holder_level", "received_on"], name="case_level_received"),
            models.Index(fields=["state", "received_on"], name="case_state_received"),
            models.Index(fields=["answer_timeliness", "received_on"], name="case_answers_received"),
            # A street's, district's or city's list (scope, state, newest first), its
            # overdue list and its dashboard (scope and a year of received_on): range
            # reads on the case's own area columns.
            models.Index(
                fields=["street", "state", "received_on"], name="case_street_state_received"
            ),
            models.Index(
                fields=["district", "state", "received_on"], name="case_district_state_received"
            ),
            models.Index(fields=["city", "state", "received_on"], name="case_city_state_received"),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return pk_url("cases:detail", self.pk)

    @property
    def reporter_phone_masked(self) -> str:
        return mask_phone(self.reporter_phone) if self.reporter_phone else ""

    @property
    def reporter_phone_display(self) -> str:
        return display_phone(self.reporter_phone)


class CaseStep(models.Model):
    """One step on a case's timeline: who, when, from where to where, why. Steps are
    never changed or deleted; a mistake is corrected by a later step."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="steps")
    action = models.CharField("步骤", max_length=32, choices=Action.choices)
    at = models.DateTimeField("时间", auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    state_before = models.CharField(max_length=24, choices=CaseState.choices)
    state_after = models.CharField(max_length=24, choices=CaseState.choices)
    from_department = models.ForeignKey(
        "org.OrgDepartment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_department = models.ForeignKey(
        "org.OrgDepartment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_level = models.CharField(max_length=16, choices=HolderLevel.choices, blank=True)
    to_handling_unit = models.ForeignKey(
        "org.HandlingUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField("说明", blank=True)
    rating = models.CharField(max_length=24, choices=Satisfaction.choices, blank=True)
    due_on = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = "办理步骤"
        verbose_name_plural = "办理步骤"
        ordering = ["at", "pk"]
        indexes = [
            models.Index(fields=["case", "at"], name="casestep_case_at"),
            models.Index(fields=["to_handling_unit", "action"], name="casestep_unit_action"),
        ]

    def __str__(self) -> str:
        return f"{self.case} {self.get_action_display()}"


class Answer(models.Model):
    """A handling unit's written answer (CM 11)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="answers")
    handling_unit = models.ForeignKey(
        "org.HandlingUnit", on_delete=models.PROTECT, related_name="answers"
    )
    text = models.TextField("答复内容", max_length=DOCUMENT_MAX)
    result = models.CharField("办理结果", max_length=200, blank=True)
    answered_on = models.DateField("答复日期")
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    on_time = models.BooleanField("按期答复")

    class Meta:
        ordering = ["answered_on", "pk"]
        # "Answered on time / late" filters and the dashboards' on-time rate.
        indexes = [models.Index(fields=["case", "on_time"], name="answer_case_ontime")]

    def __str__(self) -> str:
        return f"{self.case} 答复"


class Recipient(models.TextChoices):
    DEPARTMENT = "department", "组织部门"
    REPORTER = "reporter", "反映人"
    REPRESENTATIVE = "representative", "党代表"
    STUDIO = "studio", "工作室"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "待发送"
    SENT = "sent", "已送达"
    FAILED = "failed", "发送失败"


class FeedbackCopy(models.Model):
    """A copy of an answer for one recipient, and its delivery (an outbox row written
    in the same transaction as the answer, delivered by `deliver_feedback`)."""

    answer = models.ForeignKey(Answer, on_delete=models.PROTECT, related_name="copies")
    recipient = models.CharField("接收方", max_length=16, choices=Recipient.choices)
    channel = models.CharField("渠道", max_length=16)
    # The reporter's phone or address for the reporter's copy: encrypted like them.
    address = EncryptedCharField("送达地址", max_length=200, blank=True)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # Set while a deliver_feedback run is sending this copy (minyi.cases.delivery): other
    # runs leave it alone until the claim is older than the bound (a crashed run).
    claimed_at = models.DateTimeField("发送中（认领时间）", null=True, blank=True)

    class Meta:
        # Serves both the pending list and deliver_feedback's "pending and not claimed".
        indexes = [models.Index(fields=["status", "claimed_at"], name="feedback_due")]

    def __str__(self) -> str:
        return f"{self.answer.case} → {self.get_recipient_display()}"

    @property
    def logged_only(self) -> bool:
        """Sent through the console channel (development, or a deployment without an
        SMS gateway): the message was written to the log and never reached the reporter,
        so the case page must not call it delivered."""
        return self.channel == "console" and self.status == DeliveryStatus.SENT


class Evaluation(models.Model):
    """The satisfaction rating of a unit's handling (CM 12, annex 2), with the three
    confirmations: reporter, representative, head of the street department."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="evaluations")
    answer = models.ForeignKey(Answer, on_delete=models.PROTECT, related_name="evaluations")
    handling_unit = models.ForeignKey(
        "org.HandlingUnit", on_delete=models.PROTECT, related_name="evaluations"
    )
    rating = models.CharField("评议结果", max_length=24, choices=Satisfaction.choices)
    round = models.PositiveSmallIntegerField("第几次评议", default=1)
    reporter_confirmed = models.BooleanField("反映人已确认", default=False)
    representative_confirmed = models.BooleanField("党代表已确认", default=False)
    street_head_confirmed = models.BooleanField("街道组织部门负责人已确认", default=False)
    comment = models.TextField("意见", blank=True, max_length=NOTE_MAX)
    rated_at = models.DateTimeField(auto_now_add=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["rated_at", "pk"]

    def __str__(self) -> str:
        return f"{self.case} {self.get_rating_display()}"


class Consultation(models.Model):
    """三方协商: reporter, representative and handling unit on a hard case (CM 12)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="consultations")
    held_on = models.DateField("协商日期")
    attendees = models.TextField("参加人员", max_length=NOTE_MAX)
    minutes = models.TextField("协商纪要", max_length=DOCUMENT_MAX)
    outcome = models.TextField("协商结果", blank=True, max_length=ACCOUNT_MAX)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.case} 三方协商 {self.held_on}"


class PersonalDataView(models.Model):
    """Every view of a reporter's full details: who, when, which case (issue: privacy)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="personal_data_views")
    viewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    purpose = models.CharField(max_length=100, blank=True)

    class Meta:
        indexes = [models.Index(fields=["case", "at"], name="pdview_case_at")]

    def __str__(self) -> str:
        return f"{self.viewer} 查看 {self.case}"


class ReminderKind(models.TextChoices):
    DUE_SOON = "due_soon", "即将到期提醒"
    OVERDUE = "overdue", "超期督办"


class Reminder(models.Model):
    """A reminder sent for one deadline. The unique constraint makes the periodic job
    safe to run twice: a second run finds the row and sends nothing."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="reminders")
    kind = models.CharField("类型", max_length=16, choices=ReminderKind.choices)
    due_on = models.DateField("答复期限")
    handling_unit = models.ForeignKey(
        "org.HandlingUnit", null=True, on_delete=models.PROTECT, related_name="reminders"
    )
    department = models.ForeignKey(
        "org.OrgDepartment", null=True, on_delete=models.PROTECT, related_name="reminders"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case", "kind", "due_on"], name="reminder_once_per_deadline"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case} {self.get_kind_display()}"


ATTACHMENT_FOLDER = "private/attachments"


def _attachment_path(instance: CaseAttachment, filename: str) -> str:
    # A generated name: the uploader's file name never reaches the file system.
    return f"{ATTACHMENT_FOLDER}/{instance.case.year}/{instance.token}"


# Where the daily sweep of files no row refers to looks (minyi.core.orphan_files).
_attachment_path.folder = ATTACHMENT_FOLDER  # type: ignore[attr-defined]


class CaseAttachment(models.Model):
    """A photo, scan or downloaded material attached to a case (annex notes 3, 4).
    Stored under the data folder, never under a served URL; downloaded through a
    scoped view as an attachment."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    token = models.CharField(max_length=40, unique=True)
    # Sealed under a key of its own (minyi.core.sealed_files): deleting the row at
    # anonymisation leaves every copy of the file, backups included, unreadable.
    file = SealedFileField(upload_to=_attachment_path, max_length=200)
    file_key = EncryptedCharField(max_length=64, blank=True, default="", editable=False)
    original_name = models.CharField("文件名", max_length=200)
    content_type = models.CharField("类型", max_length=60)
    size = models.PositiveIntegerField("大小（字节）")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "案件附件"
        verbose_name_plural = "案件附件"
        ordering = ["uploaded_at", "pk"]
        indexes = [
            # The rows still to seal (minyi.core.checks): empty once sealing has run, so
            # the deploy check reads nothing and new rows, sealed, never enter it.
            models.Index(fields=["id"], condition=UNSEALED, name="attachment_unsealed"),
        ]

    def __str__(self) -> str:
        return self.original_name


class StudioCategoryQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope, *, write: bool) -> Q | None:
        # The same studios as the cases a scope covers, so the list's category choices
        # are the categories of cases the user may see (minyi.cases.forms).
        if write:
            return None
        if scope.unit is not None:
            return scope.unit.subtree_q("studio__unit__")
        if scope.handling_unit_id is not None:
            # The studios of the area the unit answers for: referrals come from there.
            from minyi.org.models import HandlingUnit

            area = HandlingUnit.objects.filter(pk=scope.handling_unit_id).values("area_id")[:1]
            q = Q(studio__unit_id=models.Subquery(area))
            for level in ("province", "city", "district", "street"):
                q |= Q(**{f"studio__unit__{level}_id": models.Subquery(area)})
            return q
        q = Q(studio_id__in=scope.studio_ids) if scope.studio_ids else Q(pk__in=[])
        if scope.representative_ids:
            from minyi.studios.models import StudioAssignment

            # Cases a representative received stay theirs after they leave a studio.
            q |= Q(
                studio_id__in=StudioAssignment.objects.filter(
                    representative_id__in=scope.representative_ids
                ).values("studio_id")
            )
        return q


class StudioCategory(models.Model):
    """A category (free text on the form) that has been used at a studio: the bounded
    source of the list filter's category choices. Reading DISTINCT categories off the
    cases cost a scan of every case in scope on every list view (docs/performance.md,
    finding 2); this table grows with studios times categories, not with cases.
    Kept up to date by `record_category` whenever a case is registered."""

    studio = models.ForeignKey(
        "studios.Studio", on_delete=models.CASCADE, related_name="case_categories"
    )
    name = models.CharField("类别", max_length=50)

    objects = StudioCategoryQuerySet.as_manager()

    class Meta:
        verbose_name = "工作室使用过的类别"
        verbose_name_plural = "工作室使用过的类别"
        constraints = [
            models.UniqueConstraint(fields=["studio", "name"], name="studiocategory_unique"),
        ]

    def __str__(self) -> str:
        return self.name


def record_category(case: Case) -> None:
    """Add the case's category to its studio's vocabulary. One INSERT that a
    concurrent registration of the same category cannot make fail; when it adds a
    row, the cached filter choices are out of date (choice_cache)."""
    if not case.category:
        return
    table = connection.ops.quote_name(StudioCategory._meta.db_table)
    with connection.cursor() as cursor:
        # Both databases answer ON CONFLICT … RETURNING (SQLite since 3.35): a row
        # comes back only when one was added.
        cursor.execute(
            f"INSERT INTO {table} (studio_id, name) VALUES (%s, %s) "  # noqa: S608
            "ON CONFLICT (studio_id, name) DO NOTHING RETURNING id",
            [case.studio_id, case.category],
        )
        added = cursor.fetchone() is not None
    if added:
        from minyi.cases import choice_cache

        choice_cache.bump()
