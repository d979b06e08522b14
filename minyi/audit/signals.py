"""What writes audit rows by itself: every save and delete of a minyi model (post_save,
post_delete, m2m_changed), logins, failed logins, lockouts and logouts, and the records of
full views of personal data.

queryset.update(), bulk_create() and bulk_update() send no signals: the places that use them
for writes call `minyi.audit.record` themselves (docs/audit.md lists them and the exemptions).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_init, post_save

from minyi.audit.models import Action, Result
from minyi.audit.trail import object_type_of, record

# Not recorded row by row: the trail itself, the API's call log (itself a log of who
# called what, written on every API request), and the compliance tallies (derived
# numbers, recomputed from the audited facts; minyi.duties.tallies).
EXEMPT = {
    "audit.auditevent",
    "api.apicall",
    "duties.studiotally",
    "duties.representativetally",
}
# A change to these fields of an account is a permission change.
PERMISSION_FIELDS = {"role", "unit", "handling_unit", "is_active", "is_staff", "is_superuser"}
PERMISSION_M2M = {"groups", "user_permissions"}
# Written on every login by Django itself; the login row already says it.
IGNORED_UPDATES = {frozenset({"last_login"})}
# Records of a full view of personal data: (model, the object that was viewed).
VIEW_RECORDS = {
    "cases.personaldataview": "case",
    "duties.householdaddressview": "visit",
    "duties.appointmentview": "appointment",
}
_SNAPSHOT = "_audit_loaded"
_SKIPPED_ON_CREATE = {"id", "created_at", "updated_at"}


def _audited_models() -> list[Any]:
    return [
        model
        for model in apps.get_models()
        if model.__module__.startswith("minyi.") and object_type_of(model) not in EXEMPT
    ]


def _values(instance: Any) -> dict[str, Any]:
    state = instance.__dict__
    return {
        f.attname: state[f.attname] for f in instance._meta.concrete_fields if f.attname in state
    }


def _copy(instance: Any) -> dict[str, Any]:
    # A plain copy of the instance's dict (a C-level copy): every row any page loads pays
    # for this, so it must not walk the model's fields; _changed picks the fields out
    # of it only when the row is saved, which few loaded rows ever are.
    state = instance.__dict__.copy()
    state.pop(_SNAPSHOT, None)
    return state


def _snapshot(sender: Any, instance: Any, **kwargs: Any) -> None:
    # Loaded rows remember their values, so that a save can name the fields it changed.
    if instance.pk is not None:
        instance.__dict__[_SNAPSHOT] = _copy(instance)


def _changed(instance: Any, update_fields: Any) -> list[str]:
    before = instance.__dict__.get(_SNAPSHOT)
    now = _values(instance)
    fields = instance._meta.concrete_fields
    if before is None:
        names = set(update_fields) if update_fields else {f.name for f in fields}
        return sorted(names)
    return sorted(
        f.name for f in fields if f.attname in now and before.get(f.attname) != now[f.attname]
    )


def _saved(sender: Any, instance: Any, created: bool, raw: bool, update_fields: Any, **kw: Any):
    if raw:  # loaddata
        return
    label = object_type_of(sender)
    if created and label in VIEW_RECORDS:
        target = getattr(instance, VIEW_RECORDS[label])
        detail = getattr(instance, "purpose", "") or ""
        record(Action.VIEW_PERSONAL, target, detail=detail, actor=instance.viewer)
        return
    if created:
        names = [
            f.name
            for f in sender._meta.concrete_fields
            if f.name not in _SKIPPED_ON_CREATE and getattr(instance, f.attname) not in (None, "")
        ]
        record(Action.CREATE, instance, fields=names)
    else:
        names = _changed(instance, update_fields)
        if frozenset(names) in IGNORED_UPDATES:
            return
        action = Action.UPDATE
        if label == object_type_of(apps.get_model("people", "User")) and PERMISSION_FIELDS & set(
            names
        ):
            action = Action.PERMISSION_CHANGE
        record(action, instance, fields=names)
    instance.__dict__[_SNAPSHOT] = _copy(instance)


def _deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    record(Action.DELETE, instance)


def _m2m(sender: Any, instance: Any, action: str, reverse: bool, model: Any, pk_set: Any, **kw):
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    if object_type_of(type(instance)) in EXEMPT or not type(instance).__module__.startswith(
        "minyi."
    ):
        return
    name = next(
        (f.name for f in type(instance)._meta.many_to_many if f.remote_field.through is sender),
        sender._meta.model_name,
    )
    kind = Action.PERMISSION_CHANGE if name in PERMISSION_M2M else Action.UPDATE
    detail = f"{action.removeprefix('post_')} {object_type_of(model)} {len(pk_set or ())} 条"
    record(kind, instance, fields=[name], detail=detail)


def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record(Action.LOGIN, user, request=request, actor=user)


def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record(Action.LOGOUT, user, request=request, actor=user)


def _login_failed(sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    # Who tried is the username typed (there may be no such account); never the password.
    username = str(credentials.get("username", ""))[:150]
    record(
        Action.LOGIN_FAILED,
        object_type="people.user",
        result=Result.FAILURE,
        request=request,
        actor_name=username,
    )


def _locked_out(sender: Any, request: Any, username: Any = None, ip_address: Any = None, **kw):
    record(
        Action.LOCKED_OUT,
        object_type="people.user",
        result=Result.DENIED,
        request=request,
        actor_name=str(username or "")[:150],
    )


def connect() -> None:
    for model in _audited_models():
        post_init.connect(_snapshot, sender=model, dispatch_uid=f"audit-init-{model}")
        post_save.connect(_saved, sender=model, dispatch_uid=f"audit-save-{model}")
        post_delete.connect(_deleted, sender=model, dispatch_uid=f"audit-delete-{model}")
    m2m_changed.connect(_m2m, dispatch_uid="audit-m2m")
    user_logged_in.connect(_logged_in, dispatch_uid="audit-login")
    user_logged_out.connect(_logged_out, dispatch_uid="audit-logout")
    user_login_failed.connect(_login_failed, dispatch_uid="audit-login-failed")
    from axes.signals import user_locked_out

    user_locked_out.connect(_locked_out, dispatch_uid="audit-locked-out")
