"""Waiting for a child process to exit, without reaping it.

Two ways, chosen once per child when it is spawned:

* A **pidfd** (Linux 5.3+, ``os.pidfd_open``): a file descriptor that becomes readable
  when the process exits. The task waits on it with ``wait_readable`` like on any
  other fd, so waiting costs no thread, and cancelling the wait undoes it cleanly.
* Otherwise a **waiter thread** blocks in ``waitid(P_PID, pid, WEXITED | WNOWAIT)``:
  it wakes when *this* child exits but leaves it a zombie, so the reaping stays with
  ``Popen`` and children that other code spawned are never touched (a ``waitpid(-1)``
  would steal them). The thread then posts to the run. One thread per child at most:
  a cancelled wait leaves its thread running, and the next wait reuses it.

Neither reaps: the caller does, with ``Popen.wait`` / ``Popen.poll``, once this says
the child has exited.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import outcome

from .._core._context import in_run
from .._core._entry_queue import RunToken
from .._core._exceptions import ClosedResourceError, RunFinishedError
from .._core._runner import current_token, notify_closing, wait_readable
from .._sync import Event
from .._threads._cache import start_thread_soon

# Tests set this to None to force the waiter-thread path on a kernel with pidfds.
pidfd_open: Callable[[int, int], int] | None = getattr(os, "pidfd_open", None)


def _wait_exiting_blocking(pid: int) -> None:
    # WNOWAIT: see that the child exited, but leave it for Popen to reap.
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)


class ExitWatcher:
    """Tells when one child process has exited (see the module docstring)."""

    __slots__ = ("_pid", "_pidfd", "_thread_wait")

    def __init__(self, pid: int) -> None:
        self._pid = pid
        self._pidfd = -1
        # (the run, its event) of the waiter thread, once one was started.
        self._thread_wait: tuple[RunToken, Event] | None = None
        if pidfd_open is not None:
            try:
                self._pidfd = pidfd_open(pid, 0)  # O_CLOEXEC is implied
            except OSError:
                # Too old a kernel, or a sandbox that forbids the call: use a thread.
                pass

    @property
    def uses_pidfd(self) -> bool:
        return self._pidfd >= 0

    async def wait_exiting(self) -> None:
        """Return once the child has exited; it is not reaped. A checkpoint.

        Call it only while the child has not been reaped, and from one task at a time
        (``Process.wait`` holds a lock around it).
        """
        if self._pidfd >= 0:
            try:
                await wait_readable(self._pidfd)
            except ClosedResourceError:
                # close() ran while we waited: it is called once the child was reaped,
                # so it has certainly exited.
                pass
            return
        await self._thread_event().wait()

    def _thread_event(self) -> Event:
        token = current_token()
        if self._thread_wait is not None and self._thread_wait[0] is token:
            return self._thread_wait[1]
        event = Event()
        self._thread_wait = (token, event)

        def deliver(result: outcome.Outcome[None]) -> None:
            # An error (most likely ECHILD: someone else reaped the child, or SIGCHLD is
            # ignored) means the child is gone too: wake the waiters either way, and
            # let Popen find out what happened.
            try:
                token.run_sync_soon(event.set)
            except RunFinishedError:
                pass  # the run ended while the child was still running: nobody waits

        start_thread_soon(
            lambda: _wait_exiting_blocking(self._pid),
            deliver,
            name=f"nursery wait for pid {self._pid}",
        )
        return event

    def close(self) -> None:
        """Forget the pidfd, once the child was reaped. Waking a task blocked in
        ``wait_exiting`` (it returns normally)."""
        fd = self._pidfd
        if fd < 0:
            return
        self._pidfd = -1
        if in_run():
            notify_closing(fd)
        os.close(fd)

    def __del__(self) -> None:
        fd = getattr(self, "_pidfd", -1)
        if fd >= 0:
            self._pidfd = -1
            try:
                os.close(fd)
            except OSError:
                pass
