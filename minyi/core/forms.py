"""Form base classes: every form knows its user, so its choices are scoped."""

from __future__ import annotations

from typing import Any

from django import forms

from minyi.core.widgets import FAST_RENDERER, use_fast_selects


class ScopedModelForm(forms.ModelForm):
    default_renderer = FAST_RENDERER

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)
        use_fast_selects(self)
        self.scope_fields()

    def scope_fields(self) -> None:
        """Limit the choices of related fields to what the user may use."""


class FilterForm(forms.Form):
    default_renderer = FAST_RENDERER
    q = forms.CharField(label="搜索", required=False, max_length=100)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)
        use_fast_selects(self)
        for field in self.fields.values():
            field.required = False
