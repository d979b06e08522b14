"""Forms of the annual-plan pages. Plain forms: the services in minyi.duties.plans
validate the rules and save."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from minyi.core.forms import FilterForm, field_of, preselect_only_choice
from minyi.core.once import OnceOnlyFormMixin
from minyi.core.text_limits import ACCOUNT_MAX, NOTE_MAX
from minyi.core.widgets import DayInput, Textarea
from minyi.duties.models import AnnualPlan, PlanState
from minyi.duties.plans import SESSION_KINDS, WEEKDAYS, periods_in_year
from minyi.people.models import Representative
from minyi.studios.models import Studio, StudioAssignment

TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DATE = DayInput()
WEEKDAY_CHOICES = list(enumerate(WEEKDAYS))


def editable_studios(user: Any) -> QuerySet:
    return (
        Studio.objects.for_editor(user)
        .active()
        .select_related("unit", "unit__street")
        .order_by("unit__code", "name")
    )


class StudioChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Studio) -> str:
        street = obj.unit.street.name if obj.unit.street is not None else ""
        return f"{street} {obj.name}".strip()


class PlanForm(forms.Form):
    studio = StudioChoice(label="工作室", queryset=Studio.objects.none())
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    opening_weekday = forms.TypedChoiceField(
        label="每周开放日", choices=WEEKDAY_CHOICES, coerce=int
    )
    opening_start = forms.TimeField(label="开放开始时间", widget=TIME)
    opening_end = forms.TimeField(label="开放结束时间", widget=TIME)
    place = forms.CharField(label="地点", max_length=200, required=False)
    notes = forms.CharField(
        label="说明",
        required=False,
        max_length=ACCOUNT_MAX,
        widget=Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, user: Any, plan: AnnualPlan | None = None, **kwargs: Any):
        if plan is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "studio": plan.studio_id,
                "year": plan.year,
                "opening_weekday": plan.opening_weekday,
                "opening_start": plan.opening_start,
                "opening_end": plan.opening_end,
                "place": plan.place,
                "notes": plan.notes,
            }
        super().__init__(*args, **kwargs)
        self.user = user
        if plan is not None:
            del self.fields["studio"]
            del self.fields["year"]
        else:
            field_of(self, "studio", forms.ModelChoiceField).queryset = editable_studios(user)
            preselect_only_choice(self, "studio")
            self.fields["year"].initial = timezone.localdate().year + 1

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("opening_start"), data.get("opening_end")
        if start and end and end <= start:
            self.add_error("opening_end", "开放结束时间须晚于开始时间。")
        return data


class SessionForm(OnceOnlyFormMixin, forms.Form):
    representative = forms.ModelChoiceField(label="党代表", queryset=Representative.objects.none())
    date = forms.DateField(label="日期", widget=DATE)
    start = forms.TimeField(label="开始时间", widget=TIME)
    end = forms.TimeField(label="结束时间", widget=TIME)
    kind = forms.ChoiceField(label="活动方式", choices=SESSION_KINDS)
    theme = forms.CharField(label="主题", max_length=200, required=False)

    def __init__(self, *args: Any, plan: AnnualPlan, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.plan = plan
        field_of(
            self, "representative", forms.ModelChoiceField
        ).queryset = Representative.objects.filter(
            # Those with a period here in the plan's year, one who left during it too; a
            # sub-query, so that one with two periods is offered once.
            pk__in=StudioAssignment.objects.filter(
                periods_in_year(plan.year), studio=plan.studio
            ).values("representative_id")
        ).order_by("name")
        self.init_once_only()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("start"), data.get("end")
        if start and end and end <= start:
            self.add_error("end", "结束时间须晚于开始时间。")
        day = data.get("date")
        if day and day.year != self.plan.year:
            self.add_error("date", f"日期须在{self.plan.year}年内。")
        return data


class ApproveForm(forms.Form):
    shortfall_reason = forms.CharField(
        label="未达最低要求的理由",
        required=False,
        max_length=ACCOUNT_MAX,
        widget=Textarea(attrs={"rows": 3}),
        help_text="计划未达到最低要求时必填。",
    )
    decision_note = forms.CharField(
        label="审批意见",
        required=False,
        max_length=NOTE_MAX,
        widget=Textarea(attrs={"rows": 2}),
    )


class ReturnForm(forms.Form):
    """Shown beside ApproveForm on the plan page; its own ids, since both have a
    审批意见 field (two elements of one id leave a label pointing at the wrong one)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_return_%s")
        super().__init__(*args, **kwargs)

    decision_note = forms.CharField(
        label="审批意见",
        max_length=NOTE_MAX,
        widget=Textarea(attrs={"rows": 3}),
        error_messages={"required": "退回须写明审批意见（需要修改什么）。"},
    )


class PlanFilterForm(FilterForm):
    studio = StudioChoice(label="工作室", queryset=Studio.objects.none())
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    state = forms.ChoiceField(label="状态", choices=[("", "全部"), *PlanState.choices])

    def __init__(self, *args: Any, user: Any, **kwargs: Any):
        super().__init__(*args, user=user, **kwargs)
        del self.fields["q"]
        field_of(self, "studio", forms.ModelChoiceField).queryset = (
            Studio.objects.for_user(user).select_related("unit", "unit__street").order_by("name")
        )
