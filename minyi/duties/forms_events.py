"""Forms of the event pages and the activity month. The rules live in
minyi.duties.events; these parse input and scope the choices."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from minyi.core.forms import FilterForm, field_of, preselect_only_choice
from minyi.core.once import OnceOnlyFormMixin
from minyi.core.text_limits import ACCOUNT_MAX, NOTE_MAX
from minyi.core.widgets import Textarea
from minyi.duties.events import EventData
from minyi.duties.forms_plans import DATE, StudioChoice, editable_studios
from minyi.duties.models import ActivityMonth, Event, EventKind, EventState
from minyi.people.models import Representative
from minyi.studios.models import Studio

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class RepChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Representative) -> str:
        return f"{obj.name}（{obj.position}）" if obj.position else obj.name


class EventForm(forms.Form):
    studio = StudioChoice(label="工作室", queryset=Studio.objects.none())
    kind = forms.ChoiceField(label="活动方式", choices=EventKind.choices)
    theme = forms.CharField(label="主题", max_length=200, required=False)
    starts_at = forms.DateTimeField(
        label="开始时间", widget=DATETIME, input_formats=DATETIME_FORMATS
    )
    ends_at = forms.DateTimeField(label="结束时间", widget=DATETIME, input_formats=DATETIME_FORMATS)
    place = forms.CharField(label="地点", max_length=200, required=False)
    representatives = RepChoices(
        label="参加党代表",
        queryset=Representative.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="只能选择进驻该工作室的党代表。",
    )
    capacity = forms.IntegerField(label="可预约人数", min_value=0, max_value=1000, initial=0)
    activity_month = forms.BooleanField(label="活动月活动（7月）", required=False)

    def __init__(self, *args: Any, user: Any, event: Event | None = None, **kwargs: Any):
        if event is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "studio": event.studio_id,
                "kind": event.kind,
                "theme": event.theme,
                "starts_at": timezone.localtime(event.starts_at),
                "ends_at": timezone.localtime(event.ends_at),
                "place": event.place,
                "representatives": [r.pk for r in event.representatives.all()],
                "capacity": event.capacity,
                "activity_month": event.activity_month,
            }
        super().__init__(*args, **kwargs)
        studios = editable_studios(user)
        field_of(self, "studio", forms.ModelChoiceField).queryset = studios
        preselect_only_choice(self, "studio")
        field_of(self, "representatives", forms.ModelChoiceField).queryset = (
            Representative.objects.filter(
                assignments__studio__in=studios.values("pk"), assignments__active=True
            )
            .distinct()
            .order_by("name")
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("starts_at"), data.get("ends_at")
        if start and end and end <= start:
            self.add_error("ends_at", "结束时间须晚于开始时间。")
        return data

    def event_data(self) -> EventData:
        d = self.cleaned_data
        return EventData(
            studio=d["studio"],
            kind=d["kind"],
            starts_at=d["starts_at"],
            ends_at=d["ends_at"],
            theme=d["theme"],
            place=d["place"] or d["studio"].address,
            capacity=d["capacity"] or 0,
            activity_month=d["activity_month"],
        )


class EventCreateForm(OnceOnlyFormMixin, EventForm):
    """新建活动: the event form with the one-time key (minyi.core.once), so that the
    form sent twice makes one event."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.init_once_only()


class PublishForm(forms.Form):
    late_reason = forms.CharField(
        label="不足7天预告的理由",
        required=False,
        max_length=NOTE_MAX,
        widget=Textarea(attrs={"rows": 2}),
        help_text="距活动开始不足7天发布时必填。",
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="取消理由",
        max_length=NOTE_MAX,
        widget=Textarea(attrs={"rows": 2}),
        error_messages={"required": "取消活动须写明理由。"},
    )


class RecordForm(forms.Form):
    """Attendance per representative (arrived/left) plus people received and summary.
    One pair of time fields per representative of the event, named by pk."""

    people_received = forms.IntegerField(label="接待人数", min_value=0, required=False)
    summary = forms.CharField(
        label="活动情况", max_length=ACCOUNT_MAX, widget=Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args: Any, event: Event, reps: list[Representative], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.reps = reps
        existing = {a.representative_id: a for a in event.attendances.all()}
        # Only those on the event start with its times: the studio's other
        # representatives stay empty, or saving unchanged would record them as present.
        listed = {r.pk for r in event.representatives.all()} if not existing else set()
        for rep in reps:
            a = existing.get(rep.pk)
            arrived = a.arrived_at if a else event.starts_at if rep.pk in listed else None
            left = a.left_at if a else event.ends_at if rep.pk in listed else None
            self.fields[f"arrived_{rep.pk}"] = forms.DateTimeField(
                label=f"{rep.name} 到达时间",
                required=False,
                widget=DATETIME,
                input_formats=DATETIME_FORMATS,
                initial=timezone.localtime(arrived) if arrived else None,
            )
            self.fields[f"left_{rep.pk}"] = forms.DateTimeField(
                label=f"{rep.name} 离开时间",
                required=False,
                widget=DATETIME,
                input_formats=DATETIME_FORMATS,
                initial=timezone.localtime(left) if left else None,
            )
        if event.state == EventState.HELD:
            self.fields["people_received"].initial = event.people_received
            self.fields["summary"].initial = event.summary

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for rep in self.reps:
            arrived, left = data.get(f"arrived_{rep.pk}"), data.get(f"left_{rep.pk}")
            if bool(arrived) != bool(left):
                self.add_error(f"left_{rep.pk}", f"请同时填写{rep.name}的到达和离开时间。")
            elif arrived and left and left <= arrived:
                self.add_error(f"left_{rep.pk}", f"{rep.name}的离开时间须晚于到达时间。")
        return data

    def presences(self) -> list[Any]:
        from minyi.duties.events import Presence

        d = self.cleaned_data
        return [
            Presence(rep, d[f"arrived_{rep.pk}"], d[f"left_{rep.pk}"])
            for rep in self.reps
            if d.get(f"arrived_{rep.pk}") and d.get(f"left_{rep.pk}")
        ]


class EventFilterForm(FilterForm):
    studio = StudioChoice(label="工作室", queryset=Studio.objects.none())
    kind = forms.ChoiceField(label="活动方式", choices=[("", "全部"), *EventKind.choices])
    state = forms.ChoiceField(label="状态", choices=[("", "全部"), *EventState.choices])
    date_from = forms.DateField(label="从", widget=DATE)
    date_to = forms.DateField(label="到", widget=DATE)
    activity_month = forms.BooleanField(label="仅活动月活动")

    def __init__(self, *args: Any, user: Any, **kwargs: Any):
        super().__init__(*args, user=user, **kwargs)
        self.fields["q"].widget = forms.TextInput(attrs={"type": "search"})
        self.fields["q"].label = "主题或地点"
        field_of(self, "studio", forms.ModelChoiceField).queryset = (
            Studio.objects.for_user(user).select_related("unit", "unit__street").order_by("name")
        )


class ActivityMonthForm(forms.ModelForm):
    class Meta:
        model = ActivityMonth
        fields = ["theme", "content"]
        widgets = {"content": Textarea(attrs={"rows": 6})}
