"""Appending to the trail. Every row costs one indexed read of its lane's head and one INSERT
(plus, on PostgreSQL, a transaction-level advisory lock on the transaction's lane, so that two
writers never chain onto the same head while writers in other lanes go on; on SQLite the
IMMEDIATE transactions already hold the write lock and there is one lane). The append runs in
the caller's transaction: a write that rolls back takes its audit row with it, so the trail
never claims something that did not happen."""

from __future__ import annotations

import contextlib
import contextvars
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import connection, transaction
from django.db.models import Value
from django.utils import timezone

from minyi.audit import chain, db
from minyi.audit.models import Action, AuditEvent, Result

# The request being served (set by AuditContextMiddleware), so that signal handlers deep in a
# service know who is acting and from where. Outside requests (commands, cron) it is None.
current_request: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "minyi_audit_request", default=None
)


def object_type_of(obj_or_model: Any) -> str:
    meta = obj_or_model._meta
    return f"{meta.app_label}.{meta.model_name}"


def _actor_of(request: Any) -> Any:
    if request is None:
        return None
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return user
    token = getattr(request, "api_token", None)  # the open API acts as the token's account
    return getattr(token, "user", None)


def _role_of(actor: Any) -> str:
    if actor is None:
        return ""
    return getattr(actor, "role", "") or ("superuser" if actor.is_superuser else "")


def request_id_of(request: Any) -> str:
    """The request's id in the trail (X-Request-ID), made on first use."""
    if request is None:
        return ""
    rid = getattr(request, "audit_request_id", None)
    if rid is None:
        rid = uuid.uuid4().hex
        request.audit_request_id = rid
    return rid


def record(
    action: str,
    obj: Any = None,
    *,
    object_type: str = "",
    object_id: Any = "",
    result: str = Result.SUCCESS,
    fields: Iterable[str] = (),
    detail: str = "",
    request: Any = None,
    actor: Any = None,
    actor_name: str = "",
) -> AuditEvent:
    """Append one event. `obj` (a model instance) fills object_type and object_id; `fields`
    are field NAMES, never values; `detail` must not carry personal data. The actor and the
    client address come from `request` or, failing that, the request being served."""
    from minyi.core.security import client_ip

    request = request if request is not None else current_request.get()
    actor = actor if actor is not None else _actor_of(request)
    if obj is not None:
        object_type = object_type or object_type_of(obj)
        object_id = object_id or obj.pk
    row = {
        "at": timezone.now(),
        "actor_id": getattr(actor, "pk", None),
        "actor_name": (getattr(actor, "username", "") or actor_name)[:150],
        "actor_role": _role_of(actor),
        "actor_unit_id": getattr(actor, "unit_id", None),
        "ip": client_ip(request) if request is not None else None,
        "action": action,
        "object_type": object_type,
        "object_id": "" if object_id in (None, "") else str(object_id),
        "result": result,
        "fields": sorted(set(fields)),
        "detail": detail[:200],
        "request_id": request_id_of(request),
    }
    event = AuditEvent(**row)
    pending = _pending.get()
    if pending is not None:
        # Held back: the chain's columns (and the id) are filled in when it is appended.
        pending.append((row, event))
    else:
        _append([(row, event)])
    return event


def _append(pending: list[tuple[dict[str, Any], AuditEvent]]) -> None:
    """Chain the rows, in order, onto the head of the transaction's lane and insert their
    events."""
    # No savepoint: inside a caller's transaction a failed append fails that transaction.
    with transaction.atomic(savepoint=False):
        known = _head_of_transaction()
        head: str | None
        if known is not None:
            lane, head = known
        else:
            lane = 0
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(db.PG_LANE_LOCK_SQL)
                    (lane,) = cursor.fetchone()
            head = (
                AuditEvent.objects.filter(lane=lane)
                .order_by("-id")
                .values_list("hash", flat=True)
                .first()
            )
        for row, event in pending:
            row["lane"] = event.lane = lane
            row["prev_hash"] = event.prev_hash = head or chain.GENESIS
            row["hash"] = event.hash = head = chain.digest(row)
        if len(pending) == 1:
            pending[0][1].save(force_insert=True)
        else:
            # One INSERT of several rows: both databases hand out the ids in the order of
            # the rows, the chain's order, which verify walks by id.
            events = [event for _, event in pending]
            for event in events:
                # An expression among the values makes PostgreSQL's compiler write the
                # rows as VALUES (…), (…) rather than UNNEST of one array per column,
                # whose adaptation of sixteen lists cost more than the round trip saved.
                event.lane = Value(lane)
            AuditEvent.objects.bulk_create(events)
            for event in events:
                event.lane = lane
        _remember_head(lane, head)


# The rows `record` holds back inside `batched`, or None outside it.
_pending: contextvars.ContextVar[list[tuple[dict[str, Any], AuditEvent]] | None] = (
    contextvars.ContextVar("minyi_audit_pending", default=None)
)


@contextlib.contextmanager
def batched() -> Iterator[None]:
    """Append the rows recorded inside the block in one INSERT when it ends, in the order
    they were recorded, as the same rows one `record` each would have appended (issue 8:
    a workflow step wrote two, a registration three, one INSERT apiece). Use inside the
    atomic block of the writes the rows record, around no savepoint that may be rolled
    back after a row is recorded: a block left by an exception appends nothing, since
    its transaction is rolled back. The lane is locked when the rows are appended, at
    the end of the block, not at its first row."""
    if _pending.get() is not None:  # already inside one: the outer block appends
        yield
        return
    pending: list[tuple[dict[str, Any], AuditEvent]] = []
    token = _pending.set(pending)
    try:
        yield
    finally:
        _pending.reset(token)
    if pending:
        _append(pending)


# The lane and head of the transaction's last append, so that its next append neither
# locks the lane again nor reads the head back (two queries of the three; a registration
# appends three rows). Sound because the lane's lock is held until the transaction ends:
# nobody else can append to the lane meanwhile, so the row just written stays its head.
# The entry is tied to the transaction's outermost atomic block and to the connection's
# list of commit hooks, which Django replaces with a new list at every commit, rollback,
# closing and rollback to a savepoint: after any of these (the row may be gone, or the
# lock released) the entry no longer matches and the next append reads as before.
_HEAD = "_minyi_audit_head"


def _head_of_transaction() -> tuple[int, str | None] | None:
    # The thread's own connection object, not the module-level proxy (shared by threads).
    conn = transaction.get_connection()
    known = conn.__dict__.get(_HEAD)
    if known is None:
        return None
    hooks, outermost, lane, head = known
    blocks = conn.atomic_blocks
    if conn.run_on_commit is not hooks or not blocks or blocks[0] is not outermost:
        del conn.__dict__[_HEAD]
        return None
    return lane, head


def _remember_head(lane: int, head: str | None) -> None:
    # Only inside a caller's transaction (the block around this append is not the
    # outermost one): otherwise the transaction, and the lock, end with this append.
    conn = transaction.get_connection()
    if len(conn.atomic_blocks) > 1:
        conn.__dict__[_HEAD] = (conn.run_on_commit, conn.atomic_blocks[0], lane, head)


def forget_head() -> None:
    """For whatever writes or deletes audit rows other than `record` (the model's save,
    the purge): the next append reads its lane's head from the table."""
    transaction.get_connection().__dict__.pop(_HEAD, None)


class AuditContextMiddleware:
    """Makes the request known to the audit signal handlers. Goes after AuthenticationMiddleware
    (the actor is read from request.user when a row is written)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            current_request.reset(token)
        rid = getattr(request, "audit_request_id", None)
        if rid:
            response["X-Request-ID"] = rid
        return response


def record_bulk(model: Any, count: int, *, fields: Iterable[str] = (), cause: str = "") -> None:
    """One row for a queryset.update(), bulk_create() or bulk_update() that wrote `count` rows
    of `model` (these send no signals). `cause` says why, e.g. "合并 org.orgunit#12"."""
    if not count:
        return
    detail = f"{count} 条" + (f"：{cause}" if cause else "")
    record(Action.BULK_WRITE, object_type=object_type_of(model), fields=fields, detail=detail)
