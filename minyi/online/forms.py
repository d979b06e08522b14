"""Residents' forms: plain words, one label per field, limits on every size."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from minyi.cases.attachments import ALLOWED_LABEL, check_upload
from minyi.cases.forms import MultipleFileInput
from minyi.cases.models import Gender, Satisfaction
from minyi.core.forms import field_of, label_choices
from minyi.core.phones import is_mobile, normalize_phone
from minyi.core.widgets import Textarea

if TYPE_CHECKING:
    from minyi.people.models import Representative

MAX_FILES = 3
CONTENT_MAX = 3000
PHONE_ATTRS = {"inputmode": "tel", "autocomplete": "tel"}


class FindStudioForm(forms.Form):
    q = forms.CharField(
        label="输入社区、街道或地址",
        max_length=50,
        required=False,
        help_text="例如：沙头角、田心社区、沙深路",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


class OnlineReportForm(forms.Form):
    """The registration form's fields a resident fills in (annex notes 2–4). The
    studio, channel, date and outcome are set by the online studio itself."""

    representative: forms.ModelChoiceField[Representative] = forms.ModelChoiceField(
        label="向哪位党代表反映",
        queryset=None,
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": "请选择向哪位党代表反映。",
            "invalid_choice": "请选择本工作室的党代表。",
        },
    )
    summary = forms.CharField(
        label="一句话说明是什么事",
        max_length=100,
        help_text="例如：小区门口工地夜间施工噪声大。",
        error_messages={
            "required": "请用一句话说明是什么事。",
            "max_length": "一句话说明请不要超过 %(limit_value)d 字。",
        },
    )
    content = forms.CharField(
        label="详细情况和您的建议",
        max_length=CONTENT_MAX,
        widget=Textarea(attrs={"rows": 6}),
        help_text=f"发生在哪里、从什么时候开始、您希望怎样解决。不超过 {CONTENT_MAX} 字。",
        error_messages={
            "required": "请写下详细情况。",
            "max_length": "详细情况请不要超过 %(limit_value)d 字。",
        },
    )
    reporter_name = forms.CharField(
        label="您的姓名",
        max_length=50,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": "请填写您的姓名，以便承办单位答复您。"},
    )
    reporter_phone = forms.CharField(
        label="手机号码",
        max_length=20,
        help_text="用于答复您，也可以用它接收查询验证码。",
        widget=forms.TextInput(attrs=PHONE_ATTRS),
        error_messages={"required": "请填写手机号码，以便答复您。"},
    )
    reporter_gender = forms.ChoiceField(
        label="性别", choices=Gender.choices, required=False, widget=forms.RadioSelect
    )
    reporter_age = forms.IntegerField(
        label="年龄",
        required=False,
        min_value=1,
        max_value=120,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "min_value": "年龄应在 1 到 120 岁之间。",
            "max_value": "年龄应在 1 到 120 岁之间。",
            "invalid": "年龄请填写数字。",
        },
    )
    reporter_home_address = forms.CharField(
        label="家庭住址",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    reporter_home_phone = forms.CharField(
        label="住宅电话", max_length=20, required=False, widget=forms.TextInput(attrs=PHONE_ATTRS)
    )
    reporter_employer = forms.CharField(label="工作单位", max_length=100, required=False)
    reporter_employer_address = forms.CharField(label="单位地址", max_length=200, required=False)
    hide_identity_from_unit = forms.BooleanField(
        label="不让承办单位看到我的姓名和电话",
        required=False,
        help_text="勾选后，办理这件事的单位看不到您是谁，由工作室和组织部门转达答复。",
    )
    # Honeypot: hidden from people and screen readers; a bot fills it in.
    website = forms.CharField(label="网址（请勿填写）", required=False, max_length=200)

    def __init__(self, *args: Any, representatives: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        representative_field = field_of(self, "representative", forms.ModelChoiceField)
        representative_field.queryset = representatives
        label_choices(
            representative_field, lambda r: f"{r.name}（{r.position}）" if r.position else r.name
        )
        self.fields["website"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})
        reps = list(representatives)
        if len(reps) == 1:
            self.fields["representative"].initial = reps[0].pk

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))

    def clean_reporter_name(self) -> str:
        name = self.cleaned_data["reporter_name"].strip()
        if not name:
            raise ValidationError("请填写您的姓名，以便承办单位答复您。")
        return name

    def clean_reporter_phone(self) -> str:
        return normalize_phone(self.cleaned_data["reporter_phone"])

    def clean_reporter_home_phone(self) -> str:
        return normalize_phone(self.cleaned_data.get("reporter_home_phone", ""))

    def clean_summary(self) -> str:
        text = self.cleaned_data["summary"].strip()
        if not text:
            raise ValidationError("请用一句话说明是什么事。")
        return text

    def draft(self) -> dict[str, Any]:
        """What is kept in the session until the resident sends it (JSON-safe)."""
        skip = {"representative", "website"}
        data = {k: v for k, v in self.cleaned_data.items() if k not in skip}
        data["representative"] = self.cleaned_data["representative"].pk
        return data


class AttachmentsField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = [f for f in (data or []) if f]
        if len(files) > MAX_FILES:
            raise ValidationError(f"最多上传 {MAX_FILES} 个附件。")
        for upload in files:
            check_upload(upload)
        return files


class SendForm(forms.Form):
    """The check-answers page: optional attachments, the privacy consent, send."""

    attachments = AttachmentsField(
        label="照片或材料",
        required=False,
        help_text=(
            f"最多 {MAX_FILES} 个，每个不超过 "
            f"{settings.MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB，只能是{ALLOWED_LABEL}。"
        ),
    )
    consent = forms.BooleanField(
        label="我已阅读上面的个人信息说明，同意工作室和有关部门为办理这件事使用我填写的信息",
        error_messages={"required": "请阅读个人信息说明，并勾选同意后再提交。"},
    )


class LookupForm(forms.Form):
    number = forms.CharField(
        label="编号",
        max_length=140,
        help_text="网上提交后页面上显示的、或工作室登记后告诉您的编号，例如：沙头角街道沙头角社区2026001",
        error_messages={"required": "请填写编号。"},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    code = forms.CharField(
        label="查询码",
        max_length=20,
        help_text="网上提交时显示的、或工作室发给您的 8 位查询码，例如：AB2C-D3EF（不分大小写）",
        error_messages={"required": "请填写查询码。"},
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )


class CodeRequestForm(forms.Form):
    number = LookupForm.base_fields["number"]
    phone = forms.CharField(
        label="反映时留下的手机号码",
        max_length=20,
        widget=forms.TextInput(attrs=PHONE_ATTRS),
        error_messages={"required": "请填写手机号码。"},
    )

    def clean_phone(self) -> str:
        raw = self.cleaned_data["phone"]
        try:
            phone = normalize_phone(raw)
        except ValidationError:
            # normalize_phone's message offers a landline, which no code can reach.
            raise ValidationError(
                "“%(value)s”不是有效的手机号码，请填写反映时留下的 11 位手机号码。",
                code="invalid_phone",
                params={"value": raw.strip()},
            ) from None
        # A landline cannot receive the code; saying so here, rather than answering as
        # for any number, tells nothing about the case (the rule is the same for all).
        if not is_mobile(phone):
            raise ValidationError(
                "短信验证码只能发到手机，请填写反映时留下的 11 位手机号码。"
                "登记的是固定电话的，请用工作室给您的查询码查询，或致电工作室。",
                code="not_mobile",
            )
        return phone


class CodeCheckForm(forms.Form):
    # The number comes from the session of the request that sent the code.
    code = forms.CharField(
        label="短信验证码",
        max_length=10,
        help_text="6 位数字",
        error_messages={"required": "请填写短信验证码。"},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class RatingForm(forms.Form):
    rating = forms.ChoiceField(
        label="您对办理结果满意吗？",
        choices=Satisfaction.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择您对办理结果的评价。"},
    )
    comment = forms.CharField(
        label="还想说的话",
        required=False,
        max_length=1000,
        widget=Textarea(attrs={"rows": 3}),
        error_messages={"max_length": "请不要超过 %(limit_value)d 字。"},
    )
