"""Form base classes: every form knows its user, so its choices are scoped."""

from __future__ import annotations

import copy
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


class _FieldsSharingChoices(dict):
    """A form class's fields whose deep copy, made for every form (BaseForm.__init__),
    shares the fields' lists of choices instead of copying each (value, label) pair: a
    list page's filter form spent more on copying its ten lists of choices than on
    anything else it did before rendering. The lists are never changed in place; a
    form that offers other choices assigns a new list (`field.choices = …`), which
    Django normalises into a new list of its own."""

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, forms.Field]:
        for field in self.values():
            choices = getattr(field, "_choices", None)
            if isinstance(choices, list):
                memo[id(choices)] = choices
        return {name: copy.deepcopy(field, memo) for name, field in self.items()}


class FilterForm(forms.Form):
    default_renderer = FAST_RENDERER
    q = forms.CharField(label="搜索", required=False, max_length=100)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        self.user = user
        cls = type(self)
        shared = cls.__dict__.get("_shared_base_fields")
        if shared is None:
            shared = _FieldsSharingChoices(cls.base_fields)
            cls._shared_base_fields = shared
        self.base_fields = shared  # what BaseForm.__init__ deep-copies into self.fields
        super().__init__(*args, **kwargs)
        use_fast_selects(self)
        for field in self.fields.values():
            field.required = False
