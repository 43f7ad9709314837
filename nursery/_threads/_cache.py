"""A cache of reusable worker threads: ``start_thread_soon``.

Starting an OS thread costs far more than handing work to one that already exists, so
finished workers wait a while for the next job before they exit. A worker that is idle
for ``IDLE_TIMEOUT`` seconds ends. The cache is process-wide (threads outlive runs) and
starts empty again in a forked child, where the parent's threads do not exist.

On Linux a worker also gives its name to the kernel (``pthread_setname_np``), so that
``top -H``, ``ps -eL``, ``gdb`` and ``/proc/<pid>/task/<tid>/comm`` show what it runs.
Python before 3.14 only names the ``threading.Thread`` object.
"""

from __future__ import annotations

import ctypes
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

# The kernel keeps 16 bytes of a thread's name, the terminating NUL included.
OS_NAME_LIMIT = 15


def os_thread_name(name: str) -> bytes:
    """``name`` as the kernel will hold it: ASCII (anything else becomes ``?``, as in
    Trio), cut to ``OS_NAME_LIMIT`` bytes. A NUL would end it early; nothing fails."""
    return name.encode("ascii", errors="replace")[:OS_NAME_LIMIT]


# Called as setter(pthread_self, name) from the thread being named.
_SetName = Callable[[ctypes.c_ulong, bytes], object]
_UNKNOWN: Any = object()
# pthread_setname_np, looked up by the first worker that needs it; None where it is
# missing (not Linux, no such symbol).
_set_os_name: _SetName | None = _UNKNOWN


def _find_set_os_name() -> _SetName | None:
    if not sys.platform.startswith("linux"):
        # macOS and the BSDs spell it differently (one argument, or another name).
        return None
    try:
        # The symbols already loaded into the process: glibc and musl both have it.
        # PyDLL keeps the GIL during the call: naming oneself is one quick prctl(), and
        # letting the GIL go would invite a hand-over to the run's thread mid-job.
        setname = ctypes.PyDLL(None).pthread_setname_np
    except (OSError, AttributeError):
        return None
    # No argtypes: callers pass a ready c_ulong (pthread_t) and bytes, which ctypes then
    # hands over without a conversion step (measurably cheaper per call).
    setname.restype = ctypes.c_int
    return setname


def _os_name_setter() -> _SetName | None:
    global _set_os_name
    if _set_os_name is _UNKNOWN:
        # Two threads may both look it up the first time; they find the same thing.
        _set_os_name = _find_set_os_name()
    return _set_os_name


class _Worker:
    __slots__ = ("_cache", "_job", "_os_name", "_pthread", "_set_os_name", "_signal", "_thread")

    def __init__(self, cache: _ThreadCache) -> None:
        self._cache = cache
        self._job: (
            tuple[Callable[[], Any], Callable[[outcome.Outcome[Any]], object], str | None] | None
        ) = None
        # Held while there is no job; the submitter releases it to hand one over.
        self._signal = threading.Lock()
        self._signal.acquire()
        # Short enough to reach the kernel whole (up to 999 workers), numbers included.
        self._thread = threading.Thread(
            target=self._main, name=f"nursery wkr {next(_worker_numbers)}", daemon=True
        )
        # Set in the thread itself (see _main).
        self._set_os_name: _SetName | None = None
        self._pthread = ctypes.c_ulong(0)
        # What the kernel holds as this thread's name, so that an unchanged name costs
        # no call.
        self._os_name = b""

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
            if self._set_os_name is not None:
                self._name_os_thread(name)
        try:
            result = outcome.capture(fn)
        finally:
            thread.name = idle_name
            if name is not None and self._set_os_name is not None:
                self._name_os_thread(idle_name)
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

    def _name_os_thread(self, name: str) -> None:
        # Runs in the worker itself: a thread naming itself is a prctl() in glibc, with
        # no /proc file to open. Best effort: a failure leaves the old name, nothing
        # more, so the return code is ignored and so is any exception.
        os_name = os_thread_name(name)
        if os_name != self._os_name:
            set_os_name = self._set_os_name
            assert set_os_name is not None
            try:
                set_os_name(self._pthread, os_name)
            except Exception:
                return
            self._os_name = os_name

    def _main(self) -> None:
        self._set_os_name = _os_name_setter()
        if self._set_os_name is not None:
            # CPython's thread ident is the thread's pthread_t, i.e. pthread_self().
            self._pthread = ctypes.c_ulong(threading.get_ident())
            self._name_os_thread(self._thread.name)
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
    ``name`` names the thread while it runs ``fn`` (on Linux, for the kernel too).
    """
    _cache.start_thread_soon(fn, deliver, name)


def _reset_after_fork() -> None:
    global _cache
    _cache = _ThreadCache()


os.register_at_fork(after_in_child=_reset_after_fork)
