from __future__ import annotations

from typing import Any

from django import forms
from django.apps import apps

from minyi.audit.models import Action, Result
from minyi.core.forms import field_of
from minyi.core.widgets import DayInput


def _object_types() -> list[tuple[str, str]]:
    types = [
        (f"{m._meta.app_label}.{m._meta.model_name}", f"{m._meta.verbose_name}")
        for m in apps.get_models()
        if m.__module__.startswith("minyi.") and m._meta.model_name != "auditevent"
    ]
    return [("", "全部"), *sorted(types)]


class AuditFilterForm(forms.Form):
    """Every filter is an equality or a range on an indexed column (minyi.audit.models)."""

    actor = forms.CharField(label="用户名", required=False, max_length=150)
    action = forms.ChoiceField(
        label="操作", required=False, choices=[("", "全部"), *Action.choices]
    )
    object_type = forms.ChoiceField(label="对象类型", required=False)
    object_id = forms.CharField(label="对象编号", required=False, max_length=64)
    result = forms.ChoiceField(
        label="结果", required=False, choices=[("", "全部"), *Result.choices]
    )
    ip = forms.GenericIPAddressField(label="来源地址", required=False)
    since = forms.DateField(label="起始日期", required=False, widget=DayInput())
    until = forms.DateField(label="截止日期", required=False, widget=DayInput())

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field_of(self, "object_type", forms.ChoiceField).choices = _object_types()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "截止日期不能早于起始日期。")
        return data
