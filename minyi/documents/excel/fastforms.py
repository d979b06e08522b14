"""The page's form, made fit for thousands of rows.

Per row, a ModelForm would rebuild its scoped choice querysets, fetch each chosen
object with a query, check each foreign key again at model level and check the
model's constraints with a query. For an import the scoped choices are loaded once
(`preload`), and the per-row form picks from them in memory: the same choices, the
same clean() rules, no query per row for them. The database constraints still hold
at the commit, which is one transaction (an IntegrityError rolls everything back)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import EMPTY_VALUES

if TYPE_CHECKING:
    from minyi.core.forms import ScopedModelForm


class PreloadedChoice(forms.ModelChoiceField):
    def __init__(self, original: forms.ModelChoiceField, objects: list[Any]) -> None:
        super().__init__(
            queryset=original.queryset,
            required=original.required,
            label=original.label,
            error_messages=original.error_messages,
        )
        self.by_pk = {str(obj.pk): obj for obj in objects}

    def to_python(self, value: Any) -> Any:
        if value in EMPTY_VALUES:
            return None
        found = self.by_pk.get(str(getattr(value, "pk", value)))
        if found is None:
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return found


class PreloadedMultiple(forms.ModelMultipleChoiceField):
    def __init__(self, original: forms.ModelMultipleChoiceField, objects: list[Any]) -> None:
        super().__init__(
            queryset=original.queryset,
            required=original.required,
            label=original.label,
            error_messages=original.error_messages,
        )
        self.by_pk = {str(obj.pk): obj for obj in objects}

    def clean(self, value: Any) -> Any:
        values = [str(v) for v in (value or [])]
        if self.required and not values:
            raise ValidationError(self.error_messages["required"], code="required")
        missing = [v for v in values if v not in self.by_pk]
        if missing:
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": missing[0]},
            )
        return [self.by_pk[v] for v in values]


def preload(form_class: type[ScopedModelForm], user: Any) -> type[ScopedModelForm]:
    """A subclass of the page's form whose choices are those the page would offer this
    user, loaded once."""
    prototype = form_class(user=user)
    present = set(prototype.fields)
    chosen: dict[str, forms.Field] = {}
    for name, field in prototype.fields.items():
        # Built once and shared by every row's form: they hold no per-form state.
        if isinstance(field, forms.ModelMultipleChoiceField):
            assert field.queryset is not None  # a model's form field has its queryset
            chosen[name] = PreloadedMultiple(field, list(field.queryset))
        elif isinstance(field, forms.ModelChoiceField):
            assert field.queryset is not None  # a model's form field has its queryset
            chosen[name] = PreloadedChoice(field, list(field.queryset))

    class Preloaded(form_class):  # type: ignore[misc, valid-type]
        def scope_fields(self) -> None:
            for name in set(self.fields) - present:
                del self.fields[name]
            self.fields.update(chosen)

        def _get_validation_exclusions(self) -> Any:
            # The chosen objects came from the scoped choices just loaded: checking
            # that they exist again, row by row, would only repeat the query.
            return super()._get_validation_exclusions() | set(chosen)

        def validate_constraints(self) -> None:
            """Checked by the database at the commit (all rows or none)."""

    Preloaded.__name__ = f"Preloaded{form_class.__name__}"
    return Preloaded
