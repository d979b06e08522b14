"""The token form: a name, a role and its unit, with the account form's own rules (a
department gives only roles and units inside its area, and the unit must fit the
role), so a token can never reach further than an account the issuer could create."""

from __future__ import annotations

from typing import Any

from django import forms

from minyi.core.forms import field_of
from minyi.core.once import OnceOnlyFormMixin
from minyi.people.account_forms import AccountForm
from minyi.people.models import OFFICIAL_ROLE_LEVELS, Role, User

# Liaisons and representatives are people with their own records; an integration acts
# for a department or a handling unit.
TOKEN_ROLES = [*OFFICIAL_ROLE_LEVELS, Role.HANDLING_UNIT_STAFF]


class TokenForm(OnceOnlyFormMixin, AccountForm):
    """Carries a one-time key: a double click issues one token, not two."""

    name = forms.CharField(
        label="名称",
        max_length=100,
        help_text="对接的系统，如“盐田区 12345 工单平台”。",
        error_messages={"required": "请填写令牌名称。"},
    )

    class Meta(AccountForm.Meta):
        fields = ["name", "role", "unit", "handling_unit"]
        labels = {"role": "角色"}

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        kwargs["instance"] = User()
        super().__init__(*args, user=user, **kwargs)
        for name in ("password", "liaison", "representative"):
            del self.fields[name]
        field_of(self, "role", forms.ChoiceField).choices = [
            ("", "请选择"),
            *[(r.value, r.label) for r in TOKEN_ROLES if r.value in self.grantable],
        ]
        self.fields["role"].help_text = "令牌可见的范围与该角色、该单位的工作人员在页面上完全相同。"
        self.fields["handling_unit"].help_text = "角色为承办单位时选择。"
        self.order_fields(["name", "role", "unit", "handling_unit"])
        self.init_once_only()

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("请填写令牌名称。")
        return name

    def account(self) -> User:
        """The unsaved service account with the chosen role and unit."""
        return forms.ModelForm.save(self, commit=False)
