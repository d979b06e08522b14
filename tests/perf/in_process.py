"""The load generator's workers in threads of the test's own process, in place of forked
processes (minyi.core.loadgen.generate.worker_context): a pytest-xdist worker has
threads of its own, and a fork there may deadlock the child (Python warns "is
multi-threaded, use of fork() may lead to deadlocks"). Everything else of the
multi-worker path runs as it does from the command: the shares and id ranges, the
messages (COPY text, progress, counts, errors) through the queue, the parent feeding the
COPYs, the counts added up, the guard against a worker's query.

A worker runs on a deep copy of the generator made when it starts, as a forked child
runs on its copy of the parent, so that the workers' random streams, writers and id
ranges are their own; and on the thread's own database connection, which the guard
keeps unused, as a child must keep its parent's."""

from __future__ import annotations

import copy
import queue
import threading
from collections.abc import Callable
from typing import Any

from django.db import connection, connections


class Queue(queue.Queue[Any]):
    """multiprocessing's Queue as the workers use it. Once the parent has stopped
    reading (it gave up on the run: `Process.kill`), a put is dropped rather than wait
    for ever on a full queue."""

    abandoned = False

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if not self.abandoned:
            super().put(item, block, timeout)

    def close(self) -> None:
        pass

    def join_thread(self) -> None:
        pass


class Process:
    def __init__(self, target: Callable[..., object], args: tuple[Any, ...], daemon: bool) -> None:
        self.target, self.args = target, args
        self.exitcode: int | None = None
        self.thread = threading.Thread(target=self.run, daemon=True)

    def start(self) -> None:
        # Shared, not copied: the queue (as a multiprocessing queue is) and this thread's
        # database connections, which the generator's writers hold and a worker never
        # uses (its own writers take the worker thread's).
        shared: list[object] = [arg for arg in self.args if isinstance(arg, Queue)]
        shared += connections.all()
        memo = {id(thing): thing for thing in shared}
        self.target, self.args = copy.deepcopy((self.target, self.args), memo)
        self.thread.start()

    def run(self) -> None:
        try:
            self.target(*self.args)
            self.exitcode = 0
        except BaseException:
            self.exitcode = 1
            raise
        finally:
            connection.close()

    def is_alive(self) -> bool:
        return self.thread.is_alive()

    def kill(self) -> None:
        # A thread cannot be killed: it runs to its end without anyone reading it.
        for arg in self.args:
            if isinstance(arg, Queue):
                arg.abandoned = True

    def join(self) -> None:
        self.thread.join()


class Context:
    """What `worker_context()` returns: the two things the generator takes from it."""

    Process = Process
    Queue = Queue
