"""Forms for appointments, household visits, notifications and bi-monthly reports.
Forms check the shape of the input; the services (appointments, visits, reports)
check the rules and raise ValidationError naming the field."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils import timezone

from minyi.core.forms import FilterForm, field_of, label_choices, preselect_only_choice
from minyi.core.once import OnceOnlyFormMixin
from minyi.core.phones import normalize_phone
from minyi.core.text_limits import ACCOUNT_MAX, REPORT_MAX
from minyi.core.widgets import DayInput, Textarea
from minyi.duties.models import AppointmentState, Event, ReportState, RequesterKind
from minyi.duties.reports import PERIODS, writable_studios
from minyi.duties.visits import (
    filter_representatives,
    mask_address,
    recordable_communities,
    recordable_representatives,
    refusals,
)
from minyi.org.models import OrgUnit
from minyi.people.models import Representative

if TYPE_CHECKING:
    from minyi.cases.models import Case
    from minyi.studios.models import Studio


class PublicBookingForm(forms.Form):
    """One column, plain words. `website` is a honeypot: hidden from people (and from
    screen readers), filled in by bots."""

    requester_kind = forms.ChoiceField(
        label="您是",
        choices=RequesterKind.choices,
        initial=RequesterKind.PERSON,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择您是个人、企业还是组织。"},
    )
    name = forms.CharField(
        label="姓名或单位名称",
        max_length=100,
        error_messages={"required": "请填写姓名或单位名称。"},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    phone = forms.CharField(
        label="联系电话",
        max_length=30,
        help_text="手机号或带区号的固定电话，联络员会打这个电话与您确认。",
        error_messages={"required": "请填写联系电话。"},
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    topic = forms.CharField(
        label="想反映的事情",
        max_length=200,
        help_text="一两句话即可，例如：工地夜间施工噪声扰民。",
        error_messages={"required": "请简要写明想反映的事情。"},
        widget=Textarea(attrs={"rows": 3, "maxlength": 200}),
    )
    preferred_representative = forms.ModelChoiceField(
        label="希望约见的党代表",
        queryset=Representative.objects.none(),
        required=False,
        empty_label="不指定，由联络员安排",
        error_messages={"invalid_choice": "请在本场活动的党代表中选择。"},
    )
    website = forms.CharField(
        label="网址（请勿填写）",
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, event: Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        preferred = field_of(self, "preferred_representative", forms.ModelChoiceField)
        preferred.queryset = event.representatives.filter(active=True).order_by("name")

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data["phone"])

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))


# What the appointment list's search box matches, said in the box: the topic or the
# booking reference, never the booker's name or phone (docs/decisions.md).
APPOINTMENT_SEARCH_HINT = "按反映事项中的字词或预约号查找，不能按预约人姓名或电话查找"


class AppointmentFilterForm(FilterForm):
    q = forms.CharField(
        label="反映事项或预约号",
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": "反映事项中的字词或预约号（不按姓名查找）",
                "title": APPOINTMENT_SEARCH_HINT,
            }
        ),
    )
    state = forms.ChoiceField(
        label="状态", choices=[("", "全部"), *AppointmentState.choices], required=False
    )
    upcoming = forms.BooleanField(label="只看未开始的活动", required=False)


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="取消理由",
        max_length=200,
        error_messages={"required": "请填写取消理由。"},
    )


class LinkCaseForm(forms.Form):
    case: forms.ModelChoiceField[Case] = forms.ModelChoiceField(
        label="关联的社情民意",
        queryset=None,
        error_messages={
            "required": "请选择要关联的社情民意。",
            "invalid_choice": "只能关联本工作室在活动当天登记的社情民意。",
        },
    )

    def __init__(self, *args: Any, cases: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        case_field = field_of(self, "case", forms.ModelChoiceField)
        case_field.queryset = cases
        label_choices(case_field, lambda c: f"{c.number} {c.summary}")


class HouseholdVisitForm(forms.Form):
    representative = forms.ModelChoiceField(
        label="党代表",
        queryset=Representative.objects.none(),
        error_messages={
            "required": "请选择党代表。",
            "invalid_choice": "只能为本单位负责的党代表（或您本人）登记入户走访。",
        },
    )
    community: forms.ModelChoiceField[OrgUnit] = forms.ModelChoiceField(
        label="社区",
        queryset=None,
        error_messages={
            "required": "请选择社区。",
            "invalid_choice": "请选择本辖区内的社区，或该党代表的联系社区。",
        },
    )
    visited_on = forms.DateField(
        label="走访日期",
        widget=DayInput(),
        error_messages={
            "required": "请填写走访日期。",
            "invalid": "请按 2026-03-04 的格式填写日期。",
        },
    )
    household = forms.CharField(
        label="住户",
        max_length=100,
        help_text="如：王先生家。",
        error_messages={"required": "请填写住户，如：王先生家。"},
    )
    address = forms.CharField(
        label="住址",
        max_length=200,
        help_text="个人信息：列表中只显示前几个字。",
        error_messages={"required": "请填写住址。"},
    )
    notes = forms.CharField(
        label="走访情况", required=False, max_length=ACCOUNT_MAX, widget=Textarea
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        refused_representative, refused_community = refusals(user)
        self.fields["representative"].error_messages["invalid_choice"] = refused_representative
        self.fields["community"].error_messages["invalid_choice"] = refused_community
        reps = recordable_representatives(user)
        field_of(self, "representative", forms.ModelChoiceField).queryset = reps
        if reps.count() == 1 and not self.is_bound and (only := reps.first()) is not None:
            self.fields["representative"].initial = only.pk
        rep = None
        raw = self.data.get("representative") if self.is_bound else None
        if raw and str(raw).isdigit():
            rep = reps.filter(pk=raw).first()
        elif reps.count() == 1:
            rep = reps.first()
        communities = recordable_communities(user, rep).order_by("code")
        field_of(self, "community", forms.ModelChoiceField).queryset = communities


class HouseholdVisitCreateForm(OnceOnlyFormMixin, HouseholdVisitForm):
    """登记入户走访: the record form with the one-time key (minyi.core.once), so that
    the form sent twice records one visit."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.init_once_only()


def _community_label(unit: OrgUnit) -> str:
    return f"{unit}（已撤销）" if unit.is_retired else str(unit)


STALE_PAGE = {
    "required": "页面缺少版本信息，请刷新页面后重新提交。",
    "invalid": "页面的版本信息有误，请刷新页面后重新提交。",
    "min_value": "页面的版本信息有误，请刷新页面后重新提交。",
}


class HouseholdVisitEditForm(HouseholdVisitForm):
    """The record form for a visit on record. The address field starts blank (blank
    keeps the address on record, which this page does not show) and the page's version
    goes back with it."""

    version = forms.IntegerField(
        label="版本", widget=forms.HiddenInput, min_value=1, error_messages=STALE_PAGE
    )

    def __init__(self, *args: Any, user: Any, visit: Any, **kwargs: Any) -> None:
        if not args or args[0] is None:
            kwargs.setdefault(
                "initial",
                {
                    "representative": visit.representative_id,
                    "community": visit.community_id,
                    "visited_on": visit.visited_on,
                    "household": visit.household,
                    "notes": visit.notes,
                    "version": visit.version,
                },
            )
        super().__init__(*args, user=user, **kwargs)
        community = field_of(self, "community", forms.ModelChoiceField)
        if not self.is_bound:
            # The community choices follow the visit's representative, not the first one.
            community.queryset = recordable_communities(user, visit.representative)
        # The visit's own community stays a choice even if retired since (a correction
        # may keep it); no other retired community is offered.
        offered = community.queryset
        assert offered is not None, "HouseholdVisitForm.__init__ sets it"
        community.queryset = (offered | OrgUnit.objects.filter(pk=visit.community_id)).order_by(
            "code"
        )
        label_choices(community, _community_label)
        address = self.fields["address"]
        address.required = False
        address.help_text = (
            f"当前住址：{mask_address(visit.address)}（个人信息，此处不显示全文）。"
            "留空则不修改；如需更正，请填写完整住址。"
        )


class VisitWithdrawForm(forms.Form):
    reason = forms.CharField(
        label="撤回理由",
        max_length=200,
        help_text="如：重复登记、登记错了党代表。",
        error_messages={"required": "请填写撤回理由。"},
    )
    version = forms.IntegerField(
        label="版本", widget=forms.HiddenInput, min_value=1, error_messages=STALE_PAGE
    )


class VisitFilterForm(FilterForm):
    representative = forms.ModelChoiceField(
        label="党代表",
        queryset=Representative.objects.none(),
        required=False,
        error_messages={"invalid_choice": "请在列出的党代表中选择。"},
    )
    year = forms.IntegerField(label="年度", required=False, min_value=2000, max_value=2100)
    withdrawn = forms.BooleanField(label="也显示已撤回的走访", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # An option prints the name: reading the whole row decrypted the phone of every
        # representative in scope (a city's thousands) for each view of the list.
        reps = filter_representatives(self.user).only("name")
        field_of(self, "representative", forms.ModelChoiceField).queryset = reps


class ReportCreateForm(forms.Form):
    studio: forms.ModelChoiceField[Studio] = forms.ModelChoiceField(
        label="工作室",
        queryset=None,
        error_messages={
            "required": "请选择工作室。",
            "invalid_choice": "只能为本人所在工作室撰写双月报告。",
        },
    )
    year = forms.IntegerField(
        label="年度",
        min_value=2000,
        max_value=2100,
        error_messages={"required": "请填写年度。", "invalid": "年度应为四位数字。"},
    )
    period = forms.TypedChoiceField(
        label="期次",
        choices=PERIODS,
        coerce=int,
        error_messages={"required": "请选择期次。", "invalid_choice": "期次应为 1 到 6。"},
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field_of(self, "studio", forms.ModelChoiceField).queryset = writable_studios(user)
        preselect_only_choice(self, "studio")
        if not self.is_bound:
            today = timezone.localdate()
            self.fields["year"].initial = today.year
            self.fields["period"].initial = max((today.month + 1) // 2 - 1, 1)


class ReportEditForm(forms.Form):
    body = forms.CharField(
        label="报告内容",
        max_length=REPORT_MAX,
        widget=Textarea(attrs={"rows": 24}),
        error_messages={"required": "报告内容不能为空。"},
    )


class ReportFilterForm(FilterForm):
    state = forms.ChoiceField(
        label="状态", choices=[("", "全部"), *ReportState.choices], required=False
    )
    year = forms.IntegerField(label="年度", required=False, min_value=2000, max_value=2100)
