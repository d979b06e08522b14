"""A row the user chose, deleted by someone else before the write committed.

Forms read the rows a user picks (a representative, a handling unit …) and the services
write references to them without looking them up again (minyi.cases.services,
_READ_WITH_THE_REQUEST): the database's foreign keys are the last word. Django creates
them DEFERRABLE INITIALLY DEFERRED on both PostgreSQL and SQLite, so a reference to a
row that is gone fails at COMMIT, i.e. when the outermost `transaction.atomic` exits:
that is where `references_checked` must stand, outside every atomic block, so that the
whole transaction (case, number, timeline, audit rows) has rolled back when the user is
told. Other integrity errors (a unique number, an idempotency key) mean something else:
`references_checked` lets them through, and the middleware answers any that no page
handled with a 409 page of its own rather than a 500. A transaction the database aborted
for another's sake (a deadlock, a lock wait given up) is a 503 page: nothing saved, try
again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

log = logging.getLogger("minyi.integrity")

# PostgreSQL's SQLSTATE for foreign_key_violation.
PG_FOREIGN_KEY_VIOLATION = "23503"
SQLITE_FOREIGN_KEY_VIOLATION = "SQLITE_CONSTRAINT_FOREIGNKEY"


class ReferenceGone(ValidationError):
    """A write referred to a row that was deleted meanwhile; nothing was saved. A
    ValidationError, so that a view which already shows a service's refusal on its form
    shows this one too, with what was typed; the case pages and the API catch it first
    (409)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="reference_gone")


def is_foreign_key_violation(exc: BaseException) -> bool:
    """Whether `exc` is the database refusing a reference to a missing row."""
    if not isinstance(exc, IntegrityError):
        return False
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if sqlstate:
        return sqlstate == PG_FOREIGN_KEY_VIOLATION
    if getattr(cause, "sqlite_errorname", None) == SQLITE_FOREIGN_KEY_VIOLATION:
        return True
    # A deferred check failing at COMMIT: SQLite reports it as plain SQLITE_CONSTRAINT.
    return "FOREIGN KEY constraint failed" in str(exc)


@contextmanager
def references_checked(message: str) -> Iterator[None]:
    """Turn a foreign-key violation of the enclosed writes into `ReferenceGone(message)`.
    Use it around the outermost atomic block (see the module's docstring)."""
    try:
        yield
    except IntegrityError as exc:
        if is_foreign_key_violation(exc):
            raise ReferenceGone(message) from exc
        raise


# The last resort, for the pages that do not catch it themselves (the case pages, the
# online studio and the API's registration and steps do, and keep the user's input).
GONE_PAGE_MESSAGE = (
    "您所选的内容刚被他人删除或停用，本次提交没有保存。请返回上一页，刷新后重新选择再提交。"
)


# Any other integrity error no page handled: a uniqueness or check the form did not
# foresee, usually two people submitting the same thing at once (two communities created
# with colliding names, say). The pages write in one transaction, so it rolled back.
CONFLICT_PAGE_MESSAGE = (
    "本次提交与他人同时提交的内容冲突，没有保存。请返回上一页，刷新后核对再提交。"
)


# PostgreSQL's SQLSTATEs for a transaction the database gave up on because of another
# one: deadlock_detected, serialization_failure, lock_not_available (a lock_timeout).
PG_TRANSIENT = {"40P01", "40001", "55P03"}

# Rare by design (the locks are taken in one order; docs/decisions.md), but two writers
# can still meet in an order no page foresaw: the database aborts one of them, whose
# transaction has rolled back whole, and trying again a moment later succeeds.
BUSY_MESSAGE = "系统正忙，本次提交没有保存。请稍等片刻后重新提交。"


def is_transient(exc: BaseException) -> bool:
    """Whether `exc` is the database aborting a transaction that may succeed if tried
    again: a deadlock, a serialisation failure or a lock wait given up (PostgreSQL), or
    SQLite's write lock still held after its busy timeout."""
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if sqlstate:
        return sqlstate in PG_TRANSIENT
    return "database is locked" in str(exc)


class ReferenceGoneMiddleware:
    """A foreign-key violation that reached no handler is a 409 page in Chinese, not a
    500. Its transaction has rolled back (the error comes from the outermost COMMIT).
    Any other integrity error is a 409 page too, logged as an error: a rule the page's
    form should have checked."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if is_transient(exc):
            log.warning("transient database error on %s %s: %s", request.method, request.path, exc)
            response = render(request, "409.html", {"message": BUSY_MESSAGE}, status=503)
            response["Retry-After"] = "5"
            if getattr(request, "htmx", False):
                response["HX-Retarget"] = "body"
            return response
        if not isinstance(exc, IntegrityError):
            return None
        if is_foreign_key_violation(exc):
            log.warning("foreign key violation on %s %s: %s", request.method, request.path, exc)
            message = GONE_PAGE_MESSAGE
        else:
            log.error("integrity error on %s %s: %s", request.method, request.path, exc)
            message = CONFLICT_PAGE_MESSAGE
        response = render(request, "409.html", {"message": message}, status=409)
        if getattr(request, "htmx", False):
            response["HX-Retarget"] = "body"  # the whole page, not inside a fragment
        return response
