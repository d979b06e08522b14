from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from minyi.core.forms import FilterForm, ScopedModelForm, field_of, label_choices
from minyi.core.phones import normalize_phone
from minyi.core.widgets import DayInput
from minyi.org.models import Level, OrgUnit
from minyi.people.models import Representative
from minyi.studios.models import FACILITIES, Studio, StudioAssignment, StudioKind


class StudioForm(ScopedModelForm):
    # A new studio must say when it was set up (see __init__); the Excel import does not
    # (minyi.documents.excel.importers).
    established_required = True

    class Meta:
        model = Studio
        fields = [
            "name",
            "kind",
            "unit",
            "host_organisation",
            "address",
            "area_m2",
            "opening_hours",
            "phone",
            "funding_source",
            "established_on",
            *[name for name, _ in FACILITIES],
        ]
        widgets = {"established_on": DayInput()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Duties are judged from this day (Studio.judged_from): a studio entered without
        # it was judged on the whole year. A new studio is most often set up today.
        # A studio stored without it before it was required can still be edited (it is
        # judged from the day it was entered); one that has it cannot lose it.
        established = self.fields["established_on"]
        established.required = self.established_required and (
            self.instance.pk is None or bool(self.instance.established_on)
        )
        established.error_messages["required"] = "请填写设立日期：履职考核从这一天算起。"
        established.help_text = "履职考核和年度评估从设立日期起算，此前的周和双月不作要求。"
        if self.instance.pk is None:
            self.initial.setdefault("established_on", timezone.localdate())

    def scope_fields(self) -> None:
        if not (self.user.is_superuser or getattr(self.user, "is_official", False)):
            # A liaison keeps the studio's facts up to date but cannot move it.
            del self.fields["unit"]
            return
        unit_field = field_of(self, "unit", forms.ModelChoiceField)
        unit_field.queryset = (
            OrgUnit.objects.for_editor(self.user)
            .active()
            .filter(level__in=[Level.COMMUNITY, Level.STREET, Level.DISTRICT])
            .order_by("level", "code", "name")
        )
        # The name people use (沙头角社区, as every other page says), not the division
        # list's 沙头角居委会.
        label_choices(unit_field, lambda u: f"{u}（{u.get_level_display()}）")

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data.get("phone", ""))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        unit = data.get("unit")
        if (
            unit is not None
            and data.get("kind") == StudioKind.COMMUNITY
            and unit.level != Level.COMMUNITY
        ):
            self.add_error("unit", "社区工作室须选择所在社区。")
        # Two open studios of one name in one place cannot be told apart in any list or
        # choice that names them (a case's studio, a plan's, a liaison's).
        where = unit if "unit" in self.fields else self.instance.unit if self.instance.pk else None
        name = data.get("name")
        if (
            where is not None
            and name
            and Studio.objects.for_user(self.user)
            .active()
            .filter(unit=where, name=name)
            .exclude(pk=self.instance.pk)
            .exists()
        ):
            self.add_error("name", f"{where}已有名为“{name}”的工作室，请换一个名称以便区分。")
        return data


class StudioFilterForm(FilterForm):
    kind = forms.ChoiceField(label="类型", choices=[("", "全部"), *StudioKind.choices])
    street = forms.ModelChoiceField(
        label="街道", queryset=OrgUnit.objects.none(), empty_label="全部"
    )
    shortfall = forms.BooleanField(label="只看有不足项的")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field_of(self, "street", forms.ModelChoiceField).queryset = (
            OrgUnit.objects.for_user(self.user).filter(level=Level.STREET).order_by("code")
        )


class AssignmentForm(forms.Form):
    representative = forms.ModelChoiceField(
        label="党代表",
        queryset=Representative.objects.none(),
        error_messages={"invalid_choice": "请选择您管辖范围内的在任党代表。"},
    )
    # The compliance rules owe a representative only the windows after this day; without
    # it they owe every window of the year, however late in it they came.
    since = forms.DateField(
        label="进驻日期",
        required=False,
        widget=DayInput(),
        help_text="不填即为今天",
        error_messages={"invalid": "请填写有效的日期，如 2026-03-01。"},
    )

    def __init__(self, *args: Any, user: Any, studio: Studio, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.studio = studio
        field_of(self, "representative", forms.ModelChoiceField).queryset = (
            Representative.objects.for_user(user)
            .active()
            .exclude(assignments__studio=studio, assignments__active=True)
            .order_by("name")
        )

    def clean_since(self) -> Any:
        since = self.cleaned_data.get("since")
        today = timezone.localdate()
        if since is None:
            return today
        if since > today:
            raise forms.ValidationError("进驻日期不能晚于今天。")
        established = self.studio.established_on
        if established is not None and since < established:
            raise forms.ValidationError(
                f"进驻日期不能早于工作室的设立日期（{established:%Y-%m-%d}）。"
            )
        return since

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        rep, since = data.get("representative"), data.get("since")
        if rep is not None and since is not None:
            # A period back here starts after the last one ended: overlapping periods
            # would blur who was here when (the compliance rules read them).
            left = (
                StudioAssignment.objects.filter(
                    studio=self.studio, representative=rep, active=False, until__isnull=False
                )
                .order_by("-until")
                .values_list("until", flat=True)
                .first()
            )
            if left is not None and since < left:
                self.add_error(
                    "since", f"进驻日期不能早于该党代表上次离开本工作室的日期（{left:%Y-%m-%d}）。"
                )
        return data
