"""Shared model parts: timestamps and the scoped queryset every user-facing query uses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from django.db import models
from django.db.models import Q
from django.utils import timezone

if TYPE_CHECKING:
    from minyi.people.scopes import Scope


def column_of(field: models.Field) -> str:
    """A concrete field's column, for SQL written by hand (a COPY): the stubs allow None,
    which only a field without a column of its own has."""
    assert field.column is not None
    return field.column


class TimeStamped(models.Model):
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        abstract = True


class ScopedQuerySet(models.QuerySet):
    """The one scoping mechanism: `X.objects.for_user(user)` for reading,
    `X.objects.for_editor(user)` for changing. Subclasses say which rows a scope covers.

    An object outside the scope is simply absent, so views that fetch through these
    answer 404 for "not yours" exactly as for "does not exist".
    """

    def for_user(self, user: Any) -> Self:
        return self._scoped(user, write=False)

    def for_editor(self, user: Any) -> Self:
        return self._scoped(user, write=True)

    def _scoped(self, user: Any, *, write: bool) -> Self:
        from minyi.people.scopes import scope_of

        scope = scope_of(user)
        if scope.everything:
            return self.all()
        q = self.scope_q(scope, write=write)
        if q is None:
            return self.none()
        return self.filter(q)

    def scope_q(self, scope: Scope, *, write: bool) -> Q | None:  # pragma: no cover
        raise NotImplementedError


class StampedQuerySet(ScopedQuerySet):
    """For the records edited on a page, whose `updated_at` is the version the save
    checks (minyi.core.stale): `update()` moves it too, unless the caller sets it.

    `auto_now` moves it on `save()` only. Without this a `queryset.update()` (a merge,
    an import, an account re-link) would change rows behind an open edit page unseen,
    and that page's save would put the old values back. Done here rather than at each
    call site, or by a test grepping for `.update(`: it also covers related managers
    (`unit.handling_units.update(...)`), `bulk_update()` (which calls `update()`),
    calls through `type(obj).objects`, and the next call someone writes. Only
    `_base_manager` (a plain queryset) bypasses it; the key-rotation commands use that,
    and they change no value a page shows.
    """

    def update(self, **kwargs: Any) -> int:
        kwargs.setdefault("updated_at", timezone.now())
        return super().update(**kwargs)


class PendingSeal(models.Model):
    """A file `seal_private_files` has given a key but not yet sealed on disk: its key is
    committed before the sealed copy is renamed over the plain file (so that the file
    opens at every moment; minyi.core.sealing_existing), and until the rename the file is
    still plain although its row has a key. Written in the key's transaction, deleted once
    the rename is on disk, so a run killed in between leaves it behind and the deploy check
    minyi.E001, which counts rows without a key, counts these too."""

    label = models.CharField(max_length=100)  # the sealed model's app_label.ModelName
    row = models.BigIntegerField()
    since = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["label", "row"], name="pending_seal_once")]

    def __str__(self) -> str:
        return f"{self.label} #{self.row}"
