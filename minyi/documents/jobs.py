"""What exports and imports share to run a job in the background: a thread of the web
process started once the job's row is committed (cron's `run_exports` / `run_imports`
take over the jobs a restarted server left behind), and a request standing in for the
one that asked for the job, so the job runs with its owner's scope and its audit rows
name the owner as the request's would."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, QueryDict
from django.utils import timezone

from minyi.audit.trail import current_request

log = logging.getLogger(__name__)


def job_request(
    user: Any, query: str = "", *, client_ip: str | None = None, request_id: str = ""
) -> HttpRequest:
    """A request as the owner's page saw it: the same user, filters, address and id."""
    request = HttpRequest()
    request.method = "GET"
    request.user = user
    request.GET = QueryDict(query)
    if client_ip:
        request.META["REMOTE_ADDR"] = client_ip
    if request_id:
        request.audit_request_id = request_id  # type: ignore[attr-defined]
    return request


@contextlib.contextmanager
def acting_as(request: HttpRequest) -> Iterator[None]:
    """The audit rows written inside are the request's (AuditContextMiddleware's job in
    a thread that serves no request)."""
    token = current_request.set(request)
    try:
        yield
    finally:
        current_request.reset(token)


def _run_in_thread(run: Callable[[int], None], pk: int) -> None:
    try:
        run(pk)
    finally:
        close_old_connections()


def start_in_background(run: Callable[[int], None], pk: int, name: str) -> None:
    """After the job's row is committed, run `run(pk)` in a thread of this process.
    MINYI_JOB_THREADS = False leaves every job to the cron command."""
    if getattr(settings, "MINYI_JOB_THREADS", True):
        transaction.on_commit(
            lambda: threading.Thread(
                target=_run_in_thread, args=(run, pk), name=f"{name}-{pk}", daemon=True
            ).start()
        )


# A job running this long is taken to belong to a server that was stopped: it is run again
# (its old run, should it still be alive, writes nothing: see import_jobs). A waiting job
# is left this long to the thread that the request started.
STALE = timedelta(minutes=30)
GRACE = timedelta(seconds=30)
# Runs a job gets. A job that takes its process down with it (memory, a killed worker)
# leaves no exception to catch: without a limit it would be taken over every half hour
# forever, so after this many runs it ends failed with a message for its owner.
MAX_ATTEMPTS = 3


class LeftBehind(NamedTuple):
    run: int  # waiting jobs run now
    failed: int  # abandoned on their last attempt: failed for good


def run_left_behind(
    jobs: QuerySet[Any],
    *,
    waiting: str,
    running: str,
    since: str,
    running_since: str,
    run: Callable[[int], None],
    reset: dict[str, Any],
    failed: dict[str, Any],
) -> LeftBehind:
    """For the cron commands: put back the running jobs abandoned since `running_since`
    (a field; empty counts as long ago), or write `failed` on those that had their
    MAX_ATTEMPTS runs, then run every waiting job no thread took since `since`. A job
    counts its runs in `attempts` when it is taken (waiting to running)."""
    now = timezone.now()
    stale = jobs.filter(
        Q(**{f"{running_since}__lt": now - STALE}) | Q(**{f"{running_since}__isnull": True}),
        state=running,
    )
    gave_up = list(stale.filter(attempts__gte=MAX_ATTEMPTS).values_list("pk", flat=True))
    if gave_up:
        # The state in the filter again: a job that ended meanwhile keeps its end.
        jobs.filter(pk__in=gave_up, state=running).update(**failed)
        log.error(
            "%s: jobs %s abandoned %d times, failed", jobs.model.__name__, gave_up, MAX_ATTEMPTS
        )
    stale.filter(attempts__lt=MAX_ATTEMPTS).update(state=waiting, **reset)
    waiting_pks = list(
        jobs.filter(state=waiting, **{f"{since}__lt": now - GRACE}).values_list("pk", flat=True)
    )
    for pk in waiting_pks:
        run(pk)
    return LeftBehind(len(waiting_pks), len(gave_up))
