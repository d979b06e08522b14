from typing import Any

from django import forms
from django.contrib import admin

from minyi.cases.areas import cases_follow_studio
from minyi.core.admin import ModelAdmin
from minyi.studios.models import Studio, StudioAssignment


@admin.register(Studio)
class StudioAdmin(ModelAdmin):
    list_display = ["name", "kind", "unit", "area_m2", "closed_at"]
    list_filter = ["kind"]
    search_fields = ["name", "address"]
    raw_id_fields = ["unit"]

    def save_model(self, request: Any, obj: Studio, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "unit" in form.changed_data:
            cases_follow_studio(obj)


class StudioAssignmentForm(forms.ModelForm):
    class Meta:
        model = StudioAssignment
        fields = ["studio", "representative", "since", "active"]

    def clean_active(self) -> bool:
        active = bool(self.cleaned_data.get("active"))
        if active and self.instance.pk is not None and not self.instance.active:
            # Reopened, the period would lose the day it ended: coming back is a new one.
            raise forms.ValidationError(
                "已结束的进驻期间不能恢复；重新进驻请新增一条进驻安排（或在工作室页面安排进驻）。"
            )
        return active


@admin.register(StudioAssignment)
class StudioAssignmentAdmin(ModelAdmin):
    form = StudioAssignmentForm
    list_display = ["representative", "studio", "since", "active", "until"]
    list_filter = ["active"]
    raw_id_fields = ["studio", "representative"]
    # The day it ended follows `active`, as on the studio's page (StudioAssignment.end).
    readonly_fields = ["until"]

    def save_model(self, request: Any, obj: StudioAssignment, form: Any, change: bool) -> None:
        if change and "active" in form.changed_data and not obj.active:
            obj.active = True
            obj.end()
        super().save_model(request, obj, form, change)
