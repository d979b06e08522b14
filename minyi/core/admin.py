"""The admin site's rules, and the base classes every ModelAdmin and inline of the project
derives from (tests/core/test_line_breaks.py fails for one that does not); the admin's
pages are checked as the staff pages are (tests/browser/test_admin_accessibility.py).

The admin's textarea is minyi's (`AdminTextarea`): the browser posts a line break as CR LF
but counted it as one character for `maxlength`, so without it an administrator's text at
its cap (minyi.core.text_limits) was refused by an amount nobody could see, as the pages'
was before minyi.core.widgets.Textarea."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.widgets import AdminFileWidget, AdminTextareaWidget
from django.db import models
from django.http import HttpRequest

from minyi.core.widgets import Textarea


def _superusers_only(request: HttpRequest) -> bool:
    # Django admin bypasses the for_user scoping, so it stays with superusers.
    return bool(request.user.is_active and request.user.is_superuser)


admin.site.has_permission = _superusers_only  # type: ignore[method-assign]
admin.site.site_header = "民意 · 系统管理"
admin.site.site_title = "民意 · 系统管理"


class AdminTextarea(Textarea, AdminTextareaWidget):
    """The admin's textarea (its `vLargeTextField` class) reading CR LF as LF, as every
    page's does."""


class AdminFileInput(AdminFileWidget):
    """The admin's file input under the field's own <label>. Django's puts it in a
    <fieldset> whose <legend> is the label, which names the group but not the input:
    axe finds the file input unlabelled (a representative's photo)."""

    use_fieldset = False


# For a TextField, a FileField and their subclasses (the admin looks a field's class up its MRO,
# and has an entry of its own for ImageField).
WIDGET_OVERRIDES: dict[type[models.Field[Any, Any]], dict[str, Any]] = {
    models.TextField: {"widget": AdminTextarea},
    models.FileField: {"widget": AdminFileInput},
    models.ImageField: {"widget": AdminFileInput},
}


class ModelAdmin(admin.ModelAdmin):
    formfield_overrides = WIDGET_OVERRIDES


class StackedInline(admin.StackedInline):
    """The inline of the project: Django's tabular one heads its columns with the fields'
    names and gives the fields no <label> (axe: label, select-name, both critical)."""

    formfield_overrides = WIDGET_OVERRIDES
