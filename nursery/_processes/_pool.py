"""``to_process.run_sync``: the run's pool of worker processes, and the calls.

Each run has its own pool (a ``RunVar``), made on the first call. A call borrows a
token of its limiter, takes an idle worker (or starts one), sends the request, and
sleeps in ``wait_readable`` until the reply comes. The worker then goes back to the
pool. Nothing else is ever in flight on a worker's socket, so a call that does not end
normally (cancelled, interrupted, the worker died) leaves a worker in an unknown
state: it is killed with SIGKILL and reaped at once, and a fresh one is started only
when a later call needs it.

A system task keeps the pool: it retires workers idle for ``IDLE_TIMEOUT`` seconds of
the run's clock, and, when it is cancelled at the end of the run (the kernel cancels
the system tasks once the main task has finished), it retires every idle worker and
marks the pool closed, so that a worker whose call ends after that is retired instead
of kept. Every call belongs to a task, and the run waits for every task: by the time
``nursery.run`` returns, every worker has been reaped and every socket closed.
"""

from __future__ import annotations

import inspect
import os
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .._core._exceptions import WouldBlock
from .._sync import CapacityLimiter
from .._timeouts import move_on_at
from ..lowlevel import (
    ParkingLot,
    RunVar,
    checkpoint_if_cancelled,
    current_clock,
    enable_ki_protection,
    in_run,
    spawn_system_task,
)

if TYPE_CHECKING:
    # Imported when the first call is made, not by `import nursery`: they bring in
    # pickle, socket and multiprocessing, which a program that never starts a worker
    # should not pay for.
    from ._process import WorkerProcess

T = TypeVar("T")

# Seconds (of the run's clock) an idle worker is kept for the next call.
IDLE_TIMEOUT = 60.0

_default_limiter: RunVar[CapacityLimiter] = RunVar("nursery.to_process default limiter")


def current_default_process_limiter() -> CapacityLimiter:
    """The ``CapacityLimiter`` that ``to_process.run_sync`` uses when given none: one per
    run, with ``os.cpu_count()`` tokens, so that CPU-bound calls keep every core busy and
    no more. Change its ``total_tokens`` to allow more or fewer processes at once."""
    try:
        return _default_limiter.get()
    except LookupError:
        limiter = CapacityLimiter(os.cpu_count() or 1)
        _default_limiter.set(limiter)
        return limiter


class WorkerPool:
    """The workers of one run: idle ones in a stack (the most recently used is reused
    first, so that the others age out), busy ones held by their calls."""

    __slots__ = ("_closed", "_idle", "_keeper_lot", "workers_started")

    def __init__(self) -> None:
        self._idle: list[WorkerProcess] = []
        self._closed = False
        self._keeper_lot = ParkingLot()
        self.workers_started = 0

    @property
    def idle_workers(self) -> list[WorkerProcess]:
        return list(self._idle)

    def checkout(self) -> WorkerProcess:
        while self._idle:
            worker = self._idle.pop()
            if worker.is_alive():
                return worker
            worker.kill()  # it died while idle: reap it, and try the next one
        from ._process import WorkerProcess

        worker = WorkerProcess.start()
        self.workers_started += 1
        return worker

    def checkin(self, worker: WorkerProcess) -> None:
        if self._closed:
            _retire([worker])
            return
        worker.idle_since = current_clock().current_time()
        self._idle.append(worker)
        if len(self._idle) == 1:
            self._keeper_lot.unpark_all()  # the keeper had nothing to time

    async def keep(self) -> None:
        """The pool's system task: retire idle workers, and all of them at the end."""
        try:
            while True:
                now = current_clock().current_time()
                expired = 0
                while expired < len(self._idle) and (
                    self._idle[expired].idle_since + IDLE_TIMEOUT <= now
                ):
                    expired += 1
                if expired:
                    old, self._idle[:expired] = self._idle[:expired], []
                    _retire(old)
                if self._idle:
                    with move_on_at(self._idle[0].idle_since + IDLE_TIMEOUT):
                        await self._keeper_lot.park()
                else:
                    await self._keeper_lot.park()
        finally:
            self.close()

    def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        _retire(idle)


def _retire(workers: list[WorkerProcess]) -> None:
    # Close every socket first, so that the workers exit side by side, then reap them.
    for worker in workers:
        worker.close_connection()
    for worker in workers:
        worker.finish_retiring()


_pool_var: RunVar[WorkerPool] = RunVar("nursery.to_process pool")


def current_pool() -> WorkerPool:
    try:
        return _pool_var.get()
    except LookupError:
        pass
    pool = WorkerPool()
    spawn_system_task(pool.keep, name="nursery.to_process worker pool")
    _pool_var.set(pool)
    return pool


_ASYNC_FLAGS = inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR


def _check_sync_fn(sync_fn: object) -> None:
    if type(sync_fn) is types.FunctionType:
        is_async = bool(sync_fn.__code__.co_flags & _ASYNC_FLAGS)
    elif not callable(sync_fn):
        raise TypeError(f"to_process.run_sync() expected a callable, got {sync_fn!r}")
    else:
        is_async = inspect.iscoroutinefunction(sync_fn) or inspect.isasyncgenfunction(sync_fn)
    if is_async:
        raise TypeError(
            f"to_process.run_sync() runs sync functions, and {sync_fn!r} is an async one"
        )


class _Call:
    """The borrower of a limiter token for one call (shown in the limiter's statistics)."""

    __slots__ = ("_what",)

    def __init__(self, what: str) -> None:
        self._what = what

    def __repr__(self) -> str:
        return f"<to_process.run_sync call of {self._what}>"


# KeyboardInterrupt is held back to a checkpoint here, so that it cannot land between
# taking a worker and handing it back (or killing it): the worker would be lost to the
# pool and outlive the run.
@enable_ki_protection
async def to_process_run_sync(
    sync_fn: Callable[..., T], *args: Any, limiter: CapacityLimiter | None = None
) -> T:
    """Run ``sync_fn(*args)`` in a worker process and return its result (or raise its
    exception, with the worker's traceback as ``__cause__``), without blocking the run.
    A checkpoint.

    ``sync_fn``, the arguments and the result must be picklable (a function defined at
    the top level of an importable module, or of the main script under
    ``if __name__ == "__main__":``). The call holds a token of ``limiter`` (default:
    ``current_default_process_limiter()``) until it ends.

    Cancellation kills the worker (SIGKILL) and raises ``Cancelled`` at once; the work
    is lost. If the worker dies during the call, ``BrokenWorkerError``. Either way a
    fresh worker is started for a later call.
    """
    if not in_run():
        raise RuntimeError(
            "to_process.run_sync() must be awaited inside nursery.run(): the worker pool "
            "belongs to a run"
        )
    _check_sync_fn(sync_fn)
    from ._protocol import decode_reply, describe, encode_request

    if limiter is not None and not isinstance(limiter, CapacityLimiter):
        raise TypeError(
            f"to_process.run_sync(limiter=...) expected a CapacityLimiter, got {limiter!r}"
        )
    request = encode_request(sync_fn, args)
    if limiter is None:
        limiter = current_default_process_limiter()
    pool = current_pool()
    await checkpoint_if_cancelled()
    call = _Call(describe(sync_fn))
    # With a token free there is no need to yield here: the wait for the reply is the
    # schedule point (and checkpoint_if_cancelled above was the cancel point).
    try:
        limiter.acquire_on_behalf_of_nowait(call)
    except WouldBlock:
        await limiter.acquire_on_behalf_of(call)
    try:
        worker = pool.checkout()
        try:
            reply = await worker.call(request, sync_fn)
        except BaseException:
            worker.kill()
            raise
        pool.checkin(worker)
    finally:
        limiter.release_on_behalf_of(call)
    return decode_reply(reply, sync_fn)  # type: ignore[no-any-return]
