from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.db.models import Q

from minyi.core.forms import FilterForm, ScopedModelForm, field_of, label_choices
from minyi.core.phones import normalize_phone
from minyi.core.regulations import cite
from minyi.org.models import Delegation, Group, Kind, Level, OrgUnit
from minyi.people.models import (
    Liaison,
    LiaisonKind,
    Representative,
    RepresentativeCategory,
    RepresentativeLevel,
)
from minyi.people.rules import check_linked_communities
from minyi.people.scopes import scope_of
from minyi.studios.models import Studio


def _unit_label(unit: OrgUnit) -> str:
    street = f"{unit.street.name} " if unit.street_id and unit.street else ""
    return f"{street}{unit.short_name}"


class RepresentativeForm(ScopedModelForm):
    class Meta:
        model = Representative
        fields = [
            "name",
            "level",
            "category",
            "unit",
            "delegation",
            "group",
            "employer",
            "position",
            "phone",
            "photo",
            "linked_communities",
            "active",
        ]

    def scope_fields(self) -> None:
        units = OrgUnit.objects.for_editor(self.user).active()
        rep = self.instance if self.instance.pk else None
        # The electoral unit is a district (or system committee): for a street official
        # that is the district above their street, outside what they edit. Values the
        # record already has stay available, so an edit never fails or drops them.
        electoral = Q(pk__in=units.filter(level=Level.DISTRICT).values("pk"))
        scope = scope_of(self.user)
        if scope.unit is not None and scope.unit.district_id:
            electoral |= Q(pk=scope.unit.district_id)
        districts = OrgUnit.objects.active().filter(electoral, level=Level.DISTRICT)
        if rep is not None:
            districts = districts | OrgUnit.objects.filter(pk=rep.unit_id)
        field_of(self, "unit", forms.ModelChoiceField).queryset = districts.order_by("kind", "code")
        field_of(self, "delegation", forms.ModelChoiceField).queryset = Delegation.objects.filter(
            Q(unit__in=districts) | Q(pk=rep.delegation_id if rep else None)
        ).order_by("unit__code")
        field_of(self, "group", forms.ModelChoiceField).queryset = Group.objects.filter(
            Q(unit__in=units.filter(level=Level.STREET)) | Q(pk=rep.group_id if rep else None)
        ).order_by("unit__code")
        communities = Q(pk__in=units.filter(level=Level.COMMUNITY).values("pk"))
        if rep is not None:
            communities |= Q(pk__in=rep.linked_communities.values("pk"))
        linked = field_of(self, "linked_communities", forms.ModelChoiceField)
        linked.queryset = (
            OrgUnit.objects.filter(communities).select_related("street").order_by("code", "name")
        )
        label_choices(linked, _unit_label)
        self.fields["linked_communities"].widget.attrs["size"] = 8

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data.get("phone", ""))

    def clean_photo(self) -> Any:
        photo = self.cleaned_data.get("photo")
        limit = settings.MAX_PHOTO_BYTES
        if photo and getattr(photo, "size", 0) > limit:
            # :g, not //: a limit under 1 MB must not read "0 MB".
            raise forms.ValidationError(f"照片不能超过 {limit / (1024 * 1024):g} MB。")
        return photo

    def clean_linked_communities(self) -> Any:
        communities = self.cleaned_data.get("linked_communities")
        if communities is not None:
            check_linked_communities(list(communities))
        return communities

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        group, delegation = data.get("group"), data.get("delegation")
        if group and delegation and group.delegation_id != delegation.pk:
            self.add_error("group", f"“{group}”不属于“{delegation}”。")
        if group and not delegation:
            data["delegation"] = group.delegation
        unit = data.get("unit")
        category = data.get("category")
        if (
            unit
            and category == RepresentativeCategory.SYSTEM_COMMITTEE
            and unit.kind != Kind.SYSTEM_COMMITTEE
        ):
            self.add_error("unit", "系统工委代表的选举单位应为市委工委或国资委党委。")
        if (
            data.get("level") == RepresentativeLevel.CITY
            and category != RepresentativeCategory.SYSTEM_COMMITTEE
            and category != RepresentativeCategory.ARMED_FORCES
            and not data.get("linked_communities")
        ):
            self.add_error("linked_communities", "市党代表须固定联系一个社区或两个相邻社区。")
        elif (
            not self.instance.pk
            and unit is not None
            and not data.get("linked_communities")
            and not OrgUnit.objects.for_editor(self.user).filter(pk=unit.pk).exists()
        ):
            # A street official sees a representative through the communities they are
            # linked to; without one, the new record would vanish from its creator's view.
            self.add_error(
                "linked_communities",
                "请选择本辖区内的联系社区，否则保存后您将无法查看和维护这位代表。",
            )
        return data


class RepresentativeFilterForm(FilterForm):
    level = forms.ChoiceField(label="层级", choices=[("", "全部"), *RepresentativeLevel.choices])
    category = forms.ChoiceField(
        label="类别", choices=[("", "全部"), *RepresentativeCategory.choices]
    )
    delegation = forms.ModelChoiceField(
        label="代表团", queryset=Delegation.objects.none(), empty_label="全部"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field_of(self, "delegation", forms.ModelChoiceField).queryset = Delegation.objects.filter(
            unit__in=OrgUnit.objects.for_user(self.user).filter(level=Level.DISTRICT)
        ).order_by("unit__code")


class LiaisonForm(ScopedModelForm):
    class Meta:
        model = Liaison
        fields = ["name", "kind", "studio", "community", "position", "phone", "active"]

    def scope_fields(self) -> None:
        field_of(self, "studio", forms.ModelChoiceField).queryset = (
            Studio.objects.for_editor(self.user).active().order_by("name")
        )
        community_field = field_of(self, "community", forms.ModelChoiceField)
        community_field.queryset = (
            OrgUnit.objects.for_editor(self.user)
            .active()
            .filter(level=Level.COMMUNITY)
            .select_related("street")
            .order_by("code", "name")
        )
        label_choices(community_field, _unit_label)
        self.fields[
            "community"
        ].help_text = (
            f"仅当社区尚未设立工作室、由社区党组织书记或副书记兼任联络员时填写（{cite('CM 7')}）。"
        )

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data.get("phone", ""))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        kind, studio, community = data.get("kind"), data.get("studio"), data.get("community")
        if kind == LiaisonKind.STAND_IN:
            if studio:
                self.add_error("studio", "书记兼任的联络员不属于工作室，请清空此项并选择社区。")
            if not community:
                self.add_error("community", "请选择由其兼任联络员的社区。")
            elif Studio.objects.active().filter(unit=community).exists():
                self.add_error(
                    "community", f"“{community.short_name}”已设立工作室，请在工作室下设联络员。"
                )
        elif kind:
            if not studio:
                self.add_error("studio", "专职、兼职联络员须选择所在工作室。")
            if community:
                self.add_error("community", "专职、兼职联络员不填社区，请清空此项。")
            if kind == LiaisonKind.FULL_TIME and studio and data.get("active"):
                self._one_full_time(studio)
        return data

    def _one_full_time(self, studio: Studio) -> None:
        """A studio has one full-time liaison (SM 11: 配备一名专职联络员). A new one is
        named once the one in post is marked 不在岗 (or made part-time), so that the
        plaque, the evaluation and the studio's page never show two."""
        others = Liaison.objects.filter(
            studio=studio, kind=LiaisonKind.FULL_TIME, active=True
        ).exclude(pk=self.instance.pk)
        current = others.values_list("name", flat=True).first()
        if current is not None:
            self.add_error(
                "kind",
                f"“{studio.name}”已有在岗的专职联络员{current}，每个工作室配备一名"
                f"（{cite('SM 11')}）。如需更换，请先将{current}设为不在岗，再登记新的专职联络员。",
            )


class LiaisonFilterForm(FilterForm):
    kind = forms.ChoiceField(label="类型", choices=[("", "全部"), *LiaisonKind.choices])
    studio = forms.ModelChoiceField(
        label="工作室", queryset=Studio.objects.none(), empty_label="全部"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        studios = Studio.objects.for_user(self.user).order_by("name")
        field_of(self, "studio", forms.ModelChoiceField).queryset = studios
