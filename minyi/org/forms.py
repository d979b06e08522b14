from __future__ import annotations

from typing import Any

from django import forms

from minyi.core.forms import FilterForm, ScopedModelForm, field_of, label_choices
from minyi.core.phones import normalize_phone
from minyi.core.widgets import Textarea
from minyi.org.models import LEVEL_ORDER, HandlingUnit, Level, OrgUnit

# Official division codes grow by level: 44 / 4403 / 440308 / 440308003 / 440308003006.
CODE_LENGTHS: dict[str, int] = {
    Level.PROVINCE: 2,
    Level.CITY: 4,
    Level.DISTRICT: 6,
    Level.STREET: 9,
    Level.COMMUNITY: 12,
}


def _unit_label(unit: OrgUnit) -> str:
    return f"{unit.name}（{unit.get_level_display()}）"


class OrgUnitForm(ScopedModelForm):
    """Adds a unit under a parent the user may edit; the level follows from the parent."""

    class Meta:
        model = OrgUnit
        fields = [
            "parent",
            "name",
            "short_name",
            "kind",
            "code",
            "party_secretary",
            "party_secretary_phone",
        ]

    def scope_fields(self) -> None:
        if self.instance.pk:
            del self.fields["parent"]
            return
        self.fields["parent"].required = True
        parent_field = field_of(self, "parent", forms.ModelChoiceField)
        parent_field.queryset = (
            OrgUnit.objects.for_editor(self.user)
            .active()
            .exclude(level=Level.COMMUNITY)
            .order_by("level", "code", "name")
        )
        label_choices(parent_field, _unit_label)
        self.fields["short_name"].required = False
        self.fields[
            "code"
        ].help_text = "国家统计用区划代码（如有）；新区、工委等没有代码的单元留空。"

    def clean_code(self) -> str | None:
        code = (self.cleaned_data.get("code") or "").strip()
        if not code:
            return None
        if not code.isdigit() or len(code) not in (2, 4, 6, 9, 12):
            raise forms.ValidationError("区划代码应为 2、4、6、9 或 12 位数字。")
        return code

    def clean_party_secretary_phone(self) -> str:
        return normalize_phone(self.cleaned_data.get("party_secretary_phone", ""))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not data.get("short_name") and data.get("name"):
            data["short_name"] = data["name"]
        # On an edit the parent field is gone; the code is checked against the unit's
        # own parent and level all the same.
        parent = data.get("parent") if not self.instance.pk else self.instance.parent
        level = self._level(parent)
        code = data.get("code")
        if code and level and len(code) != CODE_LENGTHS[level]:
            label = Level(level).label
            self.add_error("code", f"{label}的区划代码应为 {CODE_LENGTHS[level]} 位数字。")
        elif code and parent is not None and parent.code and not code.startswith(parent.code):
            self.add_error("code", f"区划代码应以上级“{parent.name}”的代码 {parent.code} 开头。")
        return data

    def _level(self, parent: OrgUnit | None) -> str | None:
        if self.instance.pk:
            return self.instance.level
        if parent is None:
            return None
        return LEVEL_ORDER[LEVEL_ORDER.index(parent.level) + 1]

    def save(self, commit: bool = True) -> OrgUnit:
        unit = super().save(commit=False)
        if not unit.pk:
            parent = self.cleaned_data["parent"]
            unit.level = self._level(parent)
            unit.set_ancestors_from(parent)
        if commit:
            unit.save()
        return unit


class OrgUnitFilterForm(FilterForm):
    level = forms.ChoiceField(label="层级", choices=[("", "全部"), *Level.choices])
    parent = forms.ModelChoiceField(
        label="上级", queryset=OrgUnit.objects.none(), empty_label="全部"
    )
    include_retired = forms.BooleanField(label="包含已撤销")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parent_field = field_of(self, "parent", forms.ModelChoiceField)
        parent_field.queryset = (
            OrgUnit.objects.for_user(self.user)
            .filter(level__in=[Level.CITY, Level.DISTRICT, Level.STREET])
            .defer("party_secretary_phone")  # a label names the unit: no decryption each
            .order_by("level", "code", "name")
        )
        label_choices(parent_field, _unit_label)


class MergeForm(forms.Form):
    target = forms.ModelChoiceField(
        label="并入",
        queryset=OrgUnit.objects.none(),
        # Shown on the unit's page, away from the form, so they name what is missing.
        error_messages={
            "required": "请选择要并入的单元。",
            "invalid_choice": "请选择您管辖范围内同一层级、未撤销的单元。",
        },
    )

    def __init__(self, *args: Any, user: Any, unit: OrgUnit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        target_field = field_of(self, "target", forms.ModelChoiceField)
        target_field.queryset = (
            OrgUnit.objects.for_editor(user)
            .active()
            .filter(level=unit.level)
            .exclude(pk=unit.pk)
            .order_by("code", "name")
        )
        label_choices(target_field, _unit_label)


class HandlingUnitForm(ScopedModelForm):
    class Meta:
        model = HandlingUnit
        fields = ["name", "area", "remit", "contact_person", "phone"]
        widgets = {"remit": Textarea}

    def scope_fields(self) -> None:
        area_field = field_of(self, "area", forms.ModelChoiceField)
        area_field.queryset = (
            OrgUnit.objects.for_editor(self.user)
            .active()
            .filter(level__in=[Level.CITY, Level.DISTRICT, Level.STREET])
            .order_by("level", "code", "name")
        )
        label_choices(area_field, _unit_label)
        self.fields["area"].help_text = "承办单位所属的市、区或街道，决定它的层级和负责范围。"

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data.get("phone", ""))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        area, name = data.get("area"), data.get("name")
        if area and name:
            clash = HandlingUnit.objects.filter(area=area, name=name).exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("name", f"“{area.name}”已有同名承办单位。")
        return data


class HandlingUnitFilterForm(FilterForm):
    level = forms.ChoiceField(
        label="层级",
        choices=[
            ("", "全部"),
            (Level.CITY, "市级"),
            (Level.DISTRICT, "区级"),
            (Level.STREET, "街道级"),
        ],
    )
