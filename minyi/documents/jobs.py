"""What exports and imports share to run a job in the background: a thread of the web
process started once the job's row is committed (cron's `run_exports` / `run_imports`
take over the jobs a restarted server left behind), and a request standing in for the
one that asked for the job, so the job runs with its owner's scope and its audit rows
name the owner as the request's would."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict
from django.utils import timezone

from minyi.audit.trail import current_request


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


def run_left_behind(
    jobs: QuerySet[Any],
    *,
    waiting: str,
    running: str,
    since: str,
    run: Callable[[int], None],
    reset: dict[str, Any],
) -> int:
    """For the cron commands: put back the running jobs abandoned since `since` (a field)
    and run every waiting job no thread took. Returns how many were run."""
    now = timezone.now()
    jobs.filter(state=running, **{f"{since}__lt": now - STALE}).update(state=waiting, **reset)
    waiting_pks = list(
        jobs.filter(state=waiting, **{f"{since}__lt": now - GRACE}).values_list("pk", flat=True)
    )
    for pk in waiting_pks:
        run(pk)
    return len(waiting_pks)
