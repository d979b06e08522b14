from __future__ import annotations

from django import forms

from minyi.people.models import Role


class TokenForm(forms.Form):
    token = forms.CharField(
        label="动态口令",
        min_length=6,
        max_length=6,
        help_text="打开手机上的身份验证器应用，输入当前显示的 6 位数字。",
        error_messages={
            "required": "请输入 6 位动态口令。",
            "min_length": "动态口令是 6 位数字。",
            "max_length": "动态口令是 6 位数字。",
        },
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}
        ),
    )

    def clean_token(self) -> str:
        token = self.cleaned_data["token"].strip()
        if not token.isdigit():
            raise forms.ValidationError("动态口令是 6 位数字。")
        return token


class PolicyForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label="须使用动态口令（双因素认证）的角色",
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="所选角色的账号登录时，除密码外还须输入手机身份验证器上的动态口令；"
        "尚未绑定的，登录后先完成绑定才能使用系统。",
    )
