"""Form base classes: every form knows its user, so its choices are scoped."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, cast

from django import forms
from django.core.exceptions import ValidationError

from minyi.core.widgets import FAST_RENDERER, use_fast_selects


def add_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """A service's ValidationError onto the form: field errors where the form has the
    field, the rest at the top."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            for message in (m for e in errors for m in e.messages):
                form.add_error(field if field in form.fields else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


def field_of[F: forms.Field](form: forms.BaseForm, name: str, kind: type[F]) -> F:
    """The form's field `name` as the kind it is declared (a form's `fields` are typed as
    plain Fields), to narrow its queryset or choices; a field of another kind is a bug."""
    field = form.fields[name]
    if not isinstance(field, kind):
        raise TypeError(f"{type(form).__name__}.{name} is a {type(field).__name__}")
    return field


def preselect_only_choice(form: forms.BaseForm, name: str) -> None:
    """A blank form whose choice field `name` offers one object, that object chosen: a
    liaison of one studio does not pick it from a list of one on every form. The choices
    are read once here and kept, so the page renders them without asking again."""
    field = field_of(form, name, forms.ModelChoiceField)
    if form.is_bound or form.initial.get(name) not in (None, "") or field.initial:
        return
    choices = list(cast(Iterable[tuple[Any, str]], field.choices))
    field.choices = choices
    objects = [value for value, _label in choices if value != ""]
    if len(objects) == 1:
        form.initial[name] = getattr(objects[0], "value", objects[0])


def label_choices(field: forms.ModelChoiceField, label: Callable[[Any], str]) -> None:
    """How `field` names each of its objects. Django's documented way is a subclass that
    overrides label_from_instance; setting it on the one field does the same without a
    class per label, which the stubs (a method is not assignable) do not know."""
    field.label_from_instance = label  # type: ignore[method-assign, assignment]


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
    _shared_base_fields: ClassVar[_FieldsSharingChoices]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        self.user = user
        cls = type(self)
        shared = cls.__dict__.get("_shared_base_fields")
        if shared is None:
            shared = _FieldsSharingChoices(cls.base_fields)
            cls._shared_base_fields = shared
        # What BaseForm.__init__ deep-copies into self.fields; the stubs call it class-only.
        self.base_fields = shared  # type: ignore[misc]
        super().__init__(*args, **kwargs)
        use_fast_selects(self)
        for field in self.fields.values():
            field.required = False
