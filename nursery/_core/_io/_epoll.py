"""The epoll backend.

What epoll guarantees, and how we use it:

* Interest is registered per *open file description*, keyed by fd number. Closing the
  last fd referring to a file removes it from the epoll set silently: no event is ever
  reported for it again. So a task waiting on an fd that someone closes without calling
  ``notify_closing`` is never woken (it can still be cancelled), but the loop neither
  hangs nor spins.
* Every registration is ``EPOLLONESHOT``: after one event the fd is disarmed until we
  re-arm it. A ready fd nobody is waiting for (a waiter that was cancelled, or an fd whose
  file was closed behind our back while still shared) therefore produces at most one
  event, never a busy loop. Each wait arms the fd with one ``epoll_ctl``; we try MOD first
  (the usual case: the fd was seen before) and fall back to ADD.
* Level-triggered readiness: a wait on an fd that is already readable returns at the next
  poll, whatever happened before.

At most one task waits to read and one to write on each fd; a second is a
``BusyResourceError``.
"""

from __future__ import annotations

import select
from typing import TYPE_CHECKING

from .._context import current_task
from .._exceptions import BusyResourceError, ClosedResourceError
from .._ki import enable_ki_protection
from .._traps import Abort, RaiseCancelT, suspend_task
from ._contract import FileDescriptorLike, IOStatistics

if TYPE_CHECKING:
    from .._task import Task

_IN = select.EPOLLIN
_OUT = select.EPOLLOUT
_ERR_OR_HUP = select.EPOLLERR | select.EPOLLHUP
_ONESHOT = select.EPOLLONESHOT
_MAX_TIMEOUT = 86400.0


class _Waiters:
    __slots__ = ("read_task", "write_task")

    def __init__(self) -> None:
        self.read_task: Task | None = None
        self.write_task: Task | None = None

    def flags(self) -> int:
        return (_IN if self.read_task is not None else 0) | (
            _OUT if self.write_task is not None else 0
        )


def _fileno(fd: object) -> int:
    if isinstance(fd, int):
        if fd < 0:
            raise ValueError(f"file descriptor must be >= 0, got {fd}")
        return fd
    fileno = getattr(fd, "fileno", None)
    if fileno is None:
        raise TypeError(
            f"expected a file descriptor (an int or an object with fileno()), got {fd!r}"
        )
    return _fileno(fileno())


class EpollBackend:
    def __init__(self) -> None:
        self._epoll = select.epoll()
        self._waiters: dict[int, _Waiters] = {}

    def close(self) -> None:
        self._epoll.close()

    def statistics(self) -> IOStatistics:
        reading = sum(w.read_task is not None for w in self._waiters.values())
        writing = sum(w.write_task is not None for w in self._waiters.values())
        return IOStatistics("epoll", reading, writing)

    # -- the loop's side ---------------------------------------------------------------

    def watch_wakeup_fd(self, fd: int) -> None:
        """Watch ``fd`` (an eventfd the loop checks itself after each poll with events)
        for good, edge-triggered: no task waits on it, so process_events skips it."""
        self._epoll.register(fd, _IN | select.EPOLLET)

    def get_events(self, timeout: float) -> list[tuple[int, int]]:
        if timeout > _MAX_TIMEOUT:
            timeout = _MAX_TIMEOUT
        return self._epoll.poll(timeout)

    @enable_ki_protection
    def process_events(self, events: list[tuple[int, int]]) -> None:
        for fd, flags in events:
            waiters = self._waiters.get(fd)
            if waiters is None:
                continue  # a one-shot event for a waiter that already left
            if flags & (_IN | _ERR_OR_HUP) and waiters.read_task is not None:
                task, waiters.read_task = waiters.read_task, None
                task._runner.reschedule_value(task, None)
            if flags & (_OUT | _ERR_OR_HUP) and waiters.write_task is not None:
                task, waiters.write_task = waiters.write_task, None
                task._runner.reschedule_value(task, None)
            # The event disarmed the fd (one-shot): re-arm it for whoever still waits,
            # or forget it.
            self._sync(fd, waiters)

    # -- the tasks' side ---------------------------------------------------------------

    def _sync(self, fd: int, waiters: _Waiters, current: Task | None = None) -> None:
        """Make the kernel's interest in ``fd`` match ``waiters``.

        If the kernel refuses (most likely the fd was closed behind our back), forget the
        fd and wake its waiters with the error rather than letting them sleep forever;
        ``current``, the task calling us, gets the error raised instead.
        """
        wanted = waiters.flags()
        if not wanted:
            del self._waiters[fd]
            # Leave the disarmed registration in place: re-arming it later is one MOD.
            # A still-armed one (a cancelled waiter) fires at most once and is ignored.
            return
        try:
            try:
                self._epoll.modify(fd, wanted | _ONESHOT)
            except FileNotFoundError:
                self._epoll.register(fd, wanted | _ONESHOT)
        except OSError as exc:
            del self._waiters[fd]
            for task in (waiters.read_task, waiters.write_task):
                if task is not None and task is not current:
                    task._runner.reschedule_error(task, OSError(exc.errno, exc.strerror))
            if current is not None:
                raise

    @enable_ki_protection
    async def _wait(self, fd: object, reading: bool) -> None:
        fileno = _fileno(fd)
        task = current_task()
        waiters = self._waiters.get(fileno)
        if waiters is None:
            waiters = self._waiters[fileno] = _Waiters()
        if reading:
            if waiters.read_task is not None:
                raise BusyResourceError(
                    f"another task ({waiters.read_task!r}) is already waiting to read fd {fileno}"
                )
            waiters.read_task = task
        else:
            if waiters.write_task is not None:
                raise BusyResourceError(
                    f"another task ({waiters.write_task!r}) is already waiting to write fd {fileno}"
                )
            waiters.write_task = task
        self._sync(fileno, waiters, current=task)

        def abort(_: RaiseCancelT) -> Abort:
            current = self._waiters.get(fileno)
            if current is not None:
                if reading:
                    current.read_task = None
                else:
                    current.write_task = None
                self._sync(fileno, current)
            return Abort.SUCCEEDED

        await suspend_task(task, abort)

    async def wait_readable(self, fd: FileDescriptorLike) -> None:
        await self._wait(fd, True)

    async def wait_writable(self, fd: FileDescriptorLike) -> None:
        await self._wait(fd, False)

    @enable_ki_protection
    def notify_closing(self, fd: FileDescriptorLike) -> None:
        fileno = _fileno(fd)
        waiters = self._waiters.pop(fileno, None)
        if waiters is not None:
            for task in (waiters.read_task, waiters.write_task):
                if task is not None:
                    task._runner.reschedule_error(
                        task,
                        ClosedResourceError("another task closed this file descriptor"),
                    )
        try:
            self._epoll.unregister(fileno)
        except OSError:
            # Not registered, already closed, or a kind of file epoll cannot watch
            # (EPERM for regular files): in every case there is nothing to undo.
            pass
