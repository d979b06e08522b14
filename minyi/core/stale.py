"""Two people editing one record: the later save is refused instead of silently
overwriting the earlier one (a lost update).

Cases and household visits carry a `version` for this (docs/decisions.md, "Optimistic
concurrency on cases"). The other records edited on a page (organisation units,
handling units, studios, representatives, liaisons, events, annual plans) are
`TimeStamped`, and their `updated_at` serves as the version: the edit page carries the
value it was loaded with in a hidden field, and the save, inside its transaction, locks
the row and compares. A row changed since is not written; the page comes back (409)
with everything the user typed and says so. Saving again then is a decision taken
knowing that someone else changed the record.

`updated_at` moves on every `save()`, and on every `queryset.update()` of these models
through their StampedQuerySet (minyi.core.models), so a bulk change is noticed too.

A save without the hidden value (a page opened before this check existed and left open
across the deploy, a script posting only the fields) cannot show that the record is
unchanged, so it is refused the same way, with its own message; the page that comes
back carries the value, and saving it goes through.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from django import forms
from django.db.models import Model
from django.http import QueryDict
from django.utils import timezone

FIELD = "loaded_at"


class StaleEdit(Exception):
    """The row changed after the form was loaded, or the post cannot show when it was
    loaded (`unversioned`)."""

    def __init__(self, current: datetime, *, unversioned: bool = False) -> None:
        super().__init__(current)
        self.current = current
        self.unversioned = unversioned


def token(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def guard[F: forms.BaseForm](form: F, obj: Model | None) -> F:
    """Give an edit form the hidden version of the record it edits (nothing for a new
    record, or for a model without `updated_at`)."""
    loaded = token(getattr(obj, "updated_at", None))
    if loaded:
        form.fields[FIELD] = forms.CharField(
            required=False, widget=forms.HiddenInput, initial=loaded
        )
    return form


def check(form: forms.BaseForm, model: type[Model], pk: Any) -> None:
    """Inside the saving transaction, before writing: lock the row and raise StaleEdit
    if it changed since the form was loaded, or if the post does not say when that was
    (an older page, a script): that save could overwrite a change just the same."""
    if FIELD not in form.fields:  # a new record, or a model without `updated_at`
        return
    loaded = form.cleaned_data.get(FIELD) or ""
    current = locked_version(model, pk)
    if current is None:
        return
    if not loaded:
        raise StaleEdit(current, unversioned=True)
    if token(current) != loaded:
        raise StaleEdit(current)


def locked_version(model: type[Model], pk: Any) -> datetime | None:
    """The row's `updated_at`, the row locked until the transaction ends (None if gone)."""
    return (
        model._default_manager.select_for_update()
        .filter(pk=pk)
        .values_list("updated_at", flat=True)
        .first()
    )


def changed_since(current: datetime) -> str:
    """The refusal of the API's edits, which carry `updated_at` instead of the field."""
    when = timezone.localtime(current)
    return (
        f"读取之后，这条记录已被他人修改（{when:%Y-%m-%d %H:%M}）。为免覆盖他人的修改，"
        "本次未保存：请重新读取，核对后再提交。"
    )


def refuse(form: forms.BaseForm, exc: StaleEdit) -> None:
    """Say so on the form, keeping what the user typed; the form now carries the
    current version, so saving again overwrites knowingly."""
    when = timezone.localtime(exc.current)
    if exc.unversioned:
        why = (
            "此页面已过期（在系统启用修改冲突检查之前打开，或由脚本提交），无法确认打开后"
            f"这条记录是否被他人修改过（最近一次修改：{when:%Y-%m-%d %H:%M}）"
        )
    else:
        why = f"您打开此页后，这条记录已被他人修改（{when:%Y-%m-%d %H:%M}）"
    form.add_error(
        None,
        f"{why}。为免覆盖他人的修改，本次未保存。下面保留了您填写的内容：请在新窗口打开"
        "此记录核对，确认无误后再次保存。",
    )
    # A QueryDict from the request (a dict in some tests): its copy is mutable and keeps
    # every value of a multiple choice.
    data = cast(QueryDict, form.data).copy()
    data[FIELD] = token(exc.current)
    form.data = data
