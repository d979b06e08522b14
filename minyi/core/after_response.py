"""Work that must not make a response slower: run once the client has the answer.

A WSGI server calls the response's `close()` after it has written the whole body (the
documented hook Django itself uses to send `request_finished`), and Django's test client
calls it too, so the work runs in every set-up, in the same worker, just after the answer
left. Used where the time a request takes would tell a client something the answer
itself does not (the one-time code: a network call to the SMS gateway only when the case
number and phone match).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.http import HttpResponseRedirect

log = logging.getLogger("minyi.after_response")


class RedirectThenRun(HttpResponseRedirect):
    """A redirect whose `work` runs after the client has it. The work runs before
    Django's own close (`request_finished`), so it still has the request's database
    connection, which that signal then tidies as for any request. An exception in the
    work is logged, never raised: the client has already been answered."""

    def __init__(self, to: str, work: Callable[[], Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(to, *args, **kwargs)
        self._work: Callable[[], Any] | None = work

    def close(self) -> None:
        work, self._work = self._work, None  # once, whoever calls close again
        try:
            if work is not None:
                work()
        except Exception:
            log.exception("响应后的任务失败")
        finally:
            super().close()
