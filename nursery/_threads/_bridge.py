"""Running blocking code in worker threads (``to_thread``) and calling back into the
run from threads (``from_thread``).

``to_thread.run_sync`` hands the function to a cached worker and puts the calling task
to sleep. The task wakes for two kinds of mail, both posted through the run's token:
the function's outcome (the call returns it), or a request from the worker made with
``from_thread.run``/``run_sync``, which the task carries out itself, so that it runs
under the caller's cancel scopes and in the worker's contextvars, and then goes back
to sleep. A worker knows which call it belongs to through a thread-local.
"""

from __future__ import annotations

import contextvars
import inspect
import threading
import types
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import outcome

from .._core._context import TASK_HINT
from .._core._exceptions import Cancelled, RunFinishedError, WouldBlock
from .._core._traps import CHECKPOINT_TRAP, SHIELDED_CHECKPOINT_TRAP, suspend_task
from .._sync import CapacityLimiter
from ..lowlevel import (
    Abort,
    ParkingLot,
    RaiseCancelT,
    RunToken,
    RunVar,
    Task,
    checkpoint_if_cancelled,
    current_task,
    disable_ki_protection,
    in_run,
    spawn_system_task,
)
from ._cache import start_thread_soon

T = TypeVar("T")

DEFAULT_THREAD_LIMIT = 40

_default_limiter: RunVar[CapacityLimiter] = RunVar("nursery.to_thread default limiter")


def current_default_thread_limiter() -> CapacityLimiter:
    """The ``CapacityLimiter`` that ``to_thread.run_sync`` uses when given none: one per
    run, created with 40 tokens. Change its ``total_tokens`` to allow more or fewer
    threads at once."""
    try:
        return _default_limiter.get()
    except LookupError:
        limiter = CapacityLimiter(DEFAULT_THREAD_LIMIT)
        _default_limiter.set(limiter)
        return limiter


class _ThreadTracker:
    """How many ``to_thread`` workers of this run have not reported back yet."""

    __slots__ = ("count", "lot")

    def __init__(self) -> None:
        self.count = 0
        self.lot = ParkingLot()

    def finished(self) -> None:
        self.count -= 1
        if self.count == 0 and self.lot:
            self.lot.unpark_all()


_tracker: RunVar[_ThreadTracker] = RunVar("nursery.to_thread active threads")


def _current_tracker() -> _ThreadTracker:
    try:
        return _tracker.get()
    except LookupError:
        tracker = _ThreadTracker()
        _tracker.set(tracker)
        return tracker


def active_thread_count() -> int:
    """How many threads started by ``to_thread.run_sync`` in this run are still running
    (abandoned ones included)."""
    return _current_tracker().count


async def wait_all_threads_completed() -> None:
    """Wait until every thread started by ``to_thread.run_sync`` in this run, abandoned
    ones included, has finished. A checkpoint."""
    tracker = _current_tracker()
    if tracker.count == 0:
        await CHECKPOINT_TRAP
        return
    await checkpoint_if_cancelled()
    while tracker.count:
        await tracker.lot.park()


class _Reply:
    """Where the run puts the answer to a worker's request; the worker blocks on it."""

    __slots__ = ("_ready", "result")

    def __init__(self) -> None:
        self._ready = threading.Event()
        self.result: outcome.Outcome[Any] | None = None

    def put(self, result: outcome.Outcome[Any]) -> None:
        self.result = result
        self._ready.set()

    def get(self) -> Any:
        self._ready.wait()
        assert self.result is not None
        return self.result.unwrap()


class _Request:
    """A worker's ``from_thread.run`` (``is_async``) or ``from_thread.run_sync``."""

    __slots__ = ("args", "context", "fn", "is_async", "reply")

    def __init__(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        is_async: bool,
        context: contextvars.Context,
    ) -> None:
        self.fn = fn
        self.args = args
        self.is_async = is_async
        self.context = context
        self.reply = _Reply()

    # The user's function runs without KeyboardInterrupt protection, even in a system
    # task (which is protected) or in a run_sync_soon callback.
    @disable_ki_protection
    def _call_sync(self) -> Any:
        result = self.fn(*self.args)
        if inspect.iscoroutine(result):
            result.close()
            raise TypeError(
                f"from_thread.run_sync() got {self.fn!r}, which returned a coroutine; "
                "use from_thread.run() for async functions"
            )
        return result

    @disable_ki_protection
    async def _call_async(self) -> Any:
        coro = self.fn(*self.args)
        if not inspect.iscoroutine(coro):
            if inspect.isawaitable(coro) or inspect.isgenerator(coro):
                close = getattr(coro, "close", None)
                if close is not None:
                    close()
            raise TypeError(
                f"from_thread.run() expected an async function, but {self.fn!r} "
                f"returned {type(coro).__name__} instead of a coroutine; use "
                "from_thread.run_sync() for sync functions"
            )
        return await coro

    async def run_in_task(self) -> None:
        """Carry the request out in the calling task, in the worker's contextvars."""
        if not self.is_async:
            self.reply.put(outcome.capture(self.context.run, self._call_sync))
            return
        task = current_task()
        saved = task.context
        task.context = self.context
        try:
            # The switch of context takes effect at the task's next step.
            await SHIELDED_CHECKPOINT_TRAP
            result = await outcome.acapture(self._call_async)
        finally:
            task.context = saved
        await SHIELDED_CHECKPOINT_TRAP
        self.reply.put(result)

    def run_in_system_task(self) -> None:
        """Carry the request out on the run's behalf (called in the run's thread)."""
        if not self.is_async:
            self.reply.put(outcome.capture(self.context.run, self._call_sync))
            return

        async def system_task() -> None:
            result = await outcome.acapture(self._call_async)
            if isinstance(result, outcome.Error) and isinstance(result.error, Cancelled):
                # Nothing but the end of the run cancels a system task from outside.
                result = outcome.Error(_finished_during(result.error))
            self.reply.put(result)

        try:
            spawn_system_task(system_task, name=self.fn, context=self.context)
        except BaseException as exc:  # the run is shutting down
            self.reply.put(outcome.Error(_finished_during(exc)))


def _finished_during(exc: BaseException) -> RunFinishedError:
    error = RunFinishedError("the run finished before the call from the thread completed")
    error.__cause__ = exc
    return error


class _Call:
    """One ``to_thread.run_sync`` call: the state its worker and its task share, and the
    three steps of its round trip as methods (bound methods are cheaper than closures):
    ``work`` and ``deliver`` in the worker, ``finished_in_run`` back in the run."""

    __slots__ = (
        "abandon_on_cancel",
        "abandoned",
        "args",
        "context",
        "entry_queue",
        "limiter",
        "mail",
        "raise_cancel",
        "sync_fn",
        "task",
        "token",
        "tracker",
        "waiting",
    )

    def __init__(
        self,
        task: Task,
        abandon_on_cancel: bool,
        sync_fn: Callable[..., Any],
        args: tuple[Any, ...],
        limiter: Any,
        tracker: _ThreadTracker,
    ) -> None:
        self.task = task
        runner = task._runner
        self.token = runner.token
        self.entry_queue = runner.entry_queue
        self.abandon_on_cancel = abandon_on_cancel
        self.abandoned = False
        self.waiting = False
        self.sync_fn = sync_fn
        self.args = args
        self.limiter = limiter
        self.tracker = tracker
        self.context: contextvars.Context | None = None  # set once the token is held
        # Set by the abort function (in the run's thread), read by the worker.
        self.raise_cancel: RaiseCancelT | None = None
        self.mail: deque[outcome.Outcome[Any] | _Request] = deque()

    # -- in the worker thread

    def work(self) -> Any:
        _worker_state.call = self
        try:
            assert self.context is not None
            return self.context.run(self.sync_fn, *self.args)
        finally:
            _worker_state.call = None

    def deliver(self, result: outcome.Outcome[Any]) -> None:
        try:
            self.entry_queue.complete_soon(self.finished_in_run, result)
        except RunFinishedError:
            pass  # the run ended (the call must have been abandoned): nobody to tell

    # -- in the run's thread

    def finished_in_run(self, result: outcome.Outcome[Any]) -> None:
        """The thread is done: give the limiter's token back and hand over the result.
        Runs from the loop, outside any task (EntryQueue.complete_soon)."""
        try:
            self.limiter.release_on_behalf_of(self)
        except BaseException as exc:
            # As in Trio, a failing release is what run_sync raises (chained to the
            # function's own error): the caller still gets woken, not left waiting.
            if type(result) is outcome.Error:
                exc.__context__ = result.error
            result = outcome.Error(exc)
        self.tracker.finished()
        self.post(result)

    def post(self, message: outcome.Outcome[Any] | _Request) -> None:
        if self.abandoned:
            if isinstance(message, _Request):
                message.run_in_system_task()
            return  # the outcome of an abandoned call is dropped
        self.mail.append(message)
        if self.waiting:
            self.waiting = False
            task = self.task
            task._runner.reschedule_value(task, None)

    def abort(self, raise_cancel: RaiseCancelT) -> Abort:
        self.raise_cancel = raise_cancel
        if self.abandon_on_cancel:
            self.abandoned = True
            self.waiting = False
            return Abort.SUCCEEDED
        return Abort.FAILED  # the call still ends when the thread does


class _WorkerState(threading.local):
    call: _Call | None = None


_worker_state = _WorkerState()


_ASYNC_FLAGS = inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR


def _check_sync_fn(sync_fn: object) -> None:
    if type(sync_fn) is types.FunctionType:
        # The common case, checked without inspect's unwrapping.
        is_async = bool(sync_fn.__code__.co_flags & _ASYNC_FLAGS)
    elif not callable(sync_fn):
        raise TypeError(f"to_thread.run_sync() expected a callable, got {sync_fn!r}")
    else:
        is_async = inspect.iscoroutinefunction(sync_fn) or inspect.isasyncgenfunction(sync_fn)
    if is_async:
        raise TypeError(
            f"to_thread.run_sync() runs sync functions, and {sync_fn!r} is an async one"
        )


async def to_thread_run_sync(
    sync_fn: Callable[..., T],
    *args: Any,
    thread_name: str | None = None,
    abandon_on_cancel: bool = False,
    limiter: CapacityLimiter | None = None,
) -> T:
    """Run ``sync_fn(*args)`` in a worker thread and return its result (or raise its
    exception), without blocking the run. A checkpoint.

    The call holds a token of ``limiter`` (default: ``current_default_thread_limiter()``)
    until the thread finishes. The thread sees a copy of the caller's contextvars, and
    may call back into the run with ``from_thread``.

    Cancellation: by default the call waits for the thread to finish (Python cannot
    interrupt a thread) and returns its outcome; the thread may poll
    ``from_thread.check_cancelled()``. With ``abandon_on_cancel=True`` the call raises
    ``Cancelled`` at once and the thread is left to finish on its own; its result or
    exception is then discarded without a word.
    """
    _check_sync_fn(sync_fn)
    if limiter is None:
        limiter = current_default_thread_limiter()
    # The cancel point, before anything is started (checkpoint_if_cancelled() written
    # out); the wait for the thread below is the schedule point.
    task = current_task()
    if task._cancel_status.effectively_cancelled or task._ki_pending:
        await CHECKPOINT_TRAP
    else:
        task._cancel_mark = True
    call = _Call(task, bool(abandon_on_cancel), sync_fn, args, limiter, _current_tracker())
    # The call, not the task, borrows the token: it is given back when the thread
    # finishes, which for an abandoned call is after the task has moved on. With a
    # token free there is no need to yield here.
    # Trio documents the limiter as anything with acquire_on_behalf_of() and
    # release_on_behalf_of(): the no-wait fast path only where there is one.
    acquire_nowait = getattr(limiter, "acquire_on_behalf_of_nowait", None)
    try:
        if acquire_nowait is None:
            raise WouldBlock
        acquire_nowait(call)
    except WouldBlock:
        await limiter.acquire_on_behalf_of(call)
    call.tracker.count += 1
    context = contextvars.copy_context()
    # The copy carries the task's current-task hint; in the worker thread it would be
    # a lie (see nursery._core._context), so the thread starts without one.
    context.run(TASK_HINT.set, None)
    call.context = context

    if thread_name is None:
        # As in Trio: the function's name and the calling task's.
        thread_name = f"{getattr(sync_fn, '__name__', None)} from {task.name}"
    try:
        start_thread_soon(call.work, call.deliver, name=thread_name)
    except BaseException:
        limiter.release_on_behalf_of(call)
        call.tracker.finished()
        raise

    mail = call.mail
    while True:
        if not mail:
            call.waiting = True
            await suspend_task(task, call.abort)
        message = mail.popleft()
        if isinstance(message, _Request):
            await message.run_in_task()
        else:
            return message.unwrap()  # type: ignore[no-any-return]


# -- from_thread -------------------------------------------------------------------------


def _check_not_in_run(what: str) -> None:
    if in_run():
        raise RuntimeError(
            f"{what}() is for other threads; in the run's own thread, call or await "
            "the function directly"
        )


def _send(
    fn: Callable[..., Any], args: tuple[Any, ...], token: RunToken | None, is_async: bool
) -> Any:
    what = "from_thread.run" if is_async else "from_thread.run_sync"
    _check_not_in_run(what)
    request = _Request(fn, args, is_async, contextvars.copy_context())
    call = _worker_state.call
    if token is None:
        if call is None:
            raise RuntimeError(
                f"{what}() needs token= (a RunToken from lowlevel.current_token()) when "
                "called from a thread that to_thread.run_sync did not start"
            )
        token = call.token
        # Into the calling task's mailbox: it carries the request out itself.
        token.run_sync_soon(call.post, request)
    else:
        if not isinstance(token, RunToken):
            raise RuntimeError(f"token= must be a RunToken, got {token!r}")
        token.run_sync_soon(request.run_in_system_task)
    return request.reply.get()


def from_thread_run(
    afn: Callable[..., Awaitable[T]], *args: Any, token: RunToken | None = None
) -> T:
    """From a thread other than the run's, run ``afn(*args)`` in the run and return its
    result (or raise its exception), blocking this thread until it is done.

    In a worker of ``to_thread.run_sync`` it runs in the calling task: under its cancel
    scopes, with the worker's contextvars. From any other thread, pass ``token=`` (the
    run's ``RunToken``): it then runs in a system task. ``RunFinishedError`` if the run
    has finished; ``RuntimeError`` in the run's own thread.
    """
    return _send(afn, args, token, True)  # type: ignore[no-any-return]


def from_thread_run_sync(fn: Callable[..., T], *args: Any, token: RunToken | None = None) -> T:
    """Like ``from_thread.run``, for a sync function: ``fn(*args)`` is called in the
    run's thread and its result returned (or its exception raised) here."""
    return _send(fn, args, token, False)  # type: ignore[no-any-return]


def from_thread_check_cancelled() -> None:
    """In a worker of ``to_thread.run_sync``: raise ``Cancelled`` if the calling task has
    been cancelled (or the call abandoned), so that long-running work can stop early.
    A cheap check that does not enter the run. ``RuntimeError`` in other threads."""
    call = _worker_state.call
    if call is None:
        _check_not_in_run("from_thread.check_cancelled")
        raise RuntimeError(
            "from_thread.check_cancelled() works only in threads started by to_thread.run_sync"
        )
    raise_cancel = call.raise_cancel
    if raise_cancel is not None:
        raise_cancel()
