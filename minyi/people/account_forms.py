"""Accounts managed by organisation departments: who may log in, with which role and
which scope. A department can give only roles and scopes inside its own area."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password

from minyi.audit import record
from minyi.audit.models import Action
from minyi.core.forms import FilterForm, field_of, label_choices
from minyi.org.models import HandlingUnit, Level, OrgUnit
from minyi.org.models import Kind as OrgKind
from minyi.people.models import OFFICIAL_ROLE_LEVELS, Liaison, Representative, Role, User


class AccountForm(forms.ModelForm):
    password = forms.CharField(
        label="初始密码",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="至少 10 位，不能是常见密码或纯数字。编辑账号时留空表示不修改密码。",
    )
    liaison = forms.ModelChoiceField(
        label="对应联络员",
        queryset=Liaison.objects.none(),
        required=False,
        help_text="角色为工作室联络员时选择。",
    )
    representative = forms.ModelChoiceField(
        label="对应党代表",
        queryset=Representative.objects.none(),
        required=False,
        help_text="角色为党代表时选择。",
    )

    class Meta:
        model = User
        fields = ["username", "full_name", "role", "unit", "handling_unit", "is_active"]
        labels = {"username": "用户名", "is_active": "启用"}

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)
        self.fields["role"].required = True
        unit_field = field_of(self, "unit", forms.ModelChoiceField)
        unit_field.queryset = (
            OrgUnit.objects.for_editor(user)
            .active()
            .filter(level__in=[Level.CITY, Level.DISTRICT, Level.STREET])
            .order_by("level", "code", "name")
        )
        label_choices(unit_field, lambda u: f"{u.name}（{u.get_level_display()}）")
        self.fields["unit"].help_text = "组织部门工作人员选择其所在的市、区（新区、工委）或街道。"
        self.grantable = _grantable_roles(unit_field.queryset, keep=self.instance.role)
        role_field = field_of(self, "role", forms.ChoiceField)
        role_field.choices = [
            ("", "---------"),
            *[(value, label) for value, label in Role.choices if value in self.grantable],
        ]
        role_field.error_messages["invalid_choice"] = (
            "请从列表中选择角色：列表中是您能为其选择所属单位的角色。"
        )
        field_of(self, "handling_unit", forms.ModelChoiceField).queryset = (
            HandlingUnit.objects.for_editor(user).active().order_by("name")
        )
        field_of(self, "liaison", forms.ModelChoiceField).queryset = (
            Liaison.objects.for_editor(user).active().order_by("name")
        )
        field_of(self, "representative", forms.ModelChoiceField).queryset = (
            Representative.objects.for_editor(user).active().order_by("name")
        )
        if self.instance.pk:
            self.fields["username"].disabled = True
            self.initial["liaison"] = Liaison.objects.filter(user=self.instance).first()
            self.initial["representative"] = Representative.objects.filter(
                user=self.instance
            ).first()
        else:
            self.fields["password"].required = True
            self.fields["password"].help_text = "至少 10 位，不能是常见密码或纯数字。"

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        role: str = data.get("role") or ""
        needs = {
            "unit": role in OFFICIAL_ROLE_LEVELS,
            "handling_unit": role == Role.HANDLING_UNIT_STAFF,
            "liaison": role == Role.LIAISON,
            "representative": role == Role.REPRESENTATIVE,
        }
        labels = {
            "unit": "所属单位",
            "handling_unit": "承办单位",
            "liaison": "对应联络员",
            "representative": "对应党代表",
        }
        for field, needed in needs.items():
            if needed and not data.get(field):
                self.add_error(field, f"角色为“{Role(role).label}”时须选择{labels[field]}。")
            elif not needed:
                data[field] = None
        unit = data.get("unit")
        if (
            role in OFFICIAL_ROLE_LEVELS
            and unit
            and unit.level not in OFFICIAL_ROLE_LEVELS[Role(role)]
        ):
            self.add_error("unit", f"“{unit.name}”是{unit.get_level_display()}级单位，与角色不符。")
        if role == Role.COMMITTEE_OFFICIAL and unit and unit.kind != "system_committee":
            self.add_error("unit", "市委工委工作人员须选择一个工委。")
        if role == Role.DISTRICT_OFFICIAL and unit and unit.kind == "system_committee":
            self.add_error("unit", "工委工作人员请选择角色“市委工委 / 国资委党委”。")
        for field in ("liaison", "representative"):
            person = data.get(field)
            if person and person.user_id and person.user_id != self.instance.pk:
                self.add_error(field, f"{person.name} 已有登录账号。")
        password = data.get("password")
        if password:
            candidate = User(
                username=data.get("username") or self.instance.username,
                full_name=data.get("full_name", ""),
            )
            try:
                validate_password(password, candidate)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return data

    def save(self, commit: bool = True) -> User:
        account = super().save(commit=False)
        if self.cleaned_data.get("password"):
            account.set_password(self.cleaned_data["password"])
        account.save()
        # One person, one account: re-link the liaison or representative record. The link
        # decides what the account sees, so a change is a permission change (audit trail).
        relinked = (
            Liaison.objects.filter(user=account)
            .exclude(pk__in=_pks(self.cleaned_data.get("liaison")))
            .update(user=None)
        )
        relinked += (
            Representative.objects.filter(user=account)
            .exclude(pk__in=_pks(self.cleaned_data.get("representative")))
            .update(user=None)
        )
        for field in ("liaison", "representative"):
            person = self.cleaned_data.get(field)
            if person is not None:
                relinked += (
                    type(person)
                    .objects.filter(pk=person.pk)
                    .exclude(user=account)
                    .update(user=account)
                )
        if relinked:
            record(Action.PERMISSION_CHANGE, account, fields=["liaison", "representative"])
        return account


def _pks(person: Liaison | Representative | None) -> list[int]:
    """The record to keep linked, as a list to exclude: none when no record was chosen."""
    return [person.pk] if person is not None else []


class AccountFilterForm(FilterForm):
    role = forms.ChoiceField(label="角色", choices=[("", "全部"), *Role.choices])
    inactive = forms.BooleanField(label="包含已停用")


def _grantable_roles(units: Any, keep: str = "") -> set[str]:
    """The roles the form may offer: an official's role only where the issuer can give
    a unit that fits it (a district's department has no city unit to give, so it is not
    offered 市委组织部, which could only be refused), every other role, the blank choice,
    and the account's own role as it stands. One query: the kinds of unit on offer."""
    offered = set(units.values_list("level", "kind").distinct())
    committee = OrgKind.SYSTEM_COMMITTEE
    fits = {
        Role.CITY_OFFICIAL: any(level == "city" for level, _ in offered),
        Role.DISTRICT_OFFICIAL: any(
            level == "district" and kind != committee for level, kind in offered
        ),
        Role.STREET_OFFICIAL: any(level == "street" for level, _ in offered),
        Role.COMMITTEE_OFFICIAL: any(kind == committee for _, kind in offered),
    }
    return {"", keep, *(r for r in Role.values if fits.get(Role(r), True))}
