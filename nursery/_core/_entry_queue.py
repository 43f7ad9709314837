"""Entering the run from other threads and from signal handlers: ``RunToken``.

``run_sync_soon`` appends to a queue under a lock and writes to an eventfd that the
run's epoll set watches, so a loop asleep in ``epoll_wait`` wakes at once. A system task
drains the queue in FIFO order. When the run shuts down the queue stops accepting work
(``RunFinishedError``) and everything it accepted before is run, so nothing submitted
is silently dropped.

The library's own worker threads hand their results back through a second, shorter
path, ``complete_soon``: the loop itself runs those callbacks right after the I/O poll
that notices them, without a step of the system task in between (a whole batch saved
on every ``to_thread.run_sync`` round trip). They keep their place in FIFO order: while
ordinary callbacks are queued, a completion queues behind them.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, final

from ._exceptions import Cancelled, RunFinishedError
from ._ki import enable_ki_protection
from ._traps import CHECKPOINT_TRAP
from ._util import NoPublicConstructor

if TYPE_CHECKING:
    from ._runner import Runner


class WakeupFd:
    """An eventfd: writable from any thread or a signal handler, watched by epoll."""

    __slots__ = ("fd",)

    def __init__(self) -> None:
        self.fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)

    def wake(self) -> None:
        try:
            os.eventfd_write(self.fd, 1)
        except BlockingIOError:
            pass  # the counter is saturated: a wake-up is already pending

    def drain(self) -> None:
        try:
            os.eventfd_read(self.fd)
        except BlockingIOError:
            pass

    def close(self) -> None:
        os.close(self.fd)


class EntryQueue:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.queue: deque[tuple[Callable[..., object], tuple[Any, ...]]] = deque()
        self.idempotent: dict[tuple[Callable[..., object], tuple[Any, ...]], None] = {}
        self.wakeup = WakeupFd()
        # complete_soon's queue and eventfd. The eventfd is edge-triggered in the epoll
        # set: every write is one event whether or not it was drained, so the loop only
        # needs to look at the queue when there were events at all.
        self.completions: deque[tuple[Callable[[Any], object], Any]] = deque()
        self.completion_wakeup = WakeupFd()
        runner.io.watch_wakeup_fd(self.completion_wakeup.fd)
        self.done = False
        # Re-entrant: a signal handler in the main thread may call run_sync_soon while
        # the same thread holds the lock.
        self.lock = threading.RLock()

    @enable_ki_protection
    def run_sync_soon(
        self, sync_fn: Callable[..., object], *args: Any, idempotent: bool = False
    ) -> None:
        with self.lock:
            if self.done:
                raise RunFinishedError("the run this token belongs to has already finished")
            if idempotent:
                self.idempotent[(sync_fn, args)] = None
            else:
                self.queue.append((sync_fn, args))
            self.wakeup.wake()

    def complete_soon(self, fn: Callable[[Any], object], arg: Any) -> None:
        """From a worker thread of the library: have the run call ``fn(arg)`` soon, from
        the loop itself, outside any task. ``fn`` is kernel-side code that must not
        raise (if it does, the run ends with ``InternalError``). ``RunFinishedError``
        once the run has finished."""
        with self.lock:
            if self.done:
                raise RunFinishedError("the run this token belongs to has already finished")
            if self.queue:
                # Behind the ordinary callbacks queued before it, as one of them.
                self.queue.append((fn, (arg,)))
                self.wakeup.wake()
            else:
                self.completions.append((fn, arg))
                self.completion_wakeup.wake()

    def run_completions(self) -> None:
        """Called by the loop after an I/O poll that had events: run the completions
        queued so far. The eventfd is drained first: one written after the drain wakes
        the next poll again, so nothing is missed."""
        self.completion_wakeup.drain()
        completions = self.completions
        while completions:
            fn, arg = completions.popleft()
            self._run_one(fn, (arg,))

    def size(self) -> int:
        return len(self.queue) + len(self.idempotent) + len(self.completions)

    def _run_pending(self) -> None:
        """Run what is queued now (not what those callbacks queue: that waits a turn)."""
        queue = self.queue
        for _ in range(len(queue)):
            self._run_one(*queue.popleft())
        if self.idempotent:
            with self.lock:
                jobs, self.idempotent = self.idempotent, {}
            for job in jobs:
                self._run_one(*job)

    def _run_one(self, sync_fn: Callable[..., object], args: tuple[Any, ...]) -> None:
        try:
            sync_fn(*args)
        except BaseException as exc:
            self.runner.crash(f"a run_sync_soon callback {sync_fn!r} raised", exc)

    @enable_ki_protection
    async def task(self) -> None:
        """The system task that runs the callbacks."""
        try:
            while True:
                self._run_pending()
                if not self.queue and not self.idempotent:
                    await self.runner.io.wait_readable(self.wakeup.fd)
                    self.wakeup.drain()
                else:
                    # A cancellable checkpoint: callbacks that keep queueing more
                    # callbacks must not keep the run from finishing.
                    await CHECKPOINT_TRAP
        except Cancelled:
            pass
        finally:
            with self.lock:
                self.done = True
            while self.queue or self.idempotent or self.completions:
                self.run_completions()
                self._run_pending()

    def close(self) -> None:
        # Refuse new work first (under the lock), so that no thread writes to an
        # eventfd number that is closed, and perhaps already reused, by then.
        with self.lock:
            self.done = True
        self.wakeup.close()
        self.completion_wakeup.close()


@final
class RunToken(metaclass=NoPublicConstructor):
    """A handle on a run that other threads (and signal handlers) may use to call into
    it. Get it with ``nursery.lowlevel.current_token()`` inside the run."""

    __slots__ = ("__weakref__", "_entry_queue")

    def __init__(self, entry_queue: EntryQueue) -> None:
        self._entry_queue = entry_queue

    def run_sync_soon(
        self, sync_fn: Callable[..., object], *args: Any, idempotent: bool = False
    ) -> None:
        """Schedule ``sync_fn(*args)`` to run inside the run, soon, from any thread or a
        signal handler. Calls run in FIFO order (except ``idempotent=True`` ones, which
        are coalesced: equal ``(sync_fn, args)`` queued twice run once). If ``sync_fn``
        raises, the run ends with ``InternalError``. ``RunFinishedError`` once the run
        has finished; everything accepted before that runs before ``run()`` returns."""
        self._entry_queue.run_sync_soon(sync_fn, *args, idempotent=idempotent)

    def __repr__(self) -> str:
        return f"<RunToken at {id(self):#x}>"
