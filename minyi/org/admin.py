from typing import Any

from django import forms
from django.contrib import admin

from minyi.core.admin import ModelAdmin
from minyi.org.models import (
    ANCESTOR_LEVELS,
    LEVEL_ORDER,
    Delegation,
    Group,
    HandlingUnit,
    Level,
    OrgDepartment,
    OrgUnit,
)
from minyi.org.prefixes import ImportRunning, hold_off_imports
from minyi.org.services import check_parent, unit_reparent

# The ancestor pointers are derived from the parent (OrgUnit.set_ancestors_from); edited by
# hand they would disagree with it, and the cases' area columns with both.
DERIVED = [str(level) for level in ANCESTOR_LEVELS]


class OrgUnitAdminForm(forms.ModelForm):
    class Meta:
        model = OrgUnit
        fields = ["code", "name", "short_name", "level", "kind", "parent", "retired_at",
                  "merged_into", "party_secretary", "party_secretary_phone"]  # fmt: skip

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        parent = data.get("parent")
        level = data.get("level") or self.instance.level
        if parent is not None and level:
            check_parent(OrgUnit(pk=self.instance.pk, level=level), parent)
        elif parent is None and level and level != LEVEL_ORDER[0]:
            self.add_error("parent", "除省级外，每个单元都必须有上级单元。")
        if level == Level.COMMUNITY and not self.errors:
            # The save's refusal during an import (OrgUnit.save), said here so that the
            # form comes back as typed: the admin validates a post in the transaction
            # that saves it (ModelAdmin.changeform_view), so the lock taken here holds
            # off imports until the save has committed.
            try:
                hold_off_imports()
            except ImportRunning as exc:
                self.add_error(None, exc)
        return data


@admin.register(OrgUnit)
class OrgUnitAdmin(ModelAdmin):
    """A superuser's repair tool. Changing a unit's parent here goes through
    `unit_reparent`, as a merge does: the unit's and its descendants' ancestor pointers,
    its studios' cases' area columns and its representatives' group follow."""

    form = OrgUnitAdminForm
    list_display = ["name", "short_name", "code", "level", "kind", "retired_at"]
    list_filter = ["level", "kind"]
    search_fields = ["name", "short_name", "code"]
    raw_id_fields = ["parent", "merged_into"]

    def get_readonly_fields(self, request: Any, obj: Any = None) -> list[str]:
        # A unit's level decides which columns point at it; it is set once, when added.
        return [*DERIVED, "level"] if obj is not None else DERIVED

    def save_model(self, request: Any, obj: OrgUnit, form: Any, change: bool) -> None:
        if change and "parent" in form.changed_data and obj.parent is not None:
            unit_reparent(unit=obj, parent=obj.parent)  # saves obj with its other changes
            return
        if not change:
            obj.set_ancestors_from(obj.parent)
        super().save_model(request, obj, form, change)


@admin.register(OrgDepartment)
class OrgDepartmentAdmin(ModelAdmin):
    list_display = ["name", "unit"]
    search_fields = ["name"]
    raw_id_fields = ["unit"]


@admin.register(HandlingUnit)
class HandlingUnitAdmin(ModelAdmin):
    list_display = ["name", "area", "retired_at"]
    search_fields = ["name"]
    raw_id_fields = ["area"]


admin.site.register(Delegation, ModelAdmin, raw_id_fields=["unit"])
admin.site.register(Group, ModelAdmin, raw_id_fields=["unit", "delegation"])
