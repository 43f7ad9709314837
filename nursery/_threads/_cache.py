"""A cache of reusable worker threads: ``start_thread_soon``.

Starting an OS thread costs far more than handing work to one that already exists, so
finished workers wait a while for the next job before they exit. A worker that is idle
for ``IDLE_TIMEOUT`` seconds ends. The cache is process-wide (threads outlive runs) and
starts empty again in a forked child, where the parent's threads do not exist.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import outcome

T = TypeVar("T")

IDLE_TIMEOUT = 10.0

_worker_numbers = itertools.count(1)


class _Worker:
    __slots__ = ("_cache", "_job", "_signal", "_thread")

    def __init__(self, cache: _ThreadCache) -> None:
        self._cache = cache
        self._job: (
            tuple[Callable[[], Any], Callable[[outcome.Outcome[Any]], object], str | None] | None
        ) = None
        # Held while there is no job; the submitter releases it to hand one over.
        self._signal = threading.Lock()
        self._signal.acquire()
        self._thread = threading.Thread(
            target=self._main, name=f"nursery worker {next(_worker_numbers)}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def give(
        self,
        fn: Callable[[], Any],
        deliver: Callable[[outcome.Outcome[Any]], object],
        name: str | None,
    ) -> None:
        self._job = (fn, deliver, name)
        self._signal.release()

    def _run_job(self) -> None:
        job = self._job
        assert job is not None
        self._job = None
        fn, deliver, name = job
        del job
        thread = self._thread
        idle_name = thread.name
        if name is not None:
            thread.name = name
        try:
            result = outcome.capture(fn)
        finally:
            thread.name = idle_name
        # Drop the function before delivering, so that whatever deliver() wakes does
        # not find the job's objects still alive in this frame.
        del fn
        # Available again before delivering, so that a job that deliver() leads to
        # (the run's next to_thread call, say) can come to this thread instead of
        # starting a new one.
        cache = self._cache
        with cache.lock:
            cache.idle[self] = None
        try:
            deliver(result)
        except BaseException as exc:
            # One write, so that the report is not interleaved with other output.
            report = "".join(traceback.format_exception(exc))
            sys.stderr.write(
                f"Exception in the deliver callback of start_thread_soon ({name or idle_name}):\n"
                f"{report}"
            )

    def _main(self) -> None:
        cache = self._cache
        while True:
            if self._signal.acquire(timeout=IDLE_TIMEOUT):
                self._run_job()
            else:
                with cache.lock:
                    if self in cache.idle:
                        del cache.idle[self]
                        return
                # A submitter claimed this worker just as its wait timed out: the job
                # is on its way, so wait for it (the signal is released right after).


class _ThreadCache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        # Insertion-ordered; the most recently idle worker is reused first, so that
        # surplus workers stay idle long enough to exit.
        self.idle: dict[_Worker, None] = {}

    def start_thread_soon(
        self,
        fn: Callable[[], Any],
        deliver: Callable[[outcome.Outcome[Any]], object],
        name: str | None,
    ) -> None:
        with self.lock:
            worker = self.idle.popitem()[0] if self.idle else None
        if worker is None:
            worker = _Worker(self)
            worker.give(fn, deliver, name)
            worker.start()
        else:
            worker.give(fn, deliver, name)


_cache = _ThreadCache()


def start_thread_soon(
    fn: Callable[[], T],
    deliver: Callable[[outcome.Outcome[T]], object],
    name: str | None = None,
) -> None:
    """Run ``fn()`` in a worker thread, then call ``deliver(outcome)`` in that same
    thread with its result or exception (an ``outcome.Value`` or ``outcome.Error``).

    Works outside a run too, and never blocks: an idle cached worker takes the job, or a
    new thread is started. ``deliver`` must not raise (if it does, the traceback is
    printed); it typically hands the outcome to a run with ``RunToken.run_sync_soon``.
    ``name`` names the thread while it runs ``fn``.
    """
    _cache.start_thread_soon(fn, deliver, name)


def _reset_after_fork() -> None:
    global _cache
    _cache = _ThreadCache()


os.register_at_fork(after_in_child=_reset_after_fork)
