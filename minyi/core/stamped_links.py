"""A many-to-many change moves its owner's version (minyi.core.stale).

A representative's linked communities and an event's representatives are fields of
those records' edit pages, but `.add()`/`.remove()`/`.set()`/`.clear()` write only the
link table: the owner's `updated_at` stayed put, so an edit page loaded before someone
else changed the links saved its old links over theirs unseen (and a links change
after a page's load was not refused). Here every m2m change of a model whose queryset
is a `StampedQuerySet` moves the owner's `updated_at` through that queryset.

A receiver of `m2m_changed` rather than a line in each service that changes links:
it also covers the admin and a form's `save_m2m()`, both sides of the relation
(`unit.linked_representatives.add(rep)` changes the representative), and the next
m2m field or caller someone writes, as `StampedQuerySet` does for `update()`. It
fires on writes only, so reading pages run no extra statement. Writes to a link table
through its own model (`through.objects....update()`, as merges do) send no signal:
those callers move the version themselves (minyi.org.services.merge_units).

Only the model that declares the field is stamped: its edit page is the one that
shows the links (an organisation unit's page does not list its representatives).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from django.db.models.signals import m2m_changed
from django.utils import timezone

from minyi.core.models import StampedQuerySet


def _stamped(model: type[Model]) -> bool:
    return isinstance(model._default_manager.all(), StampedQuerySet)


def _links_changed(
    sender: Any,
    instance: Model,
    action: str,
    reverse: bool,
    model: type[Model],
    pk_set: set[Any] | None,
    **kwargs: Any,
) -> None:
    # Add and remove after the write, with the ids actually added or removed (none:
    # nothing changed, nothing to stamp); clear before it, while the links to be
    # cleared can still be found. Django runs the signals and the write in one
    # transaction, so a failed write leaves no stamp.
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if action != "pre_clear" and not pk_set:
        return
    owner = model if reverse else type(instance)
    if not _stamped(owner):
        return
    now = timezone.now()
    if not reverse:
        type(instance)._default_manager.filter(pk=instance.pk).update(updated_at=now)
        # The caller's object is the owner: keep it in step with its row.
        instance.updated_at = now  # type: ignore[attr-defined]
        return
    # The reverse side: `instance` is the other end, the owners are `pk_set` (or, for
    # a clear, every owner linked to it).
    field = next(f for f in model._meta.many_to_many if f.remote_field.through is sender)
    owners = model._default_manager.all()
    if action == "pre_clear":
        owners = owners.filter(**{field.name: instance})
    else:
        owners = owners.filter(pk__in=pk_set)
    owners.update(updated_at=now)


def connect() -> None:
    m2m_changed.connect(_links_changed, dispatch_uid="stamped-links")
